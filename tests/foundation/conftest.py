import pytest

from tests import factories as make

SENTINEL_TOKEN = "tok-SENTINEL-9f3a7c1d2e4b"


@pytest.fixture
def company(db):
    return make.company("Coeo")


@pytest.fixture
def integration(company):
    return make.integration(company, token=SENTINEL_TOKEN)
