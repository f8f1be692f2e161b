"""Fortnox's OAuth2 endpoints: the authorize URL, and the token endpoint's three grants
(authorization code, refresh token, client credentials for a service account).

The client id and secret come from settings (the environment) and go only to the token endpoint,
in the Basic auth header; nothing here logs or returns them. Refresh tokens are single-use:
callers go through tokens.py, which serialises refreshes per integration.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

import httpx
from django.conf import settings
from django.utils import timezone

from integrations.redaction import redact

from .connection_rules import auth_base_url
from .errors import ErrorKind, FortnoxError
from .http import DEFAULT_TIMEOUT, excerpt, send

SCOPES = "companyinformation bookkeeping invoice"
AUTHORIZE_PATH = "/oauth-v1/auth"
TOKEN_PATH = "/oauth-v1/token"  # noqa: S105 - a path, not a password


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str  # "" for a service account (client credentials give none)
    expires_at: datetime

    def as_credentials(self, **extra: str) -> dict:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at.isoformat(),
            **extra,
        }


def client_configured() -> bool:
    return bool(settings.FORTNOX_CLIENT_ID and settings.FORTNOX_CLIENT_SECRET)


def authorize_url(*, redirect_uri: str, state: str, service_account: bool = False) -> str:
    params = {
        "client_id": settings.FORTNOX_CLIENT_ID,
        "redirect_uri": redirect_uri,
        "scope": SCOPES,
        "state": state,
        "access_type": "offline",
        "response_type": "code",
    }
    if service_account:
        params["account_type"] = "service"
    return f"{auth_base_url()}{AUTHORIZE_PATH}?{urlencode(params)}"


def exchange_code(code: str, *, redirect_uri: str, transport: httpx.BaseTransport | None = None) -> Tokens:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    return _token_call(form, {}, "exchanging the authorization code", transport, secrets=(code,))


def refresh(refresh_token: str, *, transport: httpx.BaseTransport | None = None) -> Tokens:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return _token_call(form, {}, "refreshing the access token", transport, secrets=(refresh_token,))


def client_credentials(tenant_id: str, *, transport: httpx.BaseTransport | None = None) -> Tokens:
    return _token_call(
        {"grant_type": "client_credentials"}, {"TenantId": tenant_id}, "getting a service account token", transport
    )


def _token_call(form: dict, headers: dict, what: str, transport, secrets: tuple[str, ...] = ()) -> Tokens:
    if not client_configured():
        raise FortnoxError(
            "FORTNOX_CLIENT_ID and FORTNOX_CLIENT_SECRET are not set in the environment.", kind=ErrorKind.BAD_REQUEST
        )
    hidden = (settings.FORTNOX_CLIENT_SECRET, *secrets)
    basic = httpx.BasicAuth(settings.FORTNOX_CLIENT_ID, settings.FORTNOX_CLIENT_SECRET)
    with httpx.Client(timeout=DEFAULT_TIMEOUT, transport=transport, auth=basic) as http:
        request = http.build_request("POST", f"{auth_base_url()}{TOKEN_PATH}", data=form, headers=headers)
        response = send(http, request, f"token endpoint, {what}")
    body = _json(response)
    if response.status_code == 200 and isinstance(body, dict) and body.get("access_token"):
        return _tokens(body)
    error = str(body.get("error", "")) if isinstance(body, dict) else ""
    if error in ("invalid_grant", "invalid_client", "unauthorized_client", "access_denied"):
        raise FortnoxError(_refusal(error, form["grant_type"]), kind=ErrorKind.AUTH, status_code=response.status_code)
    kind = ErrorKind.TRANSIENT if response.status_code >= 500 or response.status_code == 429 else ErrorKind.BAD_RESPONSE
    raise FortnoxError(
        f"Fortnox's token endpoint failed while {what} (HTTP {response.status_code}): "
        f"{excerpt(response, lambda text: redact(text, *hidden))}",
        kind=kind,
        status_code=response.status_code,
    )


def _refusal(error: str, grant: str) -> str:
    if error == "invalid_client":
        return (
            "Fortnox refused the client id or secret (invalid_client): "
            "check FORTNOX_CLIENT_ID and FORTNOX_CLIENT_SECRET."
        )
    if grant == "authorization_code":
        return f"Fortnox refused the authorization code ({error}): it expired or was used already. Connect again."
    if grant == "refresh_token":
        return (
            f"Fortnox refused the refresh token ({error}): access was revoked or the token was already used. "
            "The integration needs reconnecting: use Connect Fortnox on the company."
        )
    return f"Fortnox refused the service account ({error}): check the TenantId and that the app is still authorised."


def _json(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None


def _tokens(body: dict) -> Tokens:
    try:
        seconds = int(body.get("expires_in") or 3600)
    except (TypeError, ValueError):
        seconds = 3600
    return Tokens(
        access_token=str(body["access_token"]),
        refresh_token=str(body.get("refresh_token") or ""),
        expires_at=timezone.now() + timedelta(seconds=seconds),
    )
