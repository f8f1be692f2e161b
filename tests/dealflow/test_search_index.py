"""The board's search through the index (dealflow/search_index.py) finds exactly the deals that a
plain scan finds, and that Python's case-insensitive `in` finds, after every kind of write: a full
and an incremental sync, records applied by a webhook or write-back, deletions, ORM writes and
renamed organizations and persons. Searches of one or two characters (no trigram) fall back to
the scan. Runs on SQLite (FTS5 tables kept by triggers) and, with
`scripts/with-postgres .venv/bin/python -m pytest ...`, on PostgreSQL (pg_trgm indexes)."""

import pytest
from django.db import connection
from django.urls import reverse
from django.utils.html import escape

from dealflow.models import Deal, Organization, Person
from dealflow.search_index import SHORTEST_INDEXED, casings, matches, plain_matches
from integrations.models import SyncOutcome
from integrations.providers.pipedrive import records
from integrations.providers.pipedrive.sandbox import Sandbox
from integrations.sync.apply import apply_records
from tests import factories as make
from tests.integrations.conftest import connect

pytestmark = pytest.mark.django_db

FIXED_QUERIES = ["a", "Ö", "ö", "ÅS", "åsa", "ÖREBRO", "örebro", "Ärt", "e l", '"', "%", "_", "100%", "a_b", "zzzq"]


@pytest.fixture
def synced(db):
    connected = connect(Sandbox("coeo", burst_limit=100_000))
    assert connected.sync(full=True).outcome == SyncOutcome.SUCCEEDED
    return connected


def found_in_python(q: str) -> set[int]:
    needle = q.lower()
    rows = Deal.objects.values_list("id", "title", "organization__name", "person__name")
    return {row[0] for row in rows if any(needle in text.lower() for text in row[1:] if text is not None)}


def queries() -> list[str]:
    """Fixed ones (Swedish letters, LIKE's wildcards, quotes) and pieces of the stored texts in
    other cases, of every length from one character."""
    texts = list(Deal.objects.values_list("title", flat=True)[:6])
    texts += list(Organization.objects.values_list("name", flat=True)[:3])
    texts += list(Person.objects.values_list("name", flat=True)[:3])
    pieces = [text[1 : 1 + length] for text in texts for length in (1, 2, 3, 5, 9)]
    return FIXED_QUERIES + [piece.upper() for piece in pieces] + [piece.swapcase() for piece in pieces]


def assert_same_results():
    integration_ids = list(Deal.objects.values_list("integration_id", flat=True).distinct())
    found_any = 0
    for q in queries():
        via_index = set(Deal.objects.filter(matches(q, integration_ids)).values_list("id", flat=True))
        scanned = set(Deal.objects.filter(plain_matches(q, integration_ids)).values_list("id", flat=True))
        assert via_index == scanned == found_in_python(q), q
        found_any += bool(via_index)
    assert found_any > 20


def name_deals_in_swedish():
    organization = Organization.objects.first()
    organization.name = "Örebro Ärtsoppa AB"
    organization.save()
    person = Person.objects.first()
    person.name = "Åsa Öberg"
    person.save()
    Deal.objects.filter(pk=Deal.objects.first().pk).update(title="Licens ÅSA 100% a_b")


def test_after_a_full_sync_and_orm_writes(synced):
    assert_same_results()
    name_deals_in_swedish()
    make.deal(make.stage(make.pipeline(synced.integration), "Extra"), 'Ärtor & ÖL "special"')
    assert_same_results()


def test_after_an_incremental_sync(synced):
    sandbox = synced.sandbox
    first, second = [deal for deal in sandbox.deals() if deal["status"] == "open"][:2]
    sandbox.update_deal(first["id"], title="Omdöpt ÖREBRO affär")
    sandbox.update_deal(second["id"], title="Second renamed")
    organization = sandbox.add_organization("Åkeri Västerås")
    sandbox.add_deal(title="Ny affär", org_id=organization["id"])
    assert synced.sync().outcome == SyncOutcome.SUCCEEDED
    assert Deal.objects.filter(title="Omdöpt ÖREBRO affär").exists()
    assert_same_results()


def test_after_records_applied_by_a_webhook_or_write_back(synced):
    sandbox = synced.sandbox
    deal = next(deal for deal in sandbox.deals() if deal["status"] == "open")
    for change in (sandbox.update_deal(deal["id"], title="Webhook Älg"), sandbox.add_deal(title="Från webhook ö")):
        apply_records(integration=synced.integration, entity="deals", records=[records.Deal.from_api(change)])
        assert_same_results()


def test_after_deletions(synced):
    sandbox = synced.sandbox
    open_deals = [deal for deal in sandbox.deals() if deal["status"] == "open"]
    sandbox.purge_deal(open_deals[0]["id"])
    sandbox.delete_deal(open_deals[1]["id"])
    assert synced.sync(full=True).outcome == SyncOutcome.SUCCEEDED
    assert not Deal.objects.filter(remote_id=open_deals[0]["id"]).exists()
    assert_same_results()
    Deal.objects.filter(pk__in=Deal.objects.values("id")[:3]).delete()
    Organization.objects.filter(pk=Organization.objects.first().pk).delete()
    assert_same_results()


def test_the_index_is_used_for_three_characters_and_more(synced):
    sql = str(Deal.objects.filter(matches("abc", [synced.integration.pk])).query)
    assert ("MATCH" if connection.vendor == "sqlite" else "ANY(ARRAY(") in sql
    short = str(Deal.objects.filter(matches("ab"[: SHORTEST_INDEXED - 1], [synced.integration.pk])).query)
    assert "MATCH" not in short


def test_casings_vary_only_the_letters_sqlite_does_not_fold():
    assert casings("ab") == {"ab"}
    assert casings("öA") == {"öA", "ÖA"}
    assert len(casings("åäö")) == 8


def test_the_board_searches_through_the_index(client, staff, synced):
    name_deals_in_swedish()
    client.force_login(staff)
    response = client.get(reverse("dealflow:board"), {"q": "örebro"}, follow=True)
    assert response.status_code == 200
    shown = {card.title for column in response.context["columns"] for card in column.cards}
    matching = set(Deal.objects.filter(organization__name="Örebro Ärtsoppa AB").values_list("title", flat=True))
    assert shown and shown <= matching
    assert all(escape(title) in response.content.decode() for title in shown)
