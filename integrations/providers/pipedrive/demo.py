"""Connect the demo companies to a local Pipedrive sandbox (used by `manage.py run_demo`)."""

import os

from django.conf import settings

from integrations.models import Integration
from portfolio.models import PortfolioCompany

from .sandbox import dataset_token

# Company slug -> sandbox dataset; `pipedrive_sandbox` serves each under its `dataset_token`.
DEMO_DATASETS = {"coeo": "coeo", "acme": "acme"}
# The sandbox is plain http on loopback; the demo allows it (see PIPEDRIVE_ALLOWED_BASE_URLS).
SANDBOX_ALLOWED_BASE_URLS = "http://127.0.0.1:*"


def allow_sandbox() -> None:
    """Allow the sandbox for this process and the worker and beat it starts, also when an older
    .env (written before PIPEDRIVE_ALLOWED_BASE_URLS existed) does not say so."""
    if SANDBOX_ALLOWED_BASE_URLS not in settings.PIPEDRIVE_ALLOWED_BASE_URLS:
        settings.PIPEDRIVE_ALLOWED_BASE_URLS = [*settings.PIPEDRIVE_ALLOWED_BASE_URLS, SANDBOX_ALLOWED_BASE_URLS]
    os.environ["PIPEDRIVE_ALLOWED_BASE_URLS"] = ",".join(settings.PIPEDRIVE_ALLOWED_BASE_URLS)


def connect_demo_integrations(*, base_url: str) -> list[Integration]:
    integrations = []
    for slug, dataset in DEMO_DATASETS.items():
        company = PortfolioCompany.objects.get(slug=slug)
        integration, _ = Integration.objects.update_or_create(
            company=company,
            provider="pipedrive",
            defaults={
                "settings": {"company_domain": slug, "api_base_url": base_url},
                "credentials": {"api_token": dataset_token(dataset)},
                "is_enabled": True,
            },
        )
        integrations.append(integration)
    return integrations
