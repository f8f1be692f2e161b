"""`manage.py sync_deals`: a foreground sync with a progress line per page and a summary."""

import io

import pytest
from django.core.management import CommandError, call_command

from dealflow.models import Deal

pytestmark = pytest.mark.django_db


def test_sync_deals_prints_progress_per_page_and_a_summary(served):
    out = io.StringIO()
    call_command("sync_deals", "coeo", stdout=out)
    lines = out.getvalue().splitlines()
    deal_pages = [line for line in lines if line.startswith("  coeo: deals: page ")]
    assert deal_pages and deal_pages[-1].endswith(f"{len(served.sandbox.deals()) - archived(served)} records")
    assert any(line.startswith("  coeo: stages: page 1") for line in lines)
    assert lines[-1].startswith("coeo: incremental sync succeeded") and "API calls" in lines[-1]
    assert Deal.objects.count() == len(served.sandbox.deals())
    assert served.integration.credentials["api_token"] not in out.getvalue()


def archived(served):
    return sum(deal["is_archived"] for deal in served.sandbox.deals())


def test_sync_deals_full_and_failure_exit_code(served):
    served.sandbox.set_faults(fail_page=("deals", 1))
    out = io.StringIO()
    with pytest.raises(CommandError, match="did not succeed"):
        call_command("sync_deals", "coeo", "--full", stdout=out)
    assert "coeo: full sync failed" in out.getvalue()


def test_sync_deals_unknown_slug():
    with pytest.raises(CommandError, match="No integration for: nope"):
        call_command("sync_deals", "nope")
