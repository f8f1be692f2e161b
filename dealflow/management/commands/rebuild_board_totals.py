"""`manage.py rebuild_board_totals`: recompute the board's totals table and won months from the deals.

The table is kept by database triggers on every write to a deal, so this is for repair (a
database restored from elsewhere, triggers dropped by hand): it also makes the board's triggers
(totals and, on SQLite, the search index) again when they are missing (dealflow/triggers.py).
`--check` only compares, and looks for the triggers.
"""

from django.core.management.base import BaseCommand, CommandError

from dealflow import triggers
from dealflow.board_totals import differing_rows, rebuild

# The trigger sets the board reads (dealflow/triggers.py, dealflow/migrated_triggers.py).
BOARD_TRIGGERS = (
    "board_totals",
    "board_won_months",
    "search_dealflow_deal",
    "search_dealflow_organization",
    "search_dealflow_person",
)


class Command(BaseCommand):
    help = "Recompute the board totals (dealflow_boardtotal, dealflow_boardwonmonth) from the deals."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="only compare the table with the deals")

    def handle(self, *args, check, **options):
        if check:
            differing = differing_rows()
            if differing:
                raise CommandError(f"The board totals differ from the deals in {differing} rows.")
            self.stdout.write("The board totals equal a GROUP BY over the deals.")
            missing = [trigger_set.name for trigger_set in triggers.missing(BOARD_TRIGGERS)]
            if missing:
                raise CommandError(f"Triggers missing ({', '.join(missing)}): run rebuild_board_totals.")
            return
        for name in triggers.ensure_triggers(BOARD_TRIGGERS):
            self.stdout.write(f"Made the missing triggers of {name} again.")
        self.stdout.write(f"Rebuilt the board totals: {rebuild()} rows.")
