"""The "+" of each column header (a new deal preset to the column's first stage) comes from the
board's stage map, not a query of its own (dealflow/deal_forms.new_deal_stages). Runs on SQLite and
PostgreSQL."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dealflow.columns import UNMAPPED
from dealflow.deal_forms import new_deal_stages
from dealflow.models import MappingTarget, Stage
from dealflow.selectors import stage_map
from tests import factories as make

pytestmark = pytest.mark.django_db


def first_stages_by_query(integration) -> dict[str, int]:
    """What the "+" showed when it had its own query: the first stage of each column, of the stages
    not deleted, of pipelines not deleted, by pipeline order, pipeline, stage order and id."""
    stages = (
        Stage.objects.filter(integration=integration, is_deleted=False, pipeline__is_deleted=False)
        .order_by("pipeline__order_nr", "pipeline_remote_id", "order_nr", "remote_id")
        .values_list("remote_id", "mapping__target")
    )
    first = {}
    for remote_id, target in stages:
        first.setdefault(target or UNMAPPED, remote_id)
    return first


def test_the_first_stage_of_each_column_is_the_one_its_own_query_found(staff, coeo, nordic):
    integration = coeo.integration
    second = make.pipeline(integration, "Second", order_nr=-1)  # ordered before Sales
    make.stage(second, "Second's late lead", MappingTarget.LEAD, order_nr=9)
    make.stage(second, "Second's early lead", MappingTarget.LEAD, order_nr=2)
    make.stage(second, "Deleted meeting", MappingTarget.MEETING, order_nr=0, is_deleted=True)
    make.stage(second, "Second's proposal, unmapped", mapped=False, order_nr=1)
    gone = make.pipeline(integration, "Deleted pipeline", order_nr=-5, is_deleted=True)
    make.stage(gone, "Won in a deleted pipeline", MappingTarget.CLOSED_WON)
    orphan = make.stage(
        make.pipeline(integration, "Soon gone"), "Qualified without a pipeline", MappingTarget.QUALIFIED
    )
    Stage.objects.filter(pk=orphan.pk).update(pipeline=None)
    tie = make.pipeline(integration, "Tie", order_nr=-1)  # same order as Second: by their remote ids then
    make.stage(tie, "Tie's due diligence", MappingTarget.DUE_DILIGENCE)
    # Where a NULL pipeline id sorts is each database's (PostgreSQL last, SQLite first): as the query did.
    unknown = make.stage(tie, "Lead of an unknown pipeline id", MappingTarget.LEAD)
    Stage.objects.filter(pk=unknown.pk).update(pipeline_remote_id=None)

    stages = stage_map([coeo.company, nordic.company])

    for company, crm in ((coeo.company, coeo.integration), (nordic.company, nordic.integration)):
        expected = first_stages_by_query(crm)
        assert new_deal_stages(staff, company, crm, stages) == expected
    assert set(first_stages_by_query(integration)) >= {"lead", "meeting", "proposal", "due_diligence", UNMAPPED}


def test_a_company_board_reads_no_stages_but_its_stage_map(client, staff, coeo):
    client.force_login(staff)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("dealflow:company_board", args=[coeo.company.slug]))

    assert f"stage={coeo.stages.lead.remote_id}" in response.content.decode()  # the lead column's "+"
    reads = [query["sql"] for query in queries.captured_queries if "dealflow_stage" in query["sql"]]
    assert len(reads) == 1, reads
