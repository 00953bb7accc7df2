"""Personal access tokens and the API's writes, as an integration uses them.

bob (a member of `weights`) makes tokens on his settings page and sends them as `Authorization: Bearer …`;
`ballot` is the open, live ballot `components` (tests/votes/conftest.py). What a token writes goes through the
pages' services: it lands in the audit log as bob's, with the pages' refusals and rate limits. The matrix of every
route × every kind of token is tests/config/test_token_permissions.py.
"""

import json
import re
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from deliberation.models import Comment
from tokens import services
from tokens.models import TOKENS_PER_PERSON_MAX, AccessToken, token_digest
from votes import services as votes
from votes.models import Ballot, Dispute, Vote

VOTES = "/api/definitions/osd/ballots/components/votes"
CELL = {"component": "code", "criterion": "use", "choice": "required", "rationale": "Code is how it is studied."}


def token_of(user, *scopes: str) -> str:
    return services.create_token(user=user, name="test", scopes=scopes)[1]


def post(client, path: str, data: dict, token: str | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(path, json.dumps(data), content_type="application/json", headers=headers)


def get(client, path: str, token: str):
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


# The settings page ----------------------------------------------------------------------------------------------


def test_bob_makes_a_token_sees_its_secret_once_and_only_its_digest_is_kept(client, bob):
    client.force_login(bob)

    made = client.post(reverse("tokens:token-list"), {"name": "Sheet sync", "scopes": ["vote"], "lifetime": "30"})
    again = client.get(reverse("tokens:token-list"))

    secret = re.search(r'value="(plenary_[0-9a-f]{12}_[A-Za-z0-9_-]{43})"', made.content.decode()).group(1)
    token = AccessToken.objects.get()
    assert made.status_code == 200 and "no-store" in made["Cache-Control"]
    assert (token.user, token.name, token.scopes) == (bob, "Sheet sync", ["vote"])
    assert token.digest == token_digest(secret) and secret not in str(list(AccessToken.objects.values()))
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert secret not in again.content.decode() and f"plenary_{token.key}_…" in again.content.decode()
    assert get(client, "/api/definitions", secret).status_code == 200


def test_revoking_a_token_refuses_it_at_once_with_a_401_that_says_so(client, bob, ballot):
    secret = token_of(bob, "vote")
    client.force_login(bob)

    response = client.post(reverse("tokens:token-revoke", args=[AccessToken.objects.get().pk]))
    client.logout()
    refused = post(client, VOTES, CELL, secret)

    assert response.status_code == 302
    assert refused.status_code == 401 and "was revoked on" in refused.json()["detail"]
    assert refused["WWW-Authenticate"].startswith("Bearer")
    assert not Vote.objects.exists()


def test_an_expired_or_unknown_token_is_a_401_never_the_publics_view(client, bob, draft, olga):
    token, secret = services.create_token(user=olga, name="old", expires_at=timezone.now() + timedelta(days=1))
    AccessToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    expired = get(client, "/api/definitions/osd", secret)
    unknown = get(client, "/api/definitions/osd", secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    malformed = client.get("/api/definitions/osd", headers={"Authorization": "Bearer " + "x" * 5000})
    other_kind = client.get("/api/definitions/osd", headers={"Authorization": f"Token {secret}"})

    assert (expired.status_code, unknown.status_code, malformed.status_code, other_kind.status_code) == (401,) * 4
    assert "and no other kind" in other_kind.json()["detail"]
    assert "expired on" in expired.json()["detail"]
    assert "not a token Plenary made" in unknown.json()["detail"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": " "}, "Name the token"),
        ({"name": "x" * 101}, "at most 100 characters"),
        ({"scopes": ["vote", "admin"]}, "There is no scope 'admin'"),
        ({"expires_at": timezone.now() - timedelta(days=1)}, "expiry is in the future"),
        ({"expires_at": timezone.now() + timedelta(days=400)}, "within 366 days"),
    ],
    ids=["blank", "long", "scope", "past", "far"],
)
def test_a_token_is_refused_whole_when_its_fields_are_not_as_they_must_be(bob, fields, message, nothing_written):
    from django.core.exceptions import ValidationError

    with nothing_written(), pytest.raises(ValidationError, match=message):
        services.create_token(user=bob, **({"name": "ok"} | fields))


def test_one_person_holds_at_most_so_many_usable_tokens(bob):
    from django.core.exceptions import ValidationError

    for n in range(TOKENS_PER_PERSON_MAX):
        services.create_token(user=bob, name=f"t{n}")
    with pytest.raises(ValidationError, match="revoke one"):
        services.create_token(user=bob, name="one more")
    services.revoke_token(token=AccessToken.objects.first(), acting_user=bob)
    assert services.create_token(user=bob, name="one more")[0].name == "one more"


def test_making_and_revoking_a_token_writes_nothing_to_the_public_audit_log(bob):
    before = AuditEvent.objects.count()

    token, _ = services.create_token(user=bob, name="private", scopes=["vote"])
    services.revoke_token(token=token, acting_user=bob)

    assert AuditEvent.objects.count() == before


# Voting -----------------------------------------------------------------------------------------------------------


def test_a_vote_cast_with_a_token_lands_and_is_audited_as_its_persons(client, bob, ballot):
    secret = token_of(bob, "vote")

    response = post(client, VOTES, CELL, secret)

    vote = Vote.objects.get()
    assert response.status_code == 200
    assert response.json() | {"cast_at": None} == {
        "voter": "bob",
        "group": "weights",
        "component": "code",
        "criterion": "use",
        "choice": "required",
        "value": 1,
        "rationale": "Code is how it is studied.",
        "cast_at": None,
        "cast_by": "bob",
        "undocumented_veto": False,
    }
    event = AuditEvent.objects.filter(stream=ballot.audit_stream).latest("seq")
    assert (event.action, event.actor_handle, event.payload["rationale"]) == ("vote.cast", "bob", vote.rationale)
    assert AccessToken.objects.get().last_used_at is not None


def test_a_vote_is_changed_then_withdrawn_each_on_the_record(client, bob, ballot):
    secret = token_of(bob, "vote")
    post(client, VOTES, CELL, secret)

    changed = post(client, VOTES, CELL | {"choice": "abstain"}, secret)
    withdrawn = post(client, VOTES + "/withdraw", {"component": "code", "criterion": "use"}, secret)
    again = post(client, VOTES + "/withdraw", {"component": "code", "criterion": "use"}, secret)

    assert (changed.status_code, withdrawn.status_code) == (200, 204)
    assert again.status_code == 400 and again.json() == {"detail": "There is no vote to withdraw here."}
    actions = AuditEvent.objects.filter(stream=ballot.audit_stream, action__startswith="vote.").order_by("seq")
    assert [e.action for e in actions] == ["vote.cast", "vote.changed", "vote.withdrawn"]
    assert not Vote.objects.exists()


@pytest.mark.parametrize(
    ("cell", "status", "detail"),
    [
        (CELL | {"choice": "maybe"}, 400, "That choice is not on this ballot's scale."),
        (CELL | {"choice": "not-necessary"}, 403, "“Not necessary” is restricted"),
        (CELL | {"choice": "object", "rationale": ""}, 400, "A vote “Object” needs a rationale."),
        (CELL | {"component": "all-data"}, 400, "is an aggregate"),
        (CELL | {"component": "nothing"}, 404, "Not Found"),
        (CELL | {"group": "corpora"}, 403, "does not vote for Corpora"),
        (CELL | {"voter": "dave"}, 403, "Only organizers vote on another member's behalf."),
        (CELL | {"rationale": "x" * 4001}, 422, None),
        ({"component": "code"}, 422, None),
    ],
    ids=[
        "off-scale",
        "restricted",
        "no-rationale",
        "aggregate",
        "no-component",
        "other-group",
        "behalf",
        "long",
        "bare",
    ],
)
def test_a_refused_vote_says_why_as_the_grid_does_and_writes_nothing(
    client, bob, ballot, cell, status, detail, nothing_written
):
    secret = token_of(bob, "vote")
    get(client, "/api/definitions", secret)  # its use noted now, not during the refusal

    with nothing_written():
        response = post(client, VOTES, cell, secret)

    assert response.status_code == status
    assert response["Content-Type"] == "application/json; charset=utf-8"
    if detail:
        assert detail in response.json()["detail"]


def test_a_closed_ballot_takes_no_vote(client, bob, ballot, olga):
    votes.close_ballot(ballot=ballot, acting_user=olga)

    response = post(client, VOTES, CELL, token_of(bob, "vote"))

    assert response.status_code == 400 and response.json() == {"detail": "Voting on this ballot has closed."}


def test_on_a_sealed_ballot_a_token_gets_its_own_vote_back_and_nothing_else(client, bob, dave, ballot, olga):
    votes.close_ballot(ballot=ballot, acting_user=olga)
    sealed = votes.create_ballot(
        version=ballot.version,
        key="sealed",
        title="Sealed",
        groups=list(ballot.groups.all()),
        criteria=[("use", "Use")],
        choices=[{"key": "required", "label": "Required", "value": 1}],
        results_visibility=Ballot.Visibility.AFTER_CLOSE,
        acting_user=olga,
    )
    votes.open_ballot(ballot=sealed, acting_user=olga)
    path = "/api/definitions/osd/ballots/sealed/votes"
    post(
        client,
        path,
        {"component": "code", "criterion": "use", "choice": "required", "rationale": "Dave's."},
        token_of(dave, "vote"),
    )

    mine = post(client, path, {"component": "code", "criterion": "use", "choice": "required"}, token_of(bob, "vote"))
    roll_call = get(client, path, token_of(bob))
    events = get(client, "/api/audit/events?stream=ballot:osd/sealed", token_of(bob)).content.decode()

    assert mine.status_code == 200 and mine.json()["voter"] == "bob" and "Dave's" not in mine.content.decode()
    assert roll_call.status_code == 403
    assert "Dave's" not in events and '"voter": "dave"' not in events


def test_vote_saves_through_the_api_count_against_the_same_limit_as_the_grid(client, bob, ballot, settings):
    settings.VOTE_RATE_LIMIT = "2/d"
    secret = token_of(bob, "vote")
    client.force_login(bob)
    client.post(
        reverse("votes:vote-grid", args=["osd", "components"]),
        {"component": "data", "criterion": "use", "choice": "required"},
    )
    client.logout()
    assert post(client, VOTES, CELL, secret).status_code == 200

    refused = post(client, VOTES, CELL | {"criterion": "study"}, secret)

    assert refused.status_code == 429
    assert "Plenary takes at most 2 vote saves from one person" in refused.json()["detail"]
    assert Vote.objects.count() == 2


def test_each_token_is_limited_on_its_own_reads_too(client, bob, ballot, settings):
    settings.API_TOKEN_RATE_LIMIT = "3/d"
    first, second = token_of(bob), token_of(bob)

    answers = [get(client, "/api/definitions", first).status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]
    assert "at most 3 requests made with one token" in get(client, "/api/definitions", first).json()["detail"]
    assert get(client, "/api/definitions", second).status_code == 200


# Comments and disputes ---------------------------------------------------------------------------------------------


def test_a_comment_and_a_reply_are_posted_with_a_token_and_audited(client, bob, alice, published):
    path = "/api/definitions/osd/versions/0.0.9/comments"

    comment = post(client, path, {"body": "Code *first*.", "component": "code"}, token_of(bob, "comment"))
    reply = post(
        client,
        path,
        {"body": "Agreed.", "component": "code", "parent": comment.json()["id"]},
        token_of(alice, "comment"),
    )

    assert (comment.status_code, reply.status_code) == (201, 201)
    assert reply.json()["parent"] == comment.json()["id"] and reply.json()["author"] == "alice"
    assert Comment.objects.get(pk=comment.json()["id"]).body_html.startswith("<p>Code <em>first</em>")
    posted = AuditEvent.objects.filter(action="comment.posted").order_by("pk")
    assert [e.actor_handle for e in posted] == ["bob", "alice"]


def test_comments_through_the_api_count_against_the_pages_limit(client, bob, published, settings):
    settings.COMMENT_RATE_LIMIT = "1/d"
    secret = token_of(bob, "comment")
    path = "/api/definitions/osd/versions/0.0.9/comments"

    assert post(client, path, {"body": "One."}, secret).status_code == 201
    refused = post(client, path, {"body": "Two."}, secret)

    assert refused.status_code == 429 and "comments and edits" in refused.json()["detail"]
    assert Comment.objects.count() == 1


def test_a_dispute_is_raised_with_a_token_as_on_the_disputes_page(client, bob, dave, ballot, cast):
    cast(dave, "code", "use", "abstain")
    path = "/api/definitions/osd/ballots/components/disputes"

    raised = post(
        client,
        path,
        {"group": "corpora", "choice": "abstain", "reason": "Abstained en bloc."},
        token_of(bob, "dispute"),
    )
    nothing = post(client, path, {"voter": "bob", "reason": "Mine?"}, token_of(bob, "dispute"))
    unknown = post(client, path, {"component": "weights", "reason": "?"}, token_of(bob, "dispute"))

    assert raised.status_code == 201
    assert raised.json()["selection"] == {
        "voter": None,
        "group": "corpora",
        "choice": "abstain",
        "component": None,
        "criterion": None,
    }
    assert Dispute.objects.get().raised_by == bob
    assert AuditEvent.objects.filter(action="dispute.raised", subject_id=str(raised.json()["id"])).exists()
    assert nothing.status_code == 400 and "No current vote matches" in nothing.json()["detail"]
    assert unknown.status_code == 400 and unknown.json() == {"detail": "This ballot has no component “weights”."}


# Over real HTTP --------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_curl_like_a_token_over_http_casts_a_vote_with_no_cookie_and_no_csrf_token(live_server, bob, ballot):
    secret = token_of(bob, "vote")
    request = urllib.request.Request(
        live_server.url + VOTES,
        data=json.dumps(CELL).encode(),
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as answer:
        body = json.loads(answer.read())
    with pytest.raises(urllib.error.HTTPError) as nope:
        urllib.request.urlopen(urllib.request.Request(live_server.url + "/api/nope", method="POST"))

    assert body["voter"] == "bob" and Vote.objects.get().cast_by == bob
    assert nope.value.code == 404 and json.loads(nope.value.read())["detail"].startswith("There is no such address")
