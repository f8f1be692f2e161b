"""Connect Fortnox from the admin: the authorization code flow against the sandbox over real HTTP
(loopback), state bound to the staff user's session, access denied, an expired code, a service
account by TenantId, and the commands."""

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounting import connect_views
from accounting.services import queue
from integrations.models import Integration, SyncState
from integrations.providers.fortnox.sandbox.core import CODE_SECONDS
from tests import factories
from tests.dealflow.conftest import user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    """The first sync is queued after connecting; here we only record that it was."""
    queued = []
    monkeypatch.setattr(queue, "queue_first_sync", lambda integration: queued.append(integration.pk) or "")
    monkeypatch.setattr(connect_views, "queue_first_sync", lambda integration: queued.append(integration.pk) or "")
    return queued


@pytest.fixture
def staff(client):
    admin = user("stella", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return admin


@pytest.fixture
def company():
    return factories.company("Nordljus", slug="nordljus")


def start(client) -> str:
    """Press "Sign in with Fortnox": returns the authorize URL we were sent to."""
    response = client.post(reverse("accounting:fortnox_connect", args=["nordljus"]), {"method": "login"})
    assert response.status_code == 302
    return response["Location"]


def authorize(url: str) -> str:
    """The browser at Fortnox (the sandbox, over loopback): returns where Fortnox sends it back."""
    response = httpx.get(url, follow_redirects=False)
    assert response.status_code == 302
    return response.headers["location"]


def back(client, location: str):
    parts = urlsplit(location)
    assert parts.path == reverse("accounting:fortnox_callback")
    return client.get(parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()})


def test_the_authorization_code_flow_connects_the_company(client, staff, company, live_fortnox, no_broker):
    location = authorize(start(client))
    response = back(client, location)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:portfolio_portfoliocompany_change", args=[company.pk])
    integration = Integration.objects.get(company=company, provider="fortnox")
    assert integration.category == "accounting" and no_broker == [integration.pk]
    assert live_fortnox.tenant_of(integration.credentials["access_token"]) == "100001"
    assert integration.credentials["refresh_token"] and integration.credentials["expires_at"]


def test_the_authorize_url_carries_what_fortnox_needs(client, staff, company, live_fortnox, settings):
    query = parse_qs(urlsplit(start(client)).query)
    assert query["client_id"] == [settings.FORTNOX_CLIENT_ID]
    assert query["redirect_uri"] == [settings.PUBLIC_BASE_URL + "/accounting/fortnox/callback/"]
    assert query["response_type"] == ["code"] and query["access_type"] == ["offline"]
    assert "bookkeeping" in query["scope"][0] and len(query["state"][0]) >= 32
    assert settings.FORTNOX_CLIENT_SECRET not in start(client)


def test_a_state_that_does_not_match_changes_nothing(client, staff, company, live_fortnox):
    location = authorize(start(client)).replace("state=", "state=x")
    response = back(client, location)
    assert response.status_code == 400
    assert "state does not match" in response.content.decode()
    assert not Integration.objects.filter(company=company).exists()


def test_an_answer_for_another_session_is_refused(client, staff, company, live_fortnox):
    location = authorize(start(client))
    client.logout()
    client.force_login(user("other", is_staff=True, is_superuser=True))
    assert back(client, location).status_code == 400
    assert not Integration.objects.filter(company=company).exists()


def test_access_denied_is_said_plainly(client, staff, company, live_fortnox):
    live_fortnox.deny = True
    response = back(client, authorize(start(client)))
    assert response.status_code == 400
    assert "Access was denied in Fortnox" in response.content.decode()
    assert not Integration.objects.filter(company=company).exists()


