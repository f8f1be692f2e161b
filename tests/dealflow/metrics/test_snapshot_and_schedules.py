"""The daily pipeline snapshot (idempotent per day) and the beat schedules migrate creates."""

from datetime import date
from decimal import Decimal

import pytest
from django_celery_beat.models import PeriodicTask

from dealflow.metrics.setup import FX_TASK_NAME, SNAPSHOT_TASK_NAME, ensure_schedules
from dealflow.metrics.snapshot import take_snapshots
from dealflow.models import DealStatus, PipelineSnapshot
from dealflow.tasks import take_pipeline_snapshots
from tests import factories as make

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 1)


def snapshot_rows():
    return set(
        PipelineSnapshot.objects.values_list(
            "company__slug", "day", "stage", "currency", "count", "value", "weighted_value"
        )
    )


def test_snapshot_per_company_column_and_currency(coeo, nordic):
    s = coeo.stages
    make.deal(s.lead, "a", value=1000)
    make.deal(s.lead, "b", value=500)
    make.deal(s.lead, "c", value=100, currency="EUR")
    make.deal(s.won, "verbal", value=300)
    make.deal(s.nej_tack, "excluded", value=70)
    make.deal(s.proposal, "won", value=9, status=DealStatus.WON)  # closed: not pipeline
    make.deal(s.proposal, "archived", value=9, is_archived=True)
    make.deal(nordic.lead, "n", value=200, currency="EUR")
    assert take_snapshots(DAY) == 5
    assert snapshot_rows() == {
        ("coeo", DAY, "lead", "SEK", 2, Decimal("1500.00"), Decimal("150.00")),
        ("coeo", DAY, "lead", "EUR", 1, Decimal("100.00"), Decimal("10.00")),
        ("coeo", DAY, "closed_won", "SEK", 1, Decimal("300.00"), Decimal("300.00")),
        ("coeo", DAY, "excluded", "SEK", 1, Decimal("70.00"), Decimal("70.00")),  # its stage: 100 %
        ("nordic", DAY, "lead", "EUR", 1, Decimal("200.00"), Decimal("40.00")),
    }


def test_taking_a_days_snapshot_again_replaces_it(coeo):
    deal = make.deal(coeo.stages.lead, "a", value=1000)
    take_snapshots(DAY)
    take_snapshots(date(2026, 2, 28))
    deal.value = Decimal(2000)
    deal.save()
    take_snapshots(DAY)
    assert PipelineSnapshot.objects.filter(day=DAY).get().value == Decimal(2000)
    assert PipelineSnapshot.objects.get(day=date(2026, 2, 28)).value == Decimal(1000)
    assert PipelineSnapshot.objects.count() == 2


def test_the_task_snapshots_today(coeo):
    make.deal(coeo.stages.lead, "a", value=1000)
    take_pipeline_snapshots()
    take_pipeline_snapshots()
    assert PipelineSnapshot.objects.count() == 1


def test_snapshots_feed_the_pipeline_trend(client, staff, coeo):
    make.deal(coeo.stages.lead, "a", value=1000)
    take_snapshots()
    client.force_login(staff)
    html = client.get("/dealflow/coeo/metrics/").content.decode()
    assert 'id="chart-pipeline_by_day"' in html


def test_migrate_created_the_schedules_and_staff_edits_survive():
    assert PeriodicTask.objects.filter(name__in=[FX_TASK_NAME, SNAPSHOT_TASK_NAME]).count() == 2
    PeriodicTask.objects.filter(name=FX_TASK_NAME).update(enabled=False)
    assert ensure_schedules() == []
    assert not PeriodicTask.objects.get(name=FX_TASK_NAME).enabled
    assert PeriodicTask.objects.get(name=SNAPSHOT_TASK_NAME).task == "dealflow.take_pipeline_snapshots"


def test_the_portfolio_pipeline_trend_summed_in_sql_equals_the_companies_sums(coeo, nordic):
    # The portfolio pages read the snapshots summed over the companies (per day, stage and
    # currency); the figures, converted and unconverted, are those of the rows per company.
    from dealflow.metrics import trends
    from dealflow.metrics.report import build
    from dealflow.metrics.scope import Scope
    from tests.dealflow.metrics import dataset

    dataset.rates()
    for day, coeo_value, nordic_value in ((date(2026, 3, 28), "1000.10", "100.05"), (date(2026, 3, 31), "7.30", "9")):
        for company, value in ((coeo.company, coeo_value), (nordic.company, nordic_value)):
            for currency in ("SEK", "EUR", "XYZ"):
                PipelineSnapshot.objects.create(
                    company=company, day=day, stage="lead", currency=currency, count=1, value=Decimal(value)
                )
    companies = [coeo.company, nordic.company]
    lean = build(companies, dataset.PERIOD, "SEK", today=dataset.TODAY, company_trends=False)
    full = build(companies, dataset.PERIOD, "SEK", today=dataset.TODAY)
    assert len(lean.portfolio["trends"]["pipeline_by_day"]) == 2
    assert lean.portfolio["trends"]["pipeline_by_day"] == full.portfolio["trends"]["pipeline_by_day"]
    assert full.portfolio["trends"]["pipeline_by_day"]["2026-03-28"]["lead"] == Decimal("1100.15") * (1 + 12)
    rows = trends.fetch(Scope.of(companies), dataset.PERIOD, dataset.TODAY, "SEK", per_integration=False)
    assert len(rows.snapshots) == 2 * 3  # days x currencies, not x companies too
