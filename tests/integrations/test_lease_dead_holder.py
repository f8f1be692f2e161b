"""After a SIGKILL: a lease whose holder died on this host is free at once, and its run ends
interrupted; `manage.py release_sync_lease` frees a lease by hand."""

import os
import signal
import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from integrations.models import Integration, SyncOutcome, SyncRun, SyncState
from integrations.services.lease import lease_is_held
from integrations.services.scheduling import dispatch_due_syncs

pytestmark = pytest.mark.django_db


def hold_lease(integration, pid: int) -> SyncRun:
    """What a worker leaves behind when it dies mid-sync: its lease, and its run 'running'."""
    SyncState.objects.filter(integration_id=integration.pk).update(
        sync_lease_owner="killed-worker",
        sync_lease_expires_at=timezone.now() + timedelta(minutes=15),
        sync_lease_host=socket.gethostname(),
        sync_lease_pid=pid,
    )
    integration.refresh_from_db()
    return SyncRun.objects.create(integration=integration, kind="incremental", started_at=timezone.now())


@pytest.fixture
def killed_pid():
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    return worker.pid


def test_a_killed_holder_frees_the_lease_and_its_run_ends_interrupted(connected, killed_pid):
    run = hold_lease(connected.integration, killed_pid)
    assert not lease_is_held(integration=connected.integration)

    dispatch_due_syncs()  # every minute, from beat

    run.refresh_from_db()
    assert (run.outcome, run.error_kind) == (SyncOutcome.FAILED, "interrupted")
    assert f"process {killed_pid}" in run.error
    state = Integration.objects.get(pk=connected.integration.pk).sync_state
    assert state.sync_lease_owner == "" and state.last_sync_outcome == SyncOutcome.FAILED
    assert connected.sync().outcome == SyncOutcome.SUCCEEDED


def test_a_sync_takes_over_from_a_killed_holder_at_once(connected, killed_pid):
    dead = hold_lease(connected.integration, killed_pid)
    assert connected.sync().outcome == SyncOutcome.SUCCEEDED
    dead.refresh_from_db()
    assert dead.error_kind == "interrupted"


def test_a_live_holder_keeps_its_lease(connected):
    run = hold_lease(connected.integration, os.getpid())
    assert lease_is_held(integration=connected.integration)
    dispatch_due_syncs()
    assert connected.sync().outcome == SyncOutcome.SKIPPED
    run.refresh_from_db()
    assert run.outcome == SyncOutcome.RUNNING


def test_release_sync_lease_command(connected, capsys):
    run = hold_lease(connected.integration, os.getpid())  # alive: refused without --force
    slug = connected.integration.company.slug
    with pytest.raises(CommandError, match="--force"):
        call_command("release_sync_lease", slug)
    call_command("release_sync_lease", str(connected.integration.pk), "--force")
    assert "lease released; 1 running sync run(s) ended as interrupted" in capsys.readouterr().out
    run.refresh_from_db()
    assert (run.outcome, run.error_kind) == (SyncOutcome.FAILED, "interrupted")
    assert Integration.objects.get(pk=connected.integration.pk).sync_state.sync_lease_owner == ""
    with pytest.raises(CommandError, match="No integration"):
        call_command("release_sync_lease", "nope")
