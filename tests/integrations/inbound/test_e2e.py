"""End to end over loopback, everything real (integrations/management/webhook_stack.py): the sandbox
(a thread here) delivers a webhook to the app (gunicorn), which stores it and queues it in Redis; a
plain Celery worker fetches the deal from the sandbox and changes the board's database, with no
sync run in between. A dropped delivery is repaired by the next incremental sync."""

import shutil

import pytest

from integrations.management.webhook_stack import WAIT_SECONDS, WebhookStack
from tests.integrations.test_celery_e2e import raw_redis_dump

pytestmark = pytest.mark.slow


@pytest.fixture
def stack():
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (CI installs it; locally: apt-get install redis-server)")
    with WebhookStack(token="e2e-webhook-token-0123456789", coalesce_seconds=0.5) as stack:
        yield stack


def test_a_sandbox_change_reaches_the_board_through_a_webhook_and_a_real_worker(stack):
    assert len(stack.sandbox.webhooks.registered) == 5
    stack.start_worker()
    runs_before = stack.query("SELECT count(*) FROM integrations_syncrun")[0]
    assert stack.query("SELECT stage_remote_id FROM dealflow_deal WHERE remote_id = 1")[0] != 9

    stack.sandbox.move_deal(1, 9)

    assert stack.wait_until(
        lambda: stack.query("SELECT stage_remote_id FROM dealflow_deal WHERE remote_id = 1")[0] == 9
    )
    assert stack.query("SELECT count(*) FROM integrations_syncrun")[0] == runs_before  # no sync ran
    assert stack.query("SELECT source FROM dealflow_stagechange WHERE to_stage_remote_id = 9")[0] == "webhook"

    # A dropped delivery never arrives; the next incremental sync repairs the board.
    stack.sandbox.set_webhook_faults(drop=1)
    stack.sandbox.update_deal(2, title="Changed while the webhook was lost")
    assert stack.sandbox.webhooks.delivery.wait_idle(WAIT_SECONDS) and stack.sandbox.webhooks.delivery.dropped == 1
    title = "SELECT title FROM dealflow_deal WHERE remote_id = 2"
    assert stack.query(title)[0] != "Changed while the webhook was lost"
    stack.sync()
    assert stack.query(title)[0] == "Changed while the webhook was lost"

    queued = raw_redis_dump(stack.redis_url)
    logs = stack.logs()
    for secret in (stack.token, stack.user, stack.password):
        assert secret.encode() not in logs
        assert secret.encode() not in queued
