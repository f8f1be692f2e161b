"""The API token never leaves the database in clear: not in pages, exports, command output,
logs, sync history or tasks. One sentinel token goes through a real sync over loopback, a
rejected sync, every page that shows the integration or its deals (also for view-only staff),
the admin's actions and buttons, a base URL that is not allowed, a malformed token, and the
task queue."""

import io
import logging

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse

from dealflow.models import Deal
from integrations.models import Integration, SyncOutcome, SyncRun
from integrations.providers.pipedrive.sandbox import Sandbox
from integrations.providers.pipedrive.sandbox.server import serve_in_thread
from tests import factories as make

SENTINEL = "tok-SENTINEL-e2e-5b8c0f2a91d3"


@pytest.fixture
def served_integration(db):
    sandbox = Sandbox("coeo", api_tokens=(SENTINEL,), burst_limit=100_000)
    base_url, stop = serve_in_thread(sandbox)
    integration = make.integration(make.company("Coeo"), api_base_url=base_url, token=SENTINEL)
    yield integration
    stop()


def body_of(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def assert_token_absent(text: str, where: str):
    assert SENTINEL not in text, f"the token leaked into {where}"
    assert SENTINEL[-12:] not in text, f"part of the token leaked into {where}"


def view_only_client() -> Client:
    user = User.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_integration", "view_portfoliocompany", "view_syncrun"])
    )
    client = Client()
    client.force_login(user)
    return client


def integration_form(integration, **overrides) -> dict:
    """The integration page's POST data, without the inlines' management forms (none change)."""
    data = {
        "company": integration.company_id,
        "provider": "pipedrive",
        "company_domain": "coeo",
        "api_token": "",
        "api_base_url": integration.settings["api_base_url"],
        "is_enabled": "on",
        "sync_interval_minutes": "15",
        "stage_mappings-TOTAL_FORMS": "0",
        "stage_mappings-INITIAL_FORMS": "0",
        "sync_runs-TOTAL_FORMS": "0",
        "sync_runs-INITIAL_FORMS": "0",
    }
    return {**data, **overrides}


