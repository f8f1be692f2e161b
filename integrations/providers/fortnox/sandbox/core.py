"""FortnoxSandbox: a Fortnox stand-in holding its companies, OAuth state and fault switches.

Used in-process (transport(): httpx.WSGITransport) and over loopback (server.serve(sandbox)).
OAuth as Fortnox does it: authorization codes valid 10 minutes and single-use; access tokens
valid an hour; refresh tokens single-use, and a spent one presented again revokes every token of
that connection (as two concurrent refreshes do at Fortnox); client credentials with a TenantId.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import httpx

from .seed import Company, companies

CLIENT_ID = "sandbox-client-id"
CLIENT_SECRET = "sandbox-client-secret-6c2f1e"  # noqa: S105 - the sandbox's own, for tests and the demo
CODE_SECONDS = 600
ACCESS_SECONDS = 3600
RATE_REQUESTS, RATE_WINDOW = 25, 5.0


@dataclass
class Grant:
    """One connection to a tenant: its live access tokens and its current refresh token."""

    tenant_id: str
    access: dict[str, float] = field(default_factory=dict)  # token -> expires at (clock)
    refresh_token: str = ""
    spent: set[str] = field(default_factory=set)
    revoked: bool = False
    last_access: str = ""


@dataclass
class Fault:
    status: int
    page: int | None = None  # only this page of the list; None: every request
    times: int | None = None  # how many more times; None: until cleared


class FortnoxSandbox:
    def __init__(self, *, today: date | None = None, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.today = today or date.today()
        self.companies: dict[str, Company] = companies(self.today)
        self.client_id, self.client_secret = CLIENT_ID, CLIENT_SECRET
        # Who "logs in" on the authorize page, and whether they press Deny.
        self.approving_tenant = next(iter(self.companies))
        self.deny = False
        self.codes: dict[str, tuple[str, str, float]] = {}  # code -> (tenant, redirect_uri, issued)
        self.grants: list[Grant] = []
        self.faults: dict[str, Fault] = {}  # path -> fault
        self.refresh_calls = 0
        # Called with the grant type before the token endpoint answers (tests hold a refresh here).
        self.token_hook: Callable[[str], None] | None = None
        self.requests: list[str] = []  # "GET /3/invoices?page=1..." in order
        self._sent: dict[str, deque[float]] = {}
        self._lock = threading.RLock()
        from .app import SandboxApp

        self.wsgi_app = SandboxApp(self)

    def transport(self) -> httpx.WSGITransport:
        return httpx.WSGITransport(app=self.wsgi_app)

    # -- OAuth ----------------------------------------------------------------------------

    def issue_code(self, redirect_uri: str) -> str:
        code = secrets.token_urlsafe(16)
        self.codes[code] = (self.approving_tenant, redirect_uri, self.clock())
        return code

    def redeem_code(self, code: str, redirect_uri: str) -> Grant | None:
        with self._lock:
            tenant, expected_uri, issued = self.codes.pop(code, (None, None, 0.0))
            if tenant is None or expected_uri != redirect_uri or self.clock() - issued > CODE_SECONDS:
                return None
            return self._new_grant(tenant, with_refresh=True)

    def redeem_refresh(self, token: str) -> Grant | None:
        with self._lock:
            self.refresh_calls += 1
            for grant in self.grants:
                if grant.revoked:
                    continue
                if token == grant.refresh_token:
                    self._rotate(grant)
                    return grant
                if token in grant.spent:  # reuse: Fortnox invalidates the connection's tokens
                    grant.revoked = True
                    return None
            return None

    def service_grant(self, tenant_id: str) -> Grant | None:
        with self._lock:
            if tenant_id not in self.companies:
                return None
            return self._new_grant(tenant_id, with_refresh=False)

    def revoke(self, tenant_id: str) -> None:
        """The customer removes the integration in Fortnox."""
        for grant in self.grants:
            if grant.tenant_id == tenant_id:
                grant.revoked = True

    def expire_access_tokens(self) -> None:
        for grant in self.grants:
            grant.access = dict.fromkeys(grant.access, self.clock() - 1)

    def tenant_of(self, access_token: str) -> str | None:
        for grant in self.grants:
            if not grant.revoked and grant.access.get(access_token, 0) > self.clock():
                return grant.tenant_id
        return None

    def _new_grant(self, tenant_id: str, *, with_refresh: bool) -> Grant:
        grant = Grant(tenant_id)
        self.grants.append(grant)
        self._issue_access(grant)
        if with_refresh:
            grant.refresh_token = secrets.token_urlsafe(24)
        return grant

    def _rotate(self, grant: Grant) -> None:
        grant.spent.add(grant.refresh_token)
        grant.refresh_token = secrets.token_urlsafe(24)
        self._issue_access(grant)

    def _issue_access(self, grant: Grant) -> None:
        grant.last_access = secrets.token_urlsafe(24)
        grant.access[grant.last_access] = self.clock() + ACCESS_SECONDS

    # -- limits and faults ----------------------------------------------------------------

    def admit(self, tenant_id: str) -> bool:
        """Count one API request against the tenant's 25 per 5 s; False: answer 429."""
        with self._lock:
            now = self.clock()
            sent = self._sent.setdefault(tenant_id, deque())
            while sent and sent[0] <= now - RATE_WINDOW:
                sent.popleft()
            if len(sent) >= RATE_REQUESTS:
                return False
            sent.append(now)
            return True

    def fail(self, path: str, status: int, *, page: int | None = None, times: int | None = None) -> None:
        self.faults[path] = Fault(status, page, times)

    def fault_for(self, path: str, page: int | None) -> int | None:
        with self._lock:
            fault = self.faults.get(path)
            if fault is None or (fault.page is not None and fault.page != page):
                return None
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self.faults[path]
            return fault.status

    def clear_faults(self) -> None:
        self.faults.clear()
