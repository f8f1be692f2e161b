import pytest

from integrations.models import Integration
from portfolio.models import PortfolioCompany

SENTINEL_TOKEN = "tok-SENTINEL-9f3a7c1d2e4b"


@pytest.fixture
def company(db):
    return PortfolioCompany.objects.create(name="Coeo", slug="coeo")


@pytest.fixture
def integration(company):
    return Integration.objects.create(
        company=company, credentials={"api_token": SENTINEL_TOKEN}, settings={"company_domain": "coeo"}
    )
