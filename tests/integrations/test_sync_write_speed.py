"""The sync's write side, made cheaper per record without changing what it stores (issue 14).

- PostgreSQL stages new rows with COPY (no SQL bound per row); a row staged before still wins
  as its last listing.
- Timestamps reach the driver as Django's own conversion makes them, minus its per-value
  overhead: the same stored values on both databases, odd inputs included.
"""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dealflow.models import Deal
from integrations.models import SyncOutcome
from integrations.providers.pipedrive import records
from integrations.providers.pipedrive.specs import entity_specs
from integrations.sync.apply import apply_records
from integrations.sync.diff import Tally, diff_page
from integrations.sync.staging import Staging
from integrations.sync.write import Writer


def _staged_inserts(queries) -> list[str]:
    return [query["sql"] for query in queries if 'INSERT INTO "sync_staged_' in query["sql"]]


@pytest.mark.django_db
def test_postgresql_stages_new_rows_with_copy_and_a_relisted_row_still_wins(connected):
    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    assert connected.sync().outcome == SyncOutcome.SUCCEEDED
    integration_id = connected.integration.pk
    specs = entity_specs()
    deals = next(spec for spec in specs if spec.key == "deals")
    template = connected.sandbox.deals()[0]
    payloads = [{**template, "id": 900_000 + n, "title": f"New {n}"} for n in range(5)]
    inserted: set[int] = set()
    first, _ = diff_page(deals, integration_id, [records.Deal.from_api(p) for p in payloads], inserted=inserted)
    relisted = [records.Deal.from_api({**p, "title": f"Edited {p['id']}"}) for p in payloads[:2]]
    second, _ = diff_page(deals, integration_id, relisted, inserted=inserted)

    with Staging() as staging:
        with CaptureQueriesContext(connection) as new_rows:
            staging.add(deals, first, Tally())
        with CaptureQueriesContext(connection) as relisted_rows:
            staging.add(deals, second, Tally())
        Writer(integration_id=integration_id, specs=specs).apply(staging)

    assert _staged_inserts(new_rows.captured_queries) == []  # COPY, not an INSERT per row
    assert len(_staged_inserts(relisted_rows.captured_queries)) == 1  # staged before: upserted
    titles = dict(Deal.objects.filter(remote_id__gte=900_000).values_list("remote_id", "title"))
    assert titles == {
        900_000: "Edited 900000",
        900_001: "Edited 900001",
        900_002: "New 2",
        900_003: "New 3",
        900_004: "New 4",
    }


# Pipedrive's forms and what people and bugs send: no zone (v1, UTC), Z, offsets, fractions, junk.
ODD_TIMES = [
    "2026-03-04T05:06:07Z",
    "2026-03-04 05:06:07",
    "2026-03-04T05:06:07+02:00",
    "2026-03-04T05:06:07.123456Z",
    "2026-03-04T23:30:00-05:30",
    "2026-02-30T01:00:00Z",
    "not a time",
    "",
    None,
]


@pytest.mark.django_db
@pytest.mark.parametrize("sent", ODD_TIMES)
def test_timestamps_reach_the_driver_as_djangos_own_conversion_makes_them(sent):
    deals = next(spec for spec in entity_specs() if spec.key == "deals")
    deal = records.Deal.from_api({"id": 1, "title": "T", "add_time": sent, "update_time": sent})
    encoded = deals.upsert.encode(deals.columns(deal))
    expected = connection.ops.adapt_datetimefield_value(deal.add_time)  # None for junk, as before
    assert encoded[deals.upsert.position("add_time")] == expected
    assert encoded[deals.upsert.position("update_time")] == expected


@pytest.mark.django_db
def test_odd_timestamps_are_stored_as_the_times_they_name(connected):
    assert connected.sync().outcome == SyncOutcome.SUCCEEDED
    template = connected.sandbox.deals()[0]
    payloads = [{**template, "id": 800_000 + n, "add_time": sent} for n, sent in enumerate(ODD_TIMES)]
    apply_records(integration=connected.integration, entity="deals", records=map(records.Deal.from_api, payloads))
    stored = dict(Deal.objects.filter(remote_id__gte=800_000).values_list("remote_id", "add_time"))
    assert stored == {
        800_000: datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC),
        800_001: datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC),
        800_002: datetime(2026, 3, 4, 3, 6, 7, tzinfo=UTC),
        800_003: datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC),
        800_004: datetime(2026, 3, 5, 5, 0, tzinfo=UTC),
        800_005: None,
        800_006: None,
        800_007: None,
        800_008: None,
    }
