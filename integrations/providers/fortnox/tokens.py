"""A usable access token for an integration, renewed under a row lock on the Integration.

Fortnox refresh tokens are single-use, and two concurrent refreshes with the same one invalidate
the account's tokens. So the check-and-refresh happens inside one transaction holding the
integration's row (select_for_update; on SQLite every transaction takes the write lock at once):
a second worker waits there, then reads the token the first one stored and uses it. A refused
refresh marks the integration "needs reconnecting" and blanks the dead tokens, so nothing tries
them again: the next attempt fails at once without calling Fortnox.
"""

import time
from datetime import datetime, timedelta

import httpx
from django.db import OperationalError, transaction
from django.utils import timezone

from integrations.fields import is_undecryptable
from integrations.models import Integration
from integrations.services.sync_state import flag_attention

from . import oauth
from .errors import ErrorKind, FortnoxError

# Renew a little before the expiry, so a token never runs out in the middle of a page.
EXPIRY_MARGIN = timedelta(minutes=2)
# SQLite answers "locked" once its busy timeout passes (or at once, for an in-memory database
# shared between threads): the lock holder is refreshing, so wait for it rather than fail.
LOCKED_ATTEMPTS = 150
LOCKED_PAUSE_SECONDS = 0.2
NEEDS_RECONNECTING = "The Fortnox connection needs reconnecting: use Connect Fortnox on the company in the admin."


def access_token(integration_id: int, *, stale: str = "", transport: httpx.BaseTransport | None = None) -> str:
    """The integration's access token, renewed first when it expires soon or is ``stale`` (one the
    API has just refused). Raises FortnoxError (kind AUTH when someone must reconnect)."""
    for attempt in range(1, LOCKED_ATTEMPTS + 1):
        try:
            return _locked_access_token(integration_id, stale, transport)
        except OperationalError as error:
            if "locked" not in str(error) or attempt == LOCKED_ATTEMPTS:
                raise
            time.sleep(LOCKED_PAUSE_SECONDS)
    raise AssertionError("unreachable")


def _locked_access_token(integration_id: int, stale: str, transport) -> str:
    try:
        with transaction.atomic():
            integration = Integration.objects.select_for_update().get(pk=integration_id)
            credentials = integration.credentials
            if not credentials or is_undecryptable(credentials):
                raise FortnoxError(NEEDS_RECONNECTING, kind=ErrorKind.AUTH)
            token = credentials.get("access_token", "")
            if token and token != stale and not _expires_soon(credentials):
                return token
            renewed = _renew(credentials, transport)
            stored = renewed.as_credentials(**{key: value for key, value in credentials.items() if key == "tenant_id"})
            Integration.objects.filter(pk=integration_id).update(credentials=stored)
            return renewed.access_token
    except FortnoxError as error:
        if error.kind is ErrorKind.AUTH:
            _mark_needs_reconnecting(integration_id, str(error))
        raise


def _expires_soon(credentials: dict) -> bool:
    try:
        expires_at = datetime.fromisoformat(credentials.get("expires_at", ""))
    except (TypeError, ValueError):
        return True
    return expires_at - EXPIRY_MARGIN <= timezone.now()


def _renew(credentials: dict, transport) -> oauth.Tokens:
    if credentials.get("tenant_id"):  # a service account: client credentials, no refresh token
        return oauth.client_credentials(credentials["tenant_id"], transport=transport)
    if credentials.get("refresh_token"):
        return oauth.refresh(credentials["refresh_token"], transport=transport)
    raise FortnoxError(NEEDS_RECONNECTING, kind=ErrorKind.AUTH)


def _mark_needs_reconnecting(integration_id: int, reason: str) -> None:
    with transaction.atomic():
        integration = Integration.objects.select_for_update().filter(pk=integration_id).first()
        if integration is None:
            return
        credentials = {} if is_undecryptable(integration.credentials) else dict(integration.credentials)
        if credentials.get("access_token") or credentials.get("refresh_token"):
            credentials.update(access_token="", refresh_token="")
            Integration.objects.filter(pk=integration_id).update(credentials=credentials)
        flag_attention(integration_id, reason=reason)
