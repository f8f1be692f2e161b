"""`manage.py pipeline_metrics`: the JSON shape of the issue and the numbers the pages show."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from dealflow.metrics.export import report_json
from dealflow.metrics.period import period_from
from dealflow.metrics.report import build
from tests.dealflow.metrics import dataset

pytestmark = pytest.mark.django_db

STAGES = ["lead", "qualified", "meeting", "due_diligence", "proposal", "closed_won"]


def run(*args) -> dict:
    out = io.StringIO()
    call_command("pipeline_metrics", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_json_shape_and_numbers(coeo, nordic):
    dataset.build(coeo, nordic)
    data = run("--since", "2026-01-01", "--until", "2026-03-31", "--currency", "SEK")
    assert data["period"] == {"since": "2026-01-01", "until": "2026-03-31"}
    assert data["currency"] == "SEK"
    assert data["rates_date"] == "2026-03-02"
    assert set(data["companies"]) == {"coeo", "nordic"}
    for metrics in [*data["companies"].values(), data["portfolio"]]:
        for key in ("new", "won", "lost"):
            assert {"count", "value"} <= set(metrics[key])
        assert {"win_rate", "average_won_deal", "funnel", "time_in_stage_days", "forecast"} <= set(metrics)
        assert set(metrics["sales_cycle_days"]) >= {"median", "mean"}
        assert list(metrics["weighted_pipeline"]) == STAGES
        assert "overdue" in metrics["forecast"]
    coeo_metrics = data["companies"]["coeo"]
    assert coeo_metrics["won"] == {"count": 3, "value": 4000.0}
    assert coeo_metrics["win_rate"] == 0.6
    assert coeo_metrics["lost"]["unconverted"] == {"XYZ": 700.0}
    assert data["companies"]["nordic"]["win_rate"] is None
    assert coeo_metrics["weighted_pipeline"]["proposal"] == 1600.0


def test_slugs_choose_companies_and_match_the_report(coeo, nordic):
    dataset.build(coeo, nordic)
    data = run("nordic", "--since", "2026-01-01", "--until", "2026-03-31")
    assert list(data["companies"]) == ["nordic"]
    period = period_from(since="2026-01-01", until="2026-03-31")
    expected = report_json(build([nordic.company], period, "SEK"))
    assert data == json.loads(json.dumps(expected))


@pytest.mark.parametrize(
    "args, message",
    [
        (["--since", "2026-13-01"], "since must be a date"),
        (["--since", "2026-03-01", "--until", "2026-02-01"], "since must not be after until"),
        (["--currency", "kronor"], "three-letter code"),
        (["nosuch"], "No active company"),
    ],
)
def test_bad_arguments_get_a_clear_error(coeo, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
