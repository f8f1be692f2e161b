import re

import pytest
from django.urls import reverse

from integrations.models import Integration
from portfolio.models import PortfolioCompany

from .conftest import SENTINEL_TOKEN

MANAGEMENT_FIELD = re.compile(r'name="([\w-]+-(?:TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS)" value="(\d+)"')


def inline_management_data(client, url) -> dict:
    """The inline formsets' management fields, as the browser would post them back."""
    return dict(MANAGEMENT_FIELD.findall(client.get(url).content.decode()))


def post_integration(client, url, company, **overrides):
    return client.post(url, {**inline_management_data(client, url), **integration_form_data(company, **overrides)})


def integration_form_data(company, **overrides):
    data = {
        "company": company.pk,
        "provider": "pipedrive",
        "company_domain": "coeo",
        "api_token": "",
        "api_base_url": "",
        "is_enabled": "on",
        "sync_interval_minutes": "15",
    }
    data.update(overrides)
    return data


def test_admin_pages_never_contain_the_token(admin_client, integration):
    pages = [
        reverse("admin:integrations_integration_changelist"),
        reverse("admin:integrations_integration_add"),
        reverse("admin:integrations_integration_change", args=[integration.pk]),
        reverse("admin:portfolio_portfoliocompany_change", args=[integration.company_id]),
        reverse("admin:portfolio_portfoliocompany_changelist"),
    ]
    for url in pages:
        body = admin_client.get(url).content.decode()
        assert SENTINEL_TOKEN not in body, url
    change = admin_client.get(pages[2]).content.decode()
    assert "••••••••" + SENTINEL_TOKEN[-4:] in change


def test_blank_token_on_edit_keeps_the_stored_token(admin_client, integration):
    url = reverse("admin:integrations_integration_change", args=[integration.pk])
    response = post_integration(admin_client, url, integration.company, sync_interval_minutes="30")
    assert response.status_code == 302, response.content.decode()[:2000]
    integration.refresh_from_db()
    assert integration.credentials["api_token"] == SENTINEL_TOKEN
    assert integration.sync_interval_minutes == 30


def test_new_token_replaces_the_stored_one(admin_client, integration):
    url = reverse("admin:integrations_integration_change", args=[integration.pk])
    post_integration(admin_client, url, integration.company, api_token="tok-new-1234")
    integration.refresh_from_db()
    assert integration.credentials["api_token"] == "tok-new-1234"


