# Deal.has_planned_activity and the triggers that keep it (dealflow/metrics/activity_flags.py), and
# the open deals' covering index that hygiene and the forecast read.
#
# The column is added with ALTER TABLE on both databases: Django's AddField on SQLite rebuilds the
# deals table for a NOT NULL column, which would drop every trigger on it (board totals, day
# totals, search, stays). The state gets the same field as the model.

from django.db import migrations, models

from dealflow.metrics import activity_flags


def add_column(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    kind = "bool NOT NULL DEFAULT 0" if vendor == "sqlite" else "boolean NOT NULL DEFAULT false"
    schema_editor.execute(f"ALTER TABLE dealflow_deal ADD COLUMN has_planned_activity {kind}")
    activity_flags.install(schema_editor, vendor)


def drop_column(apps, schema_editor):
    activity_flags.uninstall(schema_editor, schema_editor.connection.vendor)
    schema_editor.execute("ALTER TABLE dealflow_deal DROP COLUMN has_planned_activity")


class Migration(migrations.Migration):
    dependencies = [
        ("dealflow", "0015_search_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(add_column, drop_column)],
            state_operations=[
                migrations.AddField(
                    model_name="deal",
                    name="has_planned_activity",
                    field=models.BooleanField(db_default=False, default=False, editable=False),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="deal",
            index=models.Index(
                fields=[
                    "integration",
                    "status",
                    "stage",
                    "currency",
                    "is_archived",
                    "expected_close_date",
                    "value",
                    "update_time",
                    "has_planned_activity",
                ],
                name="deal_open_cover_idx",
            ),
        ),
    ]
