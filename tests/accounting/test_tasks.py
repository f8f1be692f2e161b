"""The periodic financial sync: its beat entry, its dispatcher (accounting integrations only, and
the CRM dispatcher leaves them alone), and the task itself (ids in, a sync over loopback)."""

import pytest
from django_celery_beat.models import PeriodicTask

from accounting import tasks
from accounting.models import Invoice
from accounting.services.beat_schedule import TASK_NAME, ensure_schedule
from accounting.services.connect import connect_service_account
from integrations.services.scheduling import dispatch_due_syncs, due_integrations, enqueue_full_syncs
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def fortnox_and_pipedrive(live_fortnox):
    books = connect_service_account(factories.company("Nordljus"), "100001")
    crm = factories.integration(factories.company("Coeo"))
    return books, crm


def test_the_beat_entry_exists_once_and_names_the_task():
    assert PeriodicTask.objects.filter(name=TASK_NAME).count() == 1  # created by migrate
    assert ensure_schedule() is False
    assert PeriodicTask.objects.get(name=TASK_NAME).task == "accounting.dispatch_due_financial_syncs"


def test_each_dispatcher_queues_only_its_own_category(fortnox_and_pipedrive, monkeypatch):
    books, crm = fortnox_and_pipedrive
    crm_sent, books_sent = [], []
    monkeypatch.setattr("integrations.tasks.sync_integration_task.delay", lambda *a, **kw: crm_sent.append(a[0]))
    monkeypatch.setattr(tasks.sync_financials_task, "delay", lambda *a, **kw: books_sent.append(a[0]))
    assert [i.pk for i in due_integrations()] == [crm.pk]
    assert tasks.dispatch_due_financial_syncs_task() == [books.pk]
    assert tasks.dispatch_due_financial_syncs_task() == []  # claimed: not again before its interval
    assert books_sent == [books.pk]
    assert enqueue_full_syncs() == [crm.pk]
    assert books.pk not in dispatch_due_syncs()


def test_the_task_syncs_the_integration_it_is_given(fortnox_and_pipedrive):
    books, crm = fortnox_and_pipedrive
    assert tasks.sync_financials_task(books.pk) == "succeeded"
    assert Invoice.objects.filter(company=books.company).exists()
    assert tasks.sync_financials_task(crm.pk) == "gone"  # not an accounting integration
    assert tasks.sync_financials_task(987654) == "gone"
