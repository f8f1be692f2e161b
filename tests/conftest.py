import pytest

pytest_plugins = ["tests.sandbox_fixtures"]

# The sandbox is served over plain http on loopback; allow it as the demo does (see
# PIPEDRIVE_ALLOWED_BASE_URLS in config/settings.py). Tests of the rule override it.
SANDBOX_ALLOWED_BASE_URLS = "http://127.0.0.1:*"


@pytest.fixture(autouse=True)
def allow_loopback_sandbox(settings, monkeypatch):
    settings.PIPEDRIVE_ALLOWED_BASE_URLS = [SANDBOX_ALLOWED_BASE_URLS]
    monkeypatch.setenv("PIPEDRIVE_ALLOWED_BASE_URLS", SANDBOX_ALLOWED_BASE_URLS)  # child processes
