"""The board's stage map (selectors.stage_map): its CRM integrations, their companies and their
stages, read in one statement on every board and load more."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dealflow.columns import UNMAPPED
from dealflow.models import Deal, Stage
from dealflow.selectors import stage_map
from integrations.models import Integration
from integrations.providers.base import Category
from tests import factories as make

pytestmark = pytest.mark.django_db


def test_the_stage_map_is_one_statement_with_every_integration_and_its_stages(coeo, nordic, django_assert_num_queries):
    zeta = make.company("Zeta")
    without_stages = make.integration(zeta, company_domain="zeta")  # no stage yet: its deals are unmapped
    aardvark = make.company("Aardvark")
    make.stage(make.pipeline(make.integration(aardvark, company_domain="aardvark")), "Other company's stage")
    companies = [zeta, nordic.company, coeo.company]

    with django_assert_num_queries(1):
        stages = stage_map(companies)

    integrations = Integration.objects.filter(company__in=companies, category=Category.CRM)  # by company name
    assert stages.integration_ids == [coeo.integration.pk, nordic.integration.pk, without_stages.pk]
    assert stages.integration_ids == [integration.pk for integration in integrations]
    assert stages.company_of[without_stages.pk] == ("Zeta", "zeta", "")
    assert stages.company_of[coeo.integration.pk] == ("Coeo", "coeo", "")
    in_order = list(Stage.objects.filter(integration__in=integrations))  # Stage's own order
    assert list(stages.target) == [stage.pk for stage in in_order]
    assert stages.name == {stage.pk: stage.name for stage in in_order}
    assert stages.probability == {stage.pk: stage.deal_probability for stage in in_order}
    assert stages.integration_of == {stage.pk: stage.integration_id for stage in in_order}
    assert stages.target[coeo.stages.no_mapping.pk] == UNMAPPED
    assert stages.target[coeo.stages.won.pk] == "closed_won"
    assert stages.company_name[nordic.lead.pk] == "Nordic Tools"


def test_a_stage_map_of_no_companies_sends_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        stages = stage_map([])

    assert stages.integration_ids == [] and stages.target == {}


def test_the_cards_take_their_stage_from_the_stage_map_without_joining_it(client, staff, coeo):
    # Joined, the stage and its mapping cost PostgreSQL a sixth of the cards' statement (180 cards).
    client.force_login(staff)
    make.deal(coeo.stages.proposal, "Rotting offer", update_time=timezone.now() - timedelta(days=30))
    make.deal(coeo.stages.won, "Verbal yes")
    make.deal(coeo.stages.no_mapping, "In a new stage")
    Deal.objects.filter(pk=make.deal(coeo.stages.lead, "Without a stage").pk).update(stage=None)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("dealflow:company_board", args=[coeo.company.slug]))

    [cards] = [query["sql"] for query in queries.captured_queries if '"dealflow_deal"."title"' in query["sql"]]
    assert "dealflow_stage" not in cards
    shown = {card.title: card for column in response.context["columns"] for card in column.cards}
    assert shown["Rotting offer"].stage_name == "Offert" and shown["Rotting offer"].rot_limit == 7
    assert shown["Verbal yes"].is_verbal and shown["Verbal yes"].stage_name == "OK verbal acceptans"
    assert shown["In a new stage"].stage_name == "Brand new stage" and not shown["In a new stage"].is_verbal
    assert shown["Without a stage"].stage_name is None and shown["Without a stage"].rot_limit is None
