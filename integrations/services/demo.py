"""Connect the demo companies to a local Pipedrive sandbox (used by `manage.py run_demo`)."""

from integrations.models import Integration
from integrations.pipedrive.sandbox import dataset_token
from portfolio.models import PortfolioCompany

# Company slug -> sandbox dataset; `pipedrive_sandbox` serves each under its `dataset_token`.
DEMO_DATASETS = {"coeo": "coeo", "acme": "acme"}


def connect_demo_integrations(*, base_url: str) -> list[Integration]:
    integrations = []
    for slug, dataset in DEMO_DATASETS.items():
        company = PortfolioCompany.objects.get(slug=slug)
        integration, _ = Integration.objects.update_or_create(
            company=company,
            provider="pipedrive",
            defaults={
                "company_domain": slug,
                "api_base_url": base_url,
                "api_token": dataset_token(dataset),
                "is_enabled": True,
            },
        )
        integrations.append(integration)
    return integrations
