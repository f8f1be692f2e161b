from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from integrations.models import Integration

from .conftest import SENTINEL_TOKEN


def raw_credential_bytes(integration_id: int) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM integrations_integration WHERE id = %s", [integration_id])
        return bytes(cursor.fetchone()[0])


def test_stored_token_bytes_do_not_contain_the_token(integration):
    stored = raw_credential_bytes(integration.pk)
    assert stored, "the token column must not be empty"
    assert SENTINEL_TOKEN.encode() not in stored
    assert Integration.objects.get(pk=integration.pk).credentials == {"api_token": SENTINEL_TOKEN}


def test_rotation_reencrypts_with_the_new_first_key(integration, settings):
    old_key = settings.FERNET_KEYS[0]
    before = raw_credential_bytes(integration.pk)
    new_key = Fernet.generate_key().decode()

    settings.FERNET_KEYS = [new_key, old_key]
    call_command("rotate_encryption_keys", stdout=open("/dev/null", "w"))
    assert raw_credential_bytes(integration.pk) != before

    settings.FERNET_KEYS = [new_key]
    assert Integration.objects.get(pk=integration.pk).credentials == {"api_token": SENTINEL_TOKEN}


def test_undecryptable_token_is_named_not_a_crash(integration, settings, admin_client):
    settings.FERNET_KEYS = [Fernet.generate_key().decode()]

    reloaded = Integration.objects.get(pk=integration.pk)
    assert not reloaded.credentials_are_readable
    assert "cannot be decrypted" in reloaded.token_hint

    try:
        call_command("rotate_encryption_keys", stdout=open("/dev/null", "w"))
    except CommandError as error:
        assert f"id {integration.pk}" in str(error)
        assert "Coeo" in str(error)
    else:
        raise AssertionError("rotation must fail for an undecryptable token")

    for url in (
        "/admin/integrations/integration/",
        f"/admin/integrations/integration/{integration.pk}/change/",
        f"/admin/portfolio/portfoliocompany/{integration.company_id}/change/",
    ):
        response = admin_client.get(url)
        assert response.status_code == 200, url
    change_page = admin_client.get(f"/admin/integrations/integration/{integration.pk}/change/")
    assert "cannot be decrypted" in change_page.content.decode()

    tested = admin_client.post(
        "/admin/integrations/integration/",
        {"action": "test_connection", "_selected_action": [integration.pk]},
        follow=True,
    )
    assert tested.status_code == 200
    assert "cannot be decrypted" in tested.content.decode()
