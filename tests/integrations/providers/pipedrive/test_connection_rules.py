import pytest
from django.core.exceptions import ValidationError

from integrations.providers.pipedrive.connection_rules import normalise_company_domain, validate_company_domain


@pytest.mark.parametrize(
    "pasted",
    [
        "coeo",
        "COEO",
        " coeo ",
        "coeo.pipedrive.com",
        "https://coeo.pipedrive.com/",
        "https://coeo.pipedrive.com/deal/5",
    ],
)
def test_domain_is_normalised(pasted):
    assert normalise_company_domain(pasted) == "coeo"


@pytest.mark.parametrize("bad", ["", "co eo", "coeo!", "-coeo", "ÅÄÖ", "a" * 64])
def test_bad_domains_are_rejected(bad):
    with pytest.raises(ValidationError):
        validate_company_domain(normalise_company_domain(bad))
