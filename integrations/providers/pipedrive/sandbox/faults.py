"""Failures the sandbox can be told to produce, for tests and demos.

Count-style faults (``server_errors``, ``malformed_body``, ``drop_connection``) take an int (the
next N API requests) or True (every request until reset()).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, fields


class ConnectionDropped(Exception):
    """Raised inside the WSGI app; the transport or server turns it into a dropped connection."""


@dataclass
class Faults:
    latency_seconds: float = 0.0
    error_rate: float = 0.0  # chance of a 500 on each API request
    server_errors: int | bool = 0
    malformed_body: int | bool = 0
    drop_connection: int | bool = 0
    fail_page: tuple[str, int] | None = None  # (resource, page number): that page is malformed
    cdn_block: bool = False
    # When set, every API request answers 429 with this x-ratelimit-reset header ('inf', '1e308').
    rate_limit_reset: str = ""
    seed: int = 0
    _random: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        self._random.seed(self.seed)

    def reset(self) -> None:
        for spec in fields(self):
            if not spec.name.startswith("_"):
                setattr(self, spec.name, spec.default)
        self._random.seed(self.seed)

    def configure(self, **settings: object) -> None:
        public = {spec.name for spec in fields(self) if not spec.name.startswith("_")}
        unknown = set(settings) - public
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        if isinstance(settings.get("fail_page"), list):
            settings["fail_page"] = tuple(settings["fail_page"])
        for name, value in settings.items():
            setattr(self, name, value)

    def choose(self, resource: str, page_number: int) -> str | None:
        """The fault to inject into this request: 'cdn', '429', 'drop', '500', 'malformed' or None."""
        if self.cdn_block:
            return "cdn"
        if self.rate_limit_reset:
            return "429"
        if self._take("drop_connection"):
            return "drop"
        if self._take("server_errors") or (self.error_rate and self._random.random() < self.error_rate):
            return "500"
        if self._take("malformed_body") or self.fail_page == (resource, page_number):
            return "malformed"
        return None

    def _take(self, name: str) -> bool:
        value = getattr(self, name)
        if value is True:
            return True
        if isinstance(value, int) and value > 0:
            setattr(self, name, value - 1)
            return True
        return False
