"""The read-only JSON API under /api/: each endpoint's shape, the pages' visibility rules, paging, the schema.

olga organizes the definition `osd`; alice chairs its group `weights`, where bob is a member; dave is a
member of `corpora`; carol is signed in but belongs to nothing; an anonymous observer is not signed in.
`record` is the open, live ballot `components` on version 0.0.9 with votes, a veto grant used without a
rationale, a dispute over it and a computed outcome; `secret` is a ballot whose votes are sealed until it
closes; `draft` is 0.0.10, in progress. The API hides what the pages hide: a 404 for what a page 404s,
and a sealed roll call or result is a 403 that says when it is published.
"""

import json
import re
from contextlib import contextmanager

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.urls import reverse
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from analysis.models import OutcomeRun
from audit.models import AuditEvent
from deliberation import services as deliberation_services
from tests.client import sign_in
from tests.votes.conftest import CHOICES, CRITERIA
from tokens.models import Scope
from votes import services
from votes.models import Ballot

API = "/api"
PERSONAS = [None, "carol", "dave", "bob", "alice", "olga"]


def get(client, path: str, **query) -> tuple[int, dict]:
    response = client.get(f"{API}{path}", query)
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return response.status_code, response.json()


@pytest.fixture
def record(ballot, olga, alice, bob, dave, cast, django_capture_on_commit_callbacks):
    """The live ballot with five votes, alice's undocumented veto, bob's dispute of it, and its outcomes."""
    with django_capture_on_commit_callbacks(execute=True):
        services.grant_veto(
            ballot=ballot,
            choice=ballot.choices.get(key="not-necessary"),
            member=alice,
            reason="Steward.",
            acting_user=olga,
        )
        for voter in (alice, bob, dave):
            cast(voter, "code", "use", "required", rationale=f"Reason of {voter.username}.")
        cast(bob, "data", "use", "required")
        cast(alice, "data", "study", "not-necessary")
        services.raise_dispute(
            ballot=ballot,
            raised_by=bob,
            reason="No rationale.",
            voter=alice,
            choice=ballot.choices.get(key="not-necessary"),
        )
    return ballot


@pytest.fixture
def secret(olga, published, group, other_group, bob, dave):
    """An open ballot whose votes are published when it closes, with bob's and dave's votes cast."""
    secret = services.create_ballot(
        version=published,
        key="secret",
        title="Sealed vote",
        groups=[group, other_group],
        criteria=CRITERIA,
        choices=CHOICES,
        results_visibility=Ballot.Visibility.AFTER_CLOSE,
        acting_user=olga,
    )
    services.open_ballot(ballot=secret, acting_user=olga)
    services.grant_veto(
        ballot=secret, choice=secret.choices.get(key="not-necessary"), group=group, reason="Charter.", acting_user=olga
    )
    for voter in (bob, dave):
        services.cast_vote(
            ballot=secret,
            voter=voter,
            component=published.components.get(key="code"),
            criterion=secret.criteria.get(key="use"),
            choice=secret.choices.get(key="required"),
            rationale=f"Sealed reason of {voter.username}.",
        )
    return secret


@pytest.fixture
def hidden_comment(published, bob, olga):
    comment = deliberation_services.post_comment(author=bob, version=published, body="Something rude.")
    return deliberation_services.hide_comment(comment=comment, reason="Off topic.", acting_user=olga)


# The schema ---------------------------------------------------------------------------------------------------------


