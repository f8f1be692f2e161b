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


@pytest.mark.django_db(transaction=True)
def test_the_timed_board_requests_run_past_postgresql_s_planning_phase():
    """bench_board times a worker's steady state: on PostgreSQL each statement of a page has been
    prepared (its sixth run) and planned five times more, after which the server keeps its choice.
    With three warm-up requests the timed ones were still being planned."""
    from django.db import connection

    from dealflow.management.commands import bench_board

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    connection.close()  # a new connection: no statement prepared yet
    urls = bench_board.generate(deals=40, companies=2, seed=1)
    board = {"user": urls["user"], "board, one company": urls["board, one company"]}
    bench_board.measure({"postgresql": bench_board.Pages(board)}, runs=2)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE '%%dealflow_deal%%' AND statement NOT LIKE '%%INSERT%%'"
        )
        plans = cursor.fetchall()
    assert plans, "the board's statements were not prepared"
    assert all(planned > 5 for _, planned in plans), [(sql[:80], planned) for sql, planned in plans]


class Recording:
    """A source for bench_board.measure that records what it is asked, in one log for all sources."""

    def __init__(self, log: list, vendor: str):
        self.log, self.vendor = log, vendor

    def names(self):
        return ["board", "panel"]

    def warm(self, name):
        self.log.append((self.vendor, "warm", name))

    def timed(self, name):
        self.log.append((self.vendor, "timed", name))
        return 10.0 if self.vendor == "sqlite" else 12.0

    def queries(self, name):
        return 7


def test_the_two_databases_are_timed_in_alternation_request_by_request():
    """This machine's speed changes in blocks of minutes: all of SQLite and then all of PostgreSQL
    put the two in different blocks, and the ratio measured the blocks."""
    from dealflow.management.commands.bench_board import measure

    log = []
    results = measure({"sqlite": Recording(log, "sqlite"), "postgresql": Recording(log, "postgresql")}, runs=3)

    assert log[:2] == [("sqlite", "warm", "board"), ("postgresql", "warm", "board")]
    timed = [(vendor, name) for vendor, kind, name in log if kind == "timed"]
    board = [("sqlite", "board"), ("postgresql", "board"), ("postgresql", "board"), ("sqlite", "board")]
    assert timed[:6] == [*board, ("sqlite", "board"), ("postgresql", "board")]
    assert results == {
        "sqlite": {"board": (10.0, 10.0, 7), "panel": (10.0, 10.0, 7)},
        "postgresql": {"board": (12.0, 12.0, 7), "panel": (12.0, 12.0, 7)},
    }


@pytest.mark.slow
@pytest.mark.django_db
def test_bench_board_compares_the_two_databases_on_real_children(capsys):
    """Two child processes, one per database, each on a new database of its own (dropped after)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("--compare-postgres needs a PostgreSQL server (scripts/with-postgres)")
    call_command("bench_board", "--deals", "60", "--companies", "2", "--runs", "2", "--compare-postgres")

    out = capsys.readouterr().out
    assert "Generated 60 deals" in out and "(sqlite)" in out and "(postgresql)" in out
    for request in ("board, all companies", "board, search", "load more (Lead)", "panel"):
        assert f"{request}: postgresql " in out, out
    with connection.cursor() as cursor:  # the throwaway PostgreSQL database is gone
        cursor.execute(
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'bench\\_board\\_%%' AND datname NOT LIKE '%%keep%%'"
        )
        assert cursor.fetchone() == (0,)
