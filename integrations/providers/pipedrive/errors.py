"""The one error type the Pipedrive client raises, and what a caller should do about it."""

from __future__ import annotations

import enum


class ErrorKind(enum.Enum):
    AUTH = "auth"
    NOT_FOUND = "not_found"
    RATE_LIMITED = "rate_limited"
    TRANSIENT = "transient"
    BAD_RESPONSE = "bad_response"
    BAD_REQUEST = "bad_request"


# Kinds where trying again later may help (unless the daily budget is spent).
RETRYABLE_KINDS = frozenset({ErrorKind.RATE_LIMITED, ErrorKind.TRANSIENT})


class PipedriveError(Exception):
    """A failed Pipedrive call.

    ``retryable`` says whether trying again later may help; ``budget_exhausted`` says the
    account's daily token budget is gone, so callers must stop until it resets rather than retry.
    Messages are built by the client from status codes and short, redacted body excerpts: they
    never contain the API token.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: ErrorKind,
        status_code: int | None = None,
        reset_seconds: float | None = None,
        budget_exhausted: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.status_code = status_code
        self.reset_seconds = reset_seconds
        self.budget_exhausted = budget_exhausted

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE_KINDS and not self.budget_exhausted

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"PipedriveError(kind={self.kind.name}, status_code={self.status_code!r}, "
            f"budget_exhausted={self.budget_exhausted!r}, message={self.message!r})"
        )
