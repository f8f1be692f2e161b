"""Pytest plugin: Pipedrive sandbox fixtures shared by the whole suite.

``sandbox`` runs on a fake clock that only moves when ``fake_clock.sleep`` is called, so a client
built with ``sleep=fake_clock.sleep`` (as ``sandbox_client`` is) waits out 429s instantly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from integrations.providers.pipedrive.client import PipedriveClient
from integrations.providers.pipedrive.sandbox import DEFAULT_TOKEN, Sandbox
from integrations.providers.pipedrive.sandbox.server import serve_in_thread

SANDBOX_BASE_URL = "https://coeo.pipedrive.com"
REPO_ROOT = Path(__file__).resolve().parent.parent


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass(frozen=True)
class LiveSandbox:
    base_url: str
    token: str
    sandbox: Sandbox


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(fake_clock: FakeClock) -> Sandbox:
    return Sandbox("coeo", clock=fake_clock)


@pytest.fixture
def sandbox_client(sandbox: Sandbox, fake_clock: FakeClock):
    with PipedriveClient(
        base_url=SANDBOX_BASE_URL,
        api_token=DEFAULT_TOKEN,
        transport=sandbox.transport(),
        sleep=fake_clock.sleep,
        page_size=50,
    ) as client:
        yield client


@pytest.fixture
def live_sandbox():
    """A fresh coeo sandbox served over real HTTP on 127.0.0.1 (real clock)."""
    sandbox = Sandbox("coeo")
    base_url, stop = serve_in_thread(sandbox)
    try:
        yield LiveSandbox(base_url=base_url, token=DEFAULT_TOKEN, sandbox=sandbox)
    finally:
        stop()


def openapi_dir() -> Path:
    configured = os.environ.get("PIPEDRIVE_OPENAPI_DIR")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "pipedrive-openapi"


@pytest.fixture(scope="session")
def pipedrive_openapi() -> dict[str, dict]:
    """{'v1': ..., 'v2': ...} parsed once per session from the official OpenAPI files."""
    directory = openapi_dir()
    paths = {version: directory / f"{version}.yaml" for version in ("v1", "v2")}
    missing = [str(path) for path in paths.values() if not path.is_file()]
    if missing:
        pytest.skip(
            f"Pipedrive OpenAPI files not found ({', '.join(missing)}); set PIPEDRIVE_OPENAPI_DIR to the"
            " folder holding v1.yaml and v2.yaml"
        )
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return {version: yaml.load(path.read_text(encoding="utf-8"), Loader=loader) for version, path in paths.items()}
