"""bench_metrics --pages: a page by its name or first word; an unknown name is an error (it used to
time nothing and print an empty table); --runs below 2 is an error before anything is generated."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dealflow.management.commands.bench_metrics import chosen_pages

URLS = {"overview": "/o", "company metrics": "/c", "portfolio metrics": "/p"}


def test_pages_by_name_or_first_word():
    assert chosen_pages(URLS, "portfolio") == {"portfolio metrics": "/p"}
    assert chosen_pages(URLS, "company metrics, overview") == {"company metrics": "/c", "overview": "/o"}


def test_an_unknown_page_is_an_error():
    with pytest.raises(CommandError, match="No page 'portfolios'"):
        chosen_pages(URLS, "portfolio,portfolios")


@pytest.mark.parametrize("command", ["bench_board", "bench_metrics"])
@pytest.mark.parametrize("runs", ["1", "0", "-3", "many"])
def test_too_few_timed_runs_is_a_clear_error_before_any_data_is_generated(command, runs):
    """It used to generate the data for minutes and then fail on the 95th percentile of one timing."""
    with pytest.raises(CommandError, match="--runs"):
        call_command(command, "--runs", runs, "--deals", "10")


def test_the_95th_percentile_of_a_few_timings_is_never_above_the_slowest():
    """Ten timings with one slow: the default quantiles method gave 90 + 0.45 x 40 = 108 ms."""
    from dealflow.management.commands.bench_board import p95

    timings = [50.0] * 9 + [90.0]
    assert p95(timings) <= 90.0
    assert p95([float(n) for n in range(1, 21)]) == pytest.approx(19.05)
