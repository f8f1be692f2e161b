"""The filtered board as CSV rows (one per deal on the board)."""

import csv
from decimal import Decimal

from django.utils import timezone

from dealflow.selectors import COLUMN_LABELS, days_in_stage, weight_percent

HEADER = [
    "company",
    "column",
    "stage",
    "title",
    "organization",
    "person",
    "owner",
    "value",
    "currency",
    "weighted_value",
    "days_in_stage",
    "pipedrive_url",
]


class Echo:
    """A file-like object whose write() hands the line back, for streaming csv.writer output."""

    def write(self, value):
        return value


# A spreadsheet reads a cell starting with one of these as a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: str) -> str:
    """Text from Pipedrive, defused: a leading quote keeps Excel and Sheets from running it as a formula."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def weighted_value(deal) -> Decimal:
    percent = weight_percent(deal.status, deal.stage.deal_probability if deal.stage else None)
    return (deal.value * percent / 100).quantize(Decimal("0.01"))


def csv_lines(deals, *, now=None):
    now = now or timezone.now()
    writer = csv.writer(Echo())
    yield writer.writerow(HEADER)
    for deal in deals.iterator(chunk_size=2000):
        days = days_in_stage(deal.stage_change_time or deal.add_time, now)
        yield writer.writerow(
            [
                text_cell(deal.integration.company.name),
                COLUMN_LABELS.get(deal.board_column, deal.board_column),
                text_cell(deal.stage.name) if deal.stage else "",
                text_cell(deal.title),
                text_cell(deal.organization.name) if deal.organization else "",
                text_cell(deal.person.name) if deal.person else "",
                text_cell(deal.owner.name) if deal.owner else "",
                f"{deal.value:.2f}",
                text_cell(deal.currency),
                f"{weighted_value(deal):.2f}",
                "" if days is None else days,
                deal.integration.deal_url(deal.remote_id),
            ]
        )
