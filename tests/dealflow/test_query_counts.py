"""The board, a column's load more and the panel run as many queries for 10 deals as for 10 000."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dealflow.models import DealStatus
from tests import factories as make

pytestmark = pytest.mark.django_db

# The deal's own URL renders the board with the panel open: the board's queries plus the panel's,
# and for staff and editors the write-back forms' (who may write, the pipeline's stages, the owners,
# each column's first stage for its "+").
MAX_QUERIES = 28


def spread_deals(coeo, nordic, per_stage):
    """Deals in every column kind, in two companies and two currencies."""
    stages = coeo.stages
    for stage in (stages.lead, stages.qualified, stages.meeting, stages.due_diligence, stages.proposal, stages.won):
        make.many_deals(stage, per_stage, owner=coeo.anna, organization=coeo.acme, person=coeo.erik)
    make.many_deals(stages.lead, per_stage, status=DealStatus.WON)
    make.many_deals(stages.nej_tack, per_stage)
    make.many_deals(stages.no_mapping, per_stage)
    make.many_deals(nordic.lead, per_stage, currency="EUR")


@pytest.fixture
def urls(coeo):
    slug = coeo.company.slug
    return {
        "all companies": (reverse("dealflow:board"), {}),
        "filtered": (reverse("dealflow:board"), {"q": "deal", "won": "all"}),
        "company": (reverse("dealflow:company_board", args=[slug]), {"owner": coeo.anna.pk}),
        "load more": (reverse("dealflow:company_column", args=[slug, "lead"]), {"offset": 25}),
        "load more, all": (reverse("dealflow:column", args=["unmapped"]), {"offset": 25}),
        "export": (reverse("dealflow:company_export", args=[slug]), {}),
    }


def count_queries(client, url, params, headers=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params, headers=headers or {})
        assert response.status_code == 200
        if response.streaming:
            b"".join(response.streaming_content)
    return len(queries)


@pytest.mark.parametrize("who", ["staff", "viewer"])
def test_query_counts_do_not_grow_with_the_number_of_deals(
    request, client, who, coeo, nordic, urls, django_assert_max_num_queries
):
    nordic.company.viewers.add(request.getfixturevalue("viewer"))
    client.force_login(request.getfixturevalue(who))
    spread_deals(coeo, nordic, per_stage=30)  # load more's page (from the 26th) is not empty
    panel_deal = make.deal(coeo.stages.lead, "Panel deal", organization=coeo.acme, person=coeo.erik)
    urls["panel"] = (reverse("dealflow:deal", args=[coeo.company.slug, panel_deal.remote_id]), {})
    few = {name: count_queries(client, url, params) for name, (url, params) in urls.items()}

    spread_deals(coeo, nordic, per_stage=1250)  # 10 000 more deals

    many = {name: count_queries(client, url, params) for name, (url, params) in urls.items()}
    assert many == few, few
    for name, (url, params) in urls.items():
        with django_assert_max_num_queries(MAX_QUERIES, info=name):
            client.get(url, params)


def test_the_unmapped_column_adds_no_query(client, staff, coeo):
    """Its companies' names come from the board's stage map (selectors.unmapped_integrations)."""
    client.force_login(staff)
    board_url = reverse("dealflow:company_board", args=[coeo.company.slug])
    make.deal(coeo.stages.lead, "Mapped")
    without = count_queries(client, board_url, {})

    make.deal(coeo.stages.no_mapping, "Unmapped")

    assert count_queries(client, board_url, {}) == without
