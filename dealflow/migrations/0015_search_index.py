# The board's search index (dealflow/search_index.py) over deal titles and organization and person
# names. PostgreSQL: pg_trgm GIN indexes on the UPPER() that Django's icontains compares. SQLite:
# FTS5 trigram tables (rowid = the row's id) filled from the rows already cached and kept in step
# by triggers in the transaction of every write, as the board totals are (0009).

from django.db import migrations

SEARCHED = [("dealflow_deal", "title"), ("dealflow_organization", "name"), ("dealflow_person", "name")]


def sqlite_sql(table, column):
    search = f"{table}_search"
    return [
        f"CREATE VIRTUAL TABLE {search} USING fts5({column}, tokenize = 'trigram case_sensitive 0')",
        f"INSERT INTO {search} (rowid, {column}) SELECT id, {column} FROM {table}",
        f"CREATE TRIGGER {search}_insert AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {search} (rowid, {column}) VALUES (NEW.id, NEW.{column}); END",
        f"CREATE TRIGGER {search}_delete AFTER DELETE ON {table} BEGIN "
        f"DELETE FROM {search} WHERE rowid = OLD.id; END",
        f"CREATE TRIGGER {search}_update AFTER UPDATE OF id, {column} ON {table} "
        f"WHEN OLD.{column} IS NOT NEW.{column} OR OLD.id IS NOT NEW.id BEGIN "
        f"DELETE FROM {search} WHERE rowid = OLD.id; "
        f"INSERT INTO {search} (rowid, {column}) VALUES (NEW.id, NEW.{column}); END",
    ]


def postgresql_sql(table, column):
    return [f"CREATE INDEX {table}_{column}_trgm ON {table} USING gin ((UPPER({column}::text)) gin_trgm_ops)"]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, column in SEARCHED:
        for statement in {"sqlite": sqlite_sql, "postgresql": postgresql_sql}[vendor](table, column):
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table, column in SEARCHED:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {table}_{column}_trgm")
            continue
        for event in ("insert", "delete", "update"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_search_{event}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {table}_search")


class Migration(migrations.Migration):
    dependencies = [("dealflow", "0014_stage_change_stay_and_metric_indexes")]

    operations = [migrations.RunPython(create, drop)]
