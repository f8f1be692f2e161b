"""The deals table keeps no index that another one already serves: every deal write (a full sync
writes 100,000) pays for each index, so a redundant one is pure cost (migrations 0020, 0023)."""

import pytest
from django.db import connection

from dealflow.models import Deal

pytestmark = pytest.mark.django_db


def deal_indexes() -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Deal._meta.db_table)
    return {name: info["columns"] for name, info in constraints.items() if info["index"] and not info["primary_key"]}


def test_organization_and_person_are_looked_up_through_the_search_indexes_alone():
    indexes = deal_indexes()
    assert indexes["deal_organization_search_idx"][0] == "organization_id"
    assert indexes["deal_person_search_idx"][0] == "person_id"
    assert ["organization_id"] not in indexes.values()
    assert ["person_id"] not in indexes.values()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL's INCLUDE index covers where the other cannot")
def test_on_sqlite_no_index_is_a_prefix_of_another():
    indexes = deal_indexes()
    prefixes = [
        (name, other)
        for name, columns in indexes.items()
        for other, other_columns in indexes.items()
        if name != other and columns and other_columns[: len(columns)] == columns and len(columns) < len(other_columns)
    ]
    # Single-column foreign-key indexes (owner, pipeline, stage) are left to Django.
    assert [pair for pair in prefixes if len(indexes[pair[0]]) > 1] == []


def test_the_open_deals_are_read_from_their_totals_not_a_covering_index():
    """The forecast and hygiene read dealflow_dealopentotal and deal_open_close_idx; the nine-column
    index they used to read off is gone (no read used it: EXPLAIN on SQLite, index scans counted on
    PostgreSQL over every page, the export and the daily snapshot)."""
    indexes = deal_indexes()
    assert "deal_open_close_idx" in indexes
    assert "deal_open_cover_idx" not in indexes
