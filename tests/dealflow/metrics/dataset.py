"""A hand-built portfolio with known answers (tests/dealflow/metrics): see the comments per deal.

Period 2026-01-01 … 2026-03-31 (today 2026-03-31), studio time Europe/Stockholm, reporting in SEK.
Rates (units per euro): SEK 11 from 2 Jan, 10 from 2 Feb, 12 from 2 Mar; XYZ has no rate.
"""

from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from dealflow.metrics.period import Period
from dealflow.models import DealStatus, FxRate, StageChange
from tests import factories as make

STOCKHOLM = ZoneInfo("Europe/Stockholm")
PERIOD = Period(since=date(2026, 1, 1), until=date(2026, 3, 31))
TODAY = date(2026, 3, 31)


def at(day: str, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=STOCKHOLM)


def rates():
    FxRate.objects.all().delete()
    for day, rate in (("2026-01-02", "11"), ("2026-02-02", "10"), ("2026-03-02", "12")):
        FxRate.objects.create(date=date.fromisoformat(day), currency="SEK", rate=Decimal(rate), source="test")


def change(deal, from_stage, to_stage, when):
    return StageChange.objects.create(
        deal=deal,
        from_stage=from_stage,
        to_stage=to_stage,
        from_stage_remote_id=from_stage.remote_id if from_stage else None,
        to_stage_remote_id=to_stage.remote_id if to_stage else None,
        changed_at=when,
    )


def build(coeo, nordic):
    rates()
    s = coeo.stages
    won, lost, open_ = DealStatus.WON, DealStatus.LOST, DealStatus.OPEN
    deals = SimpleNamespace(
        # Won 10 Feb after 31 days; skipped Qualified on the way (lead -> meeting -> won stage).
        a=make.deal(s.won, "a", value=1000, status=won, add_time=at("2026-01-10"), won_time=at("2026-02-10")),
        # Won 4 Feb in EUR, at the rate of 2 Feb (10): 1000 kr; no stage history at all; 34 days.
        b=make.deal(
            s.proposal, "b", value=100, currency="EUR", status=won, add_time=at("2026-01-01"), won_time=at("2026-02-04")
        ),
        # Lost 1 Mar for Price; skipped to Proposal, then moved back to Qualified.
        c=make.deal(
            s.qualified,
            "c",
            value=500,
            status=lost,
            add_time=at("2026-02-01"),
            lost_time=at("2026-03-01"),
            lost_reason="Price",
        ),
        # Lost 15 Mar in a currency without a rate (kept apart); added before the period.
        d=make.deal(
            s.due_diligence,
            "d",
            value=700,
            currency="XYZ",
            status=lost,
            add_time=at("2025-12-01"),
            lost_time=at("2026-03-15"),
            lost_reason="Price",
        ),
        # Open in Proposal (80 %), expected to close in April: 1600 kr weighted.
        e=make.deal(s.proposal, "e", value=2000, add_time=at("2026-03-01"), expected_close_date=date(2026, 4, 15)),
        # Open in Lead (10 %), 300 € = 3600 kr at the latest rate (12); overdue (10 Mar).
        f=make.deal(
            s.lead, "f", value=300, currency="EUR", add_time=at("2025-11-01"), expected_close_date=date(2026, 3, 10)
        ),
        # Won on 15 Feb, then reopened: open in Meeting (40 %), not won.
        g=make.deal(s.meeting, "g", value=400, status=open_, add_time=at("2026-02-12"), won_time=at("2026-02-15")),
        # Deleted: counted nowhere.
        h=make.deal(s.lead, "h", value=9999, status=DealStatus.DELETED, add_time=at("2026-02-01")),
        # Open in an excluded stage: new, but not pipeline (counted apart).
        i=make.deal(s.nej_tack, "i", value=50, add_time=at("2026-03-05")),
        # Open in a stage mapped to Closed Won (a verbal yes): pipeline there.
        j=make.deal(s.won, "j", value=250, add_time=at("2025-10-01")),
        # Open in Lead in a currency without a rate.
        k=make.deal(s.lead, "k", value=100, currency="XYZ", add_time=at("2025-10-01")),
        # Won before the period: only in the trends.
        l=make.deal(s.won, "l", value=5000, status=won, add_time=at("2025-12-01"), won_time=at("2025-12-20")),
        # Won 11 Mar after 10 days.
        m=make.deal(s.won, "m", value=2000, status=won, add_time=at("2026-03-01"), won_time=at("2026-03-11")),
        # Nordic: one open Lead deal in the period, one added a minute before it, one in its last minute.
        n1=make.deal(nordic.lead, "n1", value=100, currency="EUR", add_time=at("2026-03-20")),
        n2=make.deal(nordic.lead, "n2", value=100, currency="EUR", add_time=at("2025-12-31", 23, 59)),
        n3=make.deal(nordic.lead, "n3", value=100, currency="EUR", add_time=at("2026-03-31", 23, 59)),
    )
    change(deals.a, s.lead, s.meeting, at("2026-01-20"))  # 10 days in Lead
    change(deals.a, s.meeting, s.won, at("2026-02-05"))  # 16 days in Meeting
    change(deals.c, s.lead, s.proposal, at("2026-02-10"))  # 9 days in Lead
    change(deals.c, s.proposal, s.qualified, at("2026-02-20"))  # 10 days in Proposal
    change(deals.d, s.lead, s.qualified, at("2025-12-10"))  # ended before the period: left out
    change(deals.d, s.qualified, s.due_diligence, at("2026-01-05"))  # 26 days in Qualified, ended in the period
    return deals
