"""Staff manage webhooks from the integration's admin page and with `pipedrive_webhooks`; the page
shows their state and never the basic-auth password."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from integrations.inbound.endpoints import ensure_endpoint
from integrations.models import WebhookEndpoint


@pytest.fixture
def page(served):
    return reverse("admin:integrations_integration_change", args=[served.integration.pk])


def operation(served, name):
    return reverse("admin:integrations_integration_operation", args=[served.integration.pk, name])


def test_the_admin_registers_checks_and_removes_webhooks_and_shows_their_state(admin_client, served, page):
    assert "Not registered" in admin_client.get(page).content.decode()
    response = admin_client.post(operation(served, "register_webhooks"), follow=True)
    text = response.content.decode()
    assert "Webhooks registered for deal, organization, person, pipeline, stage." in text
    assert len(served.sandbox.webhooks.registered) == 5
    assert "Registered for deal, organization, person, pipeline, stage" in text
    assert "Events today: 0" in text and "Rejected requests: 0" in text
    password = WebhookEndpoint.objects.get(pk=served.integration.pk).credentials["password"]
    assert password not in text

    served.sandbox.webhooks.registered.clear()  # Pipedrive deleted them
    text = admin_client.post(operation(served, "check_webhooks"), follow=True).content.decode()
    assert "Missing at the provider" in text

    text = admin_client.post(operation(served, "unregister_webhooks"), follow=True).content.decode()
    assert "Webhooks removed." in text and "Not registered" in text


def test_the_buttons_need_change_permission(client, served, django_user_model):
    viewer = django_user_model.objects.create_user("viewer", password="pw-12345678", is_staff=True)
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_integration"))
    client.force_login(viewer)
    assert client.post(operation(served, "register_webhooks")).status_code == 403
    assert served.sandbox.webhooks.registered == {}


def test_the_command_registers_reports_and_unregisters(served):
    out = StringIO()
    call_command("pipedrive_webhooks", "register", "coeo", stdout=out)
    assert "Webhooks registered" in out.getvalue() and "Registered: deal, organization" in out.getvalue()
    endpoint = ensure_endpoint(served.integration)
    assert endpoint.credentials["password"] not in out.getvalue()
    assert f"/hooks/pipedrive/{endpoint.url_key}/" in out.getvalue()
    out = StringIO()
    call_command("pipedrive_webhooks", "status", "coeo", stdout=out)
    assert "Registered: deal, organization, person, pipeline, stage." in out.getvalue()
    call_command("pipedrive_webhooks", "unregister", "coeo", stdout=StringIO())
    assert served.sandbox.webhooks.registered == {}


def test_the_command_says_what_is_wrong(served):
    with pytest.raises(CommandError, match="No Pipedrive integration"):
        call_command("pipedrive_webhooks", "register", "nobody", stdout=StringIO())
    served.sandbox.api_tokens = frozenset({"other"})
    with pytest.raises(CommandError, match="rejected"):
        call_command("pipedrive_webhooks", "register", "coeo", stdout=StringIO(), stderr=StringIO())
