"""The board's fixed-shape reads are compiled once per key (dealflow/statements.py) and read from the
database on every request: a board seen again writes none of their SQL, and shows a write at once."""

from datetime import timedelta
from decimal import Decimal
from weakref import WeakKeyDictionary

import pytest
from django.db.models.sql.compiler import SQLCompiler
from django.urls import reverse
from django.utils import timezone

from dealflow import statements
from dealflow.models import Deal, Stage, StageMapping
from dealflow.stages import MappingTarget
from integrations.models import SyncRun
from tests import factories as make

pytestmark = pytest.mark.django_db


def test_a_statement_is_built_once_per_key_and_read_every_time(coeo, django_assert_num_queries):
    built = []

    def build(integration_id):
        built.append(integration_id)
        return Stage.objects.filter(integration_id=integration_id).values_list("name").order_by("name")

    key = ("test.stage_names", coeo.integration.pk)
    first = statements.rows(key, lambda: build(coeo.integration.pk))
    make.stage(coeo.pipeline, "Aaa, added since")
    with django_assert_num_queries(1):
        again = statements.rows(key, lambda: build(coeo.integration.pk))

    assert ("Aaa, added since",) not in first
    assert again[0] == ("Aaa, added since",)  # the new row: read again, not kept
    assert built == [coeo.integration.pk]
    assert statements.rows(("test.stage_names", 0), lambda: build(0)) == []  # another key, built anew
    assert built == [coeo.integration.pk, 0]


def test_rows_are_converted_as_django_converts_them(coeo):
    deal = make.deal(coeo.stages.lead, "Converted", value=1234)

    def build():
        return Deal.objects.filter(pk=deal.pk).values_list("value", "add_time", "is_archived").order_by()

    assert statements.rows(("test.converted", deal.pk), build) == list(build())
    assert statements.rows(("test.converted", deal.pk), build)[0][0] == Decimal(1234)


def test_moments_are_parameters_of_a_statement_built_once(coeo):
    now = timezone.now()
    older = make.deal(coeo.stages.lead, "Updated three days ago", update_time=now - timedelta(days=3))
    newer = make.deal(coeo.stages.lead, "Updated an hour ago", update_time=now - timedelta(hours=1))
    built = []

    def build(since):
        built.append(since)
        return Deal.objects.filter(update_time__gte=since).values_list("title").order_by("title")

    def titles(since):
        return [title for (title,) in statements.rows(("test.updated_since",), build, moments=(since,))]

    assert titles(now - timedelta(days=4)) == [newer.title, older.title]
    assert titles(now - timedelta(days=2)) == [newer.title]  # the same statement, another moment
    assert titles(now) == []
    assert len(built) == 1 and built[0] not in (now, now - timedelta(days=4))  # built with a stand-in
    with pytest.raises(ValueError, match="moment"):
        statements.rows(("test.no_moment",), lambda since: Deal.objects.values_list("title"), moments=(now,))


def test_a_query_django_knows_is_empty_runs_no_query(coeo, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert statements.rows(("test.empty",), lambda: Stage.objects.filter(pk__in=[]).values_list("id")) == []
        assert statements.rows(("test.empty",), lambda: Stage.objects.filter(pk__in=[]).values_list("id")) == []


def compiled_sql(client, url) -> list[str]:
    """The SQL the ORM compiled while `client` fetched `url`."""
    compiled = []
    original = SQLCompiler.as_sql

    def as_sql(self, *args, **kwargs):
        sql, params = original(self, *args, **kwargs)
        compiled.append(sql)
        return sql, params

    SQLCompiler.as_sql = as_sql
    try:
        assert client.get(url).status_code == 200
    finally:
        SQLCompiler.as_sql = original
    return compiled


@pytest.mark.parametrize("board", ["all", "company"])
def test_a_board_seen_again_compiles_none_of_its_fixed_reads(client, staff, coeo, nordic, board, monkeypatch):
    monkeypatch.setattr(statements, "_kept", WeakKeyDictionary())  # none kept by earlier tests (same ids)
    client.force_login(staff)
    deal = make.deal(coeo.stages.lead, "Seen deal", currency="EUR")
    make.activity(deal, "Call Acme")
    url = reverse("dealflow:board") if board == "all" else reverse("dealflow:company_board", args=[coeo.company.slug])
    first = compiled_sql(client, url)
    again = compiled_sql(client, url)

    # The stage map, the totals, the cards' next activities, the rates, the cards, the filters' choices.
    fixed = ('"deal_probability"', '"dealflow_boardtotal"', '"dealflow_activity"', '"dealflow_fxrate"', '"title"')
    fixed += ('FROM "dealflow_owner"', 'FROM "dealflow_pipeline"', '"won_time"')  # and the won period's first day
    fixed += ('FROM "integrations_integration"', 'FROM "integrations_syncrun"')  # the header, the switcher's health
    assert any(table in sql for sql in first for table in fixed)  # compiled the first time
    assert [sql for sql in again if any(table in sql for table in fixed)] == []


def test_a_board_seen_again_shows_a_write_at_once(client, staff, coeo):
    client.force_login(staff)
    deal = make.deal(coeo.stages.lead, "Before the write", value=1000)
    url = reverse("dealflow:company_board", args=[coeo.company.slug])
    for _ in range(2):
        page = client.get(url).content.decode()
    assert "Before the write" in page
    assert "Call the buyer" not in page
    assert "Nils, a new owner" not in page

    deal.title = "After the write"
    deal.update_time = timezone.now()
    deal.save()
    make.activity(deal, "Call the buyer", due_date=timezone.localdate() + timedelta(days=2))
    StageMapping.objects.filter(stage=coeo.stages.unmapped).update(target=MappingTarget.LEAD)
    make.deal(coeo.stages.unmapped, "In a stage mapped since")
    Stage.objects.filter(pk=coeo.stages.lead.pk).update(name="Renamed lead stage")
    make.owner(coeo.integration, "Nils, a new owner")
    make.pipeline(coeo.integration, "A new pipeline")
    SyncRun.objects.create(integration=coeo.integration, kind="full", started_at=timezone.now(), progress="3 of 9")
    page = client.get(url).content.decode()

    assert "After the write" in page
    assert "Before the write" not in page
    assert "Call the buyer" in page
    assert "In a stage mapped since" in page
    assert "Renamed lead stage" in page
    assert "Nils, a new owner</option>" in page
    assert "A new pipeline</option>" in page
    assert "Syncing… 3 of 9" in page  # the header's latest run
