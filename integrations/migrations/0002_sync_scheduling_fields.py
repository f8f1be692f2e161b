from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("integrations", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="integration",
            name="sync_blocked_until",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="integration",
            name="sync_enqueued_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="syncrun",
            name="error_kind",
            field=models.CharField(
                blank=True,
                help_text="Pipedrive error kind (transient, auth, ...); decides retries.",
                max_length=20,
            ),
        ),
    ]
