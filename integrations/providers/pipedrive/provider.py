"""Pipedrive as a provider: its settings (company domain, API base URL), its credentials (an API
token), its admin fields, and how the sync reads it."""

from functools import partial
from typing import Any

from django import forms

from integrations.providers.base import Category, PageCallback, Provider, SyncPlan

from . import changelog, webhooks, writes
from .client import PipedriveClient
from .connection import check_connection, client_for
from .connection_rules import normalise_company_domain, validate_api_token, validate_base_url, validate_company_domain
from .costs import TOKEN_COSTS
from .custom_fields import fetch_custom_fields, store_custom_fields, stored_custom_fields, with_custom_fields_version
from .specs import entity_specs


class CompanyDomainField(forms.CharField):
    """Takes "coeo", "coeo.pipedrive.com" or a pasted "https://coeo.pipedrive.com/deals"."""

    def to_python(self, value):
        return normalise_company_domain(super().to_python(value))


class PipedriveProvider(Provider):
    key = "pipedrive"
    label = "Pipedrive"
    category = Category.CRM
    settings_fields = ("company_domain", "api_base_url")
    credential_fields = ("api_token",)
    credential_destination_fields = ("company_domain", "api_base_url")

    def form_fields(self) -> dict[str, forms.Field]:
        return {
            "company_domain": CompanyDomainField(
                label="Company domain",
                max_length=63,
                validators=[validate_company_domain],
                help_text="“coeo” for coeo.pipedrive.com.",
            ),
            "api_token": forms.CharField(
                label="API token",
                required=False,
                strip=True,
                validators=[validate_api_token],
                widget=forms.PasswordInput(render_value=True, attrs={"autocomplete": "new-password"}),
                help_text="Pipedrive → Personal preferences → API. Stored encrypted and never shown again.",
            ),
            "api_base_url": forms.URLField(
                label="API base URL",
                required=False,
                assume_scheme="https",
                help_text="Leave blank for https://{domain}.pipedrive.com; set for a proxy or the sandbox.",
            ),
        }

    def clean_form(self, cleaned: dict[str, Any]) -> dict[str, str]:
        domain = cleaned.get("company_domain")
        if not domain or "api_base_url" not in cleaned:
            return {}
        try:
            validate_base_url(cleaned["api_base_url"] or f"https://{domain}.pipedrive.com", company_domain=domain)
        except forms.ValidationError as error:
            return {"api_base_url": error.messages[0]}
        return {}

    def client(self, integration: Any, **options: Any) -> PipedriveClient:
        return client_for(integration, **options)

    def sync_plan(self, client: PipedriveClient, *, marks: dict, on_page: PageCallback) -> SyncPlan:
        custom_fields = fetch_custom_fields(client, on_page)
        return SyncPlan(
            specs=entity_specs(custom_fields),
            marks=with_custom_fields_version(marks, custom_fields.version.decode()),
            store=partial(store_custom_fields, custom_fields=custom_fields),
        )

    def stored_specs(self, integration: Any) -> tuple:
        return entity_specs(stored_custom_fields(integration.pk))

    def record_url(self, integration: Any, kind: str, remote_id: int) -> str:
        return f"https://{integration.settings.get('company_domain', '')}.pipedrive.com/{kind}/{remote_id}"

    def check_connection(self, integration: Any, **options: Any):
        return check_connection(integration=integration, **options)

    # -- write-back (writes.py) -------------------------------------------------------------
    supports_write_back = True

    def write_client(self, integration: Any, **options: Any) -> PipedriveClient:
        return client_for(integration, **{**writes.write_client_options(), **options})

    def fetch_deal(self, client: PipedriveClient, remote_id: int):
        return writes.fetch_deal(client, remote_id)

    def update_deal(self, client: PipedriveClient, remote_id: int, changes: dict[str, Any]):
        return writes.update_deal(client, remote_id, changes)

    def create_deal(self, client: PipedriveClient, fields: dict[str, Any]):
        return writes.create_deal(client, fields)

    def create_organization(self, client: PipedriveClient, name: str):
        return writes.create_organization(client, name)

    def create_person(self, client: PipedriveClient, name: str, org_id: int | None):
        return writes.create_person(client, name, org_id)

    # -- webhooks in (integrations/inbound/) ------------------------------------------------
    supports_webhooks = True

    def parse_webhook(self, payload: dict):
        return webhooks.parse_event(payload)

    def fetch_record(self, client: PipedriveClient, entity: str, remote_id: int):
        return webhooks.fetch_record(client, entity, remote_id)

    def fetch_all(self, client: PipedriveClient, entity: str) -> list:
        return webhooks.fetch_all(client, entity)

    def register_webhooks(self, client: PipedriveClient, *, url: str, user: str, password: str):
        return webhooks.register(client, url=url, user=user, password=password)

    def registered_webhooks(self, client: PipedriveClient, *, url: str) -> dict[str, int]:
        return webhooks.registered(client, url=url)

    def unregister_webhooks(self, client: PipedriveClient, remote_ids: list[int]) -> None:
        webhooks.unregister(client, remote_ids)

    # -- stage history backfill (changelog.py) ----------------------------------------------
    supports_stage_history = True
    stage_history_call_cost = TOKEN_COSTS[("GET", "/v1/deals/{id}/changelog")]

    def iter_stage_changes(self, client: PipedriveClient, remote_id: int):
        return changelog.iter_stage_changes(client, remote_id)
