"""Throwaway databases for the benchmarks: they never touch a database that holds data.

A benchmark names a database *server* (`--database-url`, or DATABASE_URL): SQLite means a new file
in a temporary directory; PostgreSQL means a new database created on that server for the run and
dropped after it. `--compare-postgres` runs the same measurement on both.
"""

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.core.management.base import CommandError

SQLITE = "sqlite"
POSTGRESQL = "postgresql"


def vendor_of(url: str | None) -> str:
    scheme = urlsplit(url or "sqlite://").scheme
    return POSTGRESQL if scheme.startswith("postgres") or scheme == "pgsql" else SQLITE


def servers(*, database_url: str | None, compare_postgres: bool) -> list[tuple[str, str | None]]:
    """(vendor, server URL) to measure on, in order: `--database-url`, else DATABASE_URL, else SQLite;
    with `compare_postgres`, SQLite and then the PostgreSQL server so named."""
    url = database_url or os.environ.get("DATABASE_URL")
    if not compare_postgres:
        return [(vendor_of(url), url)]
    if vendor_of(url) != POSTGRESQL:
        raise CommandError(
            "--compare-postgres needs a PostgreSQL --database-url or DATABASE_URL (scripts/with-postgres)."
        )
    return [(SQLITE, None), (POSTGRESQL, url)]


@contextmanager
def throwaway_database(server_url: str | None, prefix: str) -> Iterator[str]:
    """The URL of a new, empty database on `server_url`'s kind of server, removed afterwards."""
    if vendor_of(server_url) == SQLITE:
        with tempfile.TemporaryDirectory(prefix=prefix) as directory:
            yield f"sqlite:///{Path(directory) / 'bench.sqlite3'}"
        return
    import psycopg

    parts = urlsplit(server_url)
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    admin = urlunsplit((POSTGRESQL, parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def ratio_line(name: str, figures: dict[str, float], unit: str = "") -> str:
    """ "name: PostgreSQL / SQLite = 1.23×" when both were measured."""
    if not (figures.get(SQLITE) and POSTGRESQL in figures):
        return ""
    postgres, sqlite = figures[POSTGRESQL], figures[SQLITE]
    return f"{name}: postgresql {postgres:.1f}{unit} / sqlite {sqlite:.1f}{unit} = {postgres / sqlite:.2f}×"
