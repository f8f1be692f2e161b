import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from config.local_env import ensure_local_env

BASE_DIR = Path(__file__).resolve().parents[2]


STARTED = "import django; django.setup(); print('started')"


def start_django(extra_env: dict, script: str = STARTED) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "FERNET_KEYS", "DEBUG"}}
    env.update({"ENV_FILE": "/nonexistent/.env", "DJANGO_SETTINGS_MODULE": "config.settings", **extra_env})
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_debug_off_without_fernet_keys_refuses_to_start():
    result = start_django({"DEBUG": "False", "SECRET_KEY": "x" * 60})
    assert result.returncode != 0
    assert "FERNET_KEYS is not set" in result.stderr
    assert "started" not in result.stdout


def test_debug_off_without_secret_key_refuses_to_start():
    result = start_django({"DEBUG": "False", "FERNET_KEYS": "k1"})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_starts_with_both_keys():
    result = start_django({"DEBUG": "False", "SECRET_KEY": "x" * 60, "FERNET_KEYS": "k1,k2"})
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_check_deploy_is_clean_with_production_settings():
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "FERNET_KEYS", "DEBUG"}}
    env.update(
        {
            "ENV_FILE": "/nonexistent/.env",
            "DEBUG": "False",
            "SECRET_KEY": "a-long-random-production-secret-key-" + "q7Zx" * 10,
            "FERNET_KEYS": Fernet.generate_key().decode(),  # a placeholder fails the deploy check
            "ALLOWED_HOSTS": "dealflow.example.com",
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_local_env_is_written_once_with_fresh_keys(tmp_path):
    path = tmp_path / ".env"
    assert ensure_local_env(path) is True
    first = path.read_text()
    assert "SECRET_KEY=" in first and "FERNET_KEYS=" in first
    assert ensure_local_env(path) is False
    assert path.read_text() == first
    other = tmp_path / "other.env"
    ensure_local_env(other)
    assert other.read_text() != first


def test_healthz_ok(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_unavailable_when_the_database_fails():
    """A real unreachable database: a SQLite file in a directory that does not exist."""
    script = (
        "import django; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/healthz', secure=True);"
        "print(r.status_code, r.json()['status'])"
    )
    result = start_django(
        {
            "DEBUG": "False",
            "SECRET_KEY": "x" * 60,
            "FERNET_KEYS": "k1",
            "ALLOWED_HOSTS": "testserver",
            "DATABASE_URL": "sqlite:////nonexistent-directory/db.sqlite3",
        },
        script=script,
    )
    assert result.stdout.split() == ["503", "unavailable"], result.stderr[-2000:]


KEPT_CONNECTION = """
import io, os, time, django
import django.db.backends.base.base
django.setup()
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
app = WSGIHandler()
opened = []
for _ in range(2):
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/healthz", "SERVER_NAME": "testserver", "SERVER_PORT": "443",
               "wsgi.url_scheme": "https", "wsgi.input": io.BytesIO(), "wsgi.errors": io.StringIO()}
    statuses = []
    response = app(environ, lambda status, headers: statuses.append(status))
    response.close()  # as gunicorn does: Django's request_finished, which closes obsolete connections
    opened.append(connection.connection)
    if os.environ.get("AN_HOUR_LATER"):  # the second request an hour after the first
        later = time.monotonic() + 3600
        django.db.backends.base.base.time.monotonic = lambda: later
print(statuses[0], opened[0] is not None, opened[0] is not None and opened[0] is opened[1])
"""


def worker_settings(tmp_path) -> dict:
    """A production-like worker's environment on a SQLite file of its own."""
    return {
        "DEBUG": "False",
        "SECRET_KEY": "x" * 60,
        "FERNET_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }


def test_a_worker_keeps_its_sqlite_connection_between_requests(tmp_path):
    """Through Django's WSGI handler as gunicorn calls it: the second request uses the first one's
    SQLite connection (a new one per request reads the schema again and starts with a cold page
    cache); CONN_MAX_AGE=0 still closes it after each request."""
    settings = worker_settings(tmp_path)
    kept = start_django(settings, script=KEPT_CONNECTION)
    assert kept.stdout.split() == ["200", "OK", "True", "True"], kept.stderr[-2000:]
    closed = start_django({**settings, "CONN_MAX_AGE": "0"}, script=KEPT_CONNECTION)
    assert closed.stdout.split() == ["200", "OK", "False", "False"], closed.stderr[-2000:]


def test_a_worker_keeps_its_connection_for_good_unless_told_otherwise(tmp_path):
    """By default a connection is never closed for its age: a board opened less than six times a
    minute never ran PostgreSQL's prepared statements under the former 60 s limit, and each new
    connection starts cold. CONN_MAX_AGE still limits it; a value that is not a number is refused."""
    settings = {**worker_settings(tmp_path), "AN_HOUR_LATER": "1"}
    kept = start_django(settings, script=KEPT_CONNECTION)
    assert kept.stdout.split() == ["200", "OK", "True", "True"], kept.stderr[-2000:]
    limited = start_django({**settings, "CONN_MAX_AGE": "60"}, script=KEPT_CONNECTION)
    assert limited.stdout.split() == ["200", "OK", "True", "False"], limited.stderr[-2000:]
    refused = start_django({**settings, "CONN_MAX_AGE": "soon"})
    assert refused.returncode != 0
    assert "CONN_MAX_AGE must be a number of seconds or 'none', not 'soon'." in refused.stderr


PAGE_CACHE = """
import django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    print(cursor.execute("PRAGMA cache_size").fetchone()[0])
"""


def test_each_sqlite_connection_gets_the_configured_page_cache(tmp_path):
    """SQLite's default page cache (2 MB) is smaller than what a board at 400,000 deals reads, so
    every board read about 1,000 pages again through the operating system."""
    settings = {"SECRET_KEY": "x" * 60, "FERNET_KEYS": "k1", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    default = start_django(settings, script=PAGE_CACHE)
    assert default.stdout.split() == [str(-64 * 1024)], default.stderr[-2000:]
    smaller = start_django({**settings, "SQLITE_CACHE_MB": "16"}, script=PAGE_CACHE)
    assert smaller.stdout.split() == [str(-16 * 1024)], smaller.stderr[-2000:]


def test_an_empty_database_url_means_the_local_sqlite_file():
    """`DATABASE_URL=` in .env failed with KeyError: 'ENGINE'."""
    script = (
        "import django; django.setup(); from django.conf import settings; print(settings.DATABASES['default']['NAME'])"
    )
    result = start_django({"SECRET_KEY": "x" * 60, "FERNET_KEYS": "k1", "DATABASE_URL": ""}, script=script)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("db.sqlite3")
