"""Sandbox: one stand-in Pipedrive account (store, rate limiter, faults) and its WSGI app."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from .app import SandboxApp
from .changelog import Changelog
from .faults import ConnectionDropped, Faults
from .listing import Lister
from .page_cache import PageCache
from .ratelimit import RateLimiter
from .seed import build_store
from .store import MUTATIONS, Store
from .webhooks import Webhooks

DEFAULT_TOKEN = "sandbox-token"  # noqa: S105 - the sandbox token is public by design


def dataset_token(dataset: str) -> str:
    """The token of one dataset when a sandbox process serves several ("coeo-sandbox-token")."""
    return f"{dataset}-{DEFAULT_TOKEN}"


DEFAULT_BURST_LIMIT = 80  # Professional plan, api_token requests per 2 s
DEFAULT_DAILY_BUDGET = 30_000 * 3  # 30,000 tokens x plan multiplier 1 x 3 seats


class SandboxTransport(httpx.WSGITransport):
    """In-process transport; a dropped-connection fault surfaces as httpx does for a real one."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return super().handle_request(request)
        except ConnectionDropped:
            message = "Server disconnected without sending a response."
            raise httpx.RemoteProtocolError(message, request=request) from None


class Sandbox:
    def __init__(
        self,
        dataset: str = "coeo",
        deals: int | None = None,
        api_tokens: Iterable[str] = (DEFAULT_TOKEN,),
        burst_limit: int = DEFAULT_BURST_LIMIT,
        burst_window_seconds: float = 2.0,
        daily_budget: int = DEFAULT_DAILY_BUDGET,
        page_size_default: int = 100,
        clock: Callable[[], float] = time.monotonic,
        cache_pages: bool = False,
    ) -> None:
        self.dataset = dataset
        self.api_tokens = frozenset(api_tokens)
        self.page_size_default = page_size_default
        self.store: Store = build_store(dataset, deals)
        self.rate_limiter = RateLimiter(
            burst_limit=burst_limit,
            burst_window_seconds=burst_window_seconds,
            daily_budget=daily_budget,
            clock=clock,
        )
        self.faults = Faults()
        self.lister = Lister()
        # The benchmarks' sandbox answers a listing query from the bytes it built for it (page_cache.py).
        self.page_cache = PageCache() if cache_pages else None
        self.lock = threading.RLock()
        self.webhooks = Webhooks(self)
        self.changelog = Changelog(self.store, dataset)  # GET /v1/deals/{id}/changelog
        self.wsgi_app = SandboxApp(self)

    def __repr__(self) -> str:
        return f"<Sandbox dataset={self.dataset!r} deals={len(self.store.deals)}>"

    def transport(self) -> httpx.WSGITransport:
        return SandboxTransport(app=self.wsgi_app)

    # -- rate limits and faults -----------------------------------------------------------

    def set_rate_limits(
        self,
        *,
        burst_limit: int | None = None,
        burst_window_seconds: float | None = None,
        daily_budget: int | None = None,
    ) -> dict:
        limiter = self.rate_limiter
        settings = {
            "burst_limit": burst_limit,
            "burst_window_seconds": burst_window_seconds,
            "daily_budget": daily_budget,
        }
        with self.lock:
            for name, value in settings.items():
                if value is not None:
                    setattr(limiter, name, value)
            return self._rate_limit_state()

    def reset_rate_limits(self) -> dict:
        with self.lock:
            self.rate_limiter.reset()
            return self._rate_limit_state()

    def spend_budget(self, tokens: int) -> dict:
        """Use up daily budget as if other integrations of this account had made calls."""
        with self.lock:
            self.rate_limiter.charge(int(tokens))
            return self._rate_limit_state()

    def _rate_limit_state(self) -> dict:
        limiter = self.rate_limiter
        return {
            "burst_limit": limiter.burst_limit,
            "burst_window_seconds": limiter.burst_window_seconds,
            "daily_budget": limiter.daily_budget,
            "spent": limiter.spent,
        }

    def set_faults(self, **settings: Any) -> dict:
        with self.lock:
            self.faults.configure(**settings)
            return {"faults": repr(self.faults)}

    def reset_faults(self) -> dict:
        with self.lock:
            self.faults.reset()
            return {"faults": repr(self.faults)}

    def set_webhook_faults(self, **switches: Any) -> dict:
        """Drop, duplicate, delay or reorder webhook deliveries, or scale the retry delays
        (delivery.Delivery.configure)."""
        return self.webhooks.delivery.configure(**switches)

    def reset_webhook_faults(self) -> dict:
        return self.webhooks.delivery.reset()

    def add_changelog_entries(self, deal_id: int, entries: list) -> int:
        """Add entries of any shape (hostile ones, in tests) to a deal's changelog."""
        with self.lock:
            return self.changelog.add_entries(deal_id, entries)

    # -- reads ----------------------------------------------------------------------------

    def deals(self) -> list[dict]:
        """Every deal, deleted and archived included, in its v2 API shape."""
        with self.lock:
            return self.store.deals_list()

    def deal(self, deal_id: int) -> dict:
        with self.lock:
            return self.store.deal(deal_id)

    def stages(self) -> list[dict]:
        return self._copies(self.store.stages)

    def pipelines(self) -> list[dict]:
        return self._copies(self.store.pipelines)

    def persons(self) -> list[dict]:
        return self._copies(self.store.persons)

    def organizations(self) -> list[dict]:
        return self._copies(self.store.organizations)

    def users(self) -> list[dict]:
        return self._copies(self.store.users)

    def deal_fields(self) -> list[dict]:
        return self._copies(self.store.deal_fields)

    def activities(self) -> list[dict]:
        """Every activity, deleted ones included."""
        return self._copies(self.store.activities)

    @property
    def company(self) -> dict:
        return dict(self.store.company)

    def _copies(self, rows: dict) -> list[dict]:
        with self.lock:
            return [dict(row) for row in rows.values()]

    # -- control over HTTP ----------------------------------------------------------------

    def control(self, name: str, arguments: dict) -> Any:
        if name not in CONTROLS:
            raise LookupError(f"unknown sandbox control {name!r}; choose from {', '.join(CONTROLS)}")
        return getattr(self, name)(**arguments)


def _locked_mutation(name: str) -> Callable[..., Any]:
    def mutation(self: Sandbox, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            return getattr(self.store, name)(*args, **kwargs)

    mutation.__name__ = mutation.__qualname__ = name
    mutation.__doc__ = getattr(Store, name).__doc__
    return mutation


for _name in MUTATIONS:
    setattr(Sandbox, _name, _locked_mutation(_name))

CONTROLS = (
    *MUTATIONS,
    "set_rate_limits",
    "reset_rate_limits",
    "spend_budget",
    "set_faults",
    "reset_faults",
    "set_webhook_faults",
    "reset_webhook_faults",
    "add_changelog_entries",
)


class SandboxRouter:
    """Several sandboxes (companies) behind one WSGI app, chosen by the request's API token."""

    def __init__(self, sandboxes: Iterable[Sandbox]) -> None:
        self.sandboxes = tuple(sandboxes)
        self._by_token = {token: sandbox for sandbox in self.sandboxes for token in sandbox.api_tokens}

    def wsgi_app(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        sandbox = self._by_token.get(environ.get("HTTP_X_API_TOKEN", ""), self.sandboxes[0])
        return sandbox.wsgi_app(environ, start_response)
