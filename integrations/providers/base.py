"""What a provider (Pipedrive, later HubSpot or Fortnox) supplies, and the provider-neutral types
the sync engine and the admin use to talk to one: errors, page callbacks, the sync plan.

A provider is a package under integrations/providers/ with a Provider subclass, listed by key in
registry.py. Nothing outside that package imports it; everyone else goes through the registry.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.db import models

if TYPE_CHECKING:
    from integrations.sync.entities import EntitySpec


class Category(models.TextChoices):
    CRM = "crm", "CRM"
    ACCOUNTING = "accounting", "Accounting"


class ErrorKind(enum.Enum):
    AUTH = "auth"
    NOT_FOUND = "not_found"
    RATE_LIMITED = "rate_limited"
    TRANSIENT = "transient"
    BAD_RESPONSE = "bad_response"
    BAD_REQUEST = "bad_request"


# Kinds where trying again later may help (unless the daily budget is spent).
RETRYABLE_KINDS = frozenset({ErrorKind.RATE_LIMITED, ErrorKind.TRANSIENT})
# Kinds no retry can fix (credentials rejected, the account not found): someone must change the
# integration's settings or credentials first.
PERMANENT_KINDS = frozenset({ErrorKind.AUTH, ErrorKind.NOT_FOUND})


class ProviderError(Exception):
    """A failed call to a provider, or settings a client refuses to use.

    ``budget_exhausted`` says the account's API budget is gone, so callers must stop until it
    resets (``reset_seconds``) rather than retry. Messages never contain credentials.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: ErrorKind,
        status_code: int | None = None,
        reset_seconds: float | None = None,
        budget_exhausted: bool = False,
        detail: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        # The provider's own words for a refusal ("stage not found"), token-free, for showing users.
        self.detail = detail
        self.kind = kind
        self.status_code = status_code
        self.reset_seconds = reset_seconds
        self.budget_exhausted = budget_exhausted

    def __str__(self) -> str:
        return self.message

    @property
    def permanent(self) -> bool:
        """Whether retrying without a change to the settings or credentials is pointless."""
        return self.kind in PERMANENT_KINDS

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(kind={self.kind.name}, status_code={self.status_code!r}, "
            f"budget_exhausted={self.budget_exhausted!r}, message={self.message!r})"
        )


@dataclass(frozen=True, slots=True)
class PageInfo:
    resource: str
    page_number: int
    records_on_page: int
    records_so_far: int


PageCallback = Callable[[PageInfo], None]


@dataclass(frozen=True)
class SyncPlan:
    """What one sync run fetches (specs, in write order) and the high-water marks it starts from."""

    specs: tuple[EntitySpec, ...]
    marks: dict
    # What the provider read to plan the run (Pipedrive: its custom field definitions), stored
    # with the run's changes in its write transaction: store(integration_id).
    store: Callable[[int], None] | None = None


@dataclass(frozen=True)
class RemoteDeal:
    """A deal as the provider holds it now, for write-back (integrations/outbound/): its fields under
    the neutral names write-back uses (title, stage_id, pipeline_id, status, lost_reason, value,
    currency, expected_close_date, owner_id, org_id, person_id; Python values: Decimal, date, int),
    and the provider's own parsed record, applied through the one write path (sync/apply.py)."""

    remote_id: int
    title: str
    update_time: Any  # an aware datetime, or None when the provider sent none
    fields: dict[str, Any]
    record: Any


@dataclass(frozen=True)
class RemoteStageChange:
    """One stage change from the provider's own log of a deal (stage history backfill,
    integrations/backfill/): remote stage ids (from None: the deal's first stage) and an aware time.
    An entry that cannot be read has ``problem`` (token-free, no remote text) and nothing else."""

    changed_at: Any = None
    from_stage_id: int | None = None
    to_stage_id: int | None = None
    problem: str = ""


@dataclass(frozen=True)
class WebhookEvent:
    """One webhook delivery, read by the provider into neutral terms (integrations/inbound/).

    ``entity`` is an entity spec key ("deals", "persons", "organizations", "stages", "pipelines"),
    or "" for an object the app does not cache; ``update_time`` is the record's own update time
    when the payload carries it (an event older than the cache then needs no fetch).
    """

    event_id: str
    entity: str
    action: str  # "create", "change" or "delete"
    entity_id: int | None
    update_time: Any = None  # an aware datetime or None
    merged_to_id: int | None = None


@dataclass(frozen=True)
class WebhookRegistration:
    """What registering webhooks did: {event object: remote webhook id}, and a warning for staff
    (the token's user is not an admin, so events are filtered by that user's permissions)."""

    remote_ids: dict[str, int]
    warning: str = ""


