"""The integration admin: mappings inline, unmapped count, recent runs, sync and connection actions."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from dealflow.models import StageMapping
from dealflow.stages import MappingTarget
from integrations.admin_inlines import StageMappingForm
from integrations.tasks import sync_integration_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced(connected):
    connected.sync()
    return connected


def change_url(integration):
    return reverse("admin:integrations_integration_change", args=[integration.pk])


def test_change_page_shows_mappings_unmapped_count_and_recent_runs(admin_client, synced):
    page = admin_client.get(change_url(synced.integration)).content.decode()
    assert "Bokat möte" in page and "Försäljning" in page  # stage and its pipeline
    assert "Open deals" in page
    assert "4 — choose a target below" in page  # the Event pipeline's stages match no rule
    assert "Recent sync runs" in page and "Succeeded" in page
    assert synced.integration.credentials["api_token"] not in page


def test_changelist_shows_unmapped_count(admin_client, synced):
    page = admin_client.get(reverse("admin:integrations_integration_changelist")).content.decode()
    assert "Unmapped" in page and '<td class="field-unmapped">4</td>' in page


def test_staff_choice_confirms_the_mapping(synced):
    mapping = StageMapping.objects.get(stage__name="Inbjuden")
    form = StageMappingForm({"target": MappingTarget.LEAD, "is_confirmed": ""}, instance=mapping)
    assert form.is_valid(), form.errors
    form.save()
    mapping.refresh_from_db()
    assert (mapping.target, mapping.is_confirmed) == (MappingTarget.LEAD, True)


def run_action(admin_client, action, integration):
    return admin_client.post(
        reverse("admin:integrations_integration_changelist"),
        {"action": action, "_selected_action": [integration.pk]},
        follow=True,
    )


@pytest.mark.parametrize(("action", "full"), [("sync_now", False), ("full_resync", True)])
def test_sync_actions_enqueue_and_say_so(
    admin_client, connected, monkeypatch, action, full, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(sync_integration_task, "delay", lambda *a, **kw: queued.append((a, kw)))
    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(admin_client, action, connected.integration)
    assert queued == [((connected.integration.pk,), {"full": full})]
    message = [str(m) for m in get_messages(response.wsgi_request)][0]
    assert "queued" in message and "Coeo" in message


def test_test_connection_reports_user_and_company(admin_client, served):
    response = run_action(admin_client, "test_connection", served.integration)
    message = [str(m) for m in get_messages(response.wsgi_request)][0]
    assert served.sandbox.company["name"] in message
    assert served.integration.credentials["api_token"] not in message


def test_test_connection_reports_a_token_free_failure(admin_client, served):
    served.integration.credentials = {"api_token": "not-the-right-token-42"}
    served.integration.save()
    response = run_action(admin_client, "test_connection", served.integration)
    message = [str(m) for m in get_messages(response.wsgi_request)][0]
    assert "Coeo" in message and "not-the-right-token-42" not in message


# -- the integration's own page: buttons, and who may press them ------------------------------


def operation_url(integration, operation):
    return reverse("admin:integrations_integration_operation", args=[integration.pk, operation])


def staff(codenames):
    from django.contrib.auth.models import Permission, User
    from django.test import Client

    user = User.objects.create_user("staff-" + "-".join(codenames), password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_the_change_page_has_the_buttons(admin_client, connected):
    page = admin_client.get(change_url(connected.integration)).content.decode()
    buttons = {
        "test_connection": "Test connection",
        "sync_now": "Sync now",
        "full_resync": "Full resync",
        "confirm_suggestions": "Confirm all suggestions",
    }
    for operation, label in buttons.items():
        assert operation_url(connected.integration, operation) in page and label in page


def test_the_test_connection_button_reports_on_the_same_page(admin_client, served):
    response = admin_client.post(operation_url(served.integration, "test_connection"), follow=True)
    assert response.redirect_chain[-1][0] == change_url(served.integration)
    message = [str(m) for m in get_messages(response.wsgi_request)][0]
    assert "Connected to Coeo AB" in message and served.integration.credentials["api_token"] not in message


def test_the_sync_button_queues_a_sync(admin_client, connected, monkeypatch, django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr(sync_integration_task, "delay", lambda *a, **kw: queued.append((a, kw)))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(operation_url(connected.integration, "full_resync"), follow=True)
    assert queued == [((connected.integration.pk,), {"full": True})]
    assert "queued" in [str(m) for m in get_messages(response.wsgi_request)][0]


def test_buttons_are_post_only_and_need_csrf(connected):
    client = staff(["view_integration", "change_integration"])
    url = operation_url(connected.integration, "sync_now")
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 403  # no CSRF token


def test_an_unknown_operation_is_404(admin_client, connected):
    assert admin_client.post(operation_url(connected.integration, "delete_everything")).status_code == 404


@pytest.mark.parametrize("operation", ["test_connection", "sync_now", "full_resync", "confirm_suggestions"])
def test_view_only_staff_can_run_no_operation(connected, monkeypatch, operation):
    queued = []
    monkeypatch.setattr(sync_integration_task, "delay", lambda *a, **kw: queued.append((a, kw)))
    client = staff(["view_integration", "view_stagemapping"])
    client.handler.enforce_csrf_checks = False
    page = client.get(change_url(connected.integration)).content.decode()
    assert operation_url(connected.integration, operation) not in page
    assert client.post(operation_url(connected.integration, operation)).status_code == 403
    # The bulk action is not offered to them either; posting it anyway runs nothing.
    changelist = reverse("admin:integrations_integration_changelist")
    assert f'value="{operation}"' not in client.get(changelist).content.decode()
    client.post(changelist, {"action": operation, "_selected_action": [connected.integration.pk]})
    assert queued == []


def test_confirm_all_suggestions(admin_client, synced):
    unconfirmed = StageMapping.objects.filter(integration=synced.integration, is_confirmed=False)
    suggested = unconfirmed.exclude(target=MappingTarget.UNMAPPED).count()
    assert suggested
    response = admin_client.post(operation_url(synced.integration, "confirm_suggestions"), follow=True)
    assert f"Confirmed {suggested} suggested" in [str(m) for m in get_messages(response.wsgi_request)][0]
    assert not unconfirmed.exclude(target=MappingTarget.UNMAPPED).exists()
    assert unconfirmed.filter(target=MappingTarget.UNMAPPED).exists()  # nothing to confirm there
