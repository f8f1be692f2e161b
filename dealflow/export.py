"""The filtered board as a spreadsheet: one row per deal on the board, as CSV or .xlsx.

`export_rows` is the one place that decides the columns and their values (typed: numbers, dates,
text); the two writers only format them. A failure part-way never leaves a file that looks
complete: it is logged and the file ends with an error row.
"""

import codecs
import csv
import logging
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from dealflow.selectors import COLUMN_LABELS, days_in_stage, weight_percent

logger = logging.getLogger(__name__)

HEADER = [
    "company",
    "column",
    "stage",
    "status",
    "pipeline",
    "title",
    "organization",
    "person",
    "owner",
    "value",
    "currency",
    "weighted_value",
    "days_in_stage",
    "days_since_update",
    "won_date",
    "expected_close",
    "pipedrive_deal_id",
    "pipedrive_url",
]

ERROR_TEXT = "ERROR: the export failed at this point and is incomplete. Try again, or tell an administrator."

# A spreadsheet reads a cell starting with one of these as a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: str) -> str:
    """Text from Pipedrive, defused: a leading quote keeps Excel and Sheets from running it as a formula."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def weighted_value(deal) -> Decimal:
    percent = weight_percent(deal.status, deal.stage.deal_probability if deal.stage else None)
    return (deal.value * percent / 100).quantize(Decimal("0.01"))


def local_date(moment) -> date | None:
    return timezone.localtime(moment).date() if moment else None


def deal_row(deal, now) -> list:
    """One deal's cells, typed: str (already defused), Decimal, int, date or None."""
    return [
        text_cell(deal.integration.company.name),
        str(COLUMN_LABELS.get(deal.board_column, deal.board_column)),  # labels are lazy translations
        text_cell(deal.stage.name) if deal.stage else "",
        str(deal.get_status_display()),
        text_cell(deal.pipeline.name) if deal.pipeline else "",
        text_cell(deal.title),
        text_cell(deal.organization.name) if deal.organization else "",
        text_cell(deal.person.name) if deal.person else "",
        text_cell(deal.owner.name) if deal.owner else "",
        deal.value,
        text_cell(deal.currency),
        weighted_value(deal),
        days_in_stage(deal.stage_change_time or deal.add_time, now),
        days_in_stage(deal.update_time, now),
        local_date(deal.won_time),
        deal.expected_close_date,
        deal.remote_id,
        deal.integration.deal_url(deal.remote_id),
    ]


def export_rows(deals, *, now=None) -> Iterator[list]:
    """The header, then one row per deal; if anything fails on the way, a last row that says so."""
    now = now or timezone.now()
    yield HEADER
    try:
        for deal in deals.select_related("pipeline").defer("pipeline__raw").iterator(chunk_size=2000):
            yield deal_row(deal, now)
    except Exception:
        # The response may be half sent: the error row is the only way left to tell the reader.
        logger.exception("Deal export failed part-way; the file ends with an error row")
        yield [ERROR_TEXT]


class Echo:
    """A file-like object whose write() hands the line back, for streaming csv.writer output."""

    def write(self, value):
        return value


def csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_lines(rows: Iterable[list]) -> Iterator[str]:
    """CSV for Excel too: a UTF-8 byte order mark first, or Excel reads "Bolaget Åkesson" as Latin-1."""
    writer = csv.writer(Echo())
    yield codecs.BOM_UTF8.decode("utf-8")
    for row in rows:
        yield writer.writerow([csv_text(value) for value in row])


def xlsx_file(rows: Iterable[list]):
    """An .xlsx workbook (openpyxl's write-only mode: rows go straight to disk) in a temporary file,
    positioned at its start. Numbers are numbers and dates dates; text is stored as text, never a formula."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Deals")
    for row in rows:
        sheet.append([xlsx_cell(sheet, value) for value in row])
    output = tempfile.TemporaryFile(suffix=".xlsx")
    workbook.save(output)
    output.seek(0)
    return output


def xlsx_cell(sheet, value):
    if isinstance(value, str):
        # data_type "s": openpyxl would otherwise store text starting with "=" as a formula.
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    if isinstance(value, Decimal):
        cell = WriteOnlyCell(sheet, value=float(value))
        cell.number_format = "#,##0.00"
        return cell
    return value
