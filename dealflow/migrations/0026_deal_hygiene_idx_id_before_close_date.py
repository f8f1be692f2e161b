# deal_hygiene_idx with the id right after the update time: the board's first pages read a stage's
# open deals newest first, ties on the date broken by the id (dealflow/newest.py). With
# expected_close_date between the two, every share's rows of one date had to be sorted by id (SQLite:
# "USE TEMP B-TREE FOR RIGHT PART OF ORDER BY", PostgreSQL: an Incremental Sort per share); in this
# order the range is already sorted. The hygiene counts (dealflow/rotting.py) read the same columns
# before the update time, and expected_close_date stays in the index.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dealflow", "0025_board_won_months"),
        ("integrations", "0013_no_planner_statistics_for_cached_json"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="deal", name="deal_hygiene_idx"),
        migrations.AddIndex(
            model_name="deal",
            index=models.Index(
                fields=["integration", "status", "is_archived", "stage", "update_time", "id", "expected_close_date"],
                name="deal_hygiene_idx",
            ),
        ),
    ]
