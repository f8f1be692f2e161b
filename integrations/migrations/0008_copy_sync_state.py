"""Step 2 of 3: one SyncState per integration, with the values it had on the Integration row.

Its own migration (no schema change beside it), so PostgreSQL never alters a table with this data
move's trigger events pending."""

from django.db import migrations

FIELDS = [
    "last_sync_started_at", "last_synced_at", "last_sync_outcome", "last_sync_error", "last_successful_sync_at",
    "last_full_sync_at", "sync_marks", "sync_lease_owner", "sync_lease_expires_at", "sync_lease_host",
    "sync_lease_pid", "sync_enqueued_at", "sync_blocked_until",
]


def copy_forward(apps, schema_editor):
    Integration = apps.get_model("integrations", "Integration")
    SyncState = apps.get_model("integrations", "SyncState")
    SyncState.objects.bulk_create(
        [
            SyncState(integration_id=row["id"], **{name: row[name] for name in FIELDS})
            for row in Integration.objects.values("id", *FIELDS).iterator()
        ],
        ignore_conflicts=True,
    )


def copy_back(apps, schema_editor):
    Integration = apps.get_model("integrations", "Integration")
    SyncState = apps.get_model("integrations", "SyncState")
    for row in SyncState.objects.values("integration_id", *FIELDS).iterator():
        Integration.objects.filter(pk=row.pop("integration_id")).update(**row)


class Migration(migrations.Migration):
    dependencies = [("integrations", "0007_sync_state")]

    operations = [migrations.RunPython(copy_forward, copy_back)]