def test_an_expired_code_is_refused_and_said_plainly(client, staff, company, live_fortnox):
    location = authorize(start(client))
    code = parse_qs(urlsplit(location).query)["code"][0]
    tenant, uri, issued = live_fortnox.codes[code]
    live_fortnox.codes[code] = (tenant, uri, issued - CODE_SECONDS - 1)  # eleven minutes ago
    response = back(client, location)
    assert response.status_code == 400
    assert "expired or was used already" in response.content.decode()
    assert not Integration.objects.filter(company=company).exists()


def test_connecting_again_replaces_the_tokens_and_clears_needs_reconnecting(client, staff, company, live_fortnox):
    back(client, authorize(start(client)))
    integration = Integration.objects.get(company=company)
    SyncState.objects.filter(integration=integration).update(
        attention_reason="revoked", attention_since="2026-01-01T00:00Z"
    )
    back(client, authorize(start(client)))
    assert Integration.objects.filter(company=company).count() == 1
    assert not SyncState.objects.get(integration=integration).needs_attention


def test_a_service_account_connects_by_tenant_id(client, staff, company, live_fortnox):
    url = reverse("accounting:fortnox_connect", args=["nordljus"])
    bad = client.post(url, {"method": "service", "tenant_id": "100 001; drop"})
    assert bad.status_code == 400 and "TenantId" in bad.content.decode()
    unknown = client.post(url, {"method": "service", "tenant_id": "999999"})
    assert unknown.status_code == 400 and "refused the service account" in unknown.content.decode()
    assert not Integration.objects.filter(company=company).exists()
    assert client.post(url, {"method": "service", "tenant_id": "100002"}).status_code == 302
    integration = Integration.objects.get(company=company)
    assert integration.credentials["tenant_id"] == "100002" and integration.credentials["refresh_token"] == ""


def test_connect_needs_staff_with_integration_rights(client, company, live_fortnox):
    client.force_login(user("pia"))
    response = client.get(reverse("accounting:fortnox_connect", args=["nordljus"]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(user("sam", is_staff=True))  # staff, but may not change integrations
    assert client.get(reverse("accounting:fortnox_connect", args=["nordljus"])).status_code == 403


def test_the_company_admin_page_offers_connect_fortnox(client, staff, company):
    response = client.get(reverse("admin:portfolio_portfoliocompany_change", args=[company.pk]))
    assert reverse("accounting:fortnox_connect", args=["nordljus"]) in response.content.decode()


def test_fortnox_connect_command(company, live_fortnox, capsys):
    call_command("fortnox_connect", "nordljus", "--tenant-id", "100001")
    assert "connected to Fortnox" in capsys.readouterr().out
    with pytest.raises(CommandError, match="refused the service account"):
        call_command("fortnox_connect", "nordljus", "--tenant-id", "424242")
    with pytest.raises(CommandError, match="No company"):
        call_command("fortnox_connect", "nope", "--tenant-id", "100001")


def test_sync_financials_command_prints_progress(company, live_fortnox, capsys):
    call_command("fortnox_connect", "nordljus", "--tenant-id", "100002")
    call_command("sync_financials", "nordljus")
    out = capsys.readouterr().out
    assert "Invoices: page 1" in out and "SIE 2026" in out and "Succeeded" in out
    with pytest.raises(CommandError, match="No accounting integration"):
        call_command("sync_financials", "other")


def test_a_connection_needing_reconnecting_says_so_in_the_admin_and_on_the_page(client, staff, company, live_fortnox):
    back(client, authorize(start(client)))
    integration = Integration.objects.get(company=company)
    SyncState.objects.filter(integration=integration).update(
        attention_reason="Fortnox refused the refresh token", attention_since="2026-01-01T00:00Z"
    )
    admin_page = client.get(reverse("admin:portfolio_portfoliocompany_change", args=[company.pk])).content.decode()
    assert "Needs reconnecting: Fortnox refused the refresh token" in admin_page
    financials = client.get(reverse("accounting:financials", args=["nordljus"]), headers={"accept-language": "en"})
    assert "The Fortnox connection needs reconnecting" in financials.content.decode()
