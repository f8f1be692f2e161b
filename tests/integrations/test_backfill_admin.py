"""The stage history backfill on the integration's admin page: its settings, the estimate shown
before starting, the progress, and the start button (POST, staff with change permission, CSRF)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from integrations.backfill.selectors import deals_needing_history
from integrations.backfill.services import run_backfill
from integrations.backfill.tasks import backfill_stage_history_all_task, backfill_stage_history_task
from integrations.models import Integration
from integrations.providers.pipedrive.sandbox import Sandbox
from integrations.services.beat_schedules import BACKFILL_TASK_NAME, ensure_schedules
from tests.test_token_secrecy import integration_form as form_data  # the integration page's POST data

pytestmark = pytest.mark.django_db


@pytest.fixture
def coeo_sandbox():
    return Sandbox("coeo", deals=30, burst_limit=100_000)


@pytest.fixture
def synced(connected):
    assert connected.sync().outcome == "succeeded"
    return connected


def change_url(integration):
    return reverse("admin:integrations_integration_change", args=[integration.pk])


def start_url(integration):
    return reverse("admin:integrations_integration_operation", args=[integration.pk, "start_backfill"])


@pytest.fixture
def queued(monkeypatch):
    calls = []
    monkeypatch.setattr(backfill_stage_history_task, "delay", lambda *args, **kw: calls.append((args, kw)))
    return calls


def test_the_page_shows_the_settings_and_the_estimate_before_starting(admin_client, synced):
    integration = synced.integration
    todo = deals_needing_history(integration).count()
    assert todo > 0

    page = admin_client.get(change_url(integration)).content.decode()

    for name in ("backfill_stage_history", "backfill_budget_share", "daily_api_budget"):
        assert f'name="{name}"' in page
    days = -(-todo // (30_000 * 20 // 100 // 20))
    assert f"{todo} deals without history × 20 tokens = {todo * 20} tokens, about {days} day" in page
    assert "6000 tokens a day" in page and "Not started yet." in page
    assert start_url(integration) in page and "Start stage history backfill" in page


def test_the_settings_are_saved_and_the_share_is_validated(admin_client, synced):
    integration = synced.integration
    url = change_url(integration)
    for bad in ("0", "101", "ten"):
        response = admin_client.post(url, form_data(integration, backfill_budget_share=bad))
        assert response.status_code == 200 and "errorlist" in response.content.decode()
    integration.refresh_from_db()
    assert integration.backfill_budget_share == 20 and not integration.backfill_stage_history

    data = form_data(integration, backfill_stage_history="on", backfill_budget_share="35", daily_api_budget="90000")
    assert admin_client.post(url, data).status_code == 302
    integration.refresh_from_db()
    assert (integration.backfill_stage_history, integration.backfill_budget_share) == (True, 35)
    assert integration.daily_api_budget == 90_000
    page = admin_client.get(url).content.decode()
    assert "31500 tokens a day" in page


def test_the_start_button_queues_a_run_with_the_id_only(admin_client, synced, queued):
    Integration.objects.filter(pk=synced.integration.pk).update(backfill_stage_history=True)
    response = admin_client.post(start_url(synced.integration), follow=True)
    assert queued == [((synced.integration.pk,), {})]
    assert response.redirect_chain[-1][0] == change_url(synced.integration)
    assert "backfill queued" in [str(m) for m in get_messages(response.wsgi_request)][0]


def test_the_start_button_refuses_until_opted_in(admin_client, synced, queued):
    response = admin_client.post(start_url(synced.integration), follow=True)
    assert queued == []
    assert "Turn on" in [str(m) for m in get_messages(response.wsgi_request)][0]


def test_the_start_button_is_post_only_needs_csrf_and_change_permission(synced, queued):
    Integration.objects.filter(pk=synced.integration.pk).update(backfill_stage_history=True)
    editor = User.objects.create_user("editor", password="pw", is_staff=True)
    editor.user_permissions.set(Permission.objects.filter(codename__in=["view_integration", "change_integration"]))
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    url = start_url(synced.integration)
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 403  # no CSRF token
    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_integration"))
    client = Client()
    client.force_login(viewer)
    assert url not in client.get(change_url(synced.integration)).content.decode()
    assert client.post(url).status_code == 403
    assert Client().post(url).status_code == 302  # to the login page
    assert queued == []


def test_the_page_shows_the_progress_and_what_was_skipped(admin_client, synced):
    Integration.objects.filter(pk=synced.integration.pk).update(backfill_stage_history=True)
    todo = list(deals_needing_history(synced.integration))
    synced.sandbox.purge_deal(todo[0].remote_id)
    assert run_backfill(integration_id=synced.integration.pk, transport=synced.sandbox.transport()) == "done"

    page = admin_client.get(change_url(synced.integration)).content.decode()

    assert f"Done. {len(todo)} deals read (1 skipped), 0 to do" in page
    assert "No deals need their stage history read." in page
    assert f"Deal {todo[0].remote_id}: Not found in Pipedrive (HTTP 404" in page


def test_beat_runs_it_daily_for_the_integrations_that_opted_in(synced, queued):
    ensure_schedules()
    task = PeriodicTask.objects.get(name=BACKFILL_TASK_NAME)
    assert task.task == "integrations.backfill_stage_history_all" and task.crontab.hour == "3"
    assert backfill_stage_history_all_task() == [] and queued == []
    Integration.objects.filter(pk=synced.integration.pk).update(backfill_stage_history=True)
    assert backfill_stage_history_all_task() == [synced.integration.pk]
    assert queued == [((synced.integration.pk,), {})]
