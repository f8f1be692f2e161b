"""Sandbox responses match the official Pipedrive OpenAPI files (nulls allowed, all else strict)."""

from __future__ import annotations

import httpx
import jsonschema
import pytest

from integrations.providers.pipedrive.costs import TOKEN_COSTS
from integrations.providers.pipedrive.sandbox import DEFAULT_TOKEN

from .openapi_schema import response_schema

V2_LISTS = [
    "/deals",
    "/deals/archived",
    "/stages",
    "/pipelines",
    "/persons",
    "/organizations",
    "/dealFields",
    "/activities",
]


@pytest.fixture
def http(sandbox):
    with httpx.Client(
        base_url="https://coeo.pipedrive.com", transport=sandbox.transport(), headers={"x-api-token": DEFAULT_TOKEN}
    ) as client:
        yield client


def check(document, path, method, body, status="200"):
    validator = jsonschema.Draft7Validator(
        response_schema(document, path, method, status), format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(body), key=lambda error: list(error.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


@pytest.mark.parametrize("path", V2_LISTS)
def test_v2_lists_match_the_spec(pipedrive_openapi, http, path):
    query = {"limit": 100, "status": "open,won,lost,deleted"} if path.startswith("/deals") else {"limit": 100}
    response = http.get(f"/api/v2{path}", params=query)
    assert response.status_code == 200
    assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= set(response.headers)
    body = response.json()
    assert body["data"], "a page with records validates the record schema too"
    check(pipedrive_openapi["v2"], path, "get", body)


def test_last_page_has_null_next_cursor(pipedrive_openapi, http):
    body = http.get("/api/v2/pipelines").json()
    assert body["additional_data"] == {"next_cursor": None}
    check(pipedrive_openapi["v2"], "/pipelines", "get", body)


def test_single_deal_and_patch_match_the_spec(pipedrive_openapi, http):
    check(pipedrive_openapi["v2"], "/deals/{id}", "get", http.get("/api/v2/deals/3").json())
    patched = http.patch("/api/v2/deals/3", json={"title": "Renamed", "stage_id": 4})
    assert patched.json()["data"]["title"] == "Renamed"
    check(pipedrive_openapi["v2"], "/deals/{id}", "patch", patched.json())


def test_created_deal_matches_the_spec(pipedrive_openapi, http):
    created = http.post("/api/v2/deals", json={"title": "Ny affär", "value": 1000})
    assert created.status_code == 200
    check(pipedrive_openapi["v2"], "/deals", "post", created.json())


@pytest.mark.parametrize("path", ["/users", "/users/me"])
def test_v1_users_match_the_spec(pipedrive_openapi, http, path):
    check(pipedrive_openapi["v1"], path, "get", http.get(f"/v1{path}").json())


def test_unauthorized_body_matches_the_spec(pipedrive_openapi, sandbox):
    with httpx.Client(base_url="https://x.pipedrive.com", transport=sandbox.transport()) as anonymous:
        response = anonymous.get("/v1/users/me")
    assert response.status_code == 401
    check(pipedrive_openapi["v1"], "/users/me", "get", response.json(), status="401")


def test_token_costs_match_the_spec(pipedrive_openapi):
    for (method, path), cost in TOKEN_COSTS.items():
        version, _, spec_path = path.removeprefix("/").partition("/")
        document = pipedrive_openapi["v1" if version == "v1" else "v2"]
        spec_path = "/" + (spec_path.removeprefix("v2/") if version == "api" else spec_path)
        operation = document["paths"][spec_path][method.lower()]
        assert operation["x-token-cost"] == cost, (method, path)


def test_the_schema_check_is_strict(pipedrive_openapi, http):
    body = http.get("/api/v2/stages").json()
    body["data"][0]["order_nr"] = "first"
    with pytest.raises(AssertionError):
        check(pipedrive_openapi["v2"], "/stages", "get", body)
    body = http.get("/api/v2/stages").json()
    body["data"][0]["invented"] = 1
    with pytest.raises(AssertionError):
        check(pipedrive_openapi["v2"], "/stages", "get", body)
