"""The sync's write side, made cheaper per record without changing what it stores (issue 14).

- PostgreSQL stages new rows with COPY (no SQL bound per row); a row staged before still wins
  as its last listing.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dealflow.models import Deal
from integrations.models import SyncOutcome
from integrations.providers.pipedrive import records
from integrations.providers.pipedrive.specs import entity_specs
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
