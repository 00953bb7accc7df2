"""The permission table (permission_table.py) once more for the JSON API, with personal access tokens in place of
the browser's session: every /api/ route, GET and POST, × a read-only token, a token with every scope, a token
lacking the route's scope, a revoked, an expired and an unknown token. The world is test_permissions.py's.

- A token of any scope is its person: it gets on GET exactly what the table gives that persona signed in, and on
  a POST, with the route's scope, exactly what the table gives the persona's session (no CSRF token needed:
  a token is no cookie). A token without the route's scope is a 403 that names the scope, and writes nothing.
- A revoked, expired or unknown token is a 401 that says which, on every route, and writes nothing; it never falls
  back to the public's view. The schema, the docs and the JSON 404s read no token: they are the same for everyone.
- No answer shows a text its persona may not read (SECRETS), whatever token asks.

What a token may write is named once, in the write's `auth=write(Scope.…)`; SCOPES below says it again for the
routes the table posts to, and `test_every_api_write_is_given_its_scope` keeps the two the same.
"""

import pytest
from django.test import Client

from tests.config.permission_table import API_NOT_ALLOWED, LOGIN, PERSONAS, TABLE, UNSIGNED, Done
from tests.config.test_permissions import (
    _world_once,  # noqa: F401
    judge,
    send,
    world,  # noqa: F401
)

SCOPES = {
    "api:cast_vote": "vote",
    "api:withdraw_vote": "vote",
    "api:post_comment": "comment",
    "api:raise_dispute": "dispute",
}
UNAUTHENTICATED = {"api:api-root", "api:openapi-json", "api:openapi-view"}  # they read no token
API_CASES = [c for c in TABLE if c.route.startswith("api:") and c.route not in UNAUTHENTICATED]
LAST_USED = ("tokens_accesstoken.last_used_at",)  # what a request made with a token may note


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def as_session(expected, persona: str):
    """What the token's person gets with their session, as the table says: the anonymous have no token."""
    assert expected != LOGIN, "the API sends nobody to sign in"
    return expected


def test_every_api_write_is_given_its_scope(client):
    """Each POST of the schema is a route the table posts to, and SCOPES names its scope: the matrix below then
    shows that the write asks for exactly that one (a token with every other scope is refused)."""
    schema = client.get("/api/openapi.json").json()
    writes = {op["operationId"] for ops in schema["paths"].values() for method, op in ops.items() if method != "get"}

    assert {c.route for c in API_CASES if c.post is not None} == set(SCOPES)
    assert {name.split("_api_", 1)[1] for name in writes} == {route.split(":")[1] for route in SCOPES}


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != "anonymous"])
def test_a_token_is_its_person_with_the_scopes_it_holds(persona, world):  # noqa: F811
    client, secrets, problems = Client(), world.api_tokens[persona], []
    for case in API_CASES:
        path, index = case.path(world), PERSONAS.index(persona)
        if case.get is not None:
            for kind in ("read", "all"):
                sent = send(client, "GET", path, headers=bearer(secrets[kind]), ignore=LAST_USED)
                where = f"GET {path} ({case}) as {persona} with a {kind} token"
                problems += judge(sent, as_session(case.get[index], persona), where, persona, case.says)
        if case.post is not None:
            scope = SCOPES[case.route]
            sent = send(client, "POST", path, case.form(world), bearer(secrets["all"]), ignore=LAST_USED)
            where = f"POST {path} ({case}) as {persona} with every scope"
            problems += judge(sent, as_session(case.post[index], persona), where, persona)
            for kind in ("read", f"but-{scope}"):
                sent = send(client, "POST", path, case.form(world), bearer(secrets[kind]), ignore=LAST_USED)
                where = f"POST {path} ({case}) as {persona} with a {kind} token"
                problems += judge(sent, 403, where, persona)
                if sent.response is not None and f"scope '{scope}'" not in sent.response.json()["detail"]:
                    problems.append(f"{where}: refused, but without naming the scope {scope!r}")

    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(
    ("token", "says"),
    [
        ("revoked_api_token", "was revoked on"),
        ("expired_api_token", "expired on"),
        ("unknown_api_token", "not a token"),
    ],
    ids=["revoked", "expired", "unknown"],
)
def test_a_token_that_lets_nobody_in_is_a_401_on_every_route_and_never_the_publics_view(token, says, world):  # noqa: F811
    client, headers, problems = Client(), bearer(getattr(world, token)), []
    for case in API_CASES:
        path = case.path(world)
        for method, expected in (("GET", case.get), ("POST", case.post)):
            if expected is None:
                continue
            sent = send(client, method, path, case.form(world) if method == "POST" else None, headers)
            where = f"{method} {path} ({case}) with the {token}"
            if expected == API_NOT_ALLOWED:  # a write's address asked with GET: no endpoint reads the token
                problems += judge(sent, 405, where, "anonymous")
                continue
            problems += judge(sent, UNSIGNED, where, "anonymous")
            if sent.response is not None and says not in sent.response.json().get("detail", ""):
                problems.append(f"{where}: a 401, but it does not say {says!r}")

    assert problems == [], "\n".join(problems)


def test_the_schema_and_the_docs_read_no_token(world):  # noqa: F811
    for case in (c for c in TABLE if c.route in UNAUTHENTICATED):
        sent = send(Client(), "GET", case.path(world), headers=bearer(world.revoked_api_token))
        assert judge(sent, 200, f"GET {case.path(world)}", "anonymous") == []


def test_a_token_request_notes_when_it_was_used_and_nothing_else(world):  # noqa: F811
    sent = send(Client(), "GET", "/api/definitions/osd", headers=bearer(world.api_tokens["bob"]["read"]))

    assert sent.response.status_code == 200
    assert sent.written == ["tokens_accesstoken"] and sent.audited == 0


def test_no_token_and_no_session_may_write(world):  # noqa: F811
    for case in (c for c in API_CASES if c.post is not None):
        expected = case.post[PERSONAS.index("anonymous")]
        assert expected == UNSIGNED, case
        assert not isinstance(expected, Done)
