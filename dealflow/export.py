"""The filtered board as CSV rows (one per deal on the board)."""

import csv
from decimal import Decimal

from django.utils import timezone

from dealflow.selectors import COLUMN_LABELS, days_in_stage

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


def weighted_value(deal) -> Decimal:
    if deal.status == "won":  # as in the column totals: a won deal counts in full
        return deal.value
    probability = deal.stage.deal_probability if deal.stage else 100
    return (deal.value * probability / 100).quantize(Decimal("0.01"))


def csv_lines(deals, *, now=None):
    now = now or timezone.now()
    writer = csv.writer(Echo())
    yield writer.writerow(HEADER)
    for deal in deals.iterator(chunk_size=2000):
        days = days_in_stage(deal.stage_change_time or deal.add_time, now)
        yield writer.writerow(
            [
                deal.integration.company.name,
                COLUMN_LABELS.get(deal.board_column, deal.board_column),
                deal.stage.name if deal.stage else "",
                deal.title,
                deal.organization.name if deal.organization else "",
                deal.person.name if deal.person else "",
                deal.owner.name if deal.owner else "",
                f"{deal.value:.2f}",
                deal.currency,
                f"{weighted_value(deal):.2f}",
                "" if days is None else days,
                deal.integration.deal_url(deal.remote_id),
            ]
        )