def test_the_openapi_schema_is_served_at_a_stable_url_and_lists_every_endpoint(client):
    response = client.get("/api/openapi.json")

    schema = response.json()
    assert response.status_code == 200
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/definitions",
        "/api/definitions/{slug}",
        "/api/definitions/{slug}/versions",
        "/api/definitions/{slug}/versions/{label}",
        "/api/definitions/{slug}/versions/{label}/components",
        "/api/definitions/{slug}/versions/{label}/comments",
        "/api/definitions/{slug}/versions/{label}/suggestions",
        "/api/definitions/{slug}/groups",
        "/api/definitions/{slug}/groups/{key}",
        "/api/definitions/{slug}/ballots",
        "/api/definitions/{slug}/ballots/{key}",
        "/api/definitions/{slug}/ballots/{key}/votes",
        "/api/definitions/{slug}/ballots/{key}/grants",
        "/api/definitions/{slug}/ballots/{key}/disputes",
        "/api/definitions/{slug}/ballots/{key}/votes/withdraw",
        "/api/definitions/{slug}/ballots/{key}/outcomes",
        "/api/audit/events",
        "/api/search",
    }
    writes = {path for path, operations in schema["paths"].items() if "post" in operations}
    assert writes == {
        "/api/definitions/{slug}/versions/{label}/comments",
        "/api/definitions/{slug}/ballots/{key}/votes",
        "/api/definitions/{slug}/ballots/{key}/votes/withdraw",
        "/api/definitions/{slug}/ballots/{key}/disputes",
    }
    assert all(set(operations) <= {"get", "post"} for operations in schema["paths"].values())
    # a read takes a token or nothing; a write a token or the session (with its CSRF token)
    assert all(ops["get"]["security"] == [{"TokenAuth": []}, {}] for ops in schema["paths"].values() if "get" in ops)
    assert all(schema["paths"][path]["post"]["security"] == [{"TokenAuth": []}, {"SessionAuth": []}] for path in writes)
    assert schema["components"]["securitySchemes"]["TokenAuth"] == {"type": "http", "scheme": "bearer"}


def test_the_docs_page_draws_swagger_ui_from_our_own_static_files_under_the_sites_csp(client):
    response = client.get("/api/docs")

    page = response.content.decode()
    assert response.status_code == 200
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
    assert sources and all(src.startswith("/") for src in sources), sources  # nothing from another host
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in sources
    assert not re.search(r"<script(?![^>]*\b(?:src|type=\"application/json\"))", page), "no inline script"


