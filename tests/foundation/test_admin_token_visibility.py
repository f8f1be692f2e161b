"""Every admin page that can show an integration, for a superuser, a user who may change
integrations and a view-only user: the token is never in the page; the masked hint is."""

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from integrations.models import SyncRun

from .conftest import SENTINEL_TOKEN

HINT = "••••••••" + SENTINEL_TOKEN[-4:]

VIEW = ["view_integration", "view_portfoliocompany", "view_syncrun", "view_stagemapping"]
CHANGE = [*VIEW, "change_integration", "change_portfoliocompany", "change_stagemapping"]


def staff_client(username, codenames=None, *, superuser=False) -> Client:
    user = User.objects.create_user(username, password="pw", is_staff=True, is_superuser=superuser)
    if codenames:
        user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def users(db):
    return {
        "superuser": staff_client("root", superuser=True),
        "change": staff_client("editor", CHANGE),
        "view-only": staff_client("viewer", VIEW),
    }


def pages(integration):
    run = SyncRun.objects.create(integration=integration, kind="full", started_at="2026-01-01T00:00:00Z")
    company = integration.company_id
    return {
        "integration list": reverse("admin:integrations_integration_changelist"),
        "integration page": reverse("admin:integrations_integration_change", args=[integration.pk]),
        "integration history": reverse("admin:integrations_integration_history", args=[integration.pk]),
        "integration delete": reverse("admin:integrations_integration_delete", args=[integration.pk]),
        "company list": reverse("admin:portfolio_portfoliocompany_changelist"),
        "company page": reverse("admin:portfolio_portfoliocompany_change", args=[company]),
        "company delete": reverse("admin:portfolio_portfoliocompany_delete", args=[company]),
        "sync runs": reverse("admin:integrations_syncrun_changelist"),
        "sync run": reverse("admin:integrations_syncrun_change", args=[run.pk]),
        "stage mappings": reverse("admin:dealflow_stagemapping_changelist"),
        "admin index": reverse("admin:index"),
    }


@pytest.mark.parametrize("who", ["superuser", "change", "view-only"])
def test_no_admin_page_shows_the_token(users, integration, who):
    client = users[who]
    for where, url in pages(integration).items():
        response = client.get(url)
        assert response.status_code in (200, 403), (who, where, response.status_code)
        body = response.content.decode()
        assert SENTINEL_TOKEN not in body, f"{who} sees the token on the {where}"
        assert SENTINEL_TOKEN[:-4] not in body, f"{who} sees part of the token on the {where}"


@pytest.mark.parametrize("who", ["superuser", "change", "view-only"])
def test_everyone_sees_the_masked_hint(users, integration, who):
    for url in (
        reverse("admin:integrations_integration_change", args=[integration.pk]),
        reverse("admin:portfolio_portfoliocompany_change", args=[integration.company_id]),
    ):
        response = users[who].get(url)
        assert response.status_code == 200
        assert HINT in response.content.decode(), (who, url)


def test_view_only_page_has_no_token_input_and_the_editor_page_has_one(users, integration):
    url = reverse("admin:integrations_integration_change", args=[integration.pk])
    assert 'name="api_token"' not in users["view-only"].get(url).content.decode()
    assert 'name="api_token"' in users["change"].get(url).content.decode()
