"""What a process keeps per connection (statements.kept): one rule, the least recently used going
first, for the board's compiled statements and the searched board's statements alike."""

from weakref import WeakKeyDictionary

import pytest
from django.db import connections

from dealflow import search_reads, statements
from dealflow.models import Deal


def test_kept_builds_once_per_key_and_lets_the_least_recently_used_go():
    store, built = WeakKeyDictionary(), []

    def build(value):
        def make(connection_):
            assert connection_ is connections["default"]
            built.append(value)
            return value

        return make

    assert statements.kept(store, 2, "a", build("A")) == "A"
    assert statements.kept(store, 2, "b", build("B")) == "B"
    assert statements.kept(store, 2, "a", build("not built")) == "A"  # kept: "a" now the most recent
    assert statements.kept(store, 2, "c", build("C")) == "C"  # "b" goes, the least recently used
    assert list(store[connections["default"]]) == ["a", "c"]
    assert statements.kept(store, 2, "b", build("B again")) == "B again"
    assert built == ["A", "B", "C", "B again"]


def test_kept_keeps_no_none_but_keeps_other_falsy_values():
    store, built = WeakKeyDictionary(), []

    def build(value):
        def make(connection_):
            built.append(value)
            return value

        return make

    assert statements.kept(store, 4, "none", build(None)) is None
    assert statements.kept(store, 4, "none", build(None)) is None  # built again: nothing was kept
    assert statements.kept(store, 4, "empty", build(())) == ()
    assert statements.kept(store, 4, "empty", build("not built")) == ()
    assert built == [None, None, ()]


@pytest.mark.django_db
@pytest.mark.parametrize("module", [statements, search_reads])
def test_both_kinds_of_statement_are_kept_by_the_one_rule(module, monkeypatch):
    """statements' compilers and search_reads' searched boards go through statements.kept, each in
    its own store and with its own size."""
    calls = []
    kept = statements.kept

    def spy(store, size, key, build):
        calls.append((store, size))
        return kept(store, size, key, build)

    monkeypatch.setattr(statements, "kept", spy)
    monkeypatch.setattr(module, "_kept", WeakKeyDictionary())
    if module is statements:
        assert statements._kept_compiler(("test.kept",), Deal.objects.none, ()) is statements.EMPTY
        size = statements.SIZE
    else:
        assert search_reads._kept_statement(("test.kept",), lambda text, moment: None, "text", None) is None
        size = search_reads.KEPT_AT_MOST
    assert calls == [(module._kept, size)]