class Provider:
    """One external system. Subclasses set the class attributes and implement the methods.

    Settings and credentials are plain dicts stored on the Integration (``settings``, and
    ``credentials``, encrypted); the keys are the provider's own. A client is a context manager
    with ``stats.calls``, ``stats.token_cost`` and ``stats.unreadable_records``, raising a
    ProviderError subclass for every failure.
    """

    key: ClassVar[str]
    label: ClassVar[str]
    category: ClassVar[Category]
    settings_fields: ClassVar[tuple[str, ...]] = ()
    # Write-only in the admin: never rendered, blank keeps the stored value.
    credential_fields: ClassVar[tuple[str, ...]] = ()
    # Settings that decide where the credentials are sent: changing one needs them typed again, so
    # someone who may edit an integration but never sees its credentials cannot send them elsewhere.
    credential_destination_fields: ClassVar[tuple[str, ...]] = ()
    # Whether staff connect it by typing its settings and credentials on the company's admin page
    # (False: it connects another way, as Fortnox does with OAuth).
    connects_by_form: ClassVar[bool] = True

    def form_fields(self) -> dict[str, forms.Field]:
        """The admin form's fields, one per settings and credentials key, in display order."""
        raise NotImplementedError

    def clean_form(self, cleaned: dict[str, Any]) -> dict[str, str]:
        """Rules across fields (the credentials' destination, say): {field name: message}."""
        return {}

    def client(self, integration: Any, **options: Any) -> Any:
        """A client for `integration`; raises ProviderError when its settings must not be used."""
        raise NotImplementedError

    def sync_plan(self, client: Any, *, marks: dict, on_page: PageCallback) -> SyncPlan:
        raise NotImplementedError

    def stored_specs(self, integration: Any) -> tuple[EntitySpec, ...]:
        """The entity specs built from what the cache holds (no call to the provider), for
        applying a few records on their own (integrations/sync/apply.py)."""
        raise NotImplementedError

    def record_url(self, integration: Any, kind: str, remote_id: int) -> str:
        """Where a person opens the record at the provider (kind: "deal", "person", ...)."""
        raise NotImplementedError

    def check_connection(self, integration: Any, **options: Any) -> Any:
        """One cheap call proving the credentials work; a result with ``ok`` and a token-free ``message``."""
        raise NotImplementedError

    # -- write-back (optional: a provider without it leaves supports_write_back False) ----------
    # Each takes a client from client(); raises ProviderError with a token-free, plain message.
    supports_write_back: ClassVar[bool] = False

    def write_client(self, integration: Any, **options: Any) -> Any:
        """A client for one write inside a web request: short timeouts, little waiting."""
        return self.client(integration, **options)

    def fetch_deal(self, client: Any, remote_id: int) -> RemoteDeal:
        raise NotImplementedError

    def update_deal(self, client: Any, remote_id: int, changes: dict[str, Any]) -> RemoteDeal:
        """Change only the fields in `changes` (neutral names, as in RemoteDeal.fields)."""
        raise NotImplementedError

    def create_deal(self, client: Any, fields: dict[str, Any]) -> RemoteDeal:
        raise NotImplementedError

    def create_organization(self, client: Any, name: str) -> tuple[int, Any]:
        """A new organization: its remote id, and the provider's record to apply as "organizations"."""
        raise NotImplementedError

    def create_person(self, client: Any, name: str, org_id: int | None) -> tuple[int, Any]:
        """A new person: its remote id, and the provider's record to apply as "persons"."""
        raise NotImplementedError

    # -- webhooks in (optional: a provider without them leaves supports_webhooks False) -----------
    # Each takes a client from client() and raises ProviderError with a token-free message.
    supports_webhooks: ClassVar[bool] = False

    def parse_webhook(self, payload: dict) -> WebhookEvent:
        """Read a delivery's JSON object; ValueError when it is not one of the provider's events."""
        raise NotImplementedError

    def fetch_record(self, client: Any, entity: str, remote_id: int) -> Any | None:
        """One record of `entity` (a spec key) as the provider holds it now; None when it is gone."""
        raise NotImplementedError

    def fetch_all(self, client: Any, entity: str) -> list:
        """Every record of a small entity ("stages", "pipelines")."""
        raise NotImplementedError

    def register_webhooks(self, client: Any, *, url: str, user: str, password: str) -> WebhookRegistration:
        raise NotImplementedError

    def registered_webhooks(self, client: Any, *, url: str) -> dict[str, int]:
        """{event object: remote webhook id} of the provider's webhooks delivering to `url`."""
        raise NotImplementedError

    def unregister_webhooks(self, client: Any, remote_ids: list[int]) -> None:
        """Delete those webhooks; one already gone is no error."""
        raise NotImplementedError

    # -- stage history backfill (optional: a provider without it leaves supports_stage_history False)
    supports_stage_history: ClassVar[bool] = False
    # The API budget one page of a deal's log costs (the backfill's estimate and daily share).
    stage_history_call_cost: ClassVar[int] = 0

    def iter_stage_changes(self, client: Any, remote_id: int) -> Iterator[RemoteStageChange]:
        """A deal's stage changes from the provider's log, page by page; ProviderError for the call
        (NOT_FOUND: the deal is gone), RemoteStageChange.problem for an entry it cannot read."""
        raise NotImplementedError

    def secrets(self, credentials: dict) -> tuple[str, ...]:
        """Every stored credential value, for redaction from anything a sync stores or logs."""
        return tuple(value for value in credentials.values() if isinstance(value, str) and value)

    def credentials_hint(self, credentials: dict) -> str:
        """A masked hint (the last four characters of the first credential) that is safe to show staff."""
        value = credentials.get(self.credential_fields[0], "") if self.credential_fields else ""
        return "•" * 8 + value[-4:] if value else "not set"
