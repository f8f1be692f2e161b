import django.db.models.deletion
from django.db import migrations, models


def fill_mapping_integration(apps, schema_editor):
    StageMapping = apps.get_model("dealflow", "StageMapping")
    for mapping in StageMapping.objects.select_related("stage").filter(integration__isnull=True):
        mapping.integration_id = mapping.stage.integration_id
        mapping.save(update_fields=["integration"])


def fingerprint_field():
    return models.CharField(blank=True, editable=False, max_length=32)


class Migration(migrations.Migration):

    dependencies = [
        ("dealflow", "0001_initial"),
        ("integrations", "0002_sync_scheduling_fields"),
    ]

    operations = [
        *(
            migrations.AddField(model_name=model, name="fingerprint", field=fingerprint_field())
            for model in ("deal", "organization", "owner", "person", "pipeline", "stage")
        ),
        migrations.AddField(
            model_name="stagemapping",
            name="integration",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="stage_mappings",
                to="integrations.integration",
            ),
        ),
        migrations.RunPython(fill_mapping_integration, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="stagemapping",
            name="integration",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="stage_mappings",
                to="integrations.integration",
            ),
        ),
    ]
