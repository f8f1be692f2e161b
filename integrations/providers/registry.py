"""Every provider by key, imported only when first asked for (so the sync engine, the models and
the admin never import a provider package themselves). A new provider is one line here."""

from functools import cache

from django.utils.module_loading import import_string

from integrations.providers.base import Provider

PROVIDERS = {
    "pipedrive": "integrations.providers.pipedrive.provider.PipedriveProvider",
    "fortnox": "integrations.providers.fortnox.provider.FortnoxProvider",
}


class UnknownProvider(LookupError):
    pass


@cache
def get_provider(key: str) -> Provider:
    try:
        path = PROVIDERS[key]
    except KeyError:
        raise UnknownProvider(f"No provider {key!r}; known: {', '.join(sorted(PROVIDERS))}.") from None
    return import_string(path)()


def provider_choices() -> list[tuple[str, str]]:
    """For Integration.provider (a callable, so adding a provider needs no migration)."""
    return [(key, get_provider(key).label) for key in PROVIDERS]
