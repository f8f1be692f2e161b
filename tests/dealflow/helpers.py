import re

from django.urls import reverse


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
