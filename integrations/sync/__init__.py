"""The provider-neutral sync engine: download, diff, stage and apply a provider's records into
dealflow's cache tables (runner.sync_integration is the entry point). Providers are reached only
through integrations.providers.registry.

Nothing is imported here, so importing one module of the engine does not import them all.
"""
