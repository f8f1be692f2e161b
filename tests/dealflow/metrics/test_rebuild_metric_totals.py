"""`manage.py rebuild_metric_totals` repairs the month totals and the open deal totals alike: `--check`
finds a table that differs from the deals, the rebuild makes its dropped triggers again and
recomputes its rows, and the triggers keep it once more.

Runs on SQLite, and on PostgreSQL with `scripts/with-postgres .venv/bin/python -m pytest ...`."""

from datetime import UTC, date, datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from dealflow import triggers
from dealflow.metrics import month_totals, open_totals
from dealflow.models import DealMonthTotal, DealOpenTotal
from tests import factories as make

pytestmark = pytest.mark.django_db


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
