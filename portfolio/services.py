"""Writes for portfolio companies (demo data)."""

import secrets

from django.contrib.auth import get_user_model

from portfolio.models import PortfolioCompany

DEMO_COMPANIES = [
    {"slug": "coeo", "name": "Coeo", "reporting_currency": "SEK", "website": "https://coeo.se"},
    {"slug": "acme", "name": "Acme Robotics", "reporting_currency": "EUR", "website": "https://acme.example"},
    {"slug": "norrsken-labs", "name": "Norrsken Labs", "reporting_currency": "SEK", "website": ""},
    {"slug": "fjord-analytics", "name": "Fjord Analytics", "reporting_currency": "NOK", "website": ""},
]


def ensure_demo_companies() -> list[PortfolioCompany]:
    companies = []
    for spec in DEMO_COMPANIES:
        company, _ = PortfolioCompany.objects.get_or_create(slug=spec["slug"], defaults=spec)
        companies.append(company)
    return companies


def ensure_demo_login(*, username: str = "demo") -> str | None:
    """Create the demo superuser once; return its fresh random password, or None if it exists."""
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        return None
    password = secrets.token_urlsafe(12)
    User.objects.create_superuser(username=username, email="", password=password)
    return password
