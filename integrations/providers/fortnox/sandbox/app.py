"""The sandbox's WSGI application: the OAuth endpoints (/oauth-v1/auth, /oauth-v1/token) and the
/3/ resources in Fortnox's JSON shapes, each list paged with `page` and `limit` and described by
MetaInformation; the 25-per-5-s limit per tenant and the fault switches apply to /3/ only."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from . import sie_export
from .core import ACCESS_SECONDS

if TYPE_CHECKING:
    from .core import FortnoxSandbox, Grant

REASONS = {
    200: "OK",
    302: "Found",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
MAX_LIMIT = 500
STOCKHOLM = ZoneInfo("Europe/Stockholm")
Response = tuple[int, dict[str, str], bytes]


def _json(status: int, body: Any) -> Response:
    return status, {"content-type": "application/json"}, json.dumps(body, ensure_ascii=False).encode("utf-8")


def _api_error(status: int, message: str, code: int) -> Response:
    return _json(status, {"ErrorInformation": {"error": 1, "message": message, "code": code}})


class SandboxApp:
    def __init__(self, sandbox: FortnoxSandbox) -> None:
        self.sandbox = sandbox

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        status, headers, payload = self.respond(environ)
        headers["content-length"] = str(len(payload))
        start_response(f"{status} {REASONS.get(status, 'Error')}", list(headers.items()))
        return [payload]

    def respond(self, environ: dict) -> Response:
        method = environ["REQUEST_METHOD"].upper()
        path = environ.get("PATH_INFO") or "/"
        query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
        self.sandbox.requests.append(f"{method} {path}?{environ.get('QUERY_STRING', '')}")
        if path == "/oauth-v1/auth" and method == "GET":
            return self._authorize(query)
        if path == "/oauth-v1/token" and method == "POST":
            return self._token(environ)
        if path.startswith("/3/") and method == "GET":
            return self._api(environ, path, query)
        return _api_error(404, "No such resource in the sandbox.", 2000000)

    # -- OAuth ----------------------------------------------------------------------------

    def _authorize(self, query: dict) -> Response:
        sandbox = self.sandbox
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != sandbox.client_id or not redirect_uri or query.get("response_type") != "code":
            return 400, {"content-type": "text/plain"}, b"Invalid client_id, redirect_uri or response_type."
        if sandbox.deny:
            answer = {
                "error": "access_denied",
                "error_description": "The user denied the request.",
                "state": query.get("state", ""),
            }
        else:
            answer = {"code": sandbox.issue_code(redirect_uri), "state": query.get("state", "")}
        separator = "&" if "?" in redirect_uri else "?"
        return 302, {"location": f"{redirect_uri}{separator}{urlencode(answer)}"}, b""

    def _token(self, environ: dict) -> Response:
        sandbox = self.sandbox
        if _basic_auth(environ) != (sandbox.client_id, sandbox.client_secret):
            return _json(401, {"error": "invalid_client", "error_description": "Client authentication failed."})
        form = dict(parse_qsl(_body(environ).decode("utf-8", errors="replace")))
        grant_type = form.get("grant_type")
        if sandbox.token_hook is not None:
            sandbox.token_hook(grant_type or "")
        if grant_type == "authorization_code":
            grant = sandbox.redeem_code(form.get("code", ""), form.get("redirect_uri", ""))
        elif grant_type == "refresh_token":
            grant = sandbox.redeem_refresh(form.get("refresh_token", ""))
        elif grant_type == "client_credentials":
            grant = sandbox.service_grant(environ.get("HTTP_TENANTID", ""))
        else:
            return _json(400, {"error": "unsupported_grant_type"})
        if grant is None:
            return _json(400, {"error": "invalid_grant", "error_description": "The grant is invalid, expired or used."})
        return _json(200, _token_body(grant))

    # -- /3/ ------------------------------------------------------------------------------

    def _api(self, environ: dict, path: str, query: dict) -> Response:
        sandbox = self.sandbox
        auth = environ.get("HTTP_AUTHORIZATION", "")
        tenant = sandbox.tenant_of(auth[7:]) if auth.startswith("Bearer ") else None
        if tenant is None:
            return _api_error(401, "Invalid or expired access token.", 2000310)
        if not sandbox.admit(tenant):
            return _json(429, {"message": "Too many requests"})
        page = _int(query.get("page"), 1)
        status = sandbox.fault_for(path, page)
        if status is not None:
            return _api_error(status, "Injected sandbox fault.", 9999)
        company = sandbox.companies[tenant]
        if path == "/3/companyinformation":
            return _json(
                200,
                {
                    "CompanyInformation": {
                        "CompanyName": company.name,
                        "OrganizationNumber": company.organisation_number,
                        "CountryCode": "SE",
                    }
                },
            )
        if path == "/3/financialyears":
            rows = [{**year, "AccountChartType": "BAS 2014", "AccountingMethod": "ACCRUAL"} for year in company.years]
            return self._page("FinancialYears", rows, query)
        if path == "/3/accounts":
            year = _int(query.get("financialyear"), company.years[-1]["Id"])
            rows = [
                {"Number": number, "Description": name, "Active": True, "Year": year}
                for number, name in sorted(sie_export.ACCOUNTS.items())
            ]
            return self._page("Accounts", rows, query)
        if path == "/3/invoices":
            return self._page("Invoices", _invoices(company, query.get("lastmodified")), query)
        if path.startswith("/3/sie/"):
            return self._sie(company, path, query)
        return _api_error(404, "No such resource in the sandbox.", 2000000)

    def _sie(self, company, path: str, query: dict) -> Response:
        sie_type = _int(path.rsplit("/", 1)[1], 0)
        year = _int(query.get("financialyear"), 0)
        if sie_type not in (1, 2, 3, 4) or year not in {y["Id"] for y in company.years}:
            return _api_error(404, "No such SIE type or financial year.", 2000000)
        payload = sie_export.export(company, year, generated=self.sandbox.today, sie_type=sie_type)
        return 200, {"content-type": "application/octet-stream"}, payload

    def _page(self, key: str, rows: list[dict], query: dict) -> Response:
        limit = min(max(_int(query.get("limit"), 100), 1), MAX_LIMIT)
        page = max(_int(query.get("page"), 1), 1)
        pages = max(math.ceil(len(rows) / limit), 1)
        meta = {"@TotalResources": len(rows), "@TotalPages": pages, "@CurrentPage": page}
        return _json(200, {"MetaInformation": meta, key: rows[(page - 1) * limit : page * limit]})


def _invoices(company, lastmodified: str | None) -> list[dict]:
    since = None
    if lastmodified:
        since = datetime.strptime(lastmodified, "%Y-%m-%d %H:%M").replace(tzinfo=STOCKHOLM).astimezone(UTC)
    rows = sorted(company.invoices, key=lambda row: int(row["DocumentNumber"]))
    return [
        {key: value for key, value in row.items() if not key.startswith("_")}
        for row in rows
        if since is None or row["_modified"] >= since
    ]


def _token_body(grant: Grant) -> dict:
    body = {
        "access_token": grant.last_access,
        "scope": "companyinformation bookkeeping invoice",
        "expires_in": ACCESS_SECONDS,
        "token_type": "bearer",
    }
    if grant.refresh_token:
        body["refresh_token"] = grant.refresh_token
    return body


def _basic_auth(environ: dict) -> tuple[str, str] | None:
    header = environ.get("HTTP_AUTHORIZATION", "")
    if not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
    except ValueError:
        return None
    return user, password


def _body(environ: dict) -> bytes:
    length = _int(environ.get("CONTENT_LENGTH"), 0)
    return environ["wsgi.input"].read(length) if length else b""


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