def test_token_stays_secret_through_sync_pages_and_tasks(
    served_integration, admin_client, caplog, capfd, django_capture_on_commit_callbacks, monkeypatch
):
    caplog.set_level(logging.DEBUG)
    base_url = served_integration.settings["api_base_url"]
    out = io.StringIO()
    call_command("sync_deals", "coeo", stdout=out, stderr=out)
    call_command("pipedrive_check", "coeo", stdout=out, stderr=out)
    assert Deal.objects.filter(integration=served_integration).exists(), out.getvalue()

    # A rejected token: the failure is recorded, token-free.
    Integration.objects.filter(pk=served_integration.pk).update(credentials={"api_token": "tok-REJECTED-0000"})
    served_integration.refresh_from_db()
    with pytest.raises(CommandError, match="did not succeed"):
        call_command("sync_deals", "coeo", stdout=out, stderr=out)
    failed = SyncRun.objects.filter(integration=served_integration).latest("started_at")
    assert failed.outcome == SyncOutcome.FAILED
    assert failed.error
    assert "tok-REJECTED-0000" not in failed.error + out.getvalue()
    Integration.objects.filter(pk=served_integration.pk).update(credentials={"api_token": SENTINEL})

    deal = Deal.objects.filter(integration=served_integration, status="open").first()
    pages = {
        "board": reverse("dealflow:board"),
        "company board": "/dealflow/coeo/",
        "export": "/dealflow/coeo/export.csv",
        "panel": f"/dealflow/coeo/deals/{deal.remote_id}/",
        "integration list": reverse("admin:integrations_integration_changelist"),
        "integration page": reverse("admin:integrations_integration_change", args=[served_integration.pk]),
        "company page": reverse("admin:portfolio_portfoliocompany_change", args=[served_integration.company_id]),
        "sync runs": reverse("admin:integrations_syncrun_changelist"),
    }
    for where, url in pages.items():
        response = admin_client.get(url, follow=True)
        assert response.status_code == 200, (where, response.status_code)
        assert_token_absent(body_of(response), where)
    # The database itself: the token is stored only encrypted (no run, state, payload or log row
    # holds it in clear). SQLite can dump its whole content; PostgreSQL runs the rest of the test.
    if connection.vendor == "sqlite":
        assert_token_absent("\n".join(connection.connection.iterdump()), "the database")
    viewer = view_only_client()
    for where in ("integration list", "integration page", "company page", "sync runs"):
        response = viewer.get(pages[where])
        assert response.status_code == 200, (where, response.status_code)
        assert_token_absent(body_of(response), f"the {where} of a view-only user")

    # Admin actions: Test connection's message, and Sync now's queued task (captured, not run).
    sent = []
    monkeypatch.setattr("integrations.tasks.sync_integration_task.apply_async", lambda *a, **kw: sent.append((a, kw)))
    changelist = reverse("admin:integrations_integration_changelist")
    for action in ("test_connection", "sync_now", "full_resync"):
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(
                changelist, {"action": action, "_selected_action": [served_integration.pk]}, follow=True
            )
        assert_token_absent(body_of(response), f"the {action} action's page")
    # The same operations as buttons on the integration's own page.
    for operation in ("test_connection", "sync_now", "full_resync", "confirm_suggestions"):
        url = reverse("admin:integrations_integration_operation", args=[served_integration.pk, operation])
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(url, follow=True)
        assert response.status_code == 200
        assert_token_absent(body_of(response), f"the {operation} button's page")
    assert sent, "Sync now queued no task"

    # A base URL that is not allowed: refused in the form, and by a sync and a check of a row
    # written around the form; nothing is sent there and no message repeats the token.
    change = pages["integration page"]
    response = admin_client.post(change, integration_form(served_integration, api_base_url="http://169.254.169.254"))
    assert response.status_code == 200 and "loopback" in body_of(response)
    assert_token_absent(body_of(response), "the rejected base URL's form")
    Integration.objects.filter(pk=served_integration.pk).update(
        settings={"company_domain": "coeo", "api_base_url": "https://attacker.example"}
    )
    with pytest.raises(CommandError):
        call_command("sync_deals", "coeo", stdout=out, stderr=out)
    with pytest.raises(CommandError, match="attacker.example"):
        call_command("pipedrive_check", "coeo", stdout=out, stderr=out)

    # A malformed token (a zero-width space): a clear form error, the typed text never echoed in
    # an error, and a stored one fails the sync recorded, not with the token in a log.
    malformed = SENTINEL + "\u200b"
    response = admin_client.post(change, integration_form(served_integration, api_token=malformed))
    assert "That is not a Pipedrive API token" in body_of(response)
    Integration.objects.filter(pk=served_integration.pk).update(
        credentials={"api_token": malformed}, settings={"company_domain": "coeo", "api_base_url": base_url}
    )
    with pytest.raises(CommandError):
        call_command("sync_deals", "coeo", stdout=out, stderr=out)
    assert SyncRun.objects.latest("started_at").outcome == SyncOutcome.FAILED
    assert_token_absent(repr(sent), "the queued task's arguments")

    captured = capfd.readouterr()
    assert_token_absent(out.getvalue(), "command output")
    assert_token_absent(captured.out + captured.err, "the process output")
    assert_token_absent(caplog.text, "the logs")
    for run in SyncRun.objects.all():
        assert_token_absent(run.error + run.progress, "sync history")


