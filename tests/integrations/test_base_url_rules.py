"""Where the API token may be sent: https://<domain>.pipedrive.com, plus what
PIPEDRIVE_ALLOWED_BASE_URLS lists; http only to loopback. Enforced in the form, when a sync
runs and when the connection is checked, and the token is never sent anywhere else."""

import os

import httpx
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from integrations.models import Integration, SyncOutcome
from integrations.providers.pipedrive.connection import check_connection
from integrations.providers.pipedrive.connection_rules import base_url_problem, validate_base_url
from integrations.sync.runner import sync_integration
from tests import factories as make
from tests.foundation.test_admin_token import post_integration

TOKEN = "tok-BASEURL-7c1d2e4b9f3a"

REJECTED = {
    "private network": "http://10.0.0.5",
    "cloud metadata": "http://169.254.169.254/latest/meta-data",
    "redis on localhost": "http://localhost:6379",
    "ftp": "ftp://coeo.pipedrive.com",
    "another https host": "https://attacker.example",
    "another company's pipedrive": "https://acme.pipedrive.com",
    "pipedrive look-alike": "https://coeo.pipedrive.com.attacker.example",
    "userinfo": "https://user:secret@coeo.pipedrive.com",
    "userinfo hiding the host": "https://coeo.pipedrive.com@attacker.example",
    "other port on pipedrive": "https://coeo.pipedrive.com:8443",
    "a path": "https://coeo.pipedrive.com/api/proxy",
    "http to pipedrive": "http://coeo.pipedrive.com",
    "loopback not allowed on https": "https://127.0.0.1:8765",
    "IPv6 loopback, not allowed": "http://[::1]:8765",
    "no host": "https://",
}


@pytest.mark.parametrize("url", REJECTED.values(), ids=REJECTED.keys())
def test_rejected_base_urls(url):
    problem = base_url_problem(url, company_domain="coeo")
    assert problem
    assert "secret" not in problem  # a URL's password is never repeated


@pytest.mark.parametrize(
    "url",
    ["https://coeo.pipedrive.com", "https://COEO.pipedrive.com:443/", "http://127.0.0.1:8765", "http://127.0.0.1:1"],
)
def test_allowed_base_urls(url):
    assert base_url_problem(url, company_domain="coeo") == ""


def test_allowance_entries(settings):
    settings.PIPEDRIVE_ALLOWED_BASE_URLS = ["https://proxy.example:8443", "http://127.0.0.1:8765", "http://10.0.0.5:*"]
    assert base_url_problem("https://proxy.example:8443", company_domain="coeo") == ""
    assert base_url_problem("https://proxy.example", company_domain="coeo")  # another port
    assert base_url_problem("http://127.0.0.1:8765", company_domain="coeo") == ""
    assert base_url_problem("http://127.0.0.1:8766", company_domain="coeo")
    # Plain http to a non-loopback host is refused even when listed.
    assert "loopback" in base_url_problem("http://10.0.0.5:80", company_domain="coeo")


def test_nothing_but_pipedrive_without_an_allowance(settings):
    settings.PIPEDRIVE_ALLOWED_BASE_URLS = []
    assert base_url_problem("http://127.0.0.1:8765", company_domain="coeo")
    with pytest.raises(ValidationError, match="PIPEDRIVE_ALLOWED_BASE_URLS"):
        validate_base_url("http://127.0.0.1:8765", company_domain="coeo")


@pytest.fixture
def integration(db):
    return make.integration(make.company("Coeo"), api_base_url="", token=TOKEN)


@pytest.mark.parametrize("url", REJECTED.values(), ids=REJECTED.keys())
def test_the_admin_form_rejects_the_url_and_keeps_the_old_one(admin_client, integration, url):
    change = reverse("admin:integrations_integration_change", args=[integration.pk])
    response = post_integration(admin_client, change, integration.company, api_base_url=url, api_token=TOKEN)
    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    integration.refresh_from_db()
    assert integration.settings["api_base_url"] == ""


class Recorder:
    """An httpx transport that records every request it is asked to send."""

    def __init__(self):
        self.requests = []

    def __call__(self, request):
        self.requests.append(request)
        return httpx.Response(200, json={"success": True, "data": []})


@pytest.mark.parametrize("url", ["http://169.254.169.254", "https://attacker.example", "http://10.0.0.5:8080"])
def test_a_sync_refuses_a_url_saved_around_the_form(integration, url):
    # An old row, or a shell:
    Integration.objects.filter(pk=integration.pk).update(settings={"company_domain": "coeo", "api_base_url": url})
    recorder = Recorder()
    run = sync_integration(integration=integration, client_options={"transport": httpx.MockTransport(recorder)})
    assert recorder.requests == []
    assert run.outcome == SyncOutcome.FAILED and run.finished_at is not None
    assert "may be sent only to https://coeo.pipedrive.com" in run.error or "loopback" in run.error
    integration.refresh_from_db()
    assert integration.sync_state.last_sync_outcome == SyncOutcome.FAILED


def test_a_connection_check_refuses_a_url_saved_around_the_form(integration):
    attacker = {"company_domain": "coeo", "api_base_url": "https://attacker.example"}
    Integration.objects.filter(pk=integration.pk).update(settings=attacker)
    integration.refresh_from_db()
    recorder = Recorder()
    report = check_connection(integration=integration, transport=httpx.MockTransport(recorder))
    assert not report.ok and "attacker.example" in report.message
    assert recorder.requests == []


def test_the_demo_allows_its_loopback_sandbox(settings, monkeypatch):
    from config.local_env import local_env_text
    from integrations.providers.pipedrive.demo import allow_sandbox

    assert "PIPEDRIVE_ALLOWED_BASE_URLS=http://127.0.0.1:*\n" in local_env_text()
    settings.PIPEDRIVE_ALLOWED_BASE_URLS = []  # an .env written before the setting existed
    monkeypatch.delenv("PIPEDRIVE_ALLOWED_BASE_URLS")
    allow_sandbox()
    assert base_url_problem("http://127.0.0.1:8765", company_domain="coeo") == ""
    assert os.environ["PIPEDRIVE_ALLOWED_BASE_URLS"] == "http://127.0.0.1:*"  # for worker and beat
