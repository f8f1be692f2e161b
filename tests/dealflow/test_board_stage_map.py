"""The board's stage map (selectors.stage_map): its CRM integrations, their companies and their
stages, read in one statement on every board and load more."""

import pytest

from dealflow.columns import UNMAPPED
from dealflow.models import Stage
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
