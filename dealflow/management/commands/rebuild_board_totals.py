"""`manage.py rebuild_board_totals`: recompute the board's totals table from the deals.

The table is kept by database triggers on every write to a deal, so this is for repair (a
database restored from elsewhere, triggers dropped by hand); `--check` only compares.
"""

from django.core.management.base import BaseCommand, CommandError

from dealflow.board_totals import grouped_deals, rebuild, table_rows


class Command(BaseCommand):
    help = "Recompute the board totals table (dealflow_boardtotal) from the deals."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="only compare the table with the deals")

    def handle(self, *args, check, **options):
        if check:
            differing = set(table_rows().items()) ^ set(grouped_deals().items())
            if differing:
                raise CommandError(f"The board totals differ from the deals in {len(differing)} rows.")
            self.stdout.write("The board totals equal a GROUP BY over the deals.")
            return
        self.stdout.write(f"Rebuilt the board totals: {rebuild()} rows.")
