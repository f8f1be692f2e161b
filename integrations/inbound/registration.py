"""Registering an integration's webhooks at its provider, checking them, and removing them.

Used by `manage.py pipedrive_webhooks`, the admin's buttons and the daily check (tasks.py), which
re-registers webhooks the provider deleted (Pipedrive deletes one that failed for three days).
"""

from dataclasses import dataclass

from integrations.fields import is_undecryptable
from integrations.models import Integration
from integrations.providers.base import ProviderError

from .endpoints import (
    ensure_endpoint,
    new_credentials,
    note_check,
    note_registered,
    note_unregistered,
    webhook_url,
)


@dataclass(frozen=True)
class WebhookReport:
    ok: bool
    message: str  # token- and password-free, for staff
    warning: str = ""
    remote_ids: dict | None = None


def register(integration: Integration, **client_options) -> WebhookReport:
    provider = integration.provider_api
    if not provider.supports_webhooks:
        return WebhookReport(False, f"{provider.label} integrations have no webhooks.")
    endpoint = ensure_endpoint(integration)
    url = webhook_url(endpoint)
    try:
        with provider.client(integration, **client_options) as client:
            if is_undecryptable(endpoint.credentials) or not endpoint.credentials:
                # The old webhooks send credentials nobody can check any more: replace them all.
                provider.unregister_webhooks(client, list(provider.registered_webhooks(client, url=url).values()))
                endpoint.credentials = new_credentials()
                endpoint.save(update_fields=["credentials"])
            credentials = endpoint.credentials
            registration = provider.register_webhooks(
                client, url=url, user=credentials["user"], password=credentials["password"]
            )
    except ProviderError as error:
        note_check(integration.pk, remote_ids=endpoint.remote_ids, ok=False, message=str(error))
        return WebhookReport(False, f"Registering webhooks failed: {error}")
    objects = ", ".join(sorted(registration.remote_ids))
    message = f"Webhooks registered for {objects}."
    note_registered(integration.pk, registration.remote_ids, registration.warning or message)
    return WebhookReport(True, message, registration.warning, registration.remote_ids)


def _registered(integration: Integration, endpoint, client_options: dict, *, then=None) -> dict[str, int]:
    """{object: remote id} of the webhooks delivering to the endpoint, read with one client, which
    `then(provider, client, found)` may go on using. Raises ProviderError."""
    provider = integration.provider_api
    with provider.client(integration, **client_options) as client:
        found = provider.registered_webhooks(client, url=webhook_url(endpoint))
        if then is not None:
            then(provider, client, found)
    return found


def check(integration: Integration, **client_options) -> WebhookReport:
    """Whether every webhook registered before is still there (the provider may delete them)."""
    endpoint = ensure_endpoint(integration)
    try:
        found = _registered(integration, endpoint, client_options)
    except ProviderError as error:
        note_check(integration.pk, remote_ids=endpoint.remote_ids, ok=False, message=str(error))
        return WebhookReport(False, f"Checking webhooks failed: {error}")
    expected = set(endpoint.remote_ids)
    missing = sorted(expected - set(found))
    if not expected:
        message, ok = "No webhooks registered.", False
    elif missing:
        message, ok = f"Missing at the provider: {', '.join(missing)}.", False
    else:
        message, ok = f"Registered: {', '.join(sorted(found))}.", True
    # Missing ones keep their place (and old id), so the daily check knows what to re-register.
    current = {**endpoint.remote_ids, **{key: found[key] for key in expected if key in found}}
    note_check(integration.pk, remote_ids=current, ok=ok, message=message)
    return WebhookReport(ok, message, remote_ids=found)


def unregister(integration: Integration, **client_options) -> WebhookReport:
    endpoint = ensure_endpoint(integration)

    def remove(provider, client, found):
        provider.unregister_webhooks(client, sorted({*found.values(), *endpoint.remote_ids.values()}))

    try:
        _registered(integration, endpoint, client_options, then=remove)
    except ProviderError as error:
        return WebhookReport(False, f"Removing webhooks failed: {error}")
    note_unregistered(integration.pk)
    return WebhookReport(True, "Webhooks removed.")


def repair_all(**client_options) -> dict[int, WebhookReport]:
    """The daily check: every integration that registered webhooks gets the missing ones back."""
    reports = {}
    integrations = Integration.objects.filter(is_enabled=True, webhook_endpoint__registered_at__isnull=False)
    for integration in integrations.select_related("company"):
        report = check(integration, **client_options)
        if not report.ok and report.remote_ids is not None:
            report = register(integration, **client_options)
        reports[integration.pk] = report
    return reports
