"""A failure halfway through a vote leaves nothing behind: no vote, no audit event, every table as it was.

The failures come from the database itself (`tests.faults.the_database_fails`) after the vote row is
written and before or while its audit event is, or after the event is written; each test then checks
that the next try goes through, on the next place in the audit chain. Through the web, the member
is told the vote was not saved, in the grid's cell for htmx, which shows no error page.
"""

import html

import pytest
from django.db import DatabaseError
from django.urls import reverse

from audit.models import AuditEvent
from tests.client import HTMX
from tests.faults import audit_chain_holds, every_table, the_database_fails
from votes import services
from votes.models import Vote
from votes.views.grid import NOT_SAVED

from .replay import replay, stored

FAILURES = {
    "a new vote, as its audit event is written": (None, "required", 'INSERT INTO "audit_auditevent"'),
    "a changed vote, as its audit event is written": ("required", "abstain", 'INSERT INTO "audit_auditevent"'),
    "a withdrawal, as the vote is deleted after its event": ("required", None, 'DELETE FROM "votes_vote"'),
}


def last_seq(ballot) -> int:
    return AuditEvent.objects.filter(stream=ballot.audit_stream).order_by("-seq").values_list("seq", flat=True)[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("before, after, statement", FAILURES.values(), ids=FAILURES.keys())
def test_a_vote_the_database_fails_halfway_leaves_nothing_and_the_next_try_goes_through(
    ballot, cast, bob, nothing_written, before, after, statement
):
    if before:
        cast(bob, "code", "use", before)

    def vote() -> None:
        if after:
            cast(bob, "code", "use", after, rationale="Second thoughts.")
        else:
            services.withdraw_vote(
                ballot=ballot,
                voter=bob,
                component=ballot.version.components.get(key="code"),
                criterion=ballot.criteria.get(key="use"),
            )

    seq, tables = last_seq(ballot), every_table()
    with nothing_written(), the_database_fails(statement) as failed, pytest.raises(DatabaseError):
        vote()

    assert failed, "the failure was injected where intended"
    assert every_table() == tables
    assert audit_chain_holds()

    vote()
    assert last_seq(ballot) == seq + 1
    assert audit_chain_holds()
    assert replay(ballot) == stored(ballot)
    assert stored(ballot) == ({("bob", "code", "use"): ("weights", after, "Second thoughts.", "bob")} if after else {})


@pytest.mark.django_db(transaction=True)
def test_an_error_after_the_audit_event_is_written_takes_the_vote_back_with_it(
    ballot, cast, bob, nothing_written, monkeypatch
):
    record = services.record

    def record_then_fail(**kwargs):
        record(**kwargs)
        raise ConnectionResetError("the connection dropped before the commit")

    monkeypatch.setattr(services, "record", record_then_fail)
    seq, tables = last_seq(ballot), every_table()
    with nothing_written(), pytest.raises(ConnectionResetError):
        cast(bob, "code", "use", "required")

    assert every_table() == tables
    assert audit_chain_holds()
    monkeypatch.undo()
    cast(bob, "code", "use", "required")
    assert last_seq(ballot) == seq + 1
    assert replay(ballot) == stored(ballot) == {("bob", "code", "use"): ("weights", "required", "", "bob")}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("htmx", [False, True], ids=["form post", "htmx"])
def test_a_vote_the_database_fails_to_save_is_reported_to_the_member_and_nothing_is_kept(
    client, ballot, cast, bob, nothing_written, htmx, caplog
):
    cast(bob, "code", "use", "required")
    client.force_login(bob)
    url = reverse("votes:vote-grid", args=["osd", "components"])
    tables = every_table()

    with nothing_written(), the_database_fails('INSERT INTO "audit_auditevent"') as failed:
        response = client.post(
            url,
            {"component": "code", "criterion": "use", "choice": "abstain", "rationale": "Changed my mind."},
            headers=HTMX if htmx else {},
            follow=not htmx,
        )

    assert failed
    assert every_table() == tables
    assert audit_chain_holds()
    assert Vote.objects.get().choice.key == "required"
    assert "could not be saved" in caplog.text
    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    if htmx:  # the cell, with the vote as it stands and why the change is not there
        assert page.lstrip().startswith('<td id="cell-code-use"')
        assert NOT_SAVED in page
        assert '<span class="badge choice ">Required</span>' in page
        assert "HX-Trigger" not in response.headers
    else:
        assert response.redirect_chain[0][1] == 302
        assert f"Training code, Use: {NOT_SAVED} Nothing was changed." in page
