"""Dispatcher, enqueueing, retry policy, the Celery task and beat schedules."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from integrations.models import Integration, SyncOutcome, SyncRun, SyncState
from integrations.services import scheduling
from integrations.services.beat_schedules import DISPATCH_TASK_NAME, NIGHTLY_TASK_NAME, ensure_schedules
from integrations.tasks import sync_integration_task
from tests.integrations.conftest import connect

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    """Records what would go to the broker (the Celery end-to-end test covers the real broker)."""
    calls = []
    monkeypatch.setattr(sync_integration_task, "delay", lambda *args, **kwargs: calls.append((args, kwargs)))
    return calls


def test_enqueue_sync_sends_only_ids_after_commit(connected, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        scheduling.enqueue_sync(integration=connected.integration, full=True)
    assert queued == [((connected.integration.pk,), {"full": True})]


def test_dispatcher_queues_due_integrations_once(coeo_sandbox, queued, django_capture_on_commit_callbacks):
    due = connect(coeo_sandbox, slug="due").integration
    recent = connect(coeo_sandbox, slug="recent").integration
    disabled = connect(coeo_sandbox, slug="disabled").integration
    blocked = connect(coeo_sandbox, slug="blocked").integration
    now = timezone.now()
    SyncState.objects.filter(integration_id=recent.pk).update(last_sync_started_at=now - timedelta(minutes=5))
    Integration.objects.filter(pk=disabled.pk).update(is_enabled=False)
    SyncState.objects.filter(integration_id=blocked.pk).update(sync_blocked_until=now + timedelta(hours=3))

    with django_capture_on_commit_callbacks(execute=True):
        first = scheduling.dispatch_due_syncs(now=now)
        again = scheduling.dispatch_due_syncs(now=now + timedelta(seconds=30))
    assert first == [due.pk]
    assert again == []
    assert queued == [((due.pk,), {"full": False})]

    later = now + timedelta(minutes=16)
    with django_capture_on_commit_callbacks(execute=True):
        assert sorted(scheduling.dispatch_due_syncs(now=later)) == [due.pk, recent.pk]


def test_nightly_full_sync_queues_every_enabled_integration(connected, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        scheduling.enqueue_full_syncs()
    assert queued == [((connected.integration.pk,), {"full": True})]


@pytest.mark.parametrize(
    ("outcome", "kind", "retry"),
    [
        (SyncOutcome.FAILED, "transient", True),
        (SyncOutcome.RATE_LIMITED, "rate_limited", True),
        (SyncOutcome.RATE_LIMITED, "budget_exhausted", False),
        (SyncOutcome.FAILED, "auth", False),
        (SyncOutcome.SKIPPED, "", False),
        (SyncOutcome.SUCCEEDED, "", False),
        (SyncOutcome.SKIPPED, "lease_held", False),  # an incremental sync waits for the next dispatch
    ],
)
def test_retry_policy(outcome, kind, retry):
    run = SyncRun(outcome=outcome, error_kind=kind, kind=SyncRun.Kind.INCREMENTAL)
    assert (scheduling.retry_countdown(run, retries_so_far=0) is not None) == retry
    assert scheduling.retry_countdown(run, retries_so_far=scheduling.MAX_RETRIES) is None


def test_a_full_sync_skipped_for_a_held_lease_is_retried():
    run = SyncRun(outcome=SyncOutcome.SKIPPED, error_kind="lease_held", kind=SyncRun.Kind.FULL)
    assert scheduling.retry_countdown(run, retries_so_far=0) is not None
    assert scheduling.retry_countdown(run, retries_so_far=scheduling.MAX_RETRIES) is None


def test_task_syncs_by_id(served):
    result = sync_integration_task.apply(args=[served.integration.pk])
    assert result.get() == SyncOutcome.SUCCEEDED
    assert SyncRun.objects.get().outcome == SyncOutcome.SUCCEEDED


def test_task_does_not_retry_when_the_budget_is_gone(served):
    served.sandbox.spend_budget(served.sandbox.rate_limiter.daily_budget)
    result = sync_integration_task.apply(args=[served.integration.pk])
    assert result.get() == SyncOutcome.RATE_LIMITED


def test_schedules_exist_after_migrate_and_staff_edits_survive():
    assert set(PeriodicTask.objects.values_list("name", flat=True)) >= {DISPATCH_TASK_NAME, NIGHTLY_TASK_NAME}
    dispatch = PeriodicTask.objects.get(name=DISPATCH_TASK_NAME)
    assert dispatch.task == "integrations.dispatch_due_syncs"
    assert (dispatch.interval.every, dispatch.interval.period) == (1, IntervalSchedule.MINUTES)

    five, _ = IntervalSchedule.objects.get_or_create(every=5, period=IntervalSchedule.MINUTES)
    PeriodicTask.objects.filter(name=DISPATCH_TASK_NAME).update(interval=five, enabled=False)
    assert ensure_schedules() == []
    dispatch.refresh_from_db()
    assert (dispatch.interval, dispatch.enabled) == (five, False)


def test_task_retries_a_transient_failure_a_bounded_number_of_times(connected, monkeypatch):
    from integrations import tasks

    failed = SyncRun.objects.create(
        integration=connected.integration,
        kind="incremental",
        started_at=timezone.now(),
        outcome=SyncOutcome.FAILED,
        error_kind="transient",
    )
    attempts = []
    monkeypatch.setattr(tasks, "sync_integration", lambda **kwargs: attempts.append(kwargs) or failed)

    result = sync_integration_task.apply(args=[connected.integration.pk])

    assert len(attempts) == 1 + scheduling.MAX_RETRIES
    assert result.get() == SyncOutcome.FAILED
