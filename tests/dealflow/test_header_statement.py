"""A company's board header reads its CRM integration and latest sync run in one statement
(dealflow/freshness.header_integration). Runs on SQLite and PostgreSQL."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dealflow.freshness import header_integration, latest_run
from integrations.models import SyncOutcome, SyncRun

pytestmark = pytest.mark.django_db


def test_the_header_reads_the_integration_and_its_latest_run_in_one_statement(client, staff, coeo):
    SyncRun.objects.create(integration=coeo.integration, kind="full", started_at=timezone.now(), progress="Deals")
    client.force_login(staff)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("dealflow:company_board", args=[coeo.company.slug]))

    assert "Deals" in response.content.decode()
    runs = [query["sql"] for query in queries.captured_queries if "integrations_syncrun" in query["sql"]]
    assert len(runs) == 1 and "integrations_syncstate" in runs[0], runs


def test_the_latest_run_read_with_the_integration_is_the_one_latest_run_reads(coeo, nordic):
    now = timezone.now()
    assert header_integration(coeo.company).latest_sync_run is None  # no run yet
    older = SyncRun.objects.create(integration=coeo.integration, kind="full", started_at=now - timedelta(hours=1))
    tied = [SyncRun.objects.create(integration=coeo.integration, kind="incremental", started_at=now) for _ in range(2)]
    SyncRun.objects.create(integration=nordic.integration, kind="full", started_at=now + timedelta(minutes=1))

    integration = header_integration(coeo.company)

    assert integration.pk == coeo.integration.pk and integration.sync_state.pk == coeo.integration.pk
    assert latest_run(integration) == tied[-1] == latest_run(type(integration).objects.get(pk=integration.pk))
    assert older != tied[-1]


def test_a_company_without_a_crm_integration_has_no_header_integration(db):
    from tests import factories as make

    assert header_integration(make.company("No CRM")) is None


def test_after_a_dead_worker_is_noticed_the_header_reads_the_ended_run(coeo, monkeypatch):
    # The run read with the integration was running; noticing its worker died ends it (run_log).
    run = SyncRun.objects.create(integration=coeo.integration, kind="full", started_at=timezone.now())
    integration = header_integration(coeo.company)
    assert integration.latest_sync_run == run and integration.latest_sync_run.outcome == SyncOutcome.RUNNING

    def recover(*, integration):
        SyncRun.objects.filter(pk=run.pk).update(outcome=SyncOutcome.FAILED, finished_at=timezone.now())
        return True

    from dealflow import freshness

    monkeypatch.setattr(freshness, "recover_dead_holder", recover)
    progress = freshness.sync_progress(integration, since=None)
    assert progress.state == "idle" and progress.run.outcome == SyncOutcome.FAILED
