"""Per-provider settings and encrypted credentials, and the provider's category (columns only:
0005 moves the data, 0006 drops the old columns; apart, so PostgreSQL never alters a table with
pending trigger events from the data move)."""

from django.db import migrations, models

import integrations.fields
import integrations.providers.registry


class Migration(migrations.Migration):

    dependencies = [
        ("integrations", "0003_sync_robustness"),
    ]

    operations = [
        migrations.AlterField(
            model_name="integration",
            name="provider",
            field=models.CharField(
                choices=integrations.providers.registry.provider_choices, default="pipedrive", max_length=20
            ),
        ),
        migrations.AddField(
            model_name="integration",
            name="category",
            field=models.CharField(
                choices=[("crm", "CRM"), ("accounting", "Accounting")], default="crm", editable=False, max_length=20
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="integration",
            name="settings",
            field=models.JSONField(blank=True, default=dict, editable=False),
        ),
        migrations.AddField(
            model_name="integration",
            name="credentials",
            field=integrations.fields.SecretJSONField(
                blank=True, default=dict, editable=False, help_text="Stored encrypted; never shown again."
            ),
        ),
    ]
