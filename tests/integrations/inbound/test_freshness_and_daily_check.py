"""The board says "live" while webhooks are healthy, else the last sync as before; the daily beat
task re-registers webhooks Pipedrive deleted."""

from datetime import timedelta

from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from config.celery import app
from dealflow.freshness import Health, sync_freshness
from integrations.inbound.endpoints import ensure_endpoint
from integrations.inbound.tasks import check_webhooks_task
from integrations.models import Integration, WebhookEndpoint
from integrations.services.beat_schedules import WEBHOOK_CHECK_TASK_NAME, ensure_schedules
from tests import factories as make


def an_integration(*, last_sync_hours=5, **endpoint_fields):
    integration = make.integration(make.company("Coeo", slug="coeo"))
    now = timezone.now()
    make.sync_state(
        integration, last_successful_sync_at=now - timedelta(hours=last_sync_hours), last_sync_outcome="succeeded"
    )
    if endpoint_fields:
        ensure_endpoint(integration)
        WebhookEndpoint.objects.filter(pk=integration.pk).update(**endpoint_fields)
    return Integration.objects.select_related("sync_state").get(pk=integration.pk), now


def test_live_while_events_arrive(db):
    integration, now = an_integration(registered_at=timezone.now(), last_event_at=timezone.now() - timedelta(minutes=3))
    freshness = sync_freshness(integration, now=now)
    assert freshness.age_text == "live"
    assert (freshness.health, freshness.warning) == (Health.FRESH, "")


def test_live_while_the_last_check_found_them_registered(db):
    integration, now = an_integration(registered_at=timezone.now(), checked_at=timezone.now(), check_ok=True)
    assert sync_freshness(integration, now=now).age_text == "live"


def test_the_last_sync_time_when_webhooks_are_unhealthy(db):
    old = timezone.now() - timedelta(days=3)
    integration, now = an_integration(registered_at=old, last_event_at=old, checked_at=old, check_ok=False)
    freshness = sync_freshness(integration, now=now)
    assert freshness.age_text == "synced 5 h ago" and freshness.health == Health.STALE


def test_the_last_sync_time_without_webhooks(db):
    integration, now = an_integration()
    assert sync_freshness(integration, now=now).age_text == "synced 5 h ago"


def test_not_live_when_unregistered_even_after_a_recent_event(db):
    integration, now = an_integration(last_event_at=timezone.now())
    assert sync_freshness(integration, now=now).age_text == "synced 5 h ago"


def test_the_board_header_says_live(admin_client, db):
    an_integration(registered_at=timezone.now(), last_event_at=timezone.now())
    page = admin_client.get("/dealflow/coeo/").content.decode()
    assert ">live</time>" in page


def test_the_daily_check_is_scheduled_and_registered_with_celery(db):
    ensure_schedules()
    task = PeriodicTask.objects.get(name=WEBHOOK_CHECK_TASK_NAME)
    assert task.task == "integrations.check_webhooks" and task.crontab is not None
    assert "integrations.check_webhooks" in app.tasks and "integrations.process_inbound_event" in app.tasks


def test_the_daily_task_re_registers_deleted_webhooks(served):
    from integrations.inbound.registration import register

    register(served.integration)
    served.sandbox.webhooks.registered.clear()
    assert check_webhooks_task() == {served.integration.pk: True}
    assert len(served.sandbox.webhooks.registered) == 5
