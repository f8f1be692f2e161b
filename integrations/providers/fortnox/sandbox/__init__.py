"""A Fortnox stand-in for tests and the demo: OAuth, /3/ resources, SIE export, limits, faults."""

from .core import CLIENT_ID, CLIENT_SECRET, FortnoxSandbox

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "FortnoxSandbox"]
