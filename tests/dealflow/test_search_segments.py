"""SQLite's search index merged into one segment after a large write (search_index.merge_segments)
finds the same rows as before."""

import pytest
from django.db import connection, transaction

from dealflow.models import Deal, Organization, Person
from dealflow.search_index import found_ids, fts_table, merge_segments
from tests import factories as make

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL's pg_trgm indexes have no segments"),
]


def segments(model) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(DISTINCT segid) FROM {fts_table(model)}_idx")
        return cursor.fetchone()[0]


def test_merged_search_indexes_have_one_segment_and_find_the_same(coeo):
    for batch in range(4):  # a transaction each, as a sync writes company by company: a segment each
        with transaction.atomic():
            organization = make.organization(coeo.integration, f"Organisation {batch} AB")
            person = make.person(coeo.integration, f"Åsa Öberg {batch}")
            for number in range(3):
                make.deal(coeo.stages.lead, f"Licens {batch}-{number}", organization=organization, person=person)
    searched = [Deal, Organization, Person]
    assert all(segments(model) > 1 for model in searched)
    before = {q: found_ids(q) for q in ("organisation", "ÅSA ÖB", "licens 2", "sation 3 a", "nothing")}
    merge_segments()
    assert [segments(model) for model in searched] == [1, 1, 1]
    assert {q: found_ids(q) for q in before} == before
    assert len(before["organisation"]["organization_id"]) == 4 and len(before["licens 2"]["pk"]) == 3