def test_webhook_credentials_stay_secret(
    served_integration, admin_client, client, caplog, capfd, django_capture_on_commit_callbacks, monkeypatch
):
    """The webhooks' basic-auth user and password (and the API token) never appear in command
    output, logs, pages, the queued task's arguments, error messages or the webhook URL; only the
    URL key (unguessable, but no credential) is in the URL."""
    import base64
    import json
    import re

    from integrations.inbound.endpoints import webhook_url
    from integrations.inbound.processing import process_event
    from integrations.inbound.registration import register
    from integrations.models import InboundEvent, WebhookEndpoint

    caplog.set_level(logging.DEBUG)
    out = io.StringIO()
    call_command("sync_deals", "coeo", stdout=out, stderr=out)
    call_command("pipedrive_webhooks", "register", "coeo", stdout=out, stderr=out)
    call_command("pipedrive_webhooks", "status", "coeo", stdout=out, stderr=out)
    endpoint = WebhookEndpoint.objects.get(pk=served_integration.pk)
    user, password = endpoint.credentials["user"], endpoint.credentials["password"]
    secrets = {"the API token": SENTINEL, "the webhook user": user, "the webhook password": password}

    def assert_secrets_absent(text: str, where: str):
        for name, secret in secrets.items():
            assert secret not in text, f"{name} leaked into {where}"

    # At least 128 random bits in the password, 16 URL-safe characters in the key.
    assert len(base64.urlsafe_b64decode(password + "=" * (-len(password) % 4))) >= 16
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,}", endpoint.url_key)
    assert_secrets_absent(webhook_url(endpoint), "the webhook URL")

    # A delivery: accepted, stored and queued with the event's id only.
    sent = []
    monkeypatch.setattr(
        "integrations.inbound.receiver.process_inbound_event_task.apply_async", lambda *a, **kw: sent.append((a, kw))
    )
    deal = Deal.objects.filter(integration=served_integration).first()
    payload = {"meta": {"id": "evt-1", "entity": "deal", "action": "change", "entity_id": str(deal.remote_id)}}
    url = f"/hooks/pipedrive/{endpoint.url_key}/"
    good = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    with django_capture_on_commit_callbacks(execute=True):
        accepted = client.post(url, json.dumps(payload), content_type="application/json", HTTP_AUTHORIZATION=good)
    assert accepted.status_code == 200 and sent
    assert_secrets_absent(repr(sent), "the queued task's arguments")
    wrong = "Basic " + base64.b64encode(f"{user}:{password[:-1]}".encode()).decode()
    refused = client.post(url, json.dumps(payload), content_type="application/json", HTTP_AUTHORIZATION=wrong)
    assert refused.status_code == 401
    assert_secrets_absent(body_of(accepted) + body_of(refused), "the receiver's answers")
    process_event(InboundEvent.objects.get().pk)

    # Pages: the integration's admin page (buttons and state), the lists, the board.
    for where, page in {
        "integration page": reverse("admin:integrations_integration_change", args=[served_integration.pk]),
        "integration list": reverse("admin:integrations_integration_changelist"),
        "board": "/dealflow/coeo/",
    }.items():
        response = admin_client.get(page, follow=True)
        assert response.status_code == 200
        assert_secrets_absent(body_of(response), where)
    for operation in ("check_webhooks", "register_webhooks"):
        button = reverse("admin:integrations_integration_operation", args=[served_integration.pk, operation])
        assert_secrets_absent(body_of(admin_client.post(button, follow=True)), f"the {operation} button's page")

    # A refusal from Pipedrive: the message names no secret.
    Integration.objects.filter(pk=served_integration.pk).update(credentials={"api_token": "tok-REJECTED-0000"})
    served_integration.refresh_from_db()
    WebhookEndpoint.objects.filter(pk=served_integration.pk).update(remote_ids={})
    report = register(served_integration)
    assert not report.ok
    assert_secrets_absent(report.message, "the registration error")
    endpoint.refresh_from_db()
    assert_secrets_absent(endpoint.check_message, "the stored check message")

    if connection.vendor == "sqlite":  # stored only encrypted
        assert_secrets_absent("\n".join(connection.connection.iterdump()), "the database")
    for event in InboundEvent.objects.all():
        assert_secrets_absent(json.dumps(event.payload) + event.error, "stored events")
    captured = capfd.readouterr()
    assert_secrets_absent(out.getvalue(), "command output")
    assert_secrets_absent(captured.out + captured.err, "the process output")
    assert_secrets_absent(caplog.text, "the logs")


FORTNOX_SECRET = "fnx-CLIENT-SECRET-SENTINEL-7d41c9"


