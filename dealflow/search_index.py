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

import json
from functools import reduce
from operator import or_

from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

from dealflow.models import Deal, Organization, Person

SHORTEST_INDEXED = 3  # characters: a trigram
NAMED = [(Organization, "organization_id"), (Person, "person_id")]  # the deal's named relations


def fts_table(model) -> str:
    return f"{model._meta.db_table}_search"


def matches(q: str, integration_ids: list[int]) -> Q:
    """Deals whose title, organization or person contains `q` (any case), through the index."""
    if connection.vendor != "sqlite" or len(q) < SHORTEST_INDEXED:
        return reduce(or_, branches(q, integration_ids).values())
    deals = Deal._meta.db_table
    deal_ids = [_found(Deal), *(f"SELECT id FROM {deals} WHERE {key} IN ({_found(model)})" for model, key in NAMED)]
    return Q(pk__in=RawSQL(" UNION ALL ".join(deal_ids), [_phrase(q)] * len(deal_ids)))


def branches(
    q: str, integration_ids: list[int], found: dict[str, list[int]] | None = None, *, looked_up: bool = False
) -> dict[str, Q]:
    """The ways a deal matches `q`, through the index, by the deal's key they test: its
    organization's name, its person's name, its title (`matches` is any of them; search_reads reads
    each off its own index). With `found` (SQLite: `found_ids`), the matching organizations,
    persons and deals are those ids, and a key without any is left out. With `looked_up`
    (PostgreSQL), the matching organizations and persons are read from `named_lookups`' CTEs,
    which the statement must define."""
    if connection.vendor != "sqlite":
        named = {key: _any_of(model, q, integration_ids, looked_up) for model, key in NAMED}
        return {**named, "pk": any_case(q, "title")}
    if len(q) < SHORTEST_INDEXED:
        return plain_branches(q, integration_ids)
    phrase = _phrase(q)
    searched = {key: Q(**{f"{key}__in": RawSQL(_found(model), [phrase])}) for model, key in [*NAMED, (Deal, "pk")]}
    if found is None:
        return searched
    # Ids when they are few; a key with very many (a text in most titles) keeps its index lookup.
    return {
        key: searched[key] if len(ids) > FOUND_AT_MOST else Q(**{f"{key}__in": RawSQL(IN_JSON, [json.dumps(ids)])})
        for key, ids in found.items()
        if ids
    }


def found_ids(q: str) -> dict[str, list[int]] | None:
    """SQLite, three characters or more: the ids of the organizations and of the persons whose name
    and of the deals whose title contains `q`, by the deal's key ({"organization_id": [...],
    "person_id": [...], "pk": [...]}), in one query (None otherwise). A phrase whose trigrams every
    name shares ("organisation 12") reads those trigrams' whole lists: search_reads looks it up once
    per board rather than once per query."""
    if connection.vendor != "sqlite" or len(q) < SHORTEST_INDEXED:
        return None
    searched = [*NAMED, (Deal, "pk")]
    found = {key: [] for _, key in searched}
    limit = FOUND_AT_MOST + 1  # one more says "too many" (`branches`)
    sql = " UNION ALL ".join(
        f"SELECT * FROM (SELECT %s, rowid FROM ({_found(model)}) LIMIT {limit})" for model, _ in searched
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [param for _, key in searched for param in (key, _phrase(q))])
        for key, found_id in cursor.fetchall():
            found[key].append(found_id)
    return found


IN_JSON = "SELECT value FROM json_each(%s)"  # SQLite: a list of any length as one parameter
FOUND_AT_MOST = 20_000


def merge_segments() -> None:
    """SQLite: each search index merged into one segment (FTS5's 'optimize'), for after a large
    write, as ANALYZE is. Every write transaction adds a segment and FTS5 merges them only by and
    by, and a phrase whose trigrams every name shares ("organisation 12") reads those trigrams'
    whole lists segment by segment: at 400,000 deals written a company at a time, the names' lookup
    took 30-60 ms in seven segments and 2-3 ms in one. About a second at 400,000 deals."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for model in (Deal, Organization, Person):
            cursor.execute(f"INSERT INTO {fts_table(model)} ({fts_table(model)}) VALUES ('optimize')")


def _found(model) -> str:
    """SQLite: the ids of `model`'s rows whose text contains the phrase (one parameter)."""
    return f"SELECT rowid FROM {fts_table(model)} WHERE {fts_table(model)} MATCH %s"


