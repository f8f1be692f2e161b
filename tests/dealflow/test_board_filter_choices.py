"""The filter bar's owner and pipeline choices: read together in one statement, each in its own
order (selectors.owners_of, pipelines_of), and still validated against their own querysets."""

import pytest
from django.utils import timezone

from dealflow.forms import BoardFilterForm
from dealflow.selectors import owners_of, pipelines_of
from tests import factories as make

pytestmark = pytest.mark.django_db


def labels(queryset, several: bool) -> list[tuple]:
    """What Django's ModelChoiceField would list, from model instances."""
    return [(item.pk, f"{item.name} · {item.integration.company.name}" if several else item.name) for item in queryset]


@pytest.mark.parametrize("several", [True, False])
def test_owners_and_pipelines_are_one_statement_each_in_its_own_order(coeo, nordic, several, django_assert_num_queries):
    make.owner(nordic.integration, "Anna Andersson")  # the same name in two companies: by company
    make.owner(nordic.integration, "Åsa Öberg")
    make.pipeline(coeo.integration, "Renewals", order_nr=0)  # before Sales by order, after it by name
    make.pipeline(nordic.integration, "Deleted", is_deleted=True)
    companies = [coeo.company, nordic.company] if several else [coeo.company]
    form = BoardFilterForm(companies=companies)

    with django_assert_num_queries(1):
        # Iterated as the filter bar renders them (list() would ask the choices' length: a count each).
        owners = [choice for choice in form.fields["owner"].choices]  # noqa: C416
        pipelines = [choice for choice in form.fields["pipeline"].choices]  # noqa: C416

    assert owners[1:] == labels(owners_of(companies), several)
    assert len(owners) == (1 + 4 if several else 1 + 2)  # "All owners", then each company's
    assert pipelines[1:] == labels(pipelines_of(companies), several)
    assert [label for _, label in pipelines[1:3]] == (
        ["Renewals · Coeo", "Sales · Coeo"] if several else ["Renewals", "Sales"]
    )
    assert "Deleted" not in str(pipelines)


def test_a_chosen_owner_and_pipeline_are_still_checked_against_the_companies(coeo, nordic):
    data = {"owner": str(coeo.anna.pk), "pipeline": str(coeo.pipeline.pk)}
    filters = BoardFilterForm(data, companies=[coeo.company]).filters(now=timezone.now())
    assert (filters.owner_id, filters.pipeline_id) == (coeo.anna.pk, coeo.pipeline.pk)

    other = {"owner": str(make.owner(nordic.integration, "Nils").pk), "pipeline": str(nordic.pipeline.pk)}
    filters = BoardFilterForm(other, companies=[coeo.company]).filters(now=timezone.now())
    assert (filters.owner_id, filters.pipeline_id) == (None, None)