def test_fortnox_tokens_and_client_secret_stay_secret(
    db, admin_client, caplog, capfd, django_capture_on_commit_callbacks, monkeypatch, settings
):
    """Connect Fortnox over loopback, sync, have the refresh refused, break the client secret: no
    access token, refresh token (current or spent) or the client secret reaches a page, a URL, the
    logs, command output, the sync history, a queued task or (the secret at all, tokens in clear)
    the database."""
    from urllib.parse import urlsplit

    import httpx

    from integrations.providers.fortnox.sandbox import FortnoxSandbox
    from integrations.providers.fortnox.sandbox.server import serve_in_thread as serve_fortnox

    caplog.set_level(logging.DEBUG)
    sandbox = FortnoxSandbox()
    sandbox.client_secret = FORTNOX_SECRET
    base_url, stop = serve_fortnox(sandbox)
    settings.FORTNOX_CLIENT_ID = sandbox.client_id
    settings.FORTNOX_CLIENT_SECRET = FORTNOX_SECRET
    settings.FORTNOX_AUTH_BASE_URL = settings.FORTNOX_API_BASE_URL = base_url
    settings.FORTNOX_ALLOWED_BASE_URLS = ["http://127.0.0.1:*"]
    sent = []
    monkeypatch.setattr("accounting.tasks.sync_financials_task.delay", lambda *a, **kw: sent.append((a, kw)))
    company = make.company("Nordljus")
    out = io.StringIO()
    pages_seen, urls_seen = [], []
    try:
        start = admin_client.post(reverse("accounting:fortnox_connect", args=[company.slug]), {"method": "login"})
        urls_seen.append(start["Location"])
        back = httpx.get(start["Location"], follow_redirects=False).headers["location"]
        urls_seen.append(back)
        parts = urlsplit(back)
        response = admin_client.get(f"{parts.path}?{parts.query}", follow=True)
        pages_seen.append(body_of(response))
        integration = Integration.objects.get(company=company, provider="fortnox")
        call_command("sync_financials", company.slug, stdout=out, stderr=out)
        sandbox.expire_access_tokens()  # the next call refreshes (rotating the refresh token)
        call_command("sync_financials", company.slug, stdout=out, stderr=out)
        sandbox.revoke(sandbox.approving_tenant)
        sandbox.expire_access_tokens()
        with pytest.raises(CommandError):
            call_command("sync_financials", company.slug, stdout=out, stderr=out)
        for url in (
            reverse("accounting:financials", args=[company.slug]),
            reverse("accounting:portfolio"),
            reverse("accounting:fortnox_connect", args=[company.slug]),
            reverse("admin:portfolio_portfoliocompany_change", args=[company.pk]),
            reverse("admin:integrations_integration_change", args=[integration.pk]),
            reverse("admin:integrations_syncrun_changelist"),
        ):
            response = admin_client.get(url)
            assert response.status_code == 200, url
            pages_seen.append(body_of(response))
        # A wrong client secret: Fortnox's refusal is shown, the secret is not.
        settings.FORTNOX_CLIENT_SECRET = FORTNOX_SECRET + "-wrong"
        response = admin_client.post(
            reverse("accounting:fortnox_connect", args=[company.slug]), {"method": "service", "tenant_id": "100001"}
        )
        assert response.status_code == 400 and "invalid_client" in body_of(response)
        pages_seen.append(body_of(response))
    finally:
        stop()
    tokens = {FORTNOX_SECRET}
    for grant in sandbox.grants:
        tokens |= set(grant.access) | grant.spent | ({grant.refresh_token} - {""})
    assert len(tokens) >= 5  # the secret, two access tokens, a spent and a current refresh token
    captured = capfd.readouterr()
    places = {
        "pages": "\n".join(pages_seen),
        "URLs": "\n".join(urls_seen),
        "command output": out.getvalue(),
        "the process output": captured.out + captured.err,
        "the logs": caplog.text,
        "sync history": "\n".join(run.error + run.progress for run in SyncRun.objects.all()),
        "queued tasks": repr(sent),
    }
    if connection.vendor == "sqlite":
        places["the database"] = "\n".join(connection.connection.iterdump())
    for where, text in places.items():
        for token in tokens:
            assert token not in text and token[-12:] not in text, f"a Fortnox secret leaked into {where}"
    assert "needs reconnecting" in SyncRun.objects.filter(integration=integration).latest("started_at").error


