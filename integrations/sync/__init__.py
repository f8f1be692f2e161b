"""The one service that writes Pipedrive records into dealflow's cache tables."""

from integrations.sync.runner import sync_integration

__all__ = ["sync_integration"]
