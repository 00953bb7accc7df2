"""CSRF on every state change, htmx included.

Every route that the permission table (permission_table.py) lets someone POST to is tried by that
persona with a client that enforces CSRF checks, as a browser would be: holding the CSRF cookie,
but sending no token is refused with 403 and writes nothing, plain or htmx; sending the token the
way htmx does, in the X-CSRFToken header that base.html puts in `hx-headers` on <body>, goes
through. A new POST route has to join the table, and so is tried here too. The JSON API's writes are
tried the same way with the browser's session: django-ninja's views are exempt from Django's own
check and make it themselves (`SessionAuth`), refusing with a JSON 403; with a personal access
token, which no other site can make a browser send, they need none (test_token_permissions.py).
The only other views exempt from CSRF are the API's reads, which refuse every POST, and its JSON
404; the routes the table lists as read-only write nothing when posted to. allauth's and the
admin's forms are checked the same way.
"""

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.client import HTMX
from tests.config.permission_table import LOGIN, PERSONAS, TABLE, Done
from tests.config.test_permissions import (
    _world_once,  # noqa: F401
    judge,
    routes,
    send,
    signed_in_client,
    visit,
    world,  # noqa: F401
)

REFUSED = (LOGIN, 403, 404, 405)
# Exempt from CSRF on purpose: the one-click unsubscribe (RFC 8058), which a mail provider posts with no session;
# the signed token in its address is the authority, and a forged one is a 404 (permission_table.py).
ONE_CLICK = {"notifications:unsubscribe"}
# And a witness's cosignature, which a witness posts as JSON with no session: what it stores is verified against the
# log's own checkpoint and the witness's key (tests/audit/test_checkpoints.py), and it is limited per address.
PUBLIC_POSTS = {"audit:cosignatures"}
EXEMPT = ONE_CLICK | PUBLIC_POSTS


def allowed(case, persona: str) -> bool:
    expected = case.post[PERSONAS.index(persona)]
    return isinstance(expected, Done) or expected not in REFUSED


def state_changes() -> dict[str, tuple]:
    """Each route someone may POST to: its plainest such case, its htmx twin if any, and who may."""
    chosen = {}
    cases = [c for c in TABLE if c.post is not None and not c.guessed and c.route not in EXEMPT]
    for case in sorted(cases, key=lambda c: (c.htmx, not any(isinstance(e, Done) for e in c.post))):
        people = [p for p in PERSONAS if allowed(case, p)]
        if case.route not in chosen and people:
            twin = next((c for c in cases if c.htmx and (c.route, c.what) == (case.route, case.what)), case)
            done = [p for p in people if isinstance(case.post[PERSONAS.index(p)], Done)]
            chosen[case.route] = (case, twin, (done or people)[0])
    return chosen


STATE_CHANGES = state_changes()
_ADDRESSES = {name: address for name, address, _ in routes()}
# An API read whose address is a write's (vote_list, cast_vote's) is posted to as that write: not read-only.
_WRITTEN_AT = {_ADDRESSES[route] for route in STATE_CHANGES}
READ_ONLY = [
    next(c for c in TABLE if c.route == route and not c.guessed)
    for route in dict.fromkeys(c.route for c in TABLE)
    if route not in STATE_CHANGES and route not in EXEMPT and _ADDRESSES[route] not in _WRITTEN_AT
]


def htmx_headers(response) -> dict:
    """The headers base.html gives every htmx request, from `hx-headers` on <body>."""
    body = re.search(r"<body\b[^>]*\bhx-headers='([^']*)'", response.content.decode())
    assert body, "<body> carries hx-headers"
    return json.loads(body.group(1))


def test_every_route_the_table_posts_to_is_tried_by_someone_allowed_to():
    posted = {c.route for c in TABLE if c.post is not None and not c.guessed} - EXEMPT

    assert posted - set(STATE_CHANGES) == set(), "routes the table posts to where nobody may"
    assert "deliberation:comment-create" in STATE_CHANGES and "votes:vote-grid" in STATE_CHANGES


@pytest.mark.parametrize("persona", ["anonymous", "bob"])
def test_base_html_hands_htmx_the_csrf_token(persona, client, bob):
    if persona == "bob":
        client.force_login(bob)

    response = client.get(reverse("deliberation:definition-list"))

    headers = htmx_headers(response)
    assert list(headers) == ["X-CSRFToken"]
    assert re.fullmatch(r"[A-Za-z0-9]{64}", headers["X-CSRFToken"])
    assert response.cookies["csrftoken"].value  # the cookie the token is checked against


