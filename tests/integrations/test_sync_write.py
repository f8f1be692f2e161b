"""The write phase and the page prefetching behind it."""

import threading

import pytest
from django.db import connection

from dealflow.models import Deal, Person
from integrations.models import SyncOutcome
from integrations.providers.pipedrive import records
from integrations.providers.pipedrive.client import PageInfo
from integrations.providers.pipedrive.specs import entity_specs
from integrations.sync.diff import Tally, diff_page
from integrations.sync.pragmas import bulk_write_pragmas
from integrations.sync.prefetch import pages_ahead
from integrations.sync.staging import Staging
from integrations.sync.write import Writer


def fake_fetch(pages, *, fail_after=None, report_first=False):
    """A stand-in for spec.fetch: yields records and reports each page after it, like the client."""

    def fetch(on_page):
        so_far = 0
        for number, page in enumerate(pages, start=1):
            if fail_after is not None and number > fail_after:
                raise RuntimeError("page failed")
            if report_first:
                on_page(PageInfo("things", number, len(page), so_far + len(page)))
            yield from page
            so_far += len(page)
            if not report_first:
                on_page(PageInfo("things", number, len(page), so_far))

    return fetch


def test_pages_arrive_in_order_with_their_info():
    got = list(pages_ahead(fake_fetch([[1, 2], [3], [4, 5, 6]])))
    assert [records for records, _ in got] == [[1, 2], [3], [4, 5, 6]]
    assert [info.page_number for _, info in got] == [1, 2, 3]


def test_records_after_their_report_still_arrive():
    # v1 users: the whole list is reported before it is iterated.
    got = list(pages_ahead(fake_fetch([[1, 2]], report_first=True)))
    assert got[0][0] == [] and got[0][1].page_number == 1
    assert got[1] == ([1, 2], None)


def test_an_error_while_fetching_reaches_the_caller_after_earlier_pages():
    pages = pages_ahead(fake_fetch([[1], [2], [3]], fail_after=2))
    assert next(pages)[0] == [1]
    assert next(pages)[0] == [2]
    with pytest.raises(RuntimeError, match="page failed"):
        next(pages)


def test_stopping_early_ends_the_fetching_thread():
    before = threading.active_count()
    pages = pages_ahead(fake_fetch([[n] for n in range(100)]))
    assert next(pages)[0] == [0]
    pages.close()
    assert threading.active_count() == before


@pytest.mark.django_db
def test_a_target_cached_after_the_rows_that_link_to_it_gets_linked(connected):
    assert connected.sync().outcome == SyncOutcome.SUCCEEDED
    deal = Deal.objects.exclude(person=None).first()
    person_remote_id = deal.person_remote_id
    Person.objects.filter(remote_id=person_remote_id).delete()  # as if it had arrived late upstream
    assert Deal.objects.get(pk=deal.pk).person_id is None

    run = connected.sync(full=True)

    assert run.outcome == SyncOutcome.SUCCEEDED and run.created == 1
    assert Deal.objects.get(pk=deal.pk).person.remote_id == person_remote_id


@pytest.mark.django_db
def test_bulk_write_pragmas_are_restored():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite settings")
    with connection.cursor() as cursor:
        before = cursor.execute("PRAGMA cache_size").fetchone()[0]
        with bulk_write_pragmas():
            assert cursor.execute("PRAGMA cache_size").fetchone()[0] == -65536
        assert cursor.execute("PRAGMA cache_size").fetchone()[0] == before


@pytest.mark.django_db
def test_a_record_listed_twice_in_one_run_is_inserted_then_updated(connected):
    assert connected.sync().outcome == SyncOutcome.SUCCEEDED
    integration_id = connected.integration.pk
    specs = entity_specs()
    deals = next(spec for spec in specs if spec.key == "deals")
    payload = {**connected.sandbox.deals()[0], "id": 999_999}
    first_listing = records.Deal.from_api(payload)
    second_listing = records.Deal.from_api({**payload, "title": "Edited while listed"})

    inserted: set[int] = set()
    first, _ = diff_page(deals, integration_id, [first_listing], inserted=inserted)
    second, _ = diff_page(deals, integration_id, [second_listing], inserted=inserted)
    assert (len(first.inserts), len(first.upserts)) == (1, 0)
    assert (len(second.inserts), len(second.upserts)) == (0, 1)

    with Staging() as staging:
        staging.add(deals, first, Tally())
        staging.add(deals, second, Tally())
        Writer(integration_id=integration_id, specs=specs).apply(staging)
    assert Deal.objects.get(integration_id=integration_id, remote_id=999_999).title == "Edited while listed"
