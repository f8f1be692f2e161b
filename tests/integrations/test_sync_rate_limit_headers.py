"""A wild x-ratelimit-reset header ends the run recorded, never as an overflow with the run left running."""

import pytest

from integrations.models import SyncOutcome
from integrations.providers.pipedrive.responses import MAX_RESET_SECONDS

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("reset", ["inf", "-inf", "nan", "1e308", "1e12", "-5"])
def test_wild_reset_header_ends_the_run_rate_limited(connected, reset):
    connected.sandbox.set_faults(rate_limit_reset=reset)

    run = connected.sync(max_retries=1)

    assert run.outcome == SyncOutcome.RATE_LIMITED
    assert run.finished_at is not None
    connected.integration.refresh_from_db()
    blocked = connected.integration.sync_state.sync_blocked_until
    if blocked is not None:  # a huge reset reads as a spent budget, paused at most 48 h
        assert (blocked - run.finished_at).total_seconds() <= MAX_RESET_SECONDS
    # Non-finite or negative resets are absent: the client backs off instead of sleeping NaN.
    assert all(0 <= wait < 60 for wait in connected.sleeps)
