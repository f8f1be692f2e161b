"""The sandbox's seed data and mutation API."""

from __future__ import annotations

import pytest

from integrations.providers.pipedrive.sandbox import Sandbox
from integrations.providers.pipedrive.sandbox.seed import build_store


def test_seed_is_deterministic_and_scales():
    assert build_store("coeo").deals_list() == build_store("coeo").deals_list()
    assert len(build_store("coeo", deals=5).deals) == 5
    acme = build_store("acme")
    assert len(acme.deals) == 60 and {d["currency"] for d in acme.deals_list()} == {"EUR"}


def test_coeo_has_every_kind_of_deal(sandbox):
    deals = sandbox.deals()
    assert 200 <= len(deals) <= 260
    assert {d["status"] for d in deals} == {"open", "won", "lost", "deleted"}
    assert any(d["is_archived"] for d in deals)
    assert all(0 <= d["value"] <= 350_000 for d in deals)
    assert len(sandbox.users()) == 3
    custom = [f for f in sandbox.deal_fields() if f["is_custom_field"]]
    assert custom and all(len(f["field_code"]) == 40 for f in custom)


def test_mutations_stamp_strictly_increasing_update_times(sandbox):
    stamps = [
        sandbox.move_deal(1, stage_id=6)["update_time"],
        sandbox.lose_deal(2, reason="För dyrt")["update_time"],
        sandbox.delete_deal(3)["update_time"],
        sandbox.rename_stage(4, "Möte bokat")["update_time"],
        sandbox.add_deal(title="Ny")["update_time"],
    ]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert sandbox.deal(2)["lost_reason"] == "För dyrt" and sandbox.deal(2)["lost_time"] == stamps[1]
    assert sandbox.deal(3)["is_deleted"] and sandbox.deal(3)["status"] == "deleted"
    assert sandbox.deal(1)["stage_change_time"] == stamps[0]


def test_moving_a_deal_to_another_pipelines_stage_moves_the_pipeline(sandbox):
    event_stage = next(s for s in sandbox.stages() if s["pipeline_id"] == 2)
    assert sandbox.move_deal(1, stage_id=event_stage["id"])["pipeline_id"] == 2


def test_add_stage_and_bad_mutations(sandbox):
    stage = sandbox.add_stage(1, "Ny fas", is_deal_rot_enabled=True, days_to_rotten=10)
    assert stage["order_nr"] == 16 and stage in sandbox.stages()
    with pytest.raises(ValueError):
        sandbox.update_deal(1, colour="red")
    with pytest.raises(LookupError):
        sandbox.win_deal(999_999)


def test_cursor_pages_are_stable_while_deals_change(sandbox, sandbox_client):
    last = max(d["id"] for d in sandbox.deals() if not d["is_archived"])
    seen = []
    for deal in sandbox_client.iter_deals(sort_by="id"):
        seen.append(deal.id)
        if len(seen) == 60:
            sandbox.win_deal(1)
            sandbox.purge_deal(last)
    assert seen == sorted(seen) and last not in seen and len(seen) == len(set(seen))


def test_several_companies_share_one_process():
    from integrations.providers.pipedrive.sandbox import SandboxRouter

    router = SandboxRouter([Sandbox("coeo", api_tokens=("c",)), Sandbox("acme", api_tokens=("a",))])
    assert {s.dataset for s in router.sandboxes} == {"coeo", "acme"}