@pytest.mark.parametrize("route", STATE_CHANGES)
def test_a_post_without_the_csrf_token_is_refused_and_the_htmx_header_lets_it_through(route, world):  # noqa: F811
    case, twin, persona = STATE_CHANGES[route]
    client = signed_in_client(persona, world, enforce_csrf_checks=True)
    token = htmx_headers(client.get(reverse("deliberation:definition", args=["osd"])))
    path, data = case.path(world), case.form(world)
    problems = []

    for headers in ({}, HTMX):
        sent = send(client, "POST", path, data, headers)
        where = f"POST {path} ({case}) as {persona} without a token{' [htmx]' if headers else ''}"
        problems += judge(sent, 403, where, persona)
        refusal = b"CSRF check Failed" if path.startswith("/api/") else b"CSRF verification failed"  # ninja's, Django's
        if sent.response is not None and refusal not in sent.response.content:
            problems.append(f"{where}: refused, but not for want of the CSRF token")

    problems += visit(client, world, twin, persona, "POST", headers={**token, **HTMX})

    assert problems == [], "\n".join(problems)


def test_the_only_views_exempt_from_csrf_are_the_apis(world):  # noqa: F811
    exempt = {name: address for name, address, view in routes() if getattr(view, "csrf_exempt", False)}
    assert exempt and all(address.startswith("api/") or name in EXEMPT for name, address in exempt.items()), exempt
    exempt = {name: address for name, address in exempt.items() if name not in EXEMPT}
    first_case = {c.route: c for c in reversed(TABLE)}
    assert set(exempt) - set(first_case) == set(), "views exempt from CSRF with no entry in the table"
    # An API write shares its address with a read (cast_vote with vote_list): both are its writes, checked above.
    writes = {c.path(world) for c in TABLE if c.route in STATE_CHANGES and c.route.startswith("api:")}
    assert writes, "the API's writes, tried with and without the CSRF token by the test above"

    client = signed_in_client("olga", world)
    problems = []
    for case in (first_case[name] for name in exempt if first_case[name].path(world) not in writes):
        sent = send(client, "POST", case.path(world), {"anything": "at all"})
        expected = 404 if case.route == "api-not-found" else 405  # no endpoint there, whatever the method
        problems += judge(sent, expected, f"POST {case.path(world)} ({case}) as olga", "olga")

    assert problems == [], "\n".join(problems)


def test_the_routes_listed_as_read_only_write_nothing_when_posted_to(world):  # noqa: F811
    client = signed_in_client("olga", world, enforce_csrf_checks=True)
    token = htmx_headers(client.get(reverse("deliberation:definition", args=["osd"])))
    problems = []
    for case in READ_ONLY:
        path = case.path(world)
        sent = send(client, "POST", path, {"body": "x", "reason": "x", "label": "9.9"}, {**token, **HTMX})
        if sent.error is not None or sent.response.status_code >= 500:
            problems.append(f"POST {path} ({case}): {sent.error or sent.response.status_code}")
        elif sent.written:
            problems.append(f"POST {path} ({case}): wrote to {', '.join(sent.written)}")

    assert problems == [], "\n".join(problems)


FOREIGN_FORMS = {
    "account_login": {"login": "bob", "password": "wrong"},
    "account_signup": {"email": "x@example.org", "username": "x", "password1": "p", "password2": "p"},
    "account_reset_password": {"email": "bob@example.org"},
}  # the admin has no sign-in form of its own: /admin/login/ sends staff to account_login


@pytest.mark.parametrize("name", FOREIGN_FORMS)
def test_sign_in_sign_up_and_admin_forms_need_the_token_too(name, db):
    client = Client(enforce_csrf_checks=True)
    path = reverse(name)
    page = client.get(path)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert page.status_code == 200 and token

    refused = client.post(path, FOREIGN_FORMS[name])
    accepted = client.post(path, FOREIGN_FORMS[name] | {"csrfmiddlewaretoken": token.group(1)})

    assert refused.status_code == 403 and b"CSRF verification failed" in refused.content
    assert accepted.status_code != 403


def test_a_witness_posts_a_cosignature_with_no_session_or_token_and_only_a_verified_one_is_stored(world):  # noqa: F811
    from audit.models import Checkpoint, Cosignature
    from plenary_tally import checkpoints

    client = Client(enforce_csrf_checks=True)
    note = Checkpoint.objects.latest_of("ballot:osd/components").note
    witness = checkpoints.Cosigner(checkpoints.generate_cosigner("witness.example.org"))
    other = checkpoints.Cosigner(checkpoints.generate_cosigner("witness.example.org"))
    posted = {"stream": "ballot:osd/components", "checkpoint": note, "witness_key": witness.verifier_key}
    path = reverse("audit:cosignatures")

    def post(line: str):
        return client.post(path, json.dumps(posted | {"cosignature": line}), content_type="application/json")

    forged, real = post(other.cosign(note, 1_800_000_000)), post(witness.cosign(note, 1_800_000_000))

    assert forged.status_code == 400 and b"CSRF" not in forged.content
    assert real.status_code == 201
    assert list(Cosignature.objects.values_list("witness_key", flat=True)) == [witness.verifier_key]