@pytest.mark.parametrize("path", ["/api/nope", "/api/definitions/", "/api/definitions/osd/ballots/x/y/z"])
def test_any_unknown_address_under_the_api_answers_json(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith("There is no such address in the API")


def test_the_apis_root_says_where_its_docs_and_schema_are(client):
    assert client.get("/api/").json() == {"docs": "/api/docs", "openapi": "/api/openapi.json"}


# Each endpoint's shape ----------------------------------------------------------------------------------------------


def test_definitions_list_and_detail(client, definition):
    status, page = get(client, "/definitions")
    assert status == 200
    assert page == {
        "count": 1,
        "items": [
            {
                "slug": "osd",
                "title": "Open System Definition",
                "summary": definition.summary,
                "organizers": ["olga"],
                "created_at": page["items"][0]["created_at"],
                "url": "/d/osd/",
            }
        ],
    }
    assert get(client, "/definitions/osd") == (200, page["items"][0])
    assert get(client, "/definitions/nothing") == (404, {"detail": "Not Found"})


def test_a_version_carries_its_markdown_release_notes_and_status(client, published):
    status, version = get(client, "/definitions/osd/versions/0.0.9")

    assert status == 200
    assert version == {
        "definition": "osd",
        "label": "0.0.9",
        "status": "published",
        "based_on": None,
        "created_at": version["created_at"],
        "published_at": version["published_at"],
        "published_by": None,
        "url": "/d/osd/v/0.0.9/",
        "body": published.body,
        "release_notes": "First release.",
    }
    assert get(client, "/definitions/osd/versions/9.9")[0] == 404


def test_components_of_a_version_name_the_parts_of_an_aggregate(client, published):
    status, page = get(client, "/definitions/osd/versions/0.0.9/components")

    assert status == 200
    assert page["count"] == 3
    by_key = {c["key"]: c for c in page["items"]}
    assert by_key["code"] == {
        "key": "code",
        "title": "Training code",
        "category": "Code",
        "description": "",
        "position": 0,
        "aggregate": None,
    }
    assert by_key["all-data"]["aggregate"] == {"rule": "mean", "of": ["data"]}


def test_working_groups_list_their_current_members_chairs_first(client, group, other_group, bob, olga):
    deliberation_services.add_member(group=other_group, user=bob, role="member", acting_user=olga)
    deliberation_services.remove_member(membership=other_group.memberships.get(user=bob), acting_user=olga)

    status, page = get(client, "/definitions/osd/groups")

    assert status == 200
    assert [(g["key"], [(m["handle"], m["role"]) for m in g["members"]]) for g in page["items"]] == [
        ("corpora", [("dave", "member")]),
        ("weights", [("alice", "chair"), ("bob", "member")]),
    ]
    assert get(client, "/definitions/osd/groups/weights")[1] == page["items"][1]
    assert get(client, "/definitions/osd/groups/nothing")[0] == 404


def test_a_hidden_comment_shows_its_reason_not_its_text(client, published, hidden_comment, bob):
    deliberation_services.post_comment(author=bob, version=published, parent=hidden_comment, body="Sorry.")

    status, page = get(client, "/definitions/osd/versions/0.0.9/comments")

    assert status == 200
    hidden, answer = page["items"]
    assert hidden == {
        "id": hidden_comment.pk,
        "parent": None,
        "component": None,
        "author": "bob",
        "created_at": hidden["created_at"],
        "edited_at": None,
        "body": None,
        "hidden": {"by": "olga", "at": hidden["hidden"]["at"], "reason": "Off topic."},
    }
    assert answer["parent"] == hidden_comment.pk and answer["body"] == "Sorry." and answer["hidden"] is None
    assert "Something rude" not in json.dumps(page)


def test_comments_filter_by_component(client, published, bob):
    code = published.components.get(key="code")
    deliberation_services.post_comment(author=bob, version=published, component=code, body="On code.")
    deliberation_services.post_comment(author=bob, version=published, body="On the text.")

    _, page = get(client, "/definitions/osd/versions/0.0.9/comments", component="code")

    assert [(c["component"], c["body"]) for c in page["items"]] == [("code", "On code.")]


def test_ballots_list_and_detail_with_the_rules(client, record):
    status, page = get(client, "/definitions/osd/ballots")
    assert status == 200
    assert page["count"] == 1
    assert page["items"][0] | {"opened_at": None, "created_at": None} == {
        "key": "components",
        "title": "Component vote on 0.0.9",
        "version": "0.0.9",
        "status": "open",
        "results_visibility": "live",
        "results_public": True,
        "opens_at": None,
        "closes_at": None,
        "opened_at": None,
        "closed_at": None,
        "created_at": None,
        "vote_count": 5,
        "url": "/d/osd/ballots/components/",
    }

    status, ballot = get(client, "/definitions/osd/ballots/components")

    assert status == 200
    assert ballot.items() >= page["items"][0].items()
    assert ballot["groups"] == [{"key": "corpora", "name": "Corpora"}, {"key": "weights", "name": "Weights"}]
    assert [c["key"] for c in ballot["criteria"]] == ["use", "study", "modify", "share"]
    assert ballot["choices"][2] == {
        "key": "not-necessary",
        "label": "Not necessary",
        "value": -1,
        "requires_grant": True,
        "blocking": False,
        "requires_rationale": False,
    }
    assert ballot["methodology"]["rule"] == "mean-bands"
    assert ballot["clustering"] == {"k": 2, "seed": 42}
    assert (ballot["voter_count"], ballot["grant_count"], ballot["open_disputes"]) == (3, 1, 1)
    assert ballot["audit_stream"] == "ballot:osd/components"
    assert ballot["audit_head"] == AuditEvent.objects.filter(stream="ballot:osd/components").latest("seq").hash
    assert ballot["roster_at_close"] is None
    assert get(client, "/definitions/osd/ballots/nothing")[0] == 404
    assert get(client, "/definitions/nothing/ballots")[0] == 404


def test_the_votes_are_the_roll_call(client, record):
    status, page = get(client, "/definitions/osd/ballots/components/votes")

    assert status == 200
    assert page["count"] == 5
    veto = next(v for v in page["items"] if v["choice"] == "not-necessary")
    assert veto == {
        "voter": "alice",
        "group": "weights",
        "component": "data",
        "criterion": "study",
        "choice": "not-necessary",
        "value": -1,
        "rationale": "",
        "cast_at": veto["cast_at"],
        "cast_by": "alice",
        "disputed": True,
        "conflicted": False,
        "undocumented_veto": True,
        "carried": False,
        "outdated": False,
    }
    assert [(v["voter"], v["component"], v["criterion"]) for v in page["items"]] == [
        ("alice", "code", "use"),
        ("bob", "code", "use"),
        ("dave", "code", "use"),
        ("bob", "data", "use"),
        ("alice", "data", "study"),
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"group": "corpora"}, [("dave", "code")]),
        ({"voter": "@bob"}, [("bob", "code"), ("bob", "data")]),
        ({"component": "data"}, [("bob", "data"), ("alice", "data")]),
        ({"choice": "not-necessary"}, [("alice", "data")]),
        ({"flag": "undocumented"}, [("alice", "data")]),
        ({"flag": "disputed"}, [("alice", "data")]),
        ({"voter": "nobody"}, []),
    ],
    ids=str,
)
def test_the_votes_filter_like_the_roll_call(client, record, query, expected):
    _, page = get(client, "/definitions/osd/ballots/components/votes", **query)

    assert [(v["voter"], v["component"]) for v in page["items"]] == expected
    assert page["count"] == len(expected)


