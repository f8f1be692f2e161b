"""The deal panel's write-back forms read their choices through kept statements
(dealflow/statements.py): a panel seen again compiles none of them, and shows a write at once."""

from weakref import WeakKeyDictionary

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dealflow import statements
from dealflow.deal_forms import panel_choices
from dealflow.models import Owner, Stage
from tests import factories as make
from tests.dealflow.test_board_statements import compiled_sql

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def panel_url(coeo, deal) -> str:
    return reverse("dealflow:deal", args=[coeo.company.slug, deal.remote_id])


def test_a_panel_seen_again_compiles_neither_its_stage_nor_its_owner_choices(client, staff, coeo, monkeypatch):
    monkeypatch.setattr(statements, "_kept", WeakKeyDictionary())  # none kept by earlier tests (same ids)
    client.force_login(staff)
    make.owner(coeo.integration, "Anna Andersson")
    url = panel_url(coeo, make.deal(coeo.stages.lead, "Seen in the panel"))
    client.defaults.update({"HTTP_HX_REQUEST": "true"})
    first = compiled_sql(client, url)
    again = compiled_sql(client, url)

    choices = ('FROM "dealflow_owner"', 'FROM "dealflow_stage" LEFT OUTER JOIN "dealflow_stagemapping"')
    assert all(any(marker in sql for sql in first) for marker in choices)  # compiled the first time
    assert [sql for sql in again if any(marker in sql for marker in choices)] == []


def test_a_panel_seen_again_shows_a_renamed_stage_and_a_new_owner(client, staff, coeo):
    client.force_login(staff)
    url = panel_url(coeo, make.deal(coeo.stages.lead, "Before the write"))
    for _ in range(2):
        page = client.get(url, headers=HTMX).content.decode()
    assert "Nils, a new owner" not in page
    assert "Renamed lead stage" not in page

    Stage.objects.filter(pk=coeo.stages.lead.pk).update(name="Renamed lead stage")
    make.owner(coeo.integration, "Nils, a new owner")
    page = client.get(url, headers=HTMX).content.decode()

    assert "Renamed lead stage</option>" in page
    assert "Nils, a new owner</option>" in page


def test_the_stage_and_owner_choices_are_one_statement(client, staff, coeo):
    # Each its own statement cost a round trip on every panel (PostgreSQL: ~0.3 ms).
    client.force_login(staff)
    url = panel_url(coeo, make.deal(coeo.stages.lead, "One statement"))

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, headers=HTMX).status_code == 200

    choices = [query["sql"] for query in queries.captured_queries if 'FROM "dealflow_owner"' in query["sql"]]
    assert len(choices) == 1 and 'FROM "dealflow_stage"' in choices[0], choices
    assert not [query for query in queries.captured_queries if query["sql"].startswith('SELECT "dealflow_stage"')]


def test_the_panel_choices_are_what_each_forms_own_query_read(coeo, nordic):
    other = make.pipeline(coeo.integration, "Other")
    make.stage(other, "Another pipeline's stage")
    make.stage(coeo.pipeline, "Deleted stage", is_deleted=True)
    make.stage(coeo.pipeline, "Early, unmapped", mapped=False, order_nr=-3)
    make.stage(coeo.pipeline, "Tied order", order_nr=-3)
    make.owner(coeo.integration, "Anna Andersson")  # the same name as another: by remote id then
    make.owner(coeo.integration, "Inactive", is_active=False)
    make.owner(coeo.integration, "aardvark")
    make.owner(nordic.integration, "Nordic's owner")
    deal = make.deal(coeo.stages.lead, "A deal")

    stages, owners = panel_choices(deal)

    own_stages = (
        Stage.objects.filter(integration=coeo.integration, pipeline_remote_id=deal.pipeline_remote_id, is_deleted=False)
        .order_by("order_nr", "remote_id")
        .values_list("remote_id", "name", "mapping__target")
    )
    own_owners = (
        Owner.objects.filter(integration=coeo.integration, is_active=True)
        .order_by("name", "remote_id")
        .values_list("remote_id", "name")
    )
    assert stages == list(own_stages) and owners == list(own_owners)
    assert len(stages) == 12 and len(owners) == 4


def test_the_panel_reads_neither_the_pipedrive_payloads_nor_the_integrations_credentials(client, staff, coeo):
    """Neither is shown: the payloads are kilobytes of JSON parsed on every panel, and the
    credentials were decrypted on every panel for nothing."""
    client.force_login(staff)
    deal = make.deal(coeo.stages.lead, "Payload", custom_fields={"Källa": "Mässa"})
    with CaptureQueriesContext(connection) as queries:
        page = client.get(panel_url(coeo, deal), headers=HTMX).content.decode()

    assert "Payload" in page and "Mässa" in page
    selected = [query["sql"].split(" FROM ")[0] for query in queries.captured_queries]
    assert not [sql for sql in selected if '"raw"' in sql or '"credentials"' in sql], selected
