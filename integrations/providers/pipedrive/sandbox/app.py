"""The sandbox's WSGI application: token auth, rate limits, injected faults, then the endpoint.

Control calls (POST /_sandbox/<mutation>, JSON body of keyword arguments) need a valid token but
are neither rate limited nor charged: they stand for changes made in Pipedrive's own UI.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from ..costs import token_cost
from . import endpoints
from .endpoints import ApiError, Request, error_body
from .faults import ConnectionDropped
from .listing import page_number_of

if TYPE_CHECKING:
    from .core import Sandbox

CONTROL_PREFIX = "/_sandbox/"
UNAUTHORIZED = {
    "success": False,
    "error": "unauthorized access",
    "errorCode": 401,
}
CDN_BLOCK_PAGE = (
    b"<!DOCTYPE html><html><head><title>Attention Required!</title></head><body>"
    b"<h1>Sorry, you have been blocked</h1><p>Too many requests.</p></body></html>"
)
REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
}
JSON_TYPE = "application/json; charset=utf-8"
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def _json_bytes(body: dict) -> bytes:
    # ASCII with \u escapes: the same JSON, and several times faster than ensure_ascii=False (a
    # 500-deal page is the sandbox's main cost). Not orjson: it writes NaN as null, and hostile-data
    # tests serve NaN as Pipedrive's broken answers would.
    return json.dumps(body, separators=(",", ":")).encode("ascii")


def _read_json(environ: dict) -> dict | None:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    raw = environ["wsgi.input"].read(length) if length else b""
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return None


class SandboxApp:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        status, headers, payload = self.respond(environ)
        headers["content-length"] = str(len(payload))
        start_response(f"{status} {REASONS.get(status, 'Error')}", list(headers.items()))
        return [payload]

    def respond(self, environ: dict) -> tuple[int, dict[str, str], bytes]:
        method = environ["REQUEST_METHOD"].upper()
        path = environ.get("PATH_INFO") or "/"
        token = environ.get("HTTP_X_API_TOKEN", "")
        if token not in self.sandbox.api_tokens:
            return self._json(401, UNAUTHORIZED)
        if path.startswith(CONTROL_PREFIX) and method == "POST":
            return self._control(path[len(CONTROL_PREFIX) :], _read_json(environ))
        found = endpoints.route(method, path)
        if found is None:
            return self._json(404, error_body(f"Unknown method {method} {path}"))
        resource, handler, path_id = found
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        body = _read_json(environ) if method in ("POST", "PATCH") else None
        request = Request(method=method, path=path, query=query, body=body, path_id=path_id)
        return self._api_call(token, resource, handler, request)

    def _api_call(self, token: str, resource: str, handler: Callable, request: Request) -> tuple[int, dict, bytes]:
        sandbox = self.sandbox
        cost = token_cost(request.method, request.path)
        with sandbox.lock:
            verdict = sandbox.rate_limiter.check(token, cost)
            fault = sandbox.faults.choose(resource, page_number_of(request.query.get("cursor")))
        if verdict.status == 403 or fault == "cdn":
            return 403, {"content-type": "text/html; charset=utf-8"}, CDN_BLOCK_PAGE
        if fault == "429":
            headers = {**verdict.headers, "x-ratelimit-reset": sandbox.faults.rate_limit_reset}
            return self._json(429, {**error_body("Request over limit"), "errorCode": 429}, headers)
        if verdict.status == 429:
            message = "Daily token budget exceeded" if verdict.daily else "Request over limit"
            return self._json(429, {**error_body(message), "errorCode": 429}, verdict.headers)
        if sandbox.faults.latency_seconds:
            time.sleep(sandbox.faults.latency_seconds)
        if fault == "drop":
            raise ConnectionDropped()
        if fault == "500":
            return self._json(500, error_body("Internal server error"), verdict.headers)
        with sandbox.lock:
            key = sandbox.page_cache.key(resource, request, sandbox.store.version) if sandbox.page_cache else None
            payload = sandbox.page_cache.get(key) if key else None
            if payload is None:
                try:
                    status, body = handler(sandbox, request)
                except ApiError as exc:
                    status, body, key = exc.status, error_body(str(exc)), None
            sandbox.rate_limiter.charge(cost)
            headers = sandbox.rate_limiter.headers_now(token)
        if payload is None:
            status, headers, payload = self._json(status, body, headers)
            if key and status == 200:
                sandbox.page_cache.put(key, payload)
        else:
            status, headers = 200, {"content-type": JSON_TYPE, **headers}
        if fault == "malformed":
            payload = payload[: max(1, len(payload) // 2)]
        return status, headers, payload

    def _control(self, name: str, arguments: dict | None) -> tuple[int, dict, bytes]:
        if not isinstance(arguments, dict):
            return self._json(400, error_body("Request body must be a JSON object"))
        try:
            result = self.sandbox.control(name, arguments)
        except LookupError as exc:
            return self._json(404, error_body(str(exc)))
        except (TypeError, ValueError) as exc:
            return self._json(400, error_body(str(exc)))
        return self._json(200, {"success": True, "data": result})

    @staticmethod
    def _json(status: int, body: dict, headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
        return status, {"content-type": JSON_TYPE, **(headers or {})}, _json_bytes(body)
