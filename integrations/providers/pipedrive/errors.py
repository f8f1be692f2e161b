"""The one error type the Pipedrive client raises, and what a caller should do about it."""

from __future__ import annotations

from integrations.providers.base import RETRYABLE_KINDS, ErrorKind, ProviderError

__all__ = ["RETRYABLE_KINDS", "ErrorKind", "PipedriveError"]


class PipedriveError(ProviderError):
    """A failed Pipedrive call (see ProviderError). Messages are built by the client from status
    codes and short, redacted body excerpts: they never contain the API token."""