def test_write_back_keeps_the_token_out_of_audit_rows_errors_pages_and_logs(db, caplog):
    """Every write path (a stage move, a refusal whose message echoes the token, a new deal), its
    audit rows, the panel's answers, the audit admin and the logs stay token-free."""
    from integrations.models import WriteBackEntry
    from integrations.providers.pipedrive.sandbox.deal_writes import fail_writes
    from integrations.sync.runner import sync_integration

    caplog.set_level(logging.DEBUG)
    sandbox = Sandbox("coeo", deals=30, api_tokens=(SENTINEL,), burst_limit=100_000)
    base_url, stop = serve_in_thread(sandbox)
    try:
        integration = make.integration(make.company("Coeo"), api_base_url=base_url, token=SENTINEL)
        assert sync_integration(integration=integration, full=True).outcome == SyncOutcome.SUCCEEDED
        deal = Deal.objects.filter(integration=integration, status="open", stage__isnull=False).first()
        stage = Deal.objects.filter(integration=integration).exclude(stage=deal.stage).first().stage
        client = Client()
        client.force_login(User.objects.create_user("stella", is_staff=True, is_superuser=True))
        slug = integration.company.slug
        stage_url = reverse("dealflow:deal_stage", args=[slug, deal.remote_id])
        move = {"stage_id": stage.remote_id, "update_time": deal.update_time.isoformat()}
        pages = [body_of(client.get(reverse("dealflow:deal", args=[slug, deal.remote_id])))]

        # A refusal whose message repeats the token (a proxy echoing the request), then a success.
        fail_writes(sandbox, status=400, message=f"bad token {SENTINEL} in request")
        pages.append(body_of(client.post(stage_url, move, headers={"HX-Request": "true"})))
        pages.append(body_of(client.post(stage_url, move, follow=True)))
        new_deal = {"title": "A new deal", "new_organization": "Ny AB", "currency": "SEK"}
        pages.append(body_of(client.post(reverse("dealflow:new_deal", args=[slug]), new_deal, follow=True)))
    finally:
        stop()
    pages.append(body_of(client.get(reverse("admin:integrations_writebackentry_changelist"))))
    refused = WriteBackEntry.objects.order_by("id").first()
    pages.append(body_of(client.get(reverse("admin:integrations_writebackentry_change", args=[refused.pk]))))

    outcomes = list(WriteBackEntry.objects.order_by("id").values_list("outcome", flat=True))
    assert outcomes == ["failed", "succeeded", "succeeded"], outcomes
    assert "bad token [redacted] in request" in refused.error
    for row in WriteBackEntry.objects.values():
        assert_token_absent(repr(row), "a write-back audit row")
    for page in pages:
        assert_token_absent(page, "a write-back page")
    assert "bad token [redacted]" in pages[1]
    assert_token_absent(caplog.text, "the logs")


@pytest.fixture
def backfill_world(db):
    """A small sandbox knowing only the sentinel token, over loopback, and an integration that
    opted in to the backfill; yields (sandbox, integration) once synced."""
    from integrations.sync.runner import sync_integration

    sandbox = Sandbox("coeo", deals=30, api_tokens=(SENTINEL,), burst_limit=100_000)
    base_url, stop = serve_in_thread(sandbox)
    company = make.company("Coeo")
    integration = make.integration(company, api_base_url=base_url, token=SENTINEL, backfill_stage_history=True)
    assert sync_integration(integration=integration).outcome == SyncOutcome.SUCCEEDED
    yield sandbox, integration
    stop()


