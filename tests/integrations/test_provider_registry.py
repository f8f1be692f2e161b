"""The registry imports providers by key, and the admin form is built from a provider's fields:
a provider added with one registry line (here a stand-in) gets its own settings and write-only
credentials without any change to the admin or the model."""

import pytest
from django import forms
from django.urls import reverse

from integrations import forms as integration_forms
from integrations.models import Integration
from integrations.providers import registry
from integrations.providers.base import Category, Provider
from integrations.providers.registry import UnknownProvider, get_provider
from tests import factories as make


class LedgerProvider(Provider):
    key = "ledger"
    label = "Ledger"
    category = Category.ACCOUNTING
    settings_fields = ("workspace",)
    credential_fields = ("secret_key",)
    credential_destination_fields = ("workspace",)

    def form_fields(self):
        return {
            "workspace": forms.SlugField(label="Workspace"),
            "secret_key": forms.CharField(label="Secret key", required=False, widget=forms.PasswordInput),
        }

    def record_url(self, integration, kind, remote_id):
        return f"https://{integration.settings['workspace']}.ledger.example/{kind}s/{remote_id}"


@pytest.fixture
def with_ledger(monkeypatch):
    monkeypatch.setitem(registry.PROVIDERS, "ledger", f"{__name__}.LedgerProvider")
    get_provider.cache_clear()
    integration_forms.form_for.cache_clear()
    yield
    get_provider.cache_clear()
    integration_forms.form_for.cache_clear()


def test_the_registry_imports_a_provider_by_key_and_names_unknown_ones():
    assert get_provider("pipedrive").category == Category.CRM
    assert get_provider("pipedrive") is get_provider("pipedrive")
    with pytest.raises(UnknownProvider, match="hubspot"):
        get_provider("hubspot")


def test_an_integration_reaches_its_provider_by_key(with_ledger, db):
    company = make.company("Coeo")
    pipedrive = make.integration(company)
    ledger = Integration.objects.create(company=company, provider="ledger", settings={"workspace": "coeo-books"})
    assert (pipedrive.category, ledger.category) == (Category.CRM, Category.ACCOUNTING)
    assert pipedrive.deal_url(7) == "https://coeo.pipedrive.com/deal/7"
    assert ledger.record_url("invoice", 7) == "https://coeo-books.ledger.example/invoices/7"


def test_the_admin_form_takes_its_fields_from_the_provider(with_ledger, admin_client):
    company = make.company("Coeo")
    add = reverse("admin:integrations_integration_add") + "?provider=ledger"
    page = admin_client.get(add).content.decode()
    assert 'name="workspace"' in page and 'name="secret_key"' in page and 'name="company_domain"' not in page

    data = {
        "company": company.pk,
        "provider": "ledger",
        "workspace": "coeo-books",
        "secret_key": "sk-LEDGER-4242",
        "is_enabled": "on",
        "sync_interval_minutes": "15",
        "stage_mappings-TOTAL_FORMS": "0",
        "stage_mappings-INITIAL_FORMS": "0",
        "sync_runs-TOTAL_FORMS": "0",
        "sync_runs-INITIAL_FORMS": "0",
    }
    response = admin_client.post(add, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    created = Integration.objects.get(provider="ledger")
    assert created.settings == {"workspace": "coeo-books"} and created.credentials == {"secret_key": "sk-LEDGER-4242"}

    change = reverse("admin:integrations_integration_change", args=[created.pk])
    page = admin_client.get(change).content.decode()
    assert "sk-LEDGER-4242" not in page and "••••••••4242" in page
    moved = admin_client.post(change, {**data, "workspace": "elsewhere", "secret_key": ""})
    assert moved.status_code == 200 and "paste the token again" in moved.content.decode()
    created.refresh_from_db()
    assert created.settings == {"workspace": "coeo-books"}
