# The deal's organization and person lose their own single-column indexes: the search indexes of
# 0019 start with them and serve every lookup by either, so each deal write keeps two fewer indexes.
# Only the indexes are dropped (SeparateDatabaseAndState): an AlterField would make SQLite copy the
# whole deals table.
#
# On SQLite, deal_board_include_idx goes too: SQLite has no INCLUDE, so Django made it from its key
# columns alone, an exact prefix of deal_board_cover_idx that every deal write kept for nothing. (A
# later migration that copies the deals table on SQLite would make it again; harmless, only slower.)

import django.db.models.deletion
from django.db import migrations, models

COLUMNS = ("organization_id", "person_id")
INCLUDE_INDEX = "deal_board_include_idx"


def drop_single_column_indexes(apps, schema_editor):
    deal = apps.get_model("dealflow", "Deal")
    for column in COLUMNS:
        for name in schema_editor._constraint_names(deal, [column], index=True, type_=models.Index.suffix):
            schema_editor.execute(schema_editor._delete_index_sql(deal, name))
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{INCLUDE_INDEX}"')


def create_single_column_indexes(apps, schema_editor):
    deal = apps.get_model("dealflow", "Deal")
    for column in COLUMNS:
        if schema_editor._constraint_names(deal, [column], index=True, type_=models.Index.suffix):
            continue  # already made again by a copy of the table (SQLite)
        field = next(field for field in deal._meta.local_fields if field.column == column)
        schema_editor.execute(schema_editor._create_index_sql(deal, fields=[field]))
    if schema_editor.connection.vendor == "sqlite" and not index_exists(schema_editor, deal, INCLUDE_INDEX):
        index = next(index for index in deal._meta.indexes if index.name == INCLUDE_INDEX)
        schema_editor.add_index(deal, index)


def index_exists(schema_editor, model, name: str) -> bool:
    """A copy of the deals table made after 0020 (SQLite) brings the index back by itself."""
    with schema_editor.connection.cursor() as cursor:
        return name in schema_editor.connection.introspection.get_constraints(cursor, model._meta.db_table)


class Migration(migrations.Migration):

    dependencies = [
        ("dealflow", "0019_search_covering_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="deal",
                    name="organization",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="deals",
                        to="dealflow.organization",
                    ),
                ),
                migrations.AlterField(
                    model_name="deal",
                    name="person",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="deals",
                        to="dealflow.person",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_single_column_indexes, create_single_column_indexes),
            ],
        ),
    ]
