"""Sync freshness in the header, "Sync now" and its progress polling."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from dealflow.freshness import sync_freshness
from integrations.models import SyncOutcome, SyncRun
from tests import factories as make
from tests.dealflow.helpers import board_html

pytestmark = pytest.mark.django_db


def test_freshness_says_how_long_ago_with_the_exact_time_in_plain_text(client, viewer, coeo):
    coeo.integration.sync_state.last_successful_sync_at = timezone.now() - timedelta(minutes=3, seconds=10)
    coeo.integration.sync_state.last_sync_outcome = SyncOutcome.SUCCEEDED
    coeo.integration.save()
    coeo.integration.sync_state.save()
    client.force_login(viewer)

    html = board_html(client, coeo.company)

    assert "synced 3 min ago" in html
    # Visible text, so keyboard and touch users get it too (a title tooltip is hover-only).
    synced_at = timezone.localtime(coeo.integration.sync_state.last_successful_sync_at)
    assert f"(last successful sync {synced_at:%-d %b %Y, %H:%M})" in html
    assert "title=" not in html
    assert "freshness--warning" not in html


def test_freshness_warns_when_the_last_sync_failed(client, viewer, coeo):
    coeo.integration.sync_state.last_successful_sync_at = timezone.now() - timedelta(minutes=3)
    coeo.integration.sync_state.last_sync_outcome = SyncOutcome.FAILED
    coeo.integration.save()
    coeo.integration.sync_state.save()
    client.force_login(viewer)

    assert "The last sync failed." in board_html(client, coeo.company)


def test_freshness_warns_when_older_than_twice_the_interval(client, viewer, coeo):
    coeo.integration.sync_interval_minutes = 15
    coeo.integration.sync_state.last_successful_sync_at = timezone.now() - timedelta(minutes=31)
    coeo.integration.sync_state.last_sync_outcome = SyncOutcome.SUCCEEDED
    coeo.integration.save()
    coeo.integration.sync_state.save()
    client.force_login(viewer)

    assert "Older than twice the sync interval" in board_html(client, coeo.company)


def test_only_staff_see_and_may_use_sync_now(client, viewer, coeo, enqueued):
    client.force_login(viewer)

    assert "Sync now" not in board_html(client, coeo.company)
    assert client.post(reverse("dealflow:sync", args=[coeo.company.slug])).status_code == 403
    assert enqueued == []


def test_sync_now_enqueues_and_starts_polling(client, staff, coeo, enqueued):
    client.force_login(staff)
    assert "Sync now" in board_html(client, coeo.company)

    response = client.post(reverse("dealflow:sync", args=[coeo.company.slug]), headers={"HX-Request": "true"})

    assert enqueued == [{"integration": coeo.integration, "full": False}]
    html = response.content.decode()
    assert "Sync queued" in html and 'hx-trigger="every 2s"' in html


def test_polling_shows_progress_while_running_then_refreshes(client, staff, coeo):
    client.force_login(staff)
    since = int(timezone.now().timestamp()) - 1
    url = reverse("dealflow:sync_status", args=[coeo.company.slug])
    run = SyncRun.objects.create(
        integration=coeo.integration, kind="incremental", started_at=timezone.now(), progress="Deals: page 3"
    )

    running = client.get(url, {"since": since}, headers={"HX-Request": "true"})
    assert "Deals: page 3" in running.content.decode()
    assert 'hx-trigger="every 2s"' in running.content.decode()

    run.outcome = SyncOutcome.SUCCEEDED
    run.finished_at = timezone.now()
    run.save()
    run.updated, run.created = 3, 1
    run.save()
    finished = client.get(url, {"since": since}, headers={"HX-Request": "true"})
    # No full reload: board.js refreshes the board in place on this event.
    assert finished["HX-Trigger"] == "dealflow:synced" and "HX-Refresh" not in finished
    assert "Synced: 3 updated, 1 new" in finished.content.decode()
    assert 'hx-trigger="every 2s"' not in finished.content.decode()


def test_a_running_sync_polls_from_page_load_and_an_idle_one_does_not(client, staff, coeo):
    client.force_login(staff)
    assert "every 2s" not in board_html(client, coeo.company)

    SyncRun.objects.create(integration=coeo.integration, kind="full", started_at=timezone.now(), progress="Stages")

    html = board_html(client, coeo.company)
    assert 'hx-trigger="every 2s"' in html and "Syncing… Stages" in html


def test_queued_sync_keeps_polling_until_a_run_starts(client, staff, coeo):
    SyncRun.objects.create(
        integration=coeo.integration,
        kind="full",
        started_at=timezone.now() - timedelta(hours=1),
        finished_at=timezone.now() - timedelta(hours=1),
        outcome=SyncOutcome.SUCCEEDED,
    )
    client.force_login(staff)

    response = client.get(
        reverse("dealflow:sync_status", args=[coeo.company.slug]), {"since": int(timezone.now().timestamp())}
    )

    assert "Sync queued" in response.content.decode() and "HX-Refresh" not in response


def status(client, company, since):
    return client.get(reverse("dealflow:sync_status", args=[company.slug]), {"since": since})


@pytest.mark.parametrize("since", ["99999999999999999999", "-99999999999999999999", "soon"])
def test_an_unusable_since_counts_as_missing(client, staff, coeo, since):
    client.force_login(staff)

    response = status(client, coeo.company, since)

    assert response.status_code == 200
    assert "every 2s" not in response.content.decode() and "Sync now" in response.content.decode()


def test_a_queued_sync_no_worker_picks_up_stops_polling_after_two_minutes(client, staff, coeo):
    client.force_login(staff)
    clicked = timezone.now() - timedelta(minutes=1)

    assert "Sync queued" in status(client, coeo.company, int(clicked.timestamp())).content.decode()

    html = status(client, coeo.company, int((clicked - timedelta(minutes=2)).timestamp())).content.decode()
    assert "every 2s" not in html and "Sync queued" not in html
    assert "No worker has picked this sync up yet — is the Celery worker running?" in html
    assert "Sync now" in html  # staff may try again


def test_a_run_whose_worker_died_stops_polling(client, staff, coeo):
    started = timezone.now() - timedelta(minutes=20)
    SyncRun.objects.create(integration=coeo.integration, kind="full", started_at=started, progress="Deals: page 3")
    client.force_login(staff)

    polled = status(client, coeo.company, int(started.timestamp()) - 1).content.decode()
    for html in (board_html(client, coeo.company), polled):
        assert "every 2s" not in html and "Syncing…" not in html
        assert "This sync has stopped reporting progress" in html


def test_a_long_run_still_holding_its_lease_keeps_polling(client, staff, coeo):
    started = timezone.now() - timedelta(minutes=40)
    SyncRun.objects.create(integration=coeo.integration, kind="full", started_at=started, progress="Deals: page 90")
    coeo.integration.sync_state.sync_lease_owner = "worker-1"
    coeo.integration.sync_state.sync_lease_expires_at = timezone.now() + timedelta(minutes=10)
    coeo.integration.save()
    coeo.integration.sync_state.save()
    client.force_login(staff)

    html = status(client, coeo.company, int(started.timestamp()) - 1).content.decode()

    assert 'hx-trigger="every 2s"' in html and "Deals: page 90" in html


def test_a_spent_daily_budget_says_when_syncing_resumes_and_offers_no_sync_now(client, staff, coeo):
    resume = timezone.now() + timedelta(hours=3)
    coeo.integration.sync_state.last_successful_sync_at = timezone.now()
    coeo.integration.sync_state.last_sync_outcome = SyncOutcome.RATE_LIMITED
    coeo.integration.sync_state.sync_blocked_until = resume
    coeo.integration.save()
    coeo.integration.sync_state.save()
    client.force_login(staff)

    html = board_html(client, coeo.company)

    assert f"Pipedrive's daily limit is reached; syncing resumes at {timezone.localtime(resume):%H:%M}." in html
    assert "Sync now" not in html


def test_a_disabled_integration_says_so_and_offers_no_sync_now(client, staff, coeo):
    coeo.integration.is_enabled = False
    coeo.integration.save()
    coeo.integration.sync_state.save()
    client.force_login(staff)

    html = board_html(client, coeo.company)

    assert "Syncing is turned off for this company" in html and "Sync now" not in html


def test_a_failed_sync_shows_its_reason_to_staff_only(client, staff, viewer, coeo):
    coeo.integration.sync_state.last_sync_outcome = SyncOutcome.FAILED
    coeo.integration.sync_state.last_sync_error = "Pipedrive answered 500 on deals page 3"
    coeo.integration.save()
    coeo.integration.sync_state.save()

    client.force_login(viewer)
    assert "The last sync failed." in board_html(client, coeo.company)
    assert "answered 500" not in board_html(client, coeo.company)
    client.force_login(staff)
    assert "Reason (staff only): Pipedrive answered 500 on deals page 3" in board_html(client, coeo.company)


def test_a_company_without_an_integration_is_not_connected(client, staff, viewer, nordic):
    nordic.integration.delete()
    nordic.company.viewers.add(viewer)
    admin_link = reverse("admin:portfolio_portfoliocompany_change", args=[nordic.company.pk])

    client.force_login(viewer)
    html = board_html(client, nordic.company)
    assert "Not connected to a CRM." in html and admin_link not in html
    client.force_login(staff)
    assert admin_link in board_html(client, nordic.company)


def test_the_all_companies_switcher_shows_each_companys_health(client, staff, coeo, nordic):
    coeo.integration.sync_state.last_successful_sync_at = timezone.now()
    coeo.integration.sync_state.last_sync_outcome = SyncOutcome.SUCCEEDED
    coeo.integration.save()
    coeo.integration.sync_state.save()
    nordic.integration.sync_state.last_sync_outcome = SyncOutcome.FAILED
    nordic.integration.save()
    nordic.integration.sync_state.save()
    client.force_login(staff)

    html = " ".join(client.get(reverse("dealflow:board")).content.decode().split())

    assert 'Coeo <span class="health-dot health-dot--fresh" aria-hidden="true"></span>' in html
    assert "(Up to date, synced just now)" in html
    assert 'Nordic Tools <span class="health-dot health-dot--failing"' in html
    assert "(Last sync failed, never synced)" in html


def test_an_integration_needing_attention_says_so_to_staff_only(client, staff, viewer, coeo):
    reason = "Pipedrive rejected the API token"
    make.sync_state(coeo.integration, attention_since=timezone.now(), attention_reason=reason)

    client.force_login(viewer)
    assert "Needs attention" not in board_html(client, coeo.company)
    client.force_login(staff)
    html = board_html(client, coeo.company)
    assert "Needs attention:" in html and "Scheduled syncs are paused until someone fixes" in html
    with translation.override("sv"):
        assert "Schemalagda synkar är pausade" in str(sync_freshness(coeo.integration, now=timezone.now()).attention)


def test_the_all_companies_board_decrypts_no_credentials(client, staff, coeo, nordic, monkeypatch):
    """The switcher's health reads each integration's sync state, never its token: decrypting
    every company's credentials on every board cost more than the rest of the health dots."""
    from integrations.fields import SecretJSONField

    decrypted = []
    original = SecretJSONField.from_db_value
    monkeypatch.setattr(
        SecretJSONField, "from_db_value", lambda self, *args: decrypted.append(self.name) or original(self, *args)
    )
    client.force_login(staff)

    html = " ".join(client.get(reverse("dealflow:board")).content.decode().split())

    assert 'Nordic Tools <span class="health-dot health-dot--' in html
    assert decrypted == []


def test_the_switchers_health_shows_a_failed_sync_at_once(client, staff, coeo, nordic):
    """Its statement is kept between requests (statements.py), its rows are not."""
    client.force_login(staff)
    url = reverse("dealflow:board")
    for _ in range(2):
        assert "health-dot--failing" not in client.get(url).content.decode()
    nordic.integration.sync_state.last_sync_outcome = SyncOutcome.FAILED
    nordic.integration.sync_state.save()

    html = " ".join(client.get(url).content.decode().split())

    assert 'Nordic Tools <span class="health-dot health-dot--failing"' in html
