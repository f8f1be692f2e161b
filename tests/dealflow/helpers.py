import re
from contextlib import contextmanager

from django.db import connection
from django.urls import reverse


@contextmanager
def executed_statements():
    """The (sql, params) of every statement sent to the database inside the block, in order; as
    Django sends them, parameters separate (CaptureQueriesContext gives only the SQL with them in)."""
    executed = []

    def record(execute, sql, params, many, context):
        executed.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield executed


def board_titles(response) -> dict[str, list[str]]:
    """Card titles per column key, as the board view rendered them."""
    return {column.key: [card.title for card in column.cards] for column in response.context["columns"]}


def column(response, key):
    return next(column for column in response.context["columns"] if column.key == key)


def page_text(response) -> str:
    """The page's text without tags, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def board_html(client, company) -> str:
    """A company's board page as text with its whitespace collapsed (and apostrophes unescaped)."""
    html = client.get(reverse("dealflow:company_board", args=[company.slug])).content.decode()
    return " ".join(html.replace("&#x27;", "'").split())
