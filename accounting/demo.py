"""`make run`'s Fortnox part: the sandbox in a child process, the settings pointing at it (also
for the worker and beat, through the environment), and the demo companies connected as service
accounts and synced once. A real FORTNOX_CLIENT_ID in the environment is left alone."""

import os

from django.conf import settings

from accounting.services.connect import connect_service_account
from accounting.services.sync import sync_financials
from integrations.management.children import free_port, port_is_free, wait_for_port
from integrations.providers.fortnox.sandbox import CLIENT_ID, CLIENT_SECRET
from portfolio.models import PortfolioCompany

SANDBOX_PORT = 8766
# Which demo company keeps its books in which sandbox tenant (100002 loses money: it has a runway).
DEMO_TENANTS = {"coeo": "100001", "acme": "100002"}
LOOPBACK = "http://127.0.0.1:*"


def start_fortnox_sandbox(children, write) -> bool:
    """Start the sandbox and point the Fortnox settings at it; False when real Fortnox is configured."""
    if settings.FORTNOX_CLIENT_ID and settings.FORTNOX_CLIENT_ID != CLIENT_ID:
        write("Fortnox: FORTNOX_CLIENT_ID is set, so the demo leaves Fortnox alone (no sandbox).")
        return False
    port = SANDBOX_PORT if port_is_free(SANDBOX_PORT) else free_port()
    log = children.start("fortnox-sandbox", "manage.py", "fortnox_sandbox", "--port", str(port))
    wait_for_port(port, children=children)
    base_url = f"http://127.0.0.1:{port}"
    allowed = [*settings.FORTNOX_ALLOWED_BASE_URLS, LOOPBACK]
    values = {
        "FORTNOX_CLIENT_ID": CLIENT_ID,
        "FORTNOX_CLIENT_SECRET": CLIENT_SECRET,  # the sandbox's own: not a secret
        "FORTNOX_AUTH_BASE_URL": base_url,
        "FORTNOX_API_BASE_URL": base_url,
    }
    for name, value in values.items():
        setattr(settings, name, value)
        os.environ[name] = value
    settings.FORTNOX_ALLOWED_BASE_URLS = allowed
    os.environ["FORTNOX_ALLOWED_BASE_URLS"] = ",".join(allowed)
    write(f"Fortnox sandbox at {base_url}; log {log}")
    return True


def connect_and_sync_demo_companies(write) -> None:
    for slug, tenant in DEMO_TENANTS.items():
        company = PortfolioCompany.objects.filter(slug=slug).first()
        if company is None:
            continue
        integration = connect_service_account(company, tenant)
        run = sync_financials(integration=integration)
        write(f"{slug}: Fortnox (TenantId {tenant}) {run.get_outcome_display().lower()}: {run.progress}")
