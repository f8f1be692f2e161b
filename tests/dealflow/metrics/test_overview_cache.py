"""The overview's cache (dealflow/metrics/overview_cache.py): a page that nothing changed is not
computed again, every kind of write shows at once, sync health is read per request, and two users
with different access never see each other's page.

Runs on SQLite, and on PostgreSQL with `scripts/with-postgres .venv/bin/python -m pytest ...` (the
marks are kept by different triggers on each).
"""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dealflow.fx import store_rates
from dealflow.metrics import overview_cache
from dealflow.models import Deal, StageMapping
from dealflow.stages import MappingTarget
from integrations.models import SyncOutcome, SyncState
from integrations.providers.pipedrive import records
from integrations.sync.apply import apply_records
from tests import factories as make
from tests.dealflow import test_board_totals_table as board_totals_tests
from tests.dealflow.metrics import dataset

pytestmark = pytest.mark.django_db
PERIOD = "since=2026-01-01&until=2026-03-31"
# A fully synced sandbox company, and its open deals: as the board totals' tests.
synced = board_totals_tests.synced
open_deals = board_totals_tests.open_deals


@pytest.fixture
def data(coeo, nordic):
    return dataset.build(coeo, nordic)


def page(client, query=PERIOD) -> str:
    response = client.get(f"{reverse('dealflow:overview')}?{query}")
    assert response.status_code == 200
    return response.content.decode()


def content(html: str) -> str:
    """The page below its header (which holds the request's CSRF token)."""
    return html[html.index('<div class="metrics-page">') :]


def table(client, query=PERIOD) -> str:
    """The overview's table: every company's figures and the total's."""
    html = page(client, query)
    return html[html.index("<tbody>") : html.index("</tfoot>")]


def computed_table(client, query=PERIOD) -> str:
    """The table computed afresh (the cache emptied)."""
    cache.clear()
    return table(client, query)


def figures_read(client, query=PERIOD) -> bool:
    """Whether a request computed the figures (read the day totals) rather than take them from the cache."""
    with CaptureQueriesContext(connection) as queries:
        page(client, query)
    return any("dealflow_dealdaytotal" in query["sql"] for query in queries.captured_queries)


def test_a_page_nothing_changed_is_not_computed_again(client, staff, data):
    client.force_login(staff)
    assert figures_read(client)
    first = page(client)
    assert not figures_read(client)
    assert content(page(client)) == content(first)
    assert figures_read(client, "days=30")  # another period: its own figures


def test_a_deal_written_through_the_orm_shows_at_once(client, staff, data):
    """Services, write-back and the admin write deals through the ORM: save() and update()."""
    client.force_login(staff)
    before = table(client)
    data.e.value = Decimal("7777")
    data.e.save()
    saved = table(client)
    assert saved != before and "SEK\u00a07,777" in saved
    Deal.objects.filter(pk=data.e.pk).update(value=Decimal("8888"))
    assert "SEK\u00a08,888" in table(client)
    Deal.objects.filter(pk=data.e.pk).delete()
    assert "SEK\u00a08,888" not in table(client)


def test_an_exchange_rate_load_shows_at_once(client, staff, data):
    client.force_login(staff)
    before = page(client)
    assert "2 Mar 2026" in before
    store_rates([(date(2026, 3, 30), "SEK", Decimal("20"))], source="test")
    after = page(client)
    assert "30 Mar 2026" in after  # the rates' day
    assert table(client) != before[before.index("<tbody>") : before.index("</tfoot>")]  # Nordic's EUR, converted


def test_a_stage_mapping_changed_in_the_admin_shows_at_once(admin_client, data, coeo):
    before = table(admin_client)
    mapping = StageMapping.objects.get(stage=coeo.stages.proposal)
    url = reverse("admin:dealflow_stagemapping_change", args=[mapping.pk])
    response = admin_client.post(url, {"target": MappingTarget.LEAD, "is_confirmed": "on"})
    assert response.status_code == 302
    after = table(admin_client)
    assert after != before
    # Deal e (2,000 in Proposal) moved to Lead: the Proposal cell is empty now.
    assert (
        'href="/dealflow/coeo/#column-proposal" aria-label="Coeo, Proposal: board column"><span class="cell-count">0'
        in after
    )


def test_a_stage_probability_or_company_name_change_shows_at_once(client, staff, data, coeo):
    client.force_login(staff)
    before = table(client)
    coeo.stages.proposal.deal_probability = 50  # as a sync of the stages writes it
    coeo.stages.proposal.save()
    assert table(client) != before
    coeo.company.name = "Coeo Renamed"
    coeo.company.save()
    assert "Coeo Renamed" in table(client)


def test_a_sync_and_a_webhook_show_at_once(client, staff, synced):
    make.company("Second")  # two companies: the overview, not the board
    client.force_login(staff)
    today = "days=30"
    before = table(client, today)
    sandbox = synced.sandbox
    deal = open_deals(sandbox)[0]
    sandbox.update_deal(deal["id"], value=7654321)
    assert synced.sync().outcome == SyncOutcome.SUCCEEDED
    synced_table = table(client, today)
    assert synced_table != before
    assert synced_table == computed_table(client, today)

    change = sandbox.update_deal(deal["id"], value=1234567)  # what a webhook (or write-back) applies
    apply_records(integration=synced.integration, entity="deals", records=[records.Deal.from_api(change)])
    applied_table = table(client, today)
    assert applied_table != synced_table
    assert applied_table == computed_table(client, today)


def test_sync_health_is_read_per_request(client, staff, data, coeo):
    client.force_login(staff)
    page(client)
    SyncState.objects.filter(integration=coeo.integration).update(last_sync_outcome=SyncOutcome.FAILED)
    html = page(client)
    assert not figures_read(client)  # the figures still come from the cache
    assert "Last sync failed" in html


def test_users_with_different_access_never_share_a_page(client, staff, data, coeo, nordic):
    make.company("Third")  # no CRM: the two users' deals are the same, their companies are not
    partner = User.objects.create_user("paula")
    coeo.company.viewers.add(partner)
    nordic.company.viewers.add(partner)
    client.force_login(staff)
    assert "Third" in table(client)
    client.force_login(partner)
    theirs = table(client)
    assert "Coeo" in theirs and "Nordic Tools" in theirs and "Third" not in theirs
    client.force_login(staff)
    assert "Third" in table(client)


def test_without_its_triggers_the_page_is_computed_every_time(client, staff, data):
    with connection.cursor() as cursor:
        overview_cache.drop_triggers(cursor, connection.vendor)
    client.force_login(staff)
    page(client)
    assert figures_read(client)
    Deal.objects.filter(pk=data.e.pk).update(value=Decimal("8888"))
    assert "SEK\u00a08,888" in table(client)
