# PostgreSQL only: Closed Won's open deals (stages mapped to Closed Won, "verbal yes") newest by win
# date, one range per (integration, stage) read no further than the page (dealflow/newest.py). Off
# deal_won_at_idx the planner had to guess how many of an integration's open deals sit in the stage:
# with the stage in the search it read and sorted the whole stage (3,400 rows a company at 400,000
# deals); with it kept out (`stage_id + 0`) it guessed 21 rows where there were 427 at 50,000 and
# sorted them off deal_board_include_idx (10 ms of the 15 of the first pages' statement). Partial on
# open, not archived deals, as the statement's literals are (a generic plan uses it too); the date
# columns included, so that the scan is index-only (PostgreSQL computes the expression from them).
# SQLite keeps its INDEXED BY deal_won_at_idx hint, which stops after the page already.

from django.db import migrations

INDEX = "deal_won_open_stage_idx"
EXPRESSION = "COALESCE(won_time, close_time, stage_change_time, update_time)"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "dealflow_deal" '
            f"(integration_id, stage_id, ({EXPRESSION}) DESC, id DESC) "
            "INCLUDE (won_time, close_time, stage_change_time, update_time) "
            "WHERE status = 'open' AND is_archived = false"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')


class Migration(migrations.Migration):
    dependencies = [
        ("dealflow", "0023_drop_deal_open_cover_idx"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
