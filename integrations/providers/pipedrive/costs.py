"""Token cost of each Pipedrive call, from the `x-token-cost` of each operation in the official
OpenAPI files (v2.yaml for /api/v2, v1.yaml for /v1). The client sums them per sync; the sandbox
charges them against its daily budget."""

from __future__ import annotations

import re

TOKEN_COSTS: dict[tuple[str, str], int] = {
    ("GET", "/api/v2/deals"): 10,
    ("POST", "/api/v2/deals"): 5,
    ("GET", "/api/v2/deals/{id}"): 1,
    ("PATCH", "/api/v2/deals/{id}"): 5,
    ("GET", "/api/v2/deals/archived"): 20,
    ("GET", "/api/v2/stages"): 5,
    ("GET", "/api/v2/pipelines"): 5,
    ("GET", "/api/v2/persons"): 10,
    ("POST", "/api/v2/persons"): 5,
    ("GET", "/api/v2/organizations"): 10,
    ("POST", "/api/v2/organizations"): 5,
    ("GET", "/api/v2/dealFields"): 10,
    ("GET", "/api/v2/activities"): 10,
    ("GET", "/v1/users"): 20,
    ("GET", "/v1/users/me"): 2,
    ("GET", "/api/v2/persons/{id}"): 1,
    ("GET", "/api/v2/organizations/{id}"): 1,
    ("GET", "/v1/webhooks"): 10,
    ("POST", "/v1/webhooks"): 10,
    ("DELETE", "/v1/webhooks/{id}"): 6,
    ("GET", "/v1/deals/{id}/changelog"): 20,
}

# Charged for a path missing from the table: the dearest list call, so budgets err on the safe side.
UNKNOWN_ENDPOINT_COST = 20

_NUMERIC_SEGMENT = re.compile(r"/\d+(?=/|$)")


def endpoint_template(path: str) -> str:
    """'/api/v2/deals/42' -> '/api/v2/deals/{id}'."""
    return _NUMERIC_SEGMENT.sub("/{id}", path.rstrip("/") or "/")


def token_cost(method: str, path: str) -> int:
    return TOKEN_COSTS.get((method.upper(), endpoint_template(path)), UNKNOWN_ENDPOINT_COST)
