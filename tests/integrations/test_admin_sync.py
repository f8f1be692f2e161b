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
    assert synced.integration.api_token not in page


def test_changelist_shows_unmapped_count(admin_client, synced):
    page = admin_client.get(reverse("admin:integrations_integration_changelist")).content.decode()
    assert "Unmapped stages" in page


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
def test_sync_actions_enqueue_and_say_so(admin_client, connected, monkeypatch, action, full,
                                         django_capture_on_commit_callbacks):  # fmt: skip
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
    assert served.integration.api_token not in message


def test_test_connection_reports_a_token_free_failure(admin_client, served):
    served.integration.api_token = "not-the-right-token-42"
    served.integration.save()
    response = run_action(admin_client, "test_connection", served.integration)
    message = [str(m) for m in get_messages(response.wsgi_request)][0]
    assert "Coeo" in message and "not-the-right-token-42" not in message