def test_grants_say_who_holds_what_and_how_often_it_was_used(client, record):
    status, page = get(client, "/definitions/osd/ballots/components/grants")

    assert status == 200
    assert page["items"] == [
        {
            "id": record.grants.get().pk,
            "holder": {"group": None, "member": "alice"},
            "choice": "not-necessary",
            "category": "",
            "reason": "Steward.",
            "granted_by": "olga",
            "granted_at": page["items"][0]["granted_at"],
            "revoked_at": None,
            "revoked_by": None,
            "revoke_reason": "",
            "uses": 1,
        }
    ]


def test_disputes_carry_their_selection_and_status(client, record):
    status, page = get(client, "/definitions/osd/ballots/components/disputes")

    assert status == 200
    dispute = page["items"][0]
    assert dispute == {
        "id": record.disputes.get().pk,
        "selection": {"voter": "alice", "group": None, "choice": "not-necessary", "component": None, "criterion": None},
        "description": "votes by @alice choosing Not necessary",
        "reason": "No rationale.",
        "raised_by": "bob",
        "raised_at": dispute["raised_at"],
        "status": "open",
        "resolution": "",
        "resolved_by": None,
        "resolved_at": None,
    }


def test_outcomes_are_the_latest_run_with_its_audit_position_and_digest(client, record):
    run = OutcomeRun.objects.latest_for(record)

    status, outcomes = get(client, "/definitions/osd/ballots/components/outcomes")

    assert status == 200
    assert outcomes["stale"] is False
    assert (outcomes["ballot"], outcomes["audit_seq"], outcomes["input_digest"]) == (
        "components",
        run.audit_seq,
        run.input_digest,
    )
    assert outcomes["results"] == run.results
    assert outcomes["results"]["format"] == "plenary-outcomes/1"


def test_outcomes_say_when_they_are_stale(client, record, dave, cast):
    cast(dave, "data", "use", "required")  # no recompute: its on-commit callback never runs in this test

    _, outcomes = get(client, "/definitions/osd/ballots/components/outcomes")

    assert outcomes["stale"] is True
    assert outcomes["audit_seq"] == OutcomeRun.objects.latest_for(record).audit_seq


def test_audit_events_carry_their_chain(client, record):
    status, page = get(client, "/audit/events", stream="ballot:osd/components", limit=2)

    assert status == 200
    first, second = page["items"]
    event = AuditEvent.objects.get(stream="ballot:osd/components", seq=1)
    assert first == {**event.canonical(), "sealed": False, "at": first["at"]}
    assert second["prev_hash"] == first["hash"]
    assert page["count"] == AuditEvent.objects.filter(stream="ballot:osd/components").count()


@pytest.mark.parametrize(
    ("query", "actions"),
    [
        ({"action": "dispute."}, ["dispute.raised"]),
        ({"action": "grant.", "actor": "@olga"}, ["grant.made"]),
        ({"actor": "dave", "stream": "ballot:osd/components"}, ["vote.cast"]),
        ({"stream": "  "}, None),  # blank, like the page: no filter
    ],
    ids=str,
)
def test_audit_events_filter_like_the_log_page(client, record, query, actions):
    _, page = get(client, "/audit/events", **query)

    if actions is None:
        assert page["count"] == AuditEvent.objects.count()
    else:
        assert [e["action"] for e in page["items"]] == actions


