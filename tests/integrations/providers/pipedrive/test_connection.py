"""check_connection and the pipedrive_check command against the sandbox."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from integrations.providers.pipedrive import ErrorKind
from integrations.providers.pipedrive.connection import check_connection
from tests import factories as make

pytestmark = pytest.mark.django_db


@pytest.fixture
def integration(live_sandbox):
    return make.integration(make.company("Coeo"), api_base_url=live_sandbox.base_url, token=live_sandbox.token)


def test_quick_check_names_user_and_company(integration):
    report = check_connection(integration=integration)
    assert report.ok and report.calls == 1
    assert (report.user_name, report.company_name, report.company_domain) == ("Anna Lindqvist", "Coeo AB", "coeo")
    assert report.pipelines == () and "Coeo AB" in report.message


def test_detailed_check_summarises_every_page(integration, live_sandbox):
    report = check_connection(integration=integration, detailed=True, page_size=40)
    deals = [d for d in live_sandbox.sandbox.deals() if not d["is_archived"]]
    open_deals = [d for d in deals if d["status"] == "open"]

    assert sum(report.deals_by_status.values()) == len(deals)
    assert report.open_value_by_currency == {"SEK": sum(Decimal(d["value"]) for d in open_deals)}
    assert [p.name for p in report.pipelines] == ["Försäljning", "Event"]
    assert sum(s.deal_count for p in report.pipelines for s in p.stages) == len(open_deals)
    assert report.pipelines[0].stages[0].name == "Lead - ännu ej kontaktade"
    assert report.organization_count == len(live_sandbox.sandbox.organizations())
    assert report.person_count == len(live_sandbox.sandbox.persons())


def test_wrong_token_reports_auth_failure(integration):
    integration.credentials = {"api_token": "not-the-token"}
    report = check_connection(integration=integration)
    assert not report.ok and report.error_kind is ErrorKind.AUTH
    assert "not-the-token" not in report.message


def test_pipedrive_check_command(integration):
    out = StringIO()
    call_command("pipedrive_check", "coeo", stdout=out)
    text = out.getvalue()
    assert "Coeo AB" in text and "Dialog/demo" in text and "SEK" in text


def test_pipedrive_check_unknown_company(db):
    with pytest.raises(CommandError, match="No Pipedrive integration"):
        call_command("pipedrive_check", "nobody")


def test_a_token_of_another_company_fails_and_names_that_company(integration):
    integration.settings["company_domain"] = "vinterdata"
    report = check_connection(integration=integration)
    assert not report.ok and report.error_kind is ErrorKind.AUTH
    assert "belongs to Coeo AB (coeo.pipedrive.com)" in report.message
    assert "vinterdata" in report.message
