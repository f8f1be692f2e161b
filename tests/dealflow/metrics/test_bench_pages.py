"""bench_metrics --pages: a page by its name or first word; an unknown name is an error (it used to
time nothing and print an empty table)."""

import pytest
from django.core.management.base import CommandError

from dealflow.management.commands.bench_metrics import chosen_pages

URLS = {"overview": "/o", "company metrics": "/c", "portfolio metrics": "/p"}


def test_pages_by_name_or_first_word():
    assert chosen_pages(URLS, "portfolio") == {"portfolio metrics": "/p"}
    assert chosen_pages(URLS, "company metrics, overview") == {"company metrics": "/c", "overview": "/o"}


def test_an_unknown_page_is_an_error():
    with pytest.raises(CommandError, match="No page 'portfolios'"):
        chosen_pages(URLS, "portfolio,portfolios")
