"""Per-provider settings and credentials: company_domain and api_base_url move into `settings`, the
API token into `credentials` ({"api_token": ...}, decrypted and encrypted again with the first key
in FERNET_KEYS), and `category` is filled from the provider. Reversible.

A token that no key decrypts cannot be read, so its ciphertext is copied as it is: it stays
"cannot be decrypted" and is entered again in the admin, as before this migration.
"""

from django.db import migrations

from integrations.fields import is_undecryptable

TABLE = "integrations_integration"


def forwards(apps, schema_editor):
    Integration = apps.get_model("integrations", "Integration")
    for integration in Integration.objects.all():
        integration.settings = {"company_domain": integration.company_domain, "api_base_url": integration.api_base_url}
        integration.category = "crm"  # Pipedrive, the only provider so far
        token = integration.api_token
        fields = ["settings", "category"]
        if token and not is_undecryptable(token):
            integration.credentials = {"api_token": token}
            fields.append("credentials")
        integration.save(update_fields=fields)
        if is_undecryptable(token):
            _copy_ciphertext(schema_editor, "api_token", "credentials", integration.pk)


def backwards(apps, schema_editor):
    Integration = apps.get_model("integrations", "Integration")
    for integration in Integration.objects.all():
        integration.company_domain = integration.settings.get("company_domain", "")
        integration.api_base_url = integration.settings.get("api_base_url", "")
        fields = ["company_domain", "api_base_url"]
        if is_undecryptable(integration.credentials):
            _copy_ciphertext(schema_editor, "credentials", "api_token", integration.pk)
        else:
            integration.api_token = integration.credentials.get("api_token", "")
            fields.append("api_token")
        integration.save(update_fields=fields)


def _copy_ciphertext(schema_editor, source: str, target: str, pk: int) -> None:
    quote = schema_editor.quote_name
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"UPDATE {quote(TABLE)} SET {quote(target)} = {quote(source)} WHERE id = %s", [pk])


class Migration(migrations.Migration):

    dependencies = [
        ("integrations", "0004_provider_settings_and_credentials"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
