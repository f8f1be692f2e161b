"""The trigger registry (dealflow/triggers.py): every set of triggers that keeps a stored figure
(board totals, day totals, search index, stage stays, planned activity flags, overview marks) is
made again by `migrate` when it went missing (a table rebuild on SQLite drops a table's triggers
without a word), with what it keeps recomputed, so the figures are exact and maintained again; the
rebuild commands find and make missing triggers through the same registry.

Runs on SQLite, and on PostgreSQL with `scripts/with-postgres .venv/bin/python -m pytest ...`.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations import Migration
from django.db.migrations.operations import AddField, AddIndex, AlterField, CreateModel, RunPython
from django.db.models import CharField, Index, IntegerField, TextField
from django.utils import timezone

from dealflow import board_totals, board_won_months, triggers
from dealflow.metrics import activity_flags, day_totals, month_totals, open_totals, overview_cache
from dealflow.models import Deal, DealStatus, StageChange
from dealflow.search_index import matches, plain_matches
from tests import factories as make
from tests.dealflow.metrics.test_stage_time import stored, worked_out

pytestmark = pytest.mark.django_db

EVERY_SET = {
    "board_totals",
    "board_won_months",
    "day_totals",
    "activity_flags",
    "overview_marks",
    "stage_stays",
    "open_totals",
    "month_totals",
    *(
        ["search_dealflow_deal", "search_dealflow_organization", "search_dealflow_person"]
        if connection.vendor == "sqlite"
        else []
    ),
}


@pytest.fixture
def stage():
    return make.stage(make.pipeline(make.integration(make.company())), "Lead")


def write(stage, label: str) -> Deal:
    """A deal added with a planned activity and a stage change, and an older deal won and revalued."""
    now = timezone.now()
    deal = make.deal(stage, f"Affär {label}", value=Decimal("1250.50"))
    make.activity(deal, "Ring")
    StageChange.objects.create(deal=deal, to_stage=stage, changed_at=now - timedelta(days=2))
    older = Deal.objects.filter(status=DealStatus.OPEN).exclude(pk=deal.pk).order_by("pk").first()
    if older is not None:
        Deal.objects.filter(pk=older.pk).update(status=DealStatus.WON, won_time=now, value=Decimal("777"))
    return deal


def figures_exact() -> bool:
    ids = list(Deal.objects.values_list("integration_id", flat=True).distinct())
    searched = all(
        set(Deal.objects.filter(matches(q, ids)).values_list("pk", flat=True))
        == set(Deal.objects.filter(plain_matches(q, ids)).values_list("pk", flat=True))
        for q in Deal.objects.values_list("title", flat=True)
    )
    return (
        board_totals.table_rows() == board_totals.grouped_deals()
        and board_won_months.table_rows() == board_won_months.grouped_deals()
        and day_totals.table_rows() == day_totals.grouped_deals()
        and open_totals.table_rows() == open_totals.grouped_deals()
        and month_totals.table_rows() == month_totals.grouped_deals()
        and activity_flags.differing() == []
        and stored() == worked_out()
        and searched
    )


def drop_every_set():
    with connection.cursor() as cursor:
        for trigger_set in triggers.trigger_sets():
            triggers.drop(cursor, connection.vendor, trigger_set)


def plan(*operations, app: str = "dealflow", backwards: bool = False):
    """A migration plan of one migration holding these operations, as `migrate` hands it out."""
    migration = Migration("0999_test", app)
    migration.operations = list(operations)
    return [(migration, backwards)]


def test_every_set_is_registered_and_present_after_migrate(db):
    assert {trigger_set.name for trigger_set in triggers.trigger_sets()} >= EVERY_SET
    assert triggers.missing() == []


def test_migrate_makes_dropped_triggers_again_and_recomputes_what_they_keep(stage):
    write(stage, "före")
    assert figures_exact()
    drop_every_set()
    assert {trigger_set.name for trigger_set in triggers.missing()} == EVERY_SET
    write(stage, "utan")  # unmaintained: every figure drifts
    assert not figures_exact()
    assert overview_cache.marks([stage.integration_id]) is None  # the overview is not cached meanwhile

    call_command("migrate", verbosity=0)
    assert triggers.triggers_present()
    assert figures_exact()
    before = overview_cache.marks([stage.integration_id])
    assert before is not None
    write(stage, "efter")  # maintained again
    assert figures_exact()
    assert overview_cache.marks([stage.integration_id]) != before


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL keeps a table's triggers when it alters it")
@pytest.mark.django_db(transaction=True)
def test_a_table_rebuild_by_a_migration_on_sqlite_leaves_the_figures_maintained(stage):
    write(stage, "före")
    # What `migrate` does on SQLite before it applies a plan: without it the rebuild below fails
    # (the rename of the copy checks the triggers on other tables that name the deals).
    triggers.on_pre_migrate(sender=None, plan=plan(AlterField("deal", "title", CharField(max_length=255))))
    with connection.schema_editor() as editor:
        editor._remake_table(Deal)  # what AlterField and friends do on SQLite
    write(stage, "utan")
    assert triggers.missing()
    assert not figures_exact()

    call_command("migrate", verbosity=0)
    assert triggers.triggers_present()
    assert figures_exact()
    write(stage, "efter")
    assert figures_exact()


def test_the_rebuild_commands_find_and_make_missing_triggers(stage):
    write(stage, "före")
    drop_every_set()
    with pytest.raises(CommandError, match="Triggers missing .*overview_marks"):
        call_command("rebuild_metric_totals", "--check")
    with pytest.raises(CommandError, match="Triggers missing .*board_totals"):
        call_command("rebuild_board_totals", "--check")
    call_command("rebuild_metric_totals")
    call_command("rebuild_board_totals")
    assert triggers.triggers_present()
    call_command("rebuild_metric_totals", "--check")
    call_command("rebuild_board_totals", "--check")
    write(stage, "efter")
    assert figures_exact()


def test_migrate_leaves_sets_whose_migration_is_not_applied_alone(stage, monkeypatch):
    """A database migrated backwards: the set's tables or columns may not be there."""
    drop_every_set()
    applied = triggers.MigrationRecorder.applied_migrations
    monkeypatch.setattr(
        triggers.MigrationRecorder,
        "applied_migrations",
        lambda self: {key: value for key, value in applied(self).items() if key[1] != "0017_overview_cache_marks"},
    )
    assert "overview_marks" not in triggers.ensure_triggers()
    assert [trigger_set.name for trigger_set in triggers.missing()] == ["overview_marks"]


sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="migrate drops triggers on SQLite only")


@sqlite_only
def test_a_plan_that_rebuilds_no_table_a_trigger_names_keeps_every_trigger(stage):
    """Recomputing every stored figure costs minutes on a large database: a plan that adds an index
    to the deals, moves data, makes a table or changes another app's table leaves the triggers be."""
    quiet = plan(
        AddIndex("deal", Index(fields=["title", "value"], name="test_deal_title_value_idx")),
        RunPython(RunPython.noop),
        CreateModel("Scratch", [("id", IntegerField(primary_key=True))]),
    ) + plan(AddField("syncrun", "note", TextField(default="")), app="integrations")
    assert triggers.tables_altered(quiet) == {"integrations_syncrun"}
    triggers.on_pre_migrate(sender=None, plan=quiet)
    assert triggers.missing() == []


@sqlite_only
def test_a_plan_that_rebuilds_a_table_drops_only_the_sets_that_name_it(stage, caplog):
    organization_rebuilt = plan(AlterField("organization", "address", TextField(blank=True, default="")))
    assert triggers.tables_altered(organization_rebuilt) == {"dealflow_organization"}
    triggers.on_pre_migrate(sender=None, plan=organization_rebuilt)
    assert [trigger_set.name for trigger_set in triggers.missing()] == ["search_dealflow_organization"]
    triggers.on_post_migrate(sender=None)
    assert triggers.missing() == []

    deals_rebuilt = plan(AlterField("deal", "title", CharField(max_length=255)))
    assert triggers.tables_altered(deals_rebuilt) >= {"dealflow_deal"}
    triggers.on_pre_migrate(sender=None, plan=deals_rebuilt)
    dropped = {trigger_set.name for trigger_set in triggers.missing()}
    assert dropped == EVERY_SET - {"search_dealflow_organization", "search_dealflow_person"}

    # Made again after the migration, quietly: migrate dropped them itself.
    caplog.clear()
    with caplog.at_level("INFO", logger="dealflow.triggers"):
        triggers.on_post_migrate(sender=None)
    assert triggers.missing() == []
    assert [record.levelname for record in caplog.records] == ["INFO"]
    assert all(name in caplog.records[0].getMessage() for name in dropped)


def test_triggers_missing_for_another_reason_are_made_again_with_a_warning(stage, caplog):
    drop_every_set()
    with caplog.at_level("INFO", logger="dealflow.triggers"):
        call_command("migrate", verbosity=0)
    assert triggers.missing() == []
    assert [record.levelname for record in caplog.records] == ["WARNING"]
