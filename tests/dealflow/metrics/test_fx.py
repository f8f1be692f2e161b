"""Exchange rates: loading (the packaged ECB file, FX_RATES_URL over real HTTP) and conversion."""

import io
import threading
import zipfile
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command

from dealflow.fx import Total, load_packaged_rates, load_rates, parse_ecb_csv, refresh_rates
from dealflow.models import FxRate

pytestmark = pytest.mark.django_db

DAILY = "Date, USD, SEK, \n25 November 2026, 1.1500, 11.2000, \n"


def test_packaged_rates_are_in_the_database_after_migrate_and_loading_again_adds_nothing():
    # post_migrate loaded them into the test database; the ECB file starts in January 1999.
    assert FxRate.objects.filter(currency="SEK", date=date(1999, 1, 4)).get().rate == Decimal("9.4696")
    count = FxRate.objects.count()
    assert count > 100_000
    assert load_packaged_rates() == 0
    call_command("load_fx_rates", stdout=io.StringIO())
    assert FxRate.objects.count() == count


def test_a_reload_after_the_table_was_emptied_loads_everything():
    FxRate.objects.all().delete()
    assert load_packaged_rates() > 100_000
    assert FxRate.objects.filter(currency="USD").exists()


def test_both_ecb_csv_formats_parse_and_na_cells_are_skipped():
    assert parse_ecb_csv(DAILY) == [
        (date(2026, 11, 25), "USD", Decimal("1.1500")),
        (date(2026, 11, 25), "SEK", Decimal("11.2000")),
    ]
    assert parse_ecb_csv("Date,USD,CYP,\n2026-10-30,1.1172,N/A,\n") == [(date(2026, 10, 30), "USD", Decimal("1.1172"))]
    with pytest.raises(ValueError):
        parse_ecb_csv("<html>not a rate file</html>")


@pytest.fixture
def rates_server():
    """An HTTP server on loopback serving the ECB daily file as a zip, as the ECB does."""
    payload = io.BytesIO()
    with zipfile.ZipFile(payload, "w") as archive:
        archive.writestr("eurofxref.csv", DAILY)
    body = payload.getvalue()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/eurofxref.zip":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_refresh_stores_the_daily_file_once(rates_server):
    FxRate.objects.filter(date=date(2026, 11, 25)).delete()
    assert refresh_rates(f"{rates_server}/eurofxref.zip") == 2
    assert FxRate.objects.get(currency="SEK", date=date(2026, 11, 25)).source == "ecb-daily"
    assert refresh_rates(f"{rates_server}/eurofxref.zip") == 0


def test_refresh_failures_are_logged_never_raised(rates_server, caplog):
    count = FxRate.objects.count()
    assert refresh_rates(f"{rates_server}/missing.zip") is None
    assert refresh_rates("http://127.0.0.1:9/unreachable") is None
    assert FxRate.objects.count() == count
    assert "Exchange rates not refreshed" in caplog.text


@pytest.fixture
def few_rates():
    FxRate.objects.all().delete()
    for day, currency, rate in (
        ("2026-01-02", "SEK", "11"),
        ("2026-01-05", "SEK", "10"),  # the next ECB day after a weekend
        ("2026-01-02", "USD", "1.25"),
        ("2026-01-05", "USD", "1.0"),
    ):
        FxRate.objects.create(date=date.fromisoformat(day), currency=currency, rate=Decimal(rate), source="test")


def test_conversion_uses_the_nearest_earlier_ecb_day(few_rates):
    rates = load_rates("SEK", {"EUR", "USD"}, since=date(2026, 1, 1))
    assert rates.convert(100, "EUR", date(2026, 1, 4)) == Decimal(1100)  # Sunday: Friday's rate
    assert rates.convert(100, "EUR", date(2026, 1, 5)) == Decimal(1000)
    assert rates.convert(125, "USD", date(2026, 1, 3)) == Decimal(1100)  # 125 $ = 100 € = 1100 kr
    assert rates.convert(100, "EUR") == Decimal(1000)  # open pipeline: the latest rate
    assert rates.convert(100, "SEK", date(2025, 1, 1)) == Decimal(100)  # same currency: as is
    assert rates.latest_day == date(2026, 1, 5)


def test_no_rate_before_the_first_day_or_for_an_unknown_currency(few_rates):
    rates = load_rates("SEK", {"EUR", "XYZ"}, since=date(2026, 1, 1))
    assert rates.convert(100, "EUR", date(2026, 1, 1)) is None
    assert rates.convert(100, "XYZ") is None
    assert rates.convert(100, "EUR", date(2026, 3, 1)) is None  # more than a month after the last rate


def test_a_total_keeps_unconverted_amounts_apart(few_rates):
    rates = load_rates("EUR", {"SEK", "XYZ"})
    total = Total()
    assert total.add(rates, 1000, "SEK")
    assert not total.add(rates, 70, "XYZ")
    assert not total.add(rates, 30, "xyz")
    assert total.value == Decimal(100)
    assert total.unconverted == {"XYZ": Decimal(100)}
