"""The one error type the Fortnox code raises (see ProviderError); messages never hold a token or
the client secret."""

from integrations.providers.base import ErrorKind, ProviderError

__all__ = ["ErrorKind", "FortnoxError"]


class FortnoxError(ProviderError):
    pass
