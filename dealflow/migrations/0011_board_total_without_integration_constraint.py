# The board totals' integration link loses its database constraint (see BoardTotal.integration).
# SQLite remakes the table to drop it, which breaks triggers that name the table, so the triggers
# of 0009 are dropped first and made again after; the rows are copied as they are.

import importlib

import django.db.models.deletion
from django.db import migrations, models

board_totals = importlib.import_module("dealflow.migrations.0009_board_totals")


def create_triggers_only(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": board_totals.sqlite_sql, "postgresql": board_totals.postgresql_sql}[vendor]():
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("dealflow", "0010_board_indexes"),
        ("integrations", "0011_webhooks_in"),
    ]

    operations = [
        migrations.RunPython(board_totals.drop_triggers, create_triggers_only),
        migrations.AlterField(
            model_name="boardtotal",
            name="integration",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="integrations.integration",
            ),
        ),
        migrations.RunPython(create_triggers_only, board_totals.drop_triggers),
    ]