def test_the_stage_history_backfill_keeps_the_token_out_of_logs_tasks_pages_and_errors(
    backfill_world, admin_client, caplog, capfd, monkeypatch
):
    """The backfill's start button and task arguments, its run (a changelog entry that echoes the
    token, a deal gone, a rejected token), its progress row, marks and admin page stay token-free."""
    from dealflow.models import DealHistoryBackfill
    from integrations.backfill.selectors import deals_needing_history
    from integrations.backfill.services import run_backfill
    from integrations.models import StageHistoryBackfill

    caplog.set_level(logging.DEBUG)
    sandbox, integration = backfill_world
    first, second, *_ = deals_needing_history(integration)
    echo = {"field_key": "stage_id", "old_value": SENTINEL, "new_value": SENTINEL, "time": SENTINEL}
    sandbox.add_changelog_entries(first.remote_id, [echo, SENTINEL])
    sandbox.purge_deal(second.remote_id)

    sent = []
    monkeypatch.setattr(
        "integrations.backfill.tasks.backfill_stage_history_task.apply_async",
        lambda *a, **kw: sent.append((a, kw)),
    )
    button = reverse("admin:integrations_integration_operation", args=[integration.pk, "start_backfill"])
    assert admin_client.post(button, follow=True).status_code == 200
    assert sent, "the start button queued no task"
    assert_token_absent(repr(sent), "the backfill task's arguments")

    assert run_backfill(integration_id=integration.pk) == "done"
    progress = StageHistoryBackfill.objects.get(pk=integration.pk)
    assert progress.deals_skipped == 1 and len(progress.skipped) == 3
    page = body_of(admin_client.get(reverse("admin:integrations_integration_change", args=[integration.pk])))
    assert "Recently skipped" in page
    assert_token_absent(page, "the integration page's backfill progress")

    # A rejected token: the run stops with a token-free error, shown on the page.
    Integration.objects.filter(pk=integration.pk).update(credentials={"api_token": "tok-REJECTED-0000"})
    DealHistoryBackfill.objects.all().delete()
    assert run_backfill(integration_id=integration.pk) == "failed"
    progress.refresh_from_db()
    assert progress.last_error and "tok-REJECTED-0000" not in progress.last_error
    page = body_of(admin_client.get(reverse("admin:integrations_integration_change", args=[integration.pk])))
    assert progress.last_error.split(" (")[0] in page and "tok-REJECTED-0000" not in page
    for row in [*StageHistoryBackfill.objects.values(), *DealHistoryBackfill.objects.values()]:
        assert_token_absent(repr(row), "the backfill's progress and marks")
    captured = capfd.readouterr()
    assert_token_absent(captured.out + captured.err, "the process output")
    assert_token_absent(caplog.text, "the logs")
    assert "tok-REJECTED-0000" not in caplog.text


@pytest.mark.parametrize("status", [400, 500])
def test_an_error_raised_in_the_request_ahead_thread_keeps_the_token_secret(db, caplog, capfd, status):
    """A listing asks for its next page in a helper thread (client._pages): an answer there that
    echoes the token (a 400, or a 500 retried until given up) fails the sync token-free."""
    import threading

    import httpx

    from integrations.sync.runner import sync_integration

    caplog.set_level(logging.DEBUG)
    sandbox = Sandbox("coeo", api_tokens=(SENTINEL,), burst_limit=100_000)
    integration = make.integration(make.company("Coeo"), api_base_url="http://127.0.0.1:9", token=SENTINEL)
    threads = []

    def echo_on_a_later_deals_page(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v2/deals" and "cursor" in request.url.params:
            threads.append(threading.current_thread().name)
            echoed = f"cannot page for {request.headers['x-api-token']}"
            return httpx.Response(status, json={"success": False, "error": echoed, "token": SENTINEL})
        return sandbox.transport().handle_request(request)

    options = {"transport": httpx.MockTransport(echo_on_a_later_deals_page), "page_size": 50, "sleep": lambda _: None}
    run = sync_integration(integration=integration, full=True, client_options=options)

    assert run.outcome == SyncOutcome.FAILED and run.error
    assert threads and all(name.startswith("pipedrive-ahead") for name in threads), threads
    assert_token_absent(run.error + run.progress, "the failed run")
    captured = capfd.readouterr()
    assert_token_absent(captured.out + captured.err, "the process output")
    assert_token_absent(caplog.text, "the logs")


def test_a_database_url_that_is_no_url_is_a_clear_error_without_its_password():
    """The settings' error, and django-environ's warning (which printed the parsed password), show
    nothing of the URL."""
    from tests.foundation.test_settings_and_health import start_django

    refused = start_django(
        {"SECRET_KEY": "x" * 60, "FERNET_KEYS": "k1", "DATABASE_URL": "postgres//bob:hunter2@db/deals"}
    )
    assert refused.returncode != 0
    assert "DATABASE_URL is not a database URL (sqlite:///PATH or postgres://…)." in refused.stderr
    assert "hunter2" not in refused.stderr + refused.stdout
