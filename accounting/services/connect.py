"""Store a Fortnox connection on a company: tokens from the authorization code flow, or a service
account's TenantId with a client-credentials token. Connecting again replaces the tokens and
clears "needs reconnecting"."""

import re

from django.db import transaction

from integrations.models import Integration
from integrations.providers.fortnox import oauth
from integrations.services.sync_state import clear_attention

TENANT_ID = re.compile(r"[0-9A-Za-z-]{1,40}")
SYNC_INTERVAL_MINUTES = 6 * 60  # books change slowly; Fortnox allows 25 requests per 5 s


class InvalidTenantId(ValueError):
    pass


def store_tokens(company, tokens: oauth.Tokens, *, tenant_id: str = "") -> Integration:
    credentials = tokens.as_credentials(**({"tenant_id": tenant_id} if tenant_id else {}))
    settings = {"tenant_id": tenant_id}
    with transaction.atomic():
        integration = Integration.objects.select_for_update().filter(company=company, provider="fortnox").first()
        if integration is None:
            integration = Integration.objects.create(
                company=company,
                provider="fortnox",
                settings=settings,
                credentials=credentials,
                sync_interval_minutes=SYNC_INTERVAL_MINUTES,
            )
        else:
            Integration.objects.filter(pk=integration.pk).update(settings=settings, credentials=credentials)
        clear_attention(integration.pk)
    return integration


def connect_service_account(company, tenant_id: str, *, transport=None) -> Integration:
    """Raises InvalidTenantId, or FortnoxError when Fortnox refuses the service account."""
    tenant_id = (tenant_id or "").strip()
    if not TENANT_ID.fullmatch(tenant_id):
        raise InvalidTenantId("Enter the TenantId Fortnox shows for the customer's account: digits (and letters).")
    return store_tokens(company, oauth.client_credentials(tenant_id, transport=transport), tenant_id=tenant_id)