def test_bad_domain_is_a_form_error_and_keeps_the_rest(admin_client, integration):
    url = reverse("admin:integrations_integration_change", args=[integration.pk])
    response = post_integration(
        admin_client, url, integration.company, company_domain="not a domain!", sync_interval_minutes="45"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "lowercase letters, digits and hyphens" in body
    assert 'value="45"' in body
    assert SENTINEL_TOKEN not in body
    integration.refresh_from_db()
    assert integration.settings["company_domain"] == "coeo"


def test_pasted_url_is_normalised_to_the_domain(admin_client, company):
    response = post_integration(
        admin_client,
        reverse("admin:integrations_integration_add"),
        company,
        company_domain="https://Coeo.pipedrive.com/",
        api_token="tok-abc-9876",
    )
    assert response.status_code == 302
    created = Integration.objects.get(company=company)
    assert created.settings["company_domain"] == "coeo"
    assert created.credentials["api_token"] == "tok-abc-9876"


def test_new_integration_requires_a_token(admin_client, company):
    response = post_integration(admin_client, reverse("admin:integrations_integration_add"), company)
    assert response.status_code == 200
    assert "Paste the Pipedrive API token" in response.content.decode()
    assert not Integration.objects.exists()


def test_company_inline_adds_an_integration(admin_client):
    response = admin_client.post(
        reverse("admin:portfolio_portfoliocompany_add"),
        {
            "name": "Acme",
            "slug": "acme",
            "reporting_currency": "EUR",
            "website": "",
            "is_active": "on",
            "integrations-TOTAL_FORMS": "1",
            "integrations-INITIAL_FORMS": "0",
            "integrations-MIN_NUM_FORMS": "0",
            "integrations-MAX_NUM_FORMS": "1000",
            "integrations-0-provider": "pipedrive",
            "integrations-0-company_domain": "acme",
            "integrations-0-api_token": "tok-inline-5555",
            "integrations-0-api_base_url": "",
            "integrations-0-is_enabled": "on",
            "integrations-0-sync_interval_minutes": "15",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Integration.objects.get(company__slug="acme").credentials["api_token"] == "tok-inline-5555"


def test_changing_where_the_token_goes_needs_the_token_again(admin_client, integration, settings):
    url = reverse("admin:integrations_integration_change", args=[integration.pk])
    for change in ({"api_base_url": "http://127.0.0.1:8765"}, {"company_domain": "acme"}):
        response = post_integration(admin_client, url, integration.company, **change)
        assert response.status_code == 200
        assert "paste the token again" in response.content.decode()
        integration.refresh_from_db()
        assert (integration.settings["company_domain"], integration.settings.get("api_base_url", "")) == ("coeo", "")
    response = post_integration(
        admin_client, url, integration.company, api_base_url="http://127.0.0.1:8765", api_token=SENTINEL_TOKEN
    )
    assert response.status_code == 302
    integration.refresh_from_db()
    assert integration.settings["api_base_url"] == "http://127.0.0.1:8765"


@pytest.mark.parametrize("pasted", ["coeo-sandbox-token\u200b", "tok en", "tok\u00e9n", "tok\nen", "tok-abc<script>"])
def test_a_malformed_token_is_refused_with_a_clear_message(admin_client, integration, pasted):
    url = reverse("admin:integrations_integration_change", args=[integration.pk])
    response = post_integration(admin_client, url, integration.company, api_token=pasted)
    assert response.status_code == 200
    assert "That is not a Pipedrive API token" in response.content.decode()
    integration.refresh_from_db()
    assert integration.credentials["api_token"] == SENTINEL_TOKEN


def test_surrounding_whitespace_is_stripped(admin_client, integration):
    url = reverse("admin:integrations_integration_change", args=[integration.pk])
    response = post_integration(admin_client, url, integration.company, api_token="  tok-new-5678\t\n")
    assert response.status_code == 302
    integration.refresh_from_db()
    assert integration.credentials["api_token"] == "tok-new-5678"


def test_a_typed_token_comes_back_when_another_field_is_wrong(admin_client, integration):
    url = reverse("admin:integrations_integration_change", args=[integration.pk])
    response = post_integration(
        admin_client, url, integration.company, api_token="tok-typed-2468", sync_interval_minutes="0"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'value="tok-typed-2468"' in body  # what was typed, so the next save keeps it
    assert SENTINEL_TOKEN not in body  # never the stored one
    response = post_integration(admin_client, url, integration.company, sync_interval_minutes="0")
    assert SENTINEL_TOKEN not in response.content.decode()


def test_posted_tokens_are_hidden_from_error_reports(admin_client, integration):
    """The DEBUG page and error e-mails show POST data through this filter."""
    from django.views.debug import SafeExceptionReporterFilter

    for url in (
        reverse("admin:integrations_integration_change", args=[integration.pk]),
        reverse("admin:portfolio_portfoliocompany_change", args=[integration.company_id]),
    ):
        response = post_integration(admin_client, url, integration.company, api_token="tok-posted-1357")
        shown = SafeExceptionReporterFilter().get_post_parameters(response.wsgi_request)
        assert "tok-posted-1357" not in repr(dict(shown)), url


def test_a_company_may_not_take_a_page_name_as_its_slug(admin_client):
    """/dealflow/overview/ is the overview: a company slugged "overview" could never open its board."""
    response = admin_client.post(
        reverse("admin:portfolio_portfoliocompany_add"),
        {
            "name": "Overview AB",
            "slug": "overview",
            "reporting_currency": "SEK",
            "integrations-TOTAL_FORMS": "0",
            "integrations-INITIAL_FORMS": "0",
            "integrations-MIN_NUM_FORMS": "0",
            "integrations-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 200
    assert "is the name of a page; choose another slug" in response.content.decode()
    assert not PortfolioCompany.objects.filter(slug="overview").exists()
