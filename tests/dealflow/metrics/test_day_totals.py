"""The metrics' day totals (dealflow_dealdaytotal) stay exactly equal to a GROUP BY over the deals
after every kind of write, with days in the studio's time zone.

Runs on SQLite, and on PostgreSQL with `scripts/with-postgres .venv/bin/python -m pytest ...`
(the two databases keep the table with different triggers).
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Q

from dealflow.metrics.day_totals import day_rows, grouped_deals, table_rows, triggers_present
from dealflow.models import Deal, DealDayTotal, Stage
from integrations.models import SyncOutcome
from integrations.providers.pipedrive import records
from integrations.sync.apply import apply_records
from tests import factories as make
from tests.dealflow import test_board_totals_table as board_totals_tests

pytestmark = pytest.mark.django_db
# A fully synced sandbox company, and its open deals: as the board totals' tests.
synced = board_totals_tests.synced
open_deals = board_totals_tests.open_deals


def assert_exact():
    expected = grouped_deals()
    assert table_rows() == expected
    return expected


def test_a_full_sync_fills_the_table(synced):
    expected = assert_exact()
    kinds = {kind for (_, kind, _, _) in expected}
    assert kinds == {"new", "won", "lost"}
    added = Deal.objects.exclude(status="deleted").filter(add_time__isnull=False).count()
    assert sum(count for (_, kind, _, _), (count, _) in expected.items() if kind == "new") == added


def test_deletions_reconciled_by_a_full_sync(synced):
    sandbox = synced.sandbox
    gone = open_deals(sandbox)[0]
    sandbox.purge_deal(gone["id"])  # no longer listed: the full sync's reconciliation removes it
    assert synced.sync(full=True).outcome == SyncOutcome.SUCCEEDED
    assert not Deal.objects.filter(remote_id=gone["id"]).exists()
    assert_exact()
    Stage.objects.filter(deals__status="won").distinct().first().delete()  # SET NULL moves no day total
    assert_exact()


def test_records_applied_by_a_webhook_or_write_back(synced):
    sandbox = synced.sandbox
    deal = open_deals(sandbox)[0]
    for change in (
        sandbox.update_deal(deal["id"], value=42.5),
        sandbox.win_deal(deal["id"]),
        sandbox.add_deal(title="From a webhook", value=10),
    ):
        tally = apply_records(integration=synced.integration, entity="deals", records=[records.Deal.from_api(change)])
        assert tally.created + tally.updated == 1
        assert_exact()


def test_orm_writes_and_local_days(db):
    """Days are the studio's (Europe/Stockholm): 23:30 UTC on 1 March is 2 March there; in July
    (summer time) 22:30 UTC is already the next day."""
    integration = make.integration(make.company())
    stage = make.stage(make.pipeline(integration), "Lead")
    deal = make.deal(stage, value=100, add_time=datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    make.many_deals(stage, 3, value=Decimal("0.10"), add_time=datetime(2026, 7, 1, 22, 30, tzinfo=UTC))
    assert_exact()
    assert table_rows()[integration.pk, "new", date(2026, 3, 2), deal.currency] == (1, 10000)
    assert table_rows()[integration.pk, "new", date(2026, 7, 2), deal.currency] == (3, 30)

    Deal.objects.filter(pk=deal.pk).update(status="won", won_time=datetime(2026, 4, 1, 21, 59, tzinfo=UTC))
    assert table_rows()[integration.pk, "won", date(2026, 4, 1), deal.currency] == (1, 10000)
    Deal.objects.filter(pk=deal.pk).update(
        status="lost", won_time=None, lost_time=datetime(2026, 4, 1, 22, 0, tzinfo=UTC)
    )
    assert table_rows()[integration.pk, "lost", date(2026, 4, 2), deal.currency] == (1, 10000)
    Deal.objects.filter(value=Decimal("0.10"))[:1].get().delete()
    deal.refresh_from_db()
    deal.currency = "EUR"
    deal.status = "deleted"
    deal.save()
    expected = assert_exact()
    assert sum(count for (_, kind, _, _), (count, _) in expected.items() if kind == "new") == 2


def test_day_rows_sum_a_period_per_integration_or_together(db):
    first, second = make.integration(make.company("A")), make.integration(make.company("B"))
    for integration in (first, second):
        stage = make.stage(make.pipeline(integration), "Lead")
        make.deal(stage, value=Decimal("10.05"), currency="SEK", add_time=datetime(2026, 5, 10, 12, tzinfo=UTC))
        make.deal(stage, value=Decimal("1.00"), currency="SEK", add_time=datetime(2026, 5, 12, 12, tzinfo=UTC))
    rows = day_rows([first.pk, second.pk], ["new"], date(2026, 5, 10), date(2026, 5, 11), per_integration=False)
    assert rows == [{"kind": "new", "day": date(2026, 5, 10), "currency": "SEK", "count": 2, "value": Decimal("20.10")}]
    rows = day_rows([first.pk], ["new", "won"], date(2026, 5, 1), date(2026, 5, 31))
    assert sorted((row["day"], row["count"]) for row in rows) == [(date(2026, 5, 10), 1), (date(2026, 5, 12), 1)]
    assert {row["integration_id"] for row in rows} == {first.pk}


def test_the_rebuild_command_repairs_the_table_and_its_triggers(synced, capsys):
    expected = grouped_deals()
    DealDayTotal.objects.filter(pk=DealDayTotal.objects.first().pk).update(count=999)
    with pytest.raises(CommandError):
        call_command("rebuild_metric_totals", "--check")
    call_command("rebuild_metric_totals")
    assert table_rows() == expected
    call_command("rebuild_metric_totals", "--check")
    assert "equal" in capsys.readouterr().out
    assert triggers_present()


def test_day_rows_sum_the_monthly_ones_per_month(db):
    """Amounts in the reporting currency need no day's rate: read per month (day = the month's first)."""
    stage = make.stage(make.pipeline(make.integration(make.company())), "Lead")
    for day, currency in ((3, "SEK"), (20, "SEK"), (3, "EUR"), (20, "EUR")):
        make.deal(stage, value=10, currency=currency, add_time=datetime(2026, 5, day, 12, tzinfo=UTC))
    rows = day_rows([stage.integration_id], ["new"], date(2026, 5, 1), None, monthly=Q(currency="SEK"))
    assert sorted((row["currency"], row["day"], row["count"]) for row in rows) == [
        ("EUR", date(2026, 5, 3), 1),
        ("EUR", date(2026, 5, 20), 1),
        ("SEK", date(2026, 5, 1), 2),
    ]