# Visibility: what the pages hide -----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS, ids=str)
@pytest.mark.parametrize("suffix", ["", "components", "comments"])
def test_a_draft_in_progress_is_seen_by_its_organizers_only_exactly_as_its_page(
    request, client, draft, persona, suffix
):
    sign_in(client, request, persona)

    api = client.get(f"/api/definitions/osd/versions/0.0.10/{suffix}".rstrip("/"))
    page = client.get(reverse("deliberation:version", args=["osd", "0.0.10"]))

    assert api.status_code == page.status_code == (200 if persona == "olga" else 404)
    if persona != "olga":
        assert api.json() == {"detail": "Not Found"}


@pytest.mark.parametrize("persona", PERSONAS, ids=str)
def test_the_versions_list_shows_a_draft_in_progress_to_its_organizers_only(request, client, draft, persona):
    sign_in(client, request, persona)

    _, page = get(client, "/definitions/osd/versions")

    labels = [v["label"] for v in page["items"]]
    assert labels == (["0.0.9", "0.0.10"] if persona == "olga" else ["0.0.9"])
    assert page["count"] == len(labels)


@pytest.mark.parametrize("persona", PERSONAS, ids=str)
@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        ("votes", "The roll call of this ballot is published when voting closes."),
        ("outcomes", "The results of this ballot are published when voting closes."),
    ],
)
def test_a_sealed_roll_call_and_its_outcomes_are_403_until_voting_closes(
    request, client, secret, persona, endpoint, message
):
    sign_in(client, request, persona)

    status, body = get(client, f"/definitions/osd/ballots/secret/{endpoint}")

    assert status == 403
    assert body == {"detail": message}


def test_a_sealed_ballot_shows_neither_its_vote_count_nor_the_use_of_its_grants(client, secret):
    _, ballots = get(client, "/definitions/osd/ballots")
    _, ballot = get(client, "/definitions/osd/ballots/secret")
    _, grants = get(client, "/definitions/osd/ballots/secret/grants")

    assert ballots["items"][0]["vote_count"] is None
    assert (ballot["results_public"], ballot["vote_count"], ballot["voter_count"]) == (False, None, None)
    assert grants["items"][0]["uses"] is None


@pytest.mark.parametrize(
    "query", [{}, {"stream": "ballot:osd/secret"}, {"actor": "bob"}, {"action": "vote."}, {"limit": 500}], ids=str
)
def test_the_audit_events_of_a_sealed_ballot_are_redacted_like_the_log_page(client, secret, query):
    response = client.get("/api/audit/events", query)

    content = response.content.decode()
    sealed = [e for e in response.json()["items"] if e["sealed"]]
    assert response.status_code == 200
    assert "Sealed reason" not in content
    if "actor" in query or "action" in query:  # a sealed vote is found neither by who cast it nor by what it did
        assert sealed == []
        assert all(
            e["stream"] != "ballot:osd/secret" or not e["action"].startswith("vote.") for e in response.json()["items"]
        )
    else:
        assert sealed == [{"stream": "ballot:osd/secret", "seq": seq, "sealed": True} for seq in (4, 5)]
    stream = client.get("/api/audit/events", {"stream": "ballot:osd/secret"}).content.decode()
    assert '"voter": "bob"' not in stream and '"voter": "dave"' not in stream  # members, not yet known as voters


def test_a_sealed_ballot_is_published_whole_when_voting_closes(client, olga, secret):
    services.close_ballot(ballot=secret, acting_user=olga)

    _, votes = get(client, "/definitions/osd/ballots/secret/votes")
    _, events = get(client, "/audit/events", stream="ballot:osd/secret", actor="bob")
    _, grants = get(client, "/definitions/osd/ballots/secret/grants")

    assert [(v["voter"], v["rationale"]) for v in votes["items"]] == [
        ("bob", "Sealed reason of bob."),
        ("dave", "Sealed reason of dave."),
    ]
    assert [e["payload"]["rationale"] for e in events["items"]] == ["Sealed reason of bob."]
    assert grants["items"][0]["uses"] == 0
    assert get(client, "/definitions/osd/ballots/secret/outcomes")[0] == 200


