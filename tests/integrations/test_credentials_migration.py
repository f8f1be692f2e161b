"""Migrations 0004-0006 move each integration's token into `credentials` and its domain and base URL
into `settings`, and back again; a token no key decrypts stays as it was (undecryptable)."""

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from integrations.fields import is_undecryptable
from integrations.models import Integration

BEFORE = [("integrations", "0003_sync_robustness")]
AFTER = [("integrations", "0006_drop_old_connection_columns")]
TOKEN = "tok-MIGRATED-7c3e9a"


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def raw(column: str, pk: int) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM integrations_integration WHERE id = %s", [pk])  # noqa: S608 - a column name from this test
        return bytes(cursor.fetchone()[0])


@pytest.fixture
def at_0003(transactional_db):
    apps = migrate(BEFORE)
    yield apps
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_tokens_and_settings_move_and_move_back(at_0003, settings):
    OldIntegration = at_0003.get_model("integrations", "Integration")
    Company = at_0003.get_model("portfolio", "PortfolioCompany")
    coeo = OldIntegration.objects.create(
        company=Company.objects.create(name="Coeo", slug="coeo"),
        api_token=TOKEN,
        company_domain="coeo",
        api_base_url="http://127.0.0.1:8765",
    )
    current_keys = settings.FERNET_KEYS
    settings.FERNET_KEYS = [Fernet.generate_key().decode()]  # a key that is later lost
    lost = OldIntegration.objects.create(
        company=Company.objects.create(name="Acme", slug="acme"), api_token="tok-lost-1111", company_domain="acme"
    )
    lost_ciphertext = raw("api_token", lost.pk)
    settings.FERNET_KEYS = current_keys

    migrate(AFTER)
    # Only the columns 0006 has: fields added by later migrations are not there yet.
    at_0006 = Integration.objects.only("provider", "category", "settings", "credentials")
    moved = at_0006.get(pk=coeo.pk)
    assert moved.credentials == {"api_token": TOKEN}
    assert moved.settings == {"company_domain": "coeo", "api_base_url": "http://127.0.0.1:8765"}
    assert moved.category == "crm" and moved.token_hint == "••••••••" + TOKEN[-4:]
    assert TOKEN.encode() not in raw("credentials", coeo.pk)
    unreadable = at_0006.get(pk=lost.pk)
    assert is_undecryptable(unreadable.credentials) and unreadable.settings["company_domain"] == "acme"
    assert raw("credentials", lost.pk) == lost_ciphertext

    apps = migrate(BEFORE)
    back = apps.get_model("integrations", "Integration").objects.get(pk=coeo.pk)
    assert (back.api_token, back.company_domain, back.api_base_url) == (TOKEN, "coeo", "http://127.0.0.1:8765")
    assert raw("api_token", lost.pk) == lost_ciphertext
