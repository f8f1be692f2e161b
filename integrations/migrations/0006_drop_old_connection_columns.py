"""Drop the columns 0005 moved into `settings` and `credentials`."""

from django.db import migrations, models

import integrations.fields


class Migration(migrations.Migration):

    dependencies = [
        ("integrations", "0005_move_tokens_into_credentials"),
    ]

    operations = [
        # Defaults only so that migrating back can add the columns again to existing rows.
        migrations.AlterField(
            model_name="integration", name="api_token", field=integrations.fields.SecretTextField(default="")
        ),
        migrations.AlterField(
            model_name="integration", name="company_domain", field=models.CharField(default="", max_length=63)
        ),
        migrations.RemoveField(model_name="integration", name="api_token"),
        migrations.RemoveField(model_name="integration", name="company_domain"),
        migrations.RemoveField(model_name="integration", name="api_base_url"),
    ]
