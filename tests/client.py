"""How a test asks for a page and reads the answer, as a visitor would: signed in as a persona or not,
plainly or through htmx, reading the text a person sees and the rows of a table.

The personas themselves (olga, alice, bob, carol, dave, oscar) are fixtures in tests/conftest.py; each app's
URLs and page readers are in tests/<app>/pages.py.
"""

import html
import re
from urllib.parse import parse_qs, urlsplit

from django.urls import reverse

HTMX = {"HX-Request": "true"}  # the header htmx sends with every request it makes


def sign_in(client, request, persona: str | None) -> None:
    """Sign the test client in as the persona fixture named `persona`; None stays anonymous."""
    if persona is not None:
        client.force_login(request.getfixturevalue(persona))


def assert_sent_to_login(response, path: str) -> None:
    assert response.status_code == 302
    target = urlsplit(response.url)
    assert target.path == reverse("account_login")
    assert parse_qs(target.query)["next"] == [path]


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def text(response) -> str:
    """The page as a reader sees it: tags removed, entities decoded, whitespace collapsed."""
    words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())
    return re.sub(r" ([.,;:])", r"\1", words)


def table_rows(response, css_class: str) -> list[list[str]]:
    """The body rows of `<table class="…">`, each a list of its cells' text."""
    table = re.search(rf'<table class="{css_class}">.*?<tbody>(.*?)</tbody>', response.content.decode(), re.S)
    assert table, f"no table.{css_class}"
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1), re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        rows.append([" ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split()) for cell in cells])
    return rows


def form_data(response, **fields) -> dict[str, str]:
    """What a browser sends from the page's form: its hidden fields as the page gave them (the revision a draft
    editor started from, the digest a publish page showed), then the fields a person fills in."""
    page = response.content.decode()
    hidden = {}
    for tag in re.findall(r"<input[^>]*type=\"hidden\"[^>]*>", page):
        name, value = re.search(r'name="([^"]*)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and name.group(1) != "csrfmiddlewaretoken":
            hidden[html.unescape(name.group(1))] = html.unescape(value.group(1)) if value else ""
    return hidden | fields