def test_the_api_uses_the_browser_session(client, olga, draft):
    assert get(client, "/definitions/osd/versions/0.0.10")[0] == 404
    client.force_login(olga)
    status, version = get(client, "/definitions/osd/versions/0.0.10")
    assert (status, version["status"], version["based_on"]) == (200, "draft", "0.0.9")


# Paging --------------------------------------------------------------------------------------------------------------


def test_lists_page_with_limit_and_offset_and_give_the_count(client, record):
    everything = get(client, "/definitions/osd/ballots/components/votes")[1]["items"]

    _, page = get(client, "/definitions/osd/ballots/components/votes", limit=2, offset=3)

    assert page == {"count": 5, "items": everything[3:5]}
    assert get(client, "/definitions/osd/ballots/components/votes", offset=9)[1] == {"count": 5, "items": []}


@pytest.mark.parametrize("query", [{"limit": 501}, {"limit": 0}, {"offset": -1}], ids=str)
def test_a_page_holds_at_most_500_items(client, record, query):
    assert client.get("/api/definitions/osd/ballots/components/votes", query).status_code == 422


def test_the_roll_call_takes_the_same_few_queries_however_long_the_page(
    client,
    record,
    cast,
    bob,
    dave,
    django_assert_max_num_queries,
):
    with django_assert_max_num_queries(6):
        small = client.get("/api/definitions/osd/ballots/components/votes", {"limit": 1})
    for criterion in ("study", "modify", "share"):
        for voter in (bob, dave):
            cast(voter, "code", criterion, "required")
    with django_assert_max_num_queries(6):
        large = client.get("/api/definitions/osd/ballots/components/votes", {"limit": 500})
    assert (len(small.json()["items"]), len(large.json()["items"])) == (1, 11)