def _phrase(q: str) -> str:
    """`q` as an FTS5 phrase: quoted, its quotes doubled; the trigram tokenizer matches a phrase of
    three or more characters as a substring."""
    return '"' + q.replace('"', '""') + '"'


def named_lookups(q: str, integration_ids: list[int]) -> tuple[str, list]:
    """PostgreSQL: (sql, params) of a WITH clause that looks up the organizations and the persons
    whose name contains `q` once each, for `branches(..., looked_up=True)`. Each lookup is repeated
    in the branches after its own (to leave out the deals it found), and as a subquery there it ran
    again in each (at 400,000 deals, "n 12": 0.7 ms an organizations' lookup; "organisation 12",
    whose trigrams every name shares: 3 ms)."""
    lookups = [(_lookup(model), *_named(model, q, integration_ids)) for model, _ in NAMED]
    sql = ", ".join(f"{name} AS MATERIALIZED ({lookup})" for name, lookup, _ in lookups)
    return f"WITH {sql}", [param for _, _, params in lookups for param in params]


def _lookup(model) -> str:
    return f"search_{model._meta.model_name}"


def _named(model, q: str, integration_ids: list[int]) -> tuple[str, tuple]:
    """(sql, params): the ids of `model`'s rows (organizations or persons) whose name contains `q`."""
    named = model.objects.filter(any_case(q, "name"), integration_id__in=integration_ids).order_by().values("id")
    return named.query.sql_with_params()


def _any_of(model, q: str, integration_ids: list[int], looked_up: bool) -> Q:
    """PostgreSQL: the deal's organization (or person) is one of those whose name contains `q`, as
    `= ANY(ARRAY(subquery))`: the subquery runs once, and each of the three conditions can use its
    index (a BitmapOr), whatever the planner thinks of the tables' sizes; `IN (subquery)` became a
    semi join that PostgreSQL, on tables it had not analyzed yet, re-ran for every deal. Compiled
    here, once: search_reads repeats each condition in the branches after it (to leave out what it
    found), and a Subquery was resolved and compiled again each time (the matching union's Python
    at 400,000 deals: 243k function calls that way, 156k this way). With `looked_up`, the subquery
    reads `named_lookups`' CTE."""
    sql, params = (f"SELECT id FROM {_lookup(model)}", ()) if looked_up else _named(model, q, integration_ids)
    key = dict(NAMED)[model]
    column = ".".join(map(connection.ops.quote_name, (Deal._meta.db_table, key)))
    condition = Q(RawSQL(f"{column} = ANY(ARRAY({sql}))", params, output_field=BooleanField()))
    # The branches after this one leave its deals out: negated, `= ANY(array)` compares a deal with
    # every element in turn (the array is no constant, so it is never hashed), and `IN (subquery)`
    # looks it up in a hashed SubPlan. At 400,000 deals, "n 12" (888 organizations, 4,279 deals
    # whose person matches): the persons' branch 27 -> 5 ms.
    condition.among = Q(**{f"{key}__in": RawSQL(sql, params)})
    return condition


def plain_matches(q: str, integration_ids: list[int]) -> Q:
    """The same as a scan: what `matches` must always equal."""
    return reduce(or_, plain_branches(q, integration_ids).values())


def plain_branches(q: str, integration_ids: list[int]) -> dict[str, Q]:
    """`branches` as scans. The organizations and persons are searched once each, in subqueries,
    rather than joined to every deal."""

    def named(model):
        return model.objects.filter(any_case(q, "name"), integration_id__in=integration_ids).values("id")

    return {**{key: Q(**{f"{key}__in": named(model)}) for model, key in NAMED}, "pk": any_case(q, "title")}


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
