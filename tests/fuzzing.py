"""Hostile input for the property-based tests of the forms, and the checks every answer must pass.

A form posted through its real URL answers in one of two ways: it accepts the input and stores
exactly what was sent, or it refuses it with a message a person can read, shown on the page they
land on, and nothing in the database changes. Never a 500. `mutated` draws a valid submission
and then breaks it a few times (a field replaced by hostile text, left out, sent twice, or an
extra field), so both answers are exercised. Each example runs in a transaction of its own that
is rolled back (`rolled_back`), so examples never see each other's writes.

`FUZZ_EXPLORE=500` runs that many random examples per test instead of the fixed, derandomized
ones, to hunt for new problems; add what it finds as an explicit `@example`. `FUZZ_AT_MOST=8` (the
fast lane, `make test-fast`) runs at most that many of the drawn ones, and every explicit `@example`;
`make test` runs them all.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.apps import apps
from django.contrib.messages import constants
from django.core.cache import cache
from django.db import transaction
from django.forms import BaseForm
from django.http import QueryDict
from django.utils.html import escape
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.client import HTMX
from tests.faults import rows_of

EXPLORE = int(os.environ.get("FUZZ_EXPLORE", "0"))
AT_MOST = int(os.environ.get("FUZZ_AT_MOST", "0"))


def fuzz(examples: int = 25) -> settings:
    return settings(
        max_examples=EXPLORE or (min(examples, AT_MOST) if AT_MOST else examples),
        derandomize=not EXPLORE,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# What people (and scripts) type ---------------------------------------------------------------------------------

NASTY = [
    "",
    " ",
    " \t\r\n ",
    "\x00",
    "a\x00b",
    "\x00" * 3 + "text",
    "\x01\x02\x1b[31m\x7f\x85",
    "\u202eevil.exe\u202c",
    "\u200f\u200e\u061c",
    "\ufeffBOM",
    "\u2028\u2029",
    "e\u0301\u0301\u0301",
    "💥🙂‍↔️",
    "𝕏𝔶𝔷",
    "\uffff\U0010ffff",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7*7 }}{% debug %}",
    "'; DROP TABLE deliberation_comment; --",
    '" OR 1=1 --',
    "1' OR '1'='1",
    "%00%27",
    "../../etc/passwd",
    '=HYPERLINK("http://evil.example")',
    "null",
    "None",
    "-1",
    "0",
    "-0",
    "1e309",
    "NaN",
    "-inf",
    "9" * 30,
    "9" * 5000,
    "0x10",
    "1_000",
    "١٢",
]


def text(max_size: int = 120) -> st.SearchStrategy[str]:
    """Any valid Unicode (no lone surrogates: HTTP cannot carry them), hostile strings, or very long ones."""
    return st.one_of(
        st.text(st.characters(codec="utf-8"), max_size=max_size),
        st.sampled_from(NASTY),
        st.builds(
            lambda piece, n: piece * n,
            st.sampled_from(["x", "é", "\x00", "<b>", "\u202e", "🙂", "a "]),
            st.integers(1, 12_000),
        ),
    )


def numbers() -> st.SearchStrategy[str]:
    """Numbers as a form sends them, of every size and shape."""
    return st.one_of(
        st.integers().map(str),
        st.integers(-(2**80), 2**80).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.sampled_from(["1e309", "-1e309", "nan", "inf", "2147483648", "9223372036854775808", " 1 ", "+1", "−1"]),
    )


def dates() -> st.SearchStrategy[str]:
    """Dates and times, in range and out of it."""
    return st.one_of(
        st.datetimes().map(lambda d: d.isoformat(sep=" ")),
        st.sampled_from(
            [
                "0001-01-01 00:00",
                "9999-12-31 23:59:59",
                "10000-01-01 00:00",
                "0000-00-00 00:00",
                "2024-02-30 10:00",
                "2024-13-01 10:00",
                "2024-01-01 25:61",
                "-2024-01-01",
                "2024-01-01T10:00:00+99:00",
                "2024-01-01T10:00:00-23:59",
                "now",
                "tomorrow",
            ]
        ),
        text(40),
    )


def fill(data: dict, ids: dict[str, object]) -> dict:
    """Put the rows' ids in place of the names that stand for them ("@thread" → "12")."""

    def one(value):
        return str(ids[value]) if isinstance(value, str) and value in ids else value

    return {name: [one(v) for v in value] if isinstance(value, list) else one(value) for name, value in data.items()}


