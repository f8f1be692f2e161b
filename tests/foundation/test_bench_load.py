"""bench_load's CPU account: whose CPU time a measured window used, per request."""

import io
import subprocess
import sys

import pytest
from django.core.management import call_command

from dealflow.management.commands.bench_load import CpuAccount

# A stand-in for gunicorn: a master whose one worker burns 0.3 s of CPU, says so, then waits.
MASTER = """
import subprocess, sys
worker = subprocess.Popen([sys.executable, "-c", '''
import sys, time
start = time.process_time()
while time.process_time() - start < 0.3:
    pass
print("done", flush=True)
sys.stdin.read()
'''], stdin=subprocess.PIPE, stdout=sys.stdout)
sys.stdin.read()
worker.stdin.close()
worker.wait()
"""


def test_the_account_gives_each_worker_s_cpu_time_to_the_workers_and_divides_by_requests():
    master = subprocess.Popen([sys.executable, "-c", MASTER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        account = CpuAccount(master.pid, database_name=None)
        account()
        assert master.stdout.readline().strip() == "done"
        account()
    finally:
        master.stdin.close()
        master.wait(10)
    per_request = account.per_request(requests=2)
    # 0.3 s over two requests (a worker started after the first sample counts from zero).
    assert 140 <= per_request["gunicorn workers"] <= 400
    assert per_request["gunicorn master"] < 100
    assert "database" not in per_request
    assert per_request["machine"] >= per_request["gunicorn workers"]


@pytest.mark.slow
def test_bench_load_runs_on_a_fresh_clone_and_prints_its_figures(settings, tmp_path):
    """End to end: real gunicorn and clients over loopback, on a few deals. A fresh clone has no
    var/log (only `make run` made it), where gunicorn's log goes: the command crashed there."""
    settings.VAR_DIR = tmp_path / "var"
    out = io.StringIO()
    call_command(
        "bench_load", "--deals", "80", "--companies", "2", "--clients", "2", "--workers", "1",
        "--seconds", "1", "--warm-up", "0.5", stdout=out,
    )  # fmt: skip
    lines = out.getvalue().splitlines()
    vendor, rps, *_, errors = lines[1].split()
    assert vendor in ("sqlite", "postgresql")
    assert float(rps) > 0
    assert errors == "0"
    assert lines[2].startswith(f"{vendor}: CPU ms per request: ")
    assert "gunicorn workers" in lines[2]
    assert (tmp_path / "var" / "log" / "bench_load_gunicorn.log").exists()
