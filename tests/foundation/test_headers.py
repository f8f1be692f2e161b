"""HTTP-level hardening: HEAD on /healthz, no caching of board pages, the CSP header, the HTTPS
redirect and X-Forwarded-Proto, compression, the favicon, error pages, a private SQLite file."""

import gzip
import os
import stat

import pytest
from django.contrib.auth.models import User
from django.test import override_settings

from config.sqlite3.base import create_private
from tests import factories as make
from tests.foundation.test_settings_and_health import start_django

PRODUCTION = {"DEBUG": "False", "SECRET_KEY": "x" * 60, "FERNET_KEYS": "k1", "ALLOWED_HOSTS": "testserver"}


def test_healthz_answers_head(client, db):
    """Load balancers probe with HEAD; require_GET answered 405."""
    response = client.head("/healthz")
    assert response.status_code == 200
    assert response.content == b""


@pytest.fixture
def staff_client(client, integration):
    make.company("Nordic")  # two companies: /dealflow/ is the overview
    client.force_login(User.objects.create_user("stella", is_staff=True))
    return client


@pytest.mark.parametrize("path", ["/dealflow/", "/dealflow/coeo/", "/dealflow/coeo/column/lead/"])
def test_board_pages_are_private_and_not_stored(staff_client, path):
    response = staff_client.get(path)
    assert response.status_code == 200
    assert set(response["Cache-Control"].split(", ")) >= {"private", "no-store"}


def test_board_answers_head(staff_client):
    assert staff_client.head("/dealflow/coeo/").status_code == 200


def test_pages_carry_an_enforced_content_security_policy(staff_client):
    response = staff_client.get("/dealflow/coeo/")
    policy = response["Content-Security-Policy"]
    assert "Content-Security-Policy-Report-Only" not in response
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    # htmx must neither inject its indicator <style> nor eval attribute code (the policy would block both).
    config = '<meta name="htmx-config" content=\'{"includeIndicatorStyles": false, "allowEval": false}\'>'
    assert config in response.content.decode()


def run_request(extra_env: dict, script: str) -> list[str]:
    prefix = "import django; django.setup(); from django.test import Client; c = Client();"
    result = start_django({**PRODUCTION, **extra_env}, script=prefix + script)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.split()


SPOOFED = "r = c.get('/', HTTP_X_FORWARDED_PROTO='https'); print(r.status_code, r['Location'])"


def test_x_forwarded_proto_is_ignored_unless_trusted():
    """Gunicorn bound directly: a client's own X-Forwarded-Proto must not skip the HTTPS redirect."""
    assert run_request({}, SPOOFED) == ["301", "https://testserver/"]


def test_x_forwarded_proto_is_trusted_when_configured():
    assert run_request({"TRUST_X_FORWARDED_PROTO": "true"}, SPOOFED) == ["302", "/dealflow/"]


def test_html_is_compressed(client, db):
    response = client.get("/login/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert b"Log in" in gzip.decompress(response.content)


# As in production: hashed static names (the pages fail to render without the manifest).
COLLECTSTATIC = (
    "from django.core.management import call_command; call_command('collectstatic', '--noinput', verbosity=0);"
)


def test_favicon(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("favicon.ico")
    assert b'rel="icon"' in client.get("/login/").content


def test_favicon_file_is_served_in_production(tmp_path):
    """With DEBUG off (whitenoise, hashed names): /favicon.ico leads to a real icon."""
    script = COLLECTSTATIC + (
        "r = c.get('/favicon.ico', secure=True); f = c.get(r['Location'], secure=True);"
        "print(r.status_code, f.status_code, f['Content-Type'], b''.join(f.streaming_content)[:4].hex())"
    )
    assert run_request({"STATIC_ROOT": str(tmp_path)}, script) == ["302", "200", "image/x-icon", "00000100"]


@override_settings(DEBUG=False)
def test_404_page_is_in_the_layout_with_a_way_back(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html and 'class="site-header"' in html and 'href="/dealflow/"' in html


def test_500_page_is_in_the_layout_with_a_way_back(tmp_path):
    script = COLLECTSTATIC + (
        "from django.views.defaults import server_error; from django.test import RequestFactory;"
        "r = server_error(RequestFactory().get('/')); html = r.content.decode();"
        "print(r.status_code, 'Something went wrong' in html, 'site-header' in html, 'href=\"/dealflow/\"' in html)"
    )
    assert run_request({"STATIC_ROOT": str(tmp_path)}, script) == ["500", "True", "True", "True"]


def test_a_new_sqlite_file_is_private(tmp_path):
    database = tmp_path / "db.sqlite3"
    result = start_django(
        {"SECRET_KEY": "x", "FERNET_KEYS": "k1", "DATABASE_URL": f"sqlite:///{database}"},
        script="import django; django.setup(); from django.db import connection; connection.ensure_connection()",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


def test_an_existing_file_is_left_as_it_is(tmp_path):
    database = tmp_path / "db.sqlite3"
    database.write_bytes(b"")
    os.chmod(database, 0o640)
    create_private(database)
    assert stat.S_IMODE(database.stat().st_mode) == 0o640