def references() -> st.SearchStrategy[str]:
    """What a select box or hidden field might send instead of a row's id."""
    return st.one_of(st.integers(-5, 50).map(str), numbers(), text(20))


@st.composite
def mutated(
    draw, valid: dict[str, st.SearchStrategy], hostile: dict[str, st.SearchStrategy] | None = None
) -> dict[str, str | list[str]]:
    """A valid submission (a field drawn as None is left out), then broken zero to three times."""
    hostile = hostile or {}
    data = {name: value for name, strategy in valid.items() if (value := draw(strategy)) is not None}
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(sorted(valid)))
        how = draw(st.sampled_from(["replace", "replace", "drop", "twice", "extra"]))
        if how == "replace":
            data[name] = draw(hostile.get(name, text()))
        elif how == "drop":
            data.pop(name, None)
        elif how == "twice":
            data[name] = draw(st.lists(hostile.get(name, text()), min_size=2, max_size=3))
        else:
            data[draw(st.text(min_size=1, max_size=20))] = draw(text())
    return data


def submitted(data: dict) -> QueryDict:
    """The form data as the view reads it."""
    return QueryDict(urlencode(data, doseq=True))


# Posting and reading the answer --------------------------------------------------------------------------------


def post(client, url: str, data: dict, *, htmx: bool = False):
    """Post as a browser posts a form (or htmx does): URL-encoded."""
    headers = HTMX if htmx else {}
    return client.post(
        url, urlencode(data, doseq=True), content_type="application/x-www-form-urlencoded", headers=headers
    )


@dataclass
class Answer:
    status: int  # of the POST
    refused: bool
    errors: list[str] = field(default_factory=list)
    html: str = ""  # the page the person lands on (after the redirect, if any)


def bound_form_errors(response) -> list[str]:
    contexts = response.context if isinstance(response.context, list) else [response.context]
    forms = {id(v): v for c in contexts if c is not None for v in c.flatten().values() if isinstance(v, BaseForm)}
    return [
        message for form in forms.values() if form.is_bound for messages in form.errors.values() for message in messages
    ]


def answer(client, response) -> Answer:
    """What the person sees: the re-rendered form with its errors, or the page redirected to with its messages."""
    assert response.status_code < 500, response.content[:2000]
    if response.status_code in (301, 302, 303):
        page = client.get(response.url)
        assert page.status_code == 200, (response.url, page.status_code)
        errors = [str(m) for m in page.context["messages"] if m.level == constants.ERROR] if page.context else []
        return Answer(response.status_code, bool(errors), errors, page.content.decode())
    html = response.content.decode()
    if response.status_code == 200:
        errors = bound_form_errors(response)
        return Answer(200, bool(errors), errors, html)
    return Answer(response.status_code, True, [html] if html.strip() else [], html)


def assert_refused_clearly(result: Answer) -> None:
    """A refusal carries at least one message, and every message is on the page."""
    assert result.errors, f"refused ({result.status}) without a message"
    assert not [m for m in result.errors if "could not be saved just now" in m], "bad input blamed on the database"
    for message in result.errors:
        assert escape(message) in result.html or message in result.html, f"{message!r} is not shown"


# The database, before and after --------------------------------------------------------------------------------


WRITTEN_BY_PEOPLE = {"audit", "deliberation", "votes", "analysis", "auth", "account"}


def rows() -> dict[str, list[dict]]:
    """Every row of every table people's actions write to (the sessions aside: signing in writes one)."""
    return rows_of(
        model
        for model in apps.get_models()
        if model._meta.app_label in WRITTEN_BY_PEOPLE and model._meta.label != "auth.Permission"
    )


@contextmanager
def rolled_back(client=None, user=None) -> Iterator[None]:
    """One example, in a transaction of its own that is rolled back; signed in as `user`, no rate limit spent."""
    cache.clear()
    if client is not None:
        client.cookies.pop("messages", None)
    with transaction.atomic():
        if user is not None:
            client.force_login(user)
        yield
        transaction.set_rollback(True)
