"""Pipedrive provider: API v2 client, typed records and a Pipedrive stand-in (``sandbox``)."""

from .client import ClientStats, PageInfo, PipedriveClient
from .errors import ErrorKind, PipedriveError
from .records import CurrentUser, Deal, DealField, Organization, Person, Pipeline, Stage, User

__all__ = [
    "ClientStats",
    "CurrentUser",
    "Deal",
    "DealField",
    "ErrorKind",
    "Organization",
    "PageInfo",
    "Person",
    "Pipeline",
    "PipedriveClient",
    "PipedriveError",
    "Stage",
    "User",
]
