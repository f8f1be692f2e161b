"""What the metrics' tables of totals kept by triggers share: the day and month totals
(dealflow_dealdaytotal, dealflow_dealmonthtotal) and the open deal totals (dealflow_dealopentotal)
move with an incremental sync's writes and stay exactly equal to a GROUP BY over the deals, and
`manage.py rebuild_metric_totals` repairs each: `--check` finds a table that differs from the deals,
the rebuild makes its dropped triggers again and recomputes its rows, and the triggers keep it once
more. Each table's own cases are in its test file.

Runs on SQLite, and on PostgreSQL with `scripts/with-postgres .venv/bin/python -m pytest ...`."""

from datetime import UTC, date, datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from dealflow import triggers
from dealflow.metrics import day_totals, month_totals, open_totals
from dealflow.models import DealMonthTotal, DealOpenTotal
from integrations.models import SyncOutcome
from tests import factories as make
from tests.dealflow import test_board_totals_table as board_totals_tests

pytestmark = pytest.mark.django_db
synced = board_totals_tests.synced


def test_an_incremental_sync_moves_every_table_and_keeps_it_exact(synced):
    tables = (day_totals, month_totals, open_totals)
    board_totals_tests.win_lose_revalue_delete_and_add(synced.sandbox)
    before = [totals.table_rows() for totals in tables]

    assert synced.sync().outcome == SyncOutcome.SUCCEEDED

    for totals, rows in zip(tables, before, strict=True):
        assert totals.table_rows() != rows, totals.__name__
        assert totals.table_rows() == totals.grouped_deals(), totals.__name__


@pytest.mark.parametrize(
    ("totals", "model", "name"),
    [(month_totals, DealMonthTotal, "month totals"), (open_totals, DealOpenTotal, "open deal totals")],
    ids=["month_totals", "open_totals"],
)
def test_the_rebuild_command_repairs_the_table_and_its_triggers(totals, model, name):
    stage = make.stage(make.pipeline(make.integration(make.company())), "Lead")
    # Counted in both tables: added on a day (month totals), open with an expected close (open totals).
    make.deal(stage, add_time=datetime(2026, 3, 5, tzinfo=UTC), expected_close_date=date(2026, 3, 20))
    expected = totals.grouped_deals()
    assert expected and totals.table_rows() == expected
    model.objects.update(count=999)
    with pytest.raises(CommandError, match=f"The {name} differ"):
        call_command("rebuild_metric_totals", "--check")
    with connection.cursor() as cursor:
        triggers.drop(cursor, connection.vendor, totals.TRIGGERS)

    call_command("rebuild_metric_totals")

    assert totals.table_rows() == expected
    assert triggers.triggers_present([totals.TRIGGERS.name])
    call_command("rebuild_metric_totals", "--check")
    # The triggers work again.
    make.deal(stage, add_time=datetime(2026, 3, 6, tzinfo=UTC), expected_close_date=date(2026, 3, 20))
    assert totals.table_rows() == totals.grouped_deals() != expected
