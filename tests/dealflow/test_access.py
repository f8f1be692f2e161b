"""Who may see which company's board, panel, export and sync."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.urls import reverse

from dealflow.access import may_write
from tests import factories as make
from tests.dealflow.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def coeo_deal(coeo):
    return make.deal(coeo.stages.lead, "Coeo lead")


def company_urls(company, deal=None):
    slug = company.slug
    urls = [
        reverse("dealflow:company_board", args=[slug]),
        reverse("dealflow:company_column", args=[slug, "lead"]),
        reverse("dealflow:company_export", args=[slug]),
        reverse("dealflow:sync_status", args=[slug]),
    ]
    if deal:
        urls.append(reverse("dealflow:deal", args=[slug, deal.remote_id]))
    return urls


@pytest.mark.parametrize("name", ["dealflow:board", "dealflow:export"])
def test_anonymous_users_are_sent_to_the_login_page(client, name):
    url = reverse(name)

    response = client.get(url)

    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"


def test_anonymous_company_page_redirects_too(client, coeo_deal, coeo):
    for url in company_urls(coeo.company, coeo_deal):
        assert client.get(url).status_code == 302


def test_login_page_logs_in_and_lands_on_the_board(client, viewer):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert 'name="username"' in page.content.decode()

    response = client.post(reverse("login"), {"username": "petra", "password": PASSWORD})

    assert response.status_code == 302 and response.url == "/dealflow/overview/"  # then on to their board


def test_logout_is_a_post_from_the_header(client, viewer):
    client.force_login(viewer)

    html = client.get(reverse("dealflow:board"), follow=True).content.decode()

    assert f'action="{reverse("logout")}"' in html and 'method="post"' in html
    assert client.post(reverse("logout")).status_code == 302


def test_viewer_sees_only_their_companies(client, viewer, coeo, coeo_deal, nordic):
    nordic_deal = make.deal(nordic.lead, "Nordic lead", currency="EUR")
    client.force_login(viewer)

    for url in company_urls(coeo.company, coeo_deal):
        assert client.get(url).status_code == 200, url
    for url in company_urls(nordic.company, nordic_deal):
        assert client.get(url).status_code == 404, url
    board = client.get(reverse("dealflow:board"), follow=True)
    assert [company.slug for company in board.context["scope"].companies] == ["coeo"]
    assert "Nordic lead" not in board.content.decode()
    assert "Coeo lead" in board.content.decode()


def test_a_deal_of_another_company_is_404_under_a_visible_company(client, viewer, coeo, nordic):
    nordic_deal = make.deal(nordic.lead, "Nordic lead")
    client.force_login(viewer)

    assert client.get(reverse("dealflow:deal", args=[coeo.company.slug, nordic_deal.remote_id])).status_code == 404


def test_other_users_get_404_and_an_empty_portfolio(client, outsider, coeo, coeo_deal):
    client.force_login(outsider)

    for url in company_urls(coeo.company, coeo_deal):
        assert client.get(url).status_code == 404, url
    board = client.get(reverse("dealflow:board"))
    assert board.status_code == 200
    assert "Coeo lead" not in board.content.decode()


@pytest.mark.parametrize("who", ["staff", "view_all_user"])
def test_staff_and_view_all_users_see_every_company(request, client, who, coeo, coeo_deal, nordic):
    client.force_login(request.getfixturevalue(who))

    for url in company_urls(coeo.company, coeo_deal) + company_urls(nordic.company):
        assert client.get(url).status_code == 200, url


def test_inactive_companies_are_off_the_board(client, staff, coeo, coeo_deal):
    coeo.company.is_active = False
    coeo.company.save()
    client.force_login(staff)

    assert client.get(reverse("dealflow:company_board", args=[coeo.company.slug])).status_code == 404


def test_sync_now_is_404_for_a_company_the_user_may_not_see(client, outsider, viewer, coeo, nordic):
    """Resolve the company before the staff check: a 403 would confirm that the company exists."""
    client.force_login(outsider)
    assert client.post(reverse("dealflow:sync", args=[coeo.company.slug])).status_code == 404
    assert client.post(reverse("dealflow:sync", args=["no-such-company"])).status_code == 404

    client.force_login(viewer)
    assert client.post(reverse("dealflow:sync", args=[nordic.company.slug])).status_code == 404
    assert client.post(reverse("dealflow:sync", args=[coeo.company.slug])).status_code == 403


def test_htmx_requests_of_an_expired_session_redirect_the_whole_page_to_login(client, coeo_deal, coeo):
    """A 302 would make htmx swap the login page into the column, the panel or the sync status."""
    board_url = reverse("dealflow:company_board", args=[coeo.company.slug]) + "?q=acme"
    headers = {"HX-Request": "true", "HX-Current-URL": f"http://testserver{board_url}"}

    def redirects_to_login(response):
        target = urlsplit(response["HX-Redirect"])
        return (
            response.status_code == 200
            and target.path == reverse("login")
            and parse_qs(target.query) == {"next": [board_url]}
        )

    for url in company_urls(coeo.company, coeo_deal):
        assert redirects_to_login(client.get(url, headers=headers)), url
    assert redirects_to_login(client.post(reverse("dealflow:sync", args=[coeo.company.slug]), headers=headers))
    assert client.get(reverse("dealflow:company_board", args=[coeo.company.slug])).status_code == 302  # not htmx


def test_a_user_who_may_see_one_company_lands_on_its_board(client, viewer, coeo, nordic):
    client.force_login(viewer)

    response = client.get(reverse("dealflow:board"), {"q": "acme"})

    assert response.status_code == 302
    assert response.url == reverse("dealflow:company_board", args=[coeo.company.slug]) + "?q=acme"


def test_users_with_more_companies_land_on_all_companies(client, viewer, coeo, nordic):
    nordic.company.viewers.add(viewer)
    client.force_login(viewer)

    response = client.get(reverse("dealflow:board"))

    assert response.status_code == 200 and response.context["scope"].company is None


def test_who_may_change_a_company_costs_staff_no_query_and_others_one(
    staff, viewer, coeo, nordic, django_assert_num_queries
):
    editor = User.objects.create_user("edda")
    coeo.company.editors.add(editor)

    with django_assert_num_queries(0):  # staff may change every company: editable_by filters none out
        assert may_write(staff, coeo.company) and may_write(staff, nordic.company)
    with django_assert_num_queries(1):  # once per request, kept on the user
        assert may_write(editor, coeo.company) and not may_write(editor, nordic.company)
    with django_assert_num_queries(1):
        assert not may_write(viewer, coeo.company) and not may_write(viewer, nordic.company)
    with django_assert_num_queries(0):
        assert not may_write(AnonymousUser(), coeo.company)
