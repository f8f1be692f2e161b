# PostgreSQL: no planner statistics for the cached records' JSON columns (the raw payload, custom
# fields, labels, emails, phones). No query filters on them, and gathering them was half of the
# ANALYZE the sync runs after a large write (analyze.py): every sampled payload read out of TOAST
# and compared. The other columns and the expression indexes keep theirs. SQLite's ANALYZE reads
# only indexes: nothing to do there.

from django.db import migrations, models

APPS = ("dealflow",)


def json_columns(apps):
    for app in APPS:
        for model in apps.get_app_config(app).get_models():
            if not any(field.name == "raw" for field in model._meta.concrete_fields):
                continue  # not a cached record
            for field in model._meta.concrete_fields:
                if isinstance(field, models.JSONField):
                    yield model._meta.db_table, field.column


def set_statistics(target):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        quote = schema_editor.quote_name
        for table, column in json_columns(apps):
            schema_editor.execute(f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(column)} SET STATISTICS {target}")

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0012_stage_history_backfill"),
        ("dealflow", "0017_overview_cache_marks"),
    ]

    operations = [migrations.RunPython(set_statistics(0), set_statistics(-1))]
