"""FortnoxProvider: the accounting provider's entry in the registry. Its tokens come from
Connect Fortnox (OAuth) or a service account's TenantId (accounting/services/connect.py), not from
a pasted token; its sync is accounting/services/sync.py, not the CRM engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings

from integrations.providers.base import Category, Provider

from . import tokens
from .client import FortnoxClient
from .connection_rules import api_base_url
from .errors import ErrorKind, FortnoxError
from .pacing import pacer_for


@dataclass(frozen=True)
class ConnectionReport:
    ok: bool
    message: str
    error_kind: ErrorKind | None = None


class FortnoxProvider(Provider):
    key = "fortnox"
    label = "Fortnox"
    category = Category.ACCOUNTING
    settings_fields = ("tenant_id",)
    credential_fields = ("access_token",)
    connects_by_form = False  # Connect Fortnox (OAuth) or a TenantId: accounting/connect_views.py

    def form_fields(self) -> dict[str, forms.Field]:
        return {
            "tenant_id": forms.CharField(
                label="TenantId",
                required=False,
                max_length=40,
                help_text="Only for a service account; otherwise use Connect Fortnox on the company.",
            ),
            "access_token": forms.CharField(
                label="Access token",
                required=False,
                widget=forms.PasswordInput(render_value=False),
                help_text="Set by Connect Fortnox; leave blank.",
            ),
        }

    def client(self, integration: Any, *, transport=None, **options: Any) -> FortnoxClient:
        integration_id = integration.pk
        return FortnoxClient(
            base_url=api_base_url(),
            token_source=lambda stale: tokens.access_token(integration_id, stale=stale, transport=transport),
            pacer=options.pop("pacer", None)
            or pacer_for(integration.settings.get("tenant_id") or f"integration-{integration_id}"),
            transport=transport,
            secrets=self.secrets(integration.credentials),
            **options,
        )

    def check_connection(self, integration: Any, **options: Any) -> ConnectionReport:
        try:
            with self.client(integration, max_retries=0, **options) as client:
                info = client.company_information()
        except FortnoxError as error:
            return ConnectionReport(ok=False, message=str(error), error_kind=error.kind)
        return ConnectionReport(ok=True, message=f"Connected to {info.name} ({info.organisation_number}).")

    def sync_plan(self, client: Any, *, marks: dict, on_page: Any) -> Any:
        """Not a CRM: a "Sync now" that reaches the CRM engine ends with this, plainly."""
        raise FortnoxError(
            "Fortnox is an accounting integration: it syncs with `manage.py sync_financials` and the "
            "financial sync task, not the CRM sync.",
            kind=ErrorKind.BAD_REQUEST,
        )

    def record_url(self, integration: Any, kind: str, remote_id: int) -> str:
        return ""

    def secrets(self, credentials: dict) -> tuple[str, ...]:
        values = [
            value for key, value in credentials.items() if key != "tenant_id" and isinstance(value, str) and value
        ]
        if settings.FORTNOX_CLIENT_SECRET:
            values.append(settings.FORTNOX_CLIENT_SECRET)
        return tuple(values)
