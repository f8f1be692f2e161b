"""The overview, company and portfolio metrics pages and their CSV: content, access as on the board,
the period in the URL, sorting and bad input."""

import csv
import io

import pytest
from django.urls import reverse

from dealflow.metrics.period import period_from
from dealflow.metrics.report import build
from tests.dealflow.conftest import PASSWORD
from tests.dealflow.metrics import dataset

pytestmark = pytest.mark.django_db

PERIOD = "since=2026-01-01&until=2026-03-31"


@pytest.fixture
def data(coeo, nordic):
    return dataset.build(coeo, nordic)


def get(client, name, *args, query=PERIOD):
    return client.get(f"{reverse(name, args=args)}?{query}")


def rows_of(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_overview_lists_each_company_with_stage_cells_linking_to_the_board(client, staff, data):
    client.force_login(staff)
    response = get(client, "dealflow:overview")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'href="/dealflow/coeo/#column-proposal"' in html
    assert 'href="/dealflow/nordic/#column-lead"' in html
    assert "Portfolio total" in html
    assert "2 Mar 2026" in html  # the rates' day is stated
    assert "XYZ" in html  # the amounts without a rate, listed apart
    assert "data:image/svg+xml;base64," in html  # server-side charts
    assert "How this is computed" in html


def test_overview_sorts_by_any_column(client, staff, data):
    client.force_login(staff)
    ascending = get(client, "dealflow:overview", query=f"{PERIOD}&sort=company&dir=asc").content.decode()
    descending = get(client, "dealflow:overview", query=f"{PERIOD}&sort=company&dir=desc").content.decode()
    assert ascending.index("/dealflow/coeo/metrics/") < ascending.index("/dealflow/nordic/metrics/")
    assert descending.index("/dealflow/nordic/metrics/") < descending.index("/dealflow/coeo/metrics/")
    assert 'aria-sort="descending"' in descending
    assert get(client, "dealflow:overview", query=f"{PERIOD}&sort=nonsense").status_code == 200


def test_company_metrics_page_shows_the_formulas_numbers(client, staff, data):
    client.force_login(staff)
    html = get(client, "dealflow:company_metrics", "coeo").content.decode()
    assert "60%" in html  # win rate 3 of 5
    assert "SEK\u00a04,000" in html  # won value (a non-breaking space)
    assert 'href="/dealflow/coeo/"' in html  # back to its board
    nordic = get(client, "dealflow:company_metrics", "nordic").content.decode()
    assert "Win rate</dt><dd>—</dd>" in nordic  # nothing closed: a dash, never 0 %


def test_the_board_links_to_the_company_metrics(client, staff, data):
    client.force_login(staff)
    assert (
        'href="/dealflow/coeo/metrics/"'
        in client.get(reverse("dealflow:company_board", args=["coeo"])).content.decode()
    )


def test_portfolio_page_compares_companies(client, staff, data):
    client.force_login(staff)
    html = get(client, "dealflow:portfolio_metrics").content.decode()
    assert "Companies compared" in html
    assert html.count("/dealflow/coeo/metrics/") >= 1 and "/dealflow/nordic/metrics/" in html


def test_csv_exports_match_the_report(client, staff, data, coeo, nordic):
    client.force_login(staff)
    lines = rows_of(get(client, "dealflow:portfolio_metrics_csv"))
    assert "converted to SEK, ECB rates of 2026-03-02" in lines[0][2]
    by_company = {line[0]: line for line in lines[1:]}
    assert set(by_company) == {"Coeo", "Nordic Tools", "Portfolio total"}
    report = build([coeo.company, nordic.company], period_from(since="2026-01-01", until="2026-03-31"), "SEK")
    assert by_company["Coeo"][4] == f"{report.by_company['coeo']['won']['value']:.2f}" == "4000.00"
    assert by_company["Coeo"][6] == "0.6"
    assert by_company["Nordic Tools"][6] == ""  # no win rate
    company = rows_of(get(client, "dealflow:company_metrics_csv", "coeo"))
    assert len(company) == 2 and company[1][0] == "Coeo"
    overview = rows_of(get(client, "dealflow:overview_csv"))
    assert overview[-1][0] == "Portfolio total"
    chart = rows_of(get(client, "dealflow:company_metrics_csv", "coeo", query=f"{PERIOD}&table=won_by_month"))
    assert ["2026-02", "2000.00"] in chart


@pytest.mark.parametrize(
    "query", ["days=7", "days=abc", "since=2026-02-30", "since=2026-03-01&until=2026-01-01", "since=0001-01-01"]
)
def test_a_bad_period_gets_a_clear_answer(client, staff, data, query):
    client.force_login(staff)
    response = get(client, "dealflow:company_metrics", "coeo", query=query)
    assert response.status_code == 400
    assert "Showing the last 90 days instead." in response.content.decode()
    assert get(client, "dealflow:company_metrics_csv", "coeo", query=query).status_code == 400


def test_an_unknown_chart_table_is_a_400(client, staff, data):
    client.force_login(staff)
    assert get(client, "dealflow:portfolio_metrics_csv", query=f"{PERIOD}&table=nope").status_code == 400


def test_anonymous_users_are_sent_to_log_in(client, data):
    for name, args in [
        ("dealflow:overview", []),
        ("dealflow:overview_csv", []),
        ("dealflow:portfolio_metrics", []),
        ("dealflow:portfolio_metrics_csv", []),
        ("dealflow:company_metrics", ["coeo"]),
        ("dealflow:company_metrics_csv", ["coeo"]),
    ]:
        response = client.get(reverse(name, args=args))
        assert response.status_code == 302 and response.url.startswith("/login/")


def test_a_viewer_sees_only_their_companies(client, viewer, data, nordic):
    client.force_login(viewer)
    assert get(client, "dealflow:company_metrics", "nordic").status_code == 404
    assert get(client, "dealflow:company_metrics_csv", "nordic").status_code == 404
    html = get(client, "dealflow:portfolio_metrics").content.decode()
    assert "Nordic" not in html
    lines = rows_of(get(client, "dealflow:portfolio_metrics_csv"))
    assert [line[0] for line in lines[1:]] == ["Coeo", "Portfolio total"]


def test_an_outsider_sees_no_company(client, outsider, data):
    client.force_login(outsider)
    assert get(client, "dealflow:company_metrics", "coeo").status_code == 404
    html = get(client, "dealflow:overview").content.decode()
    assert "No companies to show." in html and "Coeo" not in html


def test_one_company_users_land_on_their_board_many_company_users_on_the_overview(client, viewer, view_all_user, data):
    response = client.post(reverse("login"), {"username": "petra", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/dealflow/coeo/"
    client.logout()
    response = client.post(reverse("login"), {"username": "vera", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/dealflow/overview/"
    assert "Portfolio overview" in response.content.decode()
