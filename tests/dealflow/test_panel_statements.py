"""The deal panel's write-back forms read their choices through kept statements
(dealflow/statements.py): a panel seen again compiles none of them, and shows a write at once."""

from weakref import WeakKeyDictionary

import pytest
from django.urls import reverse

from dealflow import statements
from dealflow.models import Stage
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
