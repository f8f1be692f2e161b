"""Step 3 of 3: the sync state now lives in SyncState; drop its old columns from Integration."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("integrations", "0008_copy_sync_state")]

    operations = [
        migrations.RemoveField(
            model_name='integration',
            name='last_full_sync_at',
        ),
        migrations.RemoveField(
            model_name='integration',
            name='last_successful_sync_at',
        ),
        migrations.RemoveField(
            model_name='integration',
            name='last_sync_error',
        ),
        migrations.RemoveField(
            model_name='integration',
            name='last_sync_outcome',
        ),
        migrations.RemoveField(
            model_name='integration',
            name='last_sync_started_at',
        ),
        migrations.RemoveField(
            model_name='integration',
            name='last_synced_at',
        ),
        migrations.RemoveField(
            model_name='integration',
            name='sync_blocked_until',
        ),
        migrations.RemoveField(
            model_name='integration',
            name='sync_enqueued_at',
        ),
        migrations.RemoveField(
            model_name='integration',
            name='sync_lease_expires_at',
        ),
        migrations.RemoveField(
            model_name='integration',
            name='sync_lease_host',
        ),
        migrations.RemoveField(
            model_name='integration',
            name='sync_lease_owner',
        ),
        migrations.RemoveField(
            model_name='integration',
            name='sync_lease_pid',
        ),
        migrations.RemoveField(
            model_name='integration',
            name='sync_marks',
        ),
    ]
