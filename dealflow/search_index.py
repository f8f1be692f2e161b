"""The board's text search through an index instead of a scan of every deal's title.

A deal matches a search when its title, its organization's name or its person's name contains the
text, ignoring case (Unicode case: "öre" finds "Örebro"). `plain_matches` says it as a scan;
`matches` answers the same through an index, as a subquery of the matching deals' ids:

- PostgreSQL: pg_trgm GIN indexes on UPPER(title) and the names (migration 0015). The predicates
  are the scan's own (Django's icontains: UPPER(col) LIKE UPPER(pattern)), the index only finds
  the candidate rows and PostgreSQL rechecks each, so the two cannot differ.
- SQLite: FTS5 tables with the trigram tokenizer (case folded, accents kept) over the titles and
  the names, rowid = the row's id, kept in step by triggers in the transaction of every write
  (migration 0015). A quoted phrase of three or more characters matches exactly the rows that
  contain it. SQLite's LIKE folds ASCII only, so its scan (`plain_matches`) tries each casing of
  the text's other letters; searches of one or two characters, which have no trigram, run on it.
"""

from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, F, Func, Q, Subquery
from django.db.models.expressions import RawSQL

from dealflow.models import Deal, Organization, Person

SHORTEST_INDEXED = 3  # characters: a trigram


def fts_table(model) -> str:
    return f"{model._meta.db_table}_search"


def matches(q: str, integration_ids: list[int]) -> Q:
    """Deals whose title, organization or person contains `q` (any case), through the index."""
    if connection.vendor != "sqlite":
        return any_case(q, "title") | _any_of(Organization, q, integration_ids) | _any_of(Person, q, integration_ids)
    if len(q) < SHORTEST_INDEXED:
        return plain_matches(q, integration_ids)
    branches = [f"SELECT rowid FROM {fts_table(Deal)} WHERE {fts_table(Deal)} MATCH %s"]
    for model, key in ((Organization, "organization_id"), (Person, "person_id")):
        found = f"SELECT rowid FROM {fts_table(model)} WHERE {fts_table(model)} MATCH %s"
        branches.append(f"SELECT id FROM {Deal._meta.db_table} WHERE {key} IN ({found})")
    phrase = '"' + q.replace('"', '""') + '"'
    return Q(pk__in=RawSQL(" UNION ALL ".join(branches), [phrase] * len(branches)))


def _any_of(model, q: str, integration_ids: list[int]) -> Q:
    """PostgreSQL: the deal's organization (or person) is one of those whose name contains `q`, as
    `= ANY(ARRAY(subquery))`: the subquery runs once, and each of the three conditions can use its
    index (a BitmapOr), whatever the planner thinks of the tables' sizes; `IN (subquery)` became a
    semi join that PostgreSQL, on tables it had not analyzed yet, re-ran for every deal."""
    named = model.objects.filter(any_case(q, "name"), integration_id__in=integration_ids).order_by().values("id")
    key = "organization_id" if model is Organization else "person_id"
    any_of = Func(F(key), Subquery(named), arg_joiner=" = ANY(ARRAY(", template="%(expressions)s))")
    return Q(ExpressionWrapper(any_of, output_field=BooleanField()))


def plain_matches(q: str, integration_ids: list[int]) -> Q:
    """The same as a scan: what `matches` must always equal. The organizations and persons are
    searched once each, in subqueries, rather than joined to every deal."""

    def named(model):
        return model.objects.filter(any_case(q, "name"), integration_id__in=integration_ids).values("id")

    return any_case(q, "title") | Q(organization_id__in=named(Organization)) | Q(person_id__in=named(Person))


def any_case(q: str, field: str) -> Q:
    """`field` contains `q` ignoring case. PostgreSQL's UPPER folds every letter; SQLite's LIKE only
    ASCII ones, so there each casing of the text's other letters is tried (the board searches only
    one or two characters this way; longer texts go through the index)."""
    if connection.vendor != "sqlite":
        return Q(**{f"{field}__icontains": q})
    contains = Q()
    for variant in casings(q):
        contains |= Q(**{f"{field}__icontains": variant})
    return contains


def casings(q: str) -> set[str]:
    """`q` with each of its non-ASCII letters in either case: 2 ** (number of such letters) texts."""
    variants = {""}
    for char in q:
        cases = {char} if char.isascii() else {char.lower(), char.upper()}
        variants = {variant + case for variant in variants for case in cases}
    return variants
