"""bench_load's CPU account: whose CPU time a measured window used, per request."""

import subprocess
import sys

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
