"""sync_financials: copy one company's books from Fortnox into the accounting tables, with the CRM
sync's guarantees: one run at a time (the lease), every run in the sync history (SyncRun) with a
token-free reason when it fails, and nothing written unless everything arrived (one transaction
at the end). Invoices are read incrementally by `lastmodified`; balances for the last 24 months."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.utils import timezone

from accounting.services.download import download
from accounting.services.store import store
from integrations.models import CANNOT_READ_CREDENTIALS, Integration, SyncErrorKind, SyncOutcome, SyncRun
from integrations.providers.base import Category, ErrorKind, PageInfo, ProviderError
from integrations.providers.fortnox.sie import SieError
from integrations.redaction import redact
from integrations.services.lease import renew_lease
from integrations.services.sync_state import flag_attention, update_state
from integrations.sync import run_log
from integrations.sync.locking import DatabaseBusy, write_transaction

logger = logging.getLogger(__name__)

# The next run asks for invoices changed since this long before the last one started (clocks differ).
MARK_OVERLAP = timedelta(minutes=5)


def sync_financials(
    *,
    integration: Integration,
    full: bool = False,
    on_progress: Callable[[str], None] | None = None,
    client_options: Mapping[str, Any] | None = None,
) -> SyncRun:
    """Sync one accounting integration; never raises for provider or data errors: the run records them."""
    integration.refresh_from_db()
    run = run_log.start_run(integration=integration, kind=SyncRun.Kind.FULL if full else SyncRun.Kind.INCREMENTAL)
    refusal = _refusal(integration)
    if refusal:
        return run_log.finish_run(run, outcome=SyncOutcome.SKIPPED, error=refusal)
    work = partial(
        _run, integration, run, full=full, client_options=dict(client_options or {}), on_progress=on_progress
    )
    return run_log.run_under_lease(integration=integration, run=run, work=work)


def _refusal(integration: Integration) -> str:
    if integration.category != Category.ACCOUNTING:
        return "Not an accounting integration."
    if not integration.is_enabled:
        return "The integration is disabled; enable it in the admin to sync."
    if not integration.credentials_are_readable:
        return CANNOT_READ_CREDENTIALS
    return ""


def _run(integration, run, lease, *, full, client_options, on_progress) -> None:
    provider = integration.provider_api
    client = None
    try:
        client = provider.client(integration, **client_options)
        with client:
            books = download(
                client,
                modified_since=None if full else _mark(integration),
                today=timezone.localdate(),
                on_page=_progress(run, lease, client, on_progress),
            )
            _say(run, client, "Saving", on_progress)
            with write_transaction() as lock:
                tally = store(integration.company_id, books)
                marks = {**integration.sync_state.sync_marks, "invoices": (run.started_at - MARK_OVERLAP).isoformat()}
                update_state(integration.pk, sync_marks=marks)
        run_log.finish_run(
            run, outcome=SyncOutcome.SUCCEEDED, tally=tally, write_lock_seconds=lock.held_seconds, **_usage(client)
        )
    except ProviderError as error:
        _failed_at_provider(integration, run, client, error)
    except SieError as error:
        run_log.finish_run(
            run,
            outcome=SyncOutcome.FAILED,
            error=f"Fortnox's SIE file: {error}",
            error_kind=SyncErrorKind.BAD_RESPONSE,
            **_usage(client),
        )
    except DatabaseBusy as error:
        run_log.finish_run(
            run, outcome=SyncOutcome.FAILED, error=str(error), error_kind=run_log.DB_BUSY, **_usage(client)
        )
    except Exception as error:  # noqa: BLE001 - any failure must end as a recorded, token-free run
        secrets = _secrets(integration)
        logger.error(
            "Financial sync of integration %s failed:\n%s", integration.pk, redact(traceback.format_exc(), *secrets)
        )
        run_log.finish_run(
            run,
            outcome=SyncOutcome.FAILED,
            error=redact(f"{type(error).__name__}: {error}", *secrets)[:2000],
            error_kind=SyncErrorKind.INTERNAL,
            **_usage(client),
        )


def _mark(integration: Integration) -> datetime | None:
    try:
        return datetime.fromisoformat(integration.sync_state.sync_marks.get("invoices", ""))
    except (TypeError, ValueError):
        return None


def _progress(run, lease, client, on_progress):
    def on_page(info: PageInfo) -> None:
        if not renew_lease(lease):
            raise ProviderError("The sync lost its lease to another worker and stopped.", kind=ErrorKind.TRANSIENT)
        _say(run, client, f"{info.resource}: page {info.page_number}, {info.records_so_far} records", on_progress)

    return on_page


def _say(run, client, line: str, on_progress) -> None:
    run_log.report_progress(run, line, **_usage(client))
    if on_progress is not None:
        on_progress(line)


def _failed_at_provider(integration, run, client, error: ProviderError) -> None:
    message = redact(str(error), *_secrets(integration))
    if error.kind is ErrorKind.RATE_LIMITED:
        run_log.finish_run(
            run,
            outcome=SyncOutcome.RATE_LIMITED,
            error=message,
            error_kind=SyncErrorKind.RATE_LIMITED,
            **_usage(client),
        )
        return
    if error.permanent:  # tokens.py has flagged a refused refresh already; this covers the rest
        flag_attention(integration.pk, reason=message)
    run_log.finish_run(
        run, outcome=SyncOutcome.FAILED, error=message, error_kind=SyncErrorKind(error.kind.value), **_usage(client)
    )


def _secrets(integration: Integration) -> tuple[str, ...]:
    """Every token the run may have held: the stored ones now (a refresh rotates them) and before."""
    current = Integration.objects.filter(pk=integration.pk).first()
    values = integration.provider_api.secrets(integration.credentials)
    return values + (integration.provider_api.secrets(current.credentials) if current else ())


def _usage(client) -> dict:
    return {} if client is None else {"api_calls": client.stats.calls, "token_cost": 0}