def test_the_audit_log_takes_the_same_few_queries_however_long_the_page(client, record, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        assert len(client.get("/api/audit/events", {"limit": 1}).json()["items"]) == 1
    with django_assert_max_num_queries(4):
        assert len(client.get("/api/audit/events", {"limit": 500}).json()["items"]) == AuditEvent.objects.count()


# Every endpoint against its schema ----------------------------------------------------------------------------------


@contextmanager
def served_in_the_test_transaction():
    """Serve WSGI requests on the test's connection: don't let Django close it between requests, as its client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


REAL_PATHS = [
    {"slug": "osd", "label": "0.0.9", "key": "components"},
    {"slug": "osd", "label": "0.0.10", "key": "secret"},
    {"slug": "osd", "label": "0.0.9", "key": "weights"},
]


def answers_as_documented(
    strategy, examples: int, cookies: dict | None, statuses: dict[str, set[int]], headers: dict | None = None
) -> None:
    """Call the endpoint with `examples` cases drawn from `strategy`; fail on a 5xx or an answer off its schema."""

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case):
        response = case.call(cookies=cookies, headers=headers)
        # A request the schema allows may still break a rule of the process (a ballot closed, a dispute that selects
        # no vote): a 400 that says which, not a rejection of valid data, so that one check is left out.
        case.validate_response(response, headers=headers, excluded_checks=[positive_data_acceptance])
        statuses.setdefault(f"{case.operation.method.upper()} {case.operation.path}", set()).add(response.status_code)

    check()


@pytest.mark.slow
@pytest.mark.parametrize("persona", [None, "olga"], ids=str)
def test_every_endpoint_answers_as_its_schema_says(request, client, persona, record, secret, draft, hidden_comment):
    """Schemathesis over every GET, with made-up and with real path parameters: no 5xx, and every answer conforms."""
    sign_in(client, request, persona)
    cookies = {"sessionid": client.cookies["sessionid"].value} if persona else None
    statuses: dict[str, set[int]] = {}
    with served_in_the_test_transaction():
        schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) == 21
        for operation in (o for o in operations if o.method == "get"):
            answers_as_documented(operation.as_strategy(), 8, cookies, statuses)
            names = {p.name for p in operation.path_parameters}
            for path in REAL_PATHS if names else [{}]:
                real = operation.as_strategy(path_parameters={k: v for k, v in path.items() if k in names})
                answers_as_documented(real, 20, cookies, statuses)
        for operation in (o for o in operations if o.method == "post"):  # refused: no token, no CSRF token
            answers_as_documented(operation.as_strategy(path_parameters=REAL_PATHS[0]), 5, cookies, statuses)
    # The real paths reach every endpoint's data, not only its 404s.
    assert all(200 in codes for path, codes in statuses.items() if path.startswith("GET")), statuses
    assert 403 in statuses["GET /api/definitions/{slug}/ballots/{key}/votes"]
    # Refused before anything is read, whatever the body: no token or a made-up one (401), or a session's POST
    # without its CSRF token (403).
    posts = {path: codes for path, codes in statuses.items() if path.startswith("POST")}
    assert len(posts) == 4 and all(codes <= {401, 403} for codes in posts.values()), posts


WRITE_PATHS = [
    {"slug": "osd", "label": "0.0.9", "key": "components"},
    {"slug": "osd", "label": "0.0.10", "key": "secret"},
]


@pytest.mark.slow
@pytest.mark.parametrize("persona", ["bob", "olga"])
def test_every_endpoint_answers_a_token_as_its_schema_says_writes_too(
    request, settings, persona, record, secret, draft, hidden_comment
):
    """Schemathesis over every endpoint, writes included, with a token of every scope: no 5xx, and every answer,
    a vote cast or a refusal, conforms to the schema."""
    from tokens import services as tokens

    settings.API_TOKEN_RATE_LIMIT = "100000/d"
    user = request.getfixturevalue(persona)
    headers = {"Authorization": "Bearer " + tokens.create_token(user=user, name="fuzz", scopes=Scope.values)[1]}
    statuses: dict[str, set[int]] = {}
    with served_in_the_test_transaction():
        schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())
        for operation in (result.ok() for result in schema.get_all_operations()):
            names = {p.name for p in operation.path_parameters}
            for path in (WRITE_PATHS if operation.method == "post" else REAL_PATHS[:1]) if names else [{}]:
                real = {k: v for k, v in path.items() if k in names}
                answers_as_documented(operation.as_strategy(path_parameters=real), 12, None, statuses, headers)
                if operation.method == "post":  # the example the docs show, as documented
                    body = operation.definition.raw["requestBody"]["content"]["application/json"]["example"]
                    documented = operation.as_strategy(path_parameters=real, body=body)
                    answers_as_documented(documented, 1, None, statuses, headers)
    # The documented examples reach the writes themselves, not only their refusals.
    cast = statuses["POST /api/definitions/{slug}/ballots/{key}/votes"]
    assert 200 in cast if persona == "bob" else 200 not in cast and 403 in cast, statuses  # olga votes in no group
    assert 201 in statuses["POST /api/definitions/{slug}/versions/{label}/comments"], statuses
    assert all(code < 500 for codes in statuses.values() for code in codes), statuses


def test_suggestions_and_their_decisions_are_on_the_open_record(client, definition, draft, olga, alice, bob):
    deliberation_services.update_definition(
        definition=definition, title=definition.title, summary="", organizers=[olga], drafts_open=True, acting_user=olga
    )
    draft = deliberation_services.update_draft(
        version=draft, label=draft.label, body="One.\nTwo.\nThree.", acting_user=olga
    )
    suggestion = deliberation_services.suggest_change(
        version=draft, line_from=2, line_to=2, replacement="Second.", reason="Ordinals read better.", author=bob
    )
    deliberation_services.support_suggestion(suggestion=suggestion, user=alice)
    deliberation_services.decide_suggestion(
        suggestion=suggestion, accept=False, reason="Keep it short.", acting_user=olga
    )

    status, page = get(client, f"/definitions/osd/versions/{draft.label}/suggestions")

    assert status == 200
    [found] = page["items"]
    assert {k: found[k] for k in ("lines", "original", "replacement", "author", "supporters", "status")} == {
        "lines": [2, 2],
        "original": "Two.",
        "replacement": "Second.",
        "author": "bob",
        "supporters": ["alice"],
        "status": "declined",
    }
    assert (found["decided_by"], found["decision_reason"]) == ("olga", "Keep it short.")
