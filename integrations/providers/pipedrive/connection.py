"""check_connection: prove an integration's Pipedrive credentials work, and summarise the account."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from .client import PipedriveClient
from .connection_rules import api_base_url
from .errors import ErrorKind, PipedriveError


@dataclass(frozen=True)
class StageSummary:
    id: int
    name: str
    order_nr: int
    deal_count: int


@dataclass(frozen=True)
class PipelineSummary:
    id: int
    name: str
    stages: tuple[StageSummary, ...]


@dataclass(frozen=True)
class ConnectionReport:
    """``ok`` is False when Pipedrive refused or failed; ``message`` then says why (token-free)."""

    ok: bool
    message: str
    error_kind: ErrorKind | None = None
    user_name: str = ""
    user_email: str = ""
    company_name: str = ""
    company_domain: str = ""
    pipelines: tuple[PipelineSummary, ...] = ()
    deals_by_status: dict[str, int] = field(default_factory=dict)
    open_value_by_currency: dict[str, Decimal] = field(default_factory=dict)
    organization_count: int | None = None
    person_count: int | None = None
    calls: int = 0
    token_cost: int = 0


CANNOT_READ_CREDENTIALS = "The stored API token is missing or cannot be decrypted; enter it again in the admin."
# The quick check runs inside a web request: one attempt, a few seconds at most, so a hanging or
# refusing upstream answers at once (a wrong URL is a settings mistake, not worth retrying).
QUICK_CHECK_OPTIONS = {"timeout": httpx.Timeout(4.0), "max_retries": 0}


def client_for(integration: Any, **options: Any) -> PipedriveClient:
    """Raises PipedriveError when the base URL is not allowed or the token is malformed."""
    token = integration.credentials.get("api_token", "")
    return PipedriveClient(base_url=api_base_url(integration.settings), api_token=token, **options)


def check_connection(*, integration: Any, detailed: bool = False, **client_options: Any) -> ConnectionReport:
    """Who the token belongs to (one cheap call); with ``detailed``, also every pipeline with its
    stages and deal counts, deals by status, open value per currency and contact counts, read over
    all pages. Never raises for Pipedrive failures: they come back as ok=False with a message.
    The quick check is bounded (QUICK_CHECK_OPTIONS) unless ``client_options`` say otherwise."""
    if not integration.credentials_are_readable:
        return ConnectionReport(ok=False, message=CANNOT_READ_CREDENTIALS)
    if not detailed:
        client_options = {**QUICK_CHECK_OPTIONS, **client_options}
    try:  # the base URL and the token's shape are checked here too, not only in the form
        client = client_for(integration, **client_options)
    except PipedriveError as error:
        return ConnectionReport(ok=False, message=str(error), error_kind=error.kind)
    with client:
        try:
            me = client.get_current_user()
            if me.company_domain and me.company_domain != integration.settings.get("company_domain"):
                return ConnectionReport(
                    ok=False,
                    message=_other_company(me, integration),
                    error_kind=ErrorKind.AUTH,
                    calls=client.stats.calls,
                    token_cost=client.stats.token_cost,
                )
            summary = _account_summary(client) if detailed else {}
        except PipedriveError as error:
            return ConnectionReport(ok=False, message=str(error), error_kind=error.kind, calls=client.stats.calls)
        return ConnectionReport(
            ok=True,
            message=f"Connected to {me.company_name} ({me.company_domain}) as {me.name} <{me.email}>.",
            user_name=me.name,
            user_email=me.email,
            company_name=me.company_name,
            company_domain=me.company_domain,
            **summary,
            calls=client.stats.calls,
            token_cost=client.stats.token_cost,
        )


def _other_company(me: Any, integration: Any) -> str:
    domain = integration.settings.get("company_domain")
    return (
        f"The token belongs to {me.company_name} ({me.company_domain}.pipedrive.com), not to"
        f" {domain}.pipedrive.com: correct the company domain or paste the token of {domain}'s account."
    )


def _account_summary(client: PipedriveClient) -> dict[str, Any]:
    by_status: Counter[str] = Counter()
    by_stage: Counter[int] = Counter()
    open_value: defaultdict[str, Decimal] = defaultdict(Decimal)
    for deal in client.iter_deals():
        by_status[deal.status] += 1
        if deal.status == "open" and deal.stage_id is not None:
            by_stage[deal.stage_id] += 1
        if deal.status == "open":
            open_value[deal.currency] += deal.value
    stages_by_pipeline: defaultdict[int | None, list[StageSummary]] = defaultdict(list)
    for stage in client.iter_stages():
        stages_by_pipeline[stage.pipeline_id].append(
            StageSummary(stage.id, stage.name, stage.order_nr, by_stage[stage.id])
        )
    pipelines = tuple(
        PipelineSummary(p.id, p.name, tuple(sorted(stages_by_pipeline[p.id], key=lambda s: s.order_nr)))
        for p in sorted(client.iter_pipelines(), key=lambda p: p.order_nr)
    )
    return {
        "pipelines": pipelines,
        "deals_by_status": dict(sorted(by_status.items())),
        "open_value_by_currency": dict(sorted(open_value.items())),
        "organization_count": sum(1 for _ in client.iter_organizations()),
        "person_count": sum(1 for _ in client.iter_persons()),
    }
