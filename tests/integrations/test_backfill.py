"""Stage history backfill against the Pipedrive sandbox served over loopback HTTP: it fills the
history of deals the sync never saw move, skips the rest, keeps to its share of the daily budget
and resumes the next day, never duplicates a change, and reports hostile changelog entries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from dealflow.metrics.period import Period
from dealflow.metrics.report import build
from dealflow.models import Deal, DealHistoryBackfill, Stage, StageChange
from integrations.backfill.selectors import deals_needing_history, estimate
from integrations.backfill.services import run_backfill
from integrations.models import Integration, StageHistoryBackfill, SyncState
from integrations.providers.pipedrive.sandbox import Sandbox
from integrations.providers.pipedrive.sandbox.server import serve_in_thread
from integrations.sync.runner import sync_integration
from tests.integrations.conftest import connect

pytestmark = pytest.mark.django_db
COST = 20
State = StageHistoryBackfill.State


class World:
    """A company connected over loopback HTTP to a small coeo sandbox, synced once."""

    def __init__(self, sandbox: Sandbox, base_url: str) -> None:
        self.sandbox = sandbox
        connected = connect(sandbox)
        self.integration = connected.integration
        self.integration.settings["api_base_url"] = base_url
        self.integration.backfill_stage_history = True
        self.integration.daily_api_budget = 100_000
        self.integration.save()
        # Connected a minute ago: deals the sandbox adds from now on were added after that.
        Integration.objects.filter(pk=self.integration.pk).update(created_at=timezone.now() - timedelta(minutes=1))
        self.integration.refresh_from_db()
        self.sync()

    def sync(self):
        run = sync_integration(integration=self.integration, client_options={"page_size": 50, "sleep": lambda s: None})
        assert run.outcome == "succeeded", run.error
        return run

    def backfill(self, **options):
        return run_backfill(integration_id=self.integration.pk, sleep=lambda s: None, **options)

    def settings(self, **fields):
        for name, value in fields.items():
            setattr(self.integration, name, value)
        self.integration.save()

    @property
    def spent(self) -> int:
        return self.sandbox.rate_limiter.spent

    def progress(self) -> StageHistoryBackfill:
        return StageHistoryBackfill.objects.get(pk=self.integration.pk)

    def logged_moves(self, remote_id: int) -> list[tuple[datetime, int | None, int]]:
        """The deal's stage_id entries in the sandbox's changelog, oldest first."""
        moves = [
            (
                datetime.strptime(entry["time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC),
                int(entry["old_value"]) if entry["old_value"] else None,
                int(entry["new_value"]),
            )
            for entry in self.sandbox.changelog.entries(remote_id)
            if entry["field_key"] == "stage_id"
        ]
        return sorted(moves)


def recorded(deal: Deal, **filters) -> list[tuple[datetime, int | None, int]]:
    rows = StageChange.objects.filter(deal=deal, **filters).order_by("changed_at", "id")
    return [(row.changed_at, row.from_stage_remote_id, row.to_stage_remote_id) for row in rows]


@pytest.fixture
def world(db):
    sandbox = Sandbox("coeo", deals=24, burst_limit=100_000)
    base_url, stop = serve_in_thread(sandbox)
    yield World(sandbox, base_url)
    stop()


def test_the_backfill_records_each_deal_s_stage_moves_from_its_changelog(world):
    todo = list(deals_needing_history(world.integration))
    assert len(todo) >= 10, "most seeded deals moved before the integration was connected"
    assert not StageChange.objects.exists()
    spent = world.spent

    assert world.backfill() == State.DONE

    assert world.spent - spent == COST * len(todo)  # one changelog page a deal, 20 tokens each
    stages = dict(Stage.objects.filter(integration=world.integration).values_list("remote_id", "pk"))
    for deal in todo:
        moves = world.logged_moves(deal.remote_id)
        assert recorded(deal, source=StageChange.Source.BACKFILL) == moves
        assert moves[-1][2] == deal.stage_remote_id and moves[-1][0] == deal.stage_change_time
        for change in StageChange.objects.filter(deal=deal):
            assert change.to_stage_id == stages[change.to_stage_remote_id]
        assert DealHistoryBackfill.objects.get(deal=deal).changes == len(moves)
    progress = world.progress()
    assert (progress.deals_done, progress.deals_to_do, progress.deals_skipped) == (len(todo), 0, 0)
    assert progress.changes_recorded == StageChange.objects.count()
    assert progress.day_tokens == COST * len(todo) and progress.last_error == ""
    assert not deals_needing_history(world.integration).exists()


def test_deals_whose_history_the_sync_saw_or_that_never_moved_are_left_alone(world):
    sandbox = world.sandbox
    moved = sandbox.add_deal(title="Seen from the start")
    still = sandbox.add_deal(title="Never moved")
    world.sync()
    sandbox.move_deal(moved["id"], 3)
    world.sync()
    seen = Deal.objects.get(remote_id=moved["id"])
    assert recorded(seen, source=StageChange.Source.SYNC)
    todo = list(deals_needing_history(world.integration))
    assert {seen.remote_id, still["id"]}.isdisjoint(deal.remote_id for deal in todo)
    deleted = Deal.objects.filter(integration=world.integration, status="deleted")
    assert deleted.exists() and not set(deleted).intersection(todo)
    spent = world.spent

    assert world.backfill() == State.DONE

    assert world.spent - spent == COST * len(todo)
    assert not DealHistoryBackfill.objects.filter(deal__remote_id__in=[moved["id"], still["id"]]).exists()
    assert not StageChange.objects.filter(deal=seen, source=StageChange.Source.BACKFILL).exists()
    spent = world.spent
    assert world.backfill() == State.DONE
    assert world.spent == spent, "a finished backfill calls nothing"


def test_the_share_of_the_daily_budget_stops_it_and_the_next_day_it_resumes(world):
    world.settings(daily_api_budget=1000, backfill_budget_share=7)  # 70 tokens a day: three calls
    todo = deals_needing_history(world.integration).count()
    assert estimate(world.integration).days == -(-todo // 3)
    spent = world.spent

    assert world.backfill() == State.PAUSED
    progress = world.progress()
    assert (progress.deals_done, progress.day_tokens, progress.deals_to_do) == (3, 60, todo - 3)
    assert world.spent - spent == 60
    assert world.backfill() == State.PAUSED  # the same day: nothing more
    assert world.spent - spent == 60 and world.progress().deals_done == 3

    days = 1
    while world.progress().state != State.DONE:
        # The next day, as the progress row sees it (no sleeping): a fresh share.
        yesterday = timezone.localdate() - timedelta(days=1)
        StageHistoryBackfill.objects.filter(pk=world.integration.pk).update(day=yesterday)
        world.backfill()
        days += 1
        assert world.progress().day_tokens <= 70
    assert days == -(-todo // 3)
    assert world.progress().deals_done == todo == DealHistoryBackfill.objects.count()
    assert world.spent - spent == COST * todo


def test_a_spent_shared_budget_stops_it_cleanly_and_stops_the_sync_too(world):
    limiter = world.sandbox.rate_limiter
    world.sandbox.spend_budget(limiter.daily_budget - limiter.spent - 2 * COST)
    todo = deals_needing_history(world.integration).count()

    assert world.backfill() == State.BLOCKED

    progress = world.progress()
    assert (progress.deals_done, progress.deals_to_do, progress.last_error) == (2, todo - 2, "")
    assert SyncState.objects.get(pk=world.integration.pk).sync_blocked_until > timezone.now()
    calls = limiter.spent
    assert world.backfill() == State.BLOCKED  # refused before any call while the budget is spent
    assert limiter.spent == calls


def test_a_rerun_records_no_change_twice_nor_one_the_sync_recorded(world):
    deal = deals_needing_history(world.integration).first()
    world.sandbox.move_deal(deal.remote_id, 9 if deal.stage_remote_id != 9 else 8)
    world.sync()  # the sync records this move itself, at its stage_change_time
    assert len(recorded(deal, source=StageChange.Source.SYNC)) == 1

    world.backfill()
    rows = StageChange.objects.count()
    assert recorded(deal) == world.logged_moves(deal.remote_id)  # the sync's move is there once
    DealHistoryBackfill.objects.all().delete()  # read every log again
    world.backfill()

    assert StageChange.objects.count() == rows
    assert world.progress().changes_recorded == rows - 1


def test_hostile_changelog_entries_are_skipped_and_reported_and_the_run_goes_on(world):
    first, second, third, *rest = deals_needing_history(world.integration)
    expected = world.logged_moves(first.remote_id)
    stage = first.stage_remote_id
    world.sandbox.add_changelog_entries(
        first.remote_id,
        [
            {"field_key": "stage_id", "old_value": str(stage), "new_value": "99999", "time": "2024-01-02 10:00:00"},
            {"field_key": "stage_id", "old_value": str(stage), "new_value": "3\x00", "time": "2024-01-02 10:00:01"},
            {"field_key": "stage_id", "old_value": str(stage), "new_value": ["3"], "time": "2024-01-02 10:00:02"},
            {"field_key": "stage_id", "old_value": str(stage), "new_value": "3", "time": 1704189603},
            {"field_key": "stage_id", "old_value": str(stage), "new_value": "3", "time": "2099-01-01 00:00:00"},
            {"field_key": "stage_id", "old_value": True, "new_value": "3", "time": "2024-01-02 10:00:04"},
            "not an entry",
            {"field_key": "stage_id\x00", "old_value": "1", "new_value": "2", "time": "nonsense"},  # another field
        ],
    )
    world.sandbox.purge_deal(second.remote_id)  # its changelog answers 404
    spent = world.spent

    assert world.backfill() == State.DONE

    assert recorded(first) == expected
    assert not StageChange.objects.filter(deal=first, changed_at__year__in=[2024, 2099]).exists()
    reasons = [item["reason"] for item in world.progress().skipped if item["deal"] == first.remote_id]
    assert len(reasons) == 7
    assert any("does not know (99999)" in reason for reason in reasons)
    assert any("future" in reason for reason in reasons)
    assert sum("not a stage id" in reason for reason in reasons) == 3
    assert any("not a time" in reason for reason in reasons)
    assert any("not an object" in reason for reason in reasons)
    gone = DealHistoryBackfill.objects.get(deal=second)
    assert "404" in gone.skipped_reason and not StageChange.objects.filter(deal=second).exists()
    progress = world.progress()
    assert progress.deals_skipped == 1 and progress.deals_done == 3 + len(rest)
    assert any(item["deal"] == second.remote_id for item in progress.skipped)
    assert recorded(third) == world.logged_moves(third.remote_id)
    assert world.spent - spent == COST * (3 + len(rest))


def test_an_unreadable_changelog_body_skips_that_deal_only(world):
    first, *rest = deals_needing_history(world.integration)
    world.sandbox.set_faults(malformed_body=1)  # the next answer is cut in half

    assert world.backfill() == State.DONE

    assert DealHistoryBackfill.objects.get(deal=first).skipped_reason
    assert not StageChange.objects.filter(deal=first).exists()
    assert all(recorded(deal) == world.logged_moves(deal.remote_id) for deal in rest)
    assert world.progress().deals_skipped == 1


def test_the_metrics_time_in_stage_and_funnel_see_the_backfilled_changes(world):
    company = world.integration.company
    today = timezone.localdate()
    period = Period(since=today - timedelta(days=729), until=today)
    deal = deals_needing_history(world.integration).filter(status="open").first()
    won_stage = Stage.objects.get(integration=world.integration, name="Genomfört").remote_id
    went, came_back = (format(deal.add_time + timedelta(hours=hours), "%Y-%m-%d %H:%M:%S") for hours in (1, 2))
    world.sandbox.add_changelog_entries(  # an open deal that once reached Closed Won and left it
        deal.remote_id,
        [
            {"field_key": "stage_id", "old_value": "1", "new_value": str(won_stage), "time": went},
            {"field_key": "stage_id", "old_value": str(won_stage), "new_value": "1", "time": came_back},
        ],
    )
    before = build([company], period, "SEK").portfolio

    world.backfill()

    after = build([company], period, "SEK").portfolio
    assert all(value is None for value in before["time_in_stage_days"].values())
    assert after["time_in_stage_days"]["lead"] > 0
    assert after["time_in_stage_days"]["closed_won"] > 0
    assert all(after["funnel"][stage]["count"] >= before["funnel"][stage]["count"] for stage in before["funnel"])
    assert after["funnel"]["closed_won"]["count"] > before["funnel"]["closed_won"]["count"]


def test_the_backfill_does_nothing_unless_opted_in(world):
    world.settings(backfill_stage_history=False)
    spent = world.spent
    assert world.backfill() == "off"
    assert world.spent == spent and not StageHistoryBackfill.objects.exists()


def test_a_second_run_while_one_holds_the_progress_row_does_nothing(world):
    StageHistoryBackfill.objects.create(integration=world.integration, state=State.RUNNING, last_run_at=timezone.now())
    spent = world.spent
    assert world.backfill() == "busy"
    assert world.spent == spent and not DealHistoryBackfill.objects.exists()
    # One that died hours ago (its worker killed) no longer holds it.
    StageHistoryBackfill.objects.update(last_run_at=timezone.now() - timedelta(hours=3))
    assert world.backfill() == State.DONE
