"""A ballot's own audit stream: it replays to exactly the ballot's votes; a sealed ballot's stream hides its
votes until it closes; and it records every roster change of an enrolled group until the ballot closes.
"""

import pytest

from audit.models import AuditEvent, StreamSeal
from deliberation import services as deliberation
from plenary_tally import chain
from votes import services
from votes.models import Ballot

from .conftest import CHOICES, CRITERIA, the
from .replay import replay, stored


def test_replaying_the_ballots_audit_stream_yields_exactly_its_votes(ballot, olga, alice, bob, dave, other_group, cast):
    not_necessary = the(ballot, choice="not-necessary")
    services.grant_veto(ballot=ballot, choice=not_necessary, group=other_group, reason="Charter", acting_user=olga)
    for voter in (alice, bob, dave):
        for component in ("code", "data"):  # the leaves of the published version
            for criterion, _ in CRITERIA:
                cast(voter, component, criterion, "required")
    cast(bob, "code", "use", "object", rationale="Not needed to run it")
    cast(dave, "data", "share", "not-necessary")
    cast(alice, "data", "modify", "abstain", acting_user=olga)
    cast(alice, "data", "modify", "abstain")  # the same vote again: no event, cast_by stays olga
    cast(bob, "code", "use", "required", rationale="Changed my mind")
    for voter, component, criterion in [(bob, "data", "study"), (dave, "code", "use"), (alice, "code", "share")]:
        services.withdraw_vote(
            ballot=ballot,
            voter=voter,
            component=the(ballot, component=component),
            criterion=the(ballot, criterion=criterion),
        )
    cast(dave, "code", "use", "abstain")  # cast again after withdrawing
    services.raise_dispute(ballot=ballot, raised_by=alice, reason="No rationale", voter=dave)

    assert replay(ballot) == stored(ballot)
    assert len(stored(ballot)) == 3 * 8 - 3 + 1
    assert stored(ballot)[("alice", "data", "modify")] == ("weights", "abstain", "", "olga")
    events = [e.canonical() for e in AuditEvent.objects.filter(stream=ballot.audit_stream).order_by("seq")]
    broken, heads = chain.verify(events)
    assert broken is None
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert heads == {ballot.audit_stream: events[-1]["hash"]}


def test_a_ballot_published_after_close_seals_its_stream_until_it_closes(olga, published, group):

    ballot = services.create_ballot(
        version=published,
        key="sealed",
        title="Sealed",
        groups=[group],
        criteria=CRITERIA,
        choices=CHOICES,
        results_visibility=Ballot.Visibility.AFTER_CLOSE,
        acting_user=olga,
    )
    assert StreamSeal.objects.filter(stream=ballot.audit_stream).exists()

    services.open_ballot(ballot=ballot, acting_user=olga)
    services.close_ballot(ballot=ballot, acting_user=olga)

    assert not StreamSeal.objects.filter(stream=ballot.audit_stream).exists()


@pytest.fixture
def sealed(olga, published, group):
    ballot = services.create_ballot(
        version=published,
        key="sealed",
        title="Sealed",
        groups=[group],
        criteria=CRITERIA,
        choices=CHOICES,
        results_visibility=Ballot.Visibility.AFTER_CLOSE,
        acting_user=olga,
    )
    return services.open_ballot(ballot=ballot, acting_user=olga)


def _guess(event: AuditEvent, payload: dict) -> str:
    """The hash an observer would compute for `event` from a guess of its payload and everything public."""
    return chain.event_hash(event.canonical() | {"payload": payload})


def _vote_on(ballot, voter, choice="required"):
    return services.cast_vote(
        ballot=ballot,
        voter=voter,
        component=ballot.version.components.get(key="code"),
        criterion=ballot.criteria.get(key="use"),
        choice=ballot.choices.get(key=choice),
    )


def test_a_sealed_vote_cannot_be_found_by_trying_guesses_against_its_public_hash(sealed, ballot, bob):
    """Everything in a vote event but its payload is public or guessable, and a vote has few possible payloads."""
    _vote_on(sealed, bob)
    _vote_on(ballot, bob)
    hidden, open_ = (AuditEvent.objects.filter(stream=b.audit_stream).latest("seq") for b in (sealed, ballot))

    # On a live ballot the payload is public anyway: a guess of it matches the hash, as the log shows.
    assert _guess(open_, open_.payload) == open_.hash and "salt" not in open_.payload
    # On a sealed one, the right guess of every field a voter chooses still misses: the event also holds a salt.
    guess = {k: v for k, v in hidden.payload.items() if k != "salt"}
    assert _guess(hidden, guess) != hidden.hash
    assert _guess(hidden, hidden.payload) == hidden.hash  # published when the ballot closes, and it then verifies
    assert len(hidden.payload["salt"]) == 32
    _vote_on(sealed, bob, choice="abstain")
    salts = [
        e.payload["salt"] for e in AuditEvent.objects.filter(stream=sealed.audit_stream, action__startswith="vote.")
    ]
    assert len(set(salts)) == 2  # a salt per event, never reused


def test_revoking_a_grant_on_a_sealed_ballot_does_not_record_how_many_votes_used_it(sealed, olga, bob, group):
    grant = services.grant_veto(
        ballot=sealed, choice=sealed.choices.get(key="not-necessary"), member=bob, reason="Charter", acting_user=olga
    )
    _vote_on(sealed, bob, choice="not-necessary")

    services.revoke_grant(grant=grant, reason="Lapsed", acting_user=olga)

    event = AuditEvent.objects.get(action="grant.revoked")
    assert "used_by_votes" not in event.payload  # a grant to one member would say how many of their votes are vetoes
    assert event.payload["revoke_reason"] == "Lapsed"


def test_a_live_ballot_is_never_sealed(ballot):

    assert not StreamSeal.objects.exists()


def test_a_roster_change_is_recorded_in_each_ballot_the_group_votes_in_until_it_closes(ballot, olga, carol):
    """A ballot's own record proves who may vote in it at any moment, not only at the close."""
    from audit.models import head

    group = ballot.groups.get(key="weights")
    joined = deliberation.add_member(group=group, user=carol, acting_user=olga)
    events = AuditEvent.objects.filter(stream=ballot.audit_stream).order_by("-seq")
    assert (events[0].action, events[0].payload) == (
        "membership.joined",
        {"group": "weights", "member": "carol", "role": "member"},
    )
    services.close_ballot(ballot=ballot, acting_user=olga)
    closed_head = head(ballot.audit_stream)

    deliberation.remove_member(membership=joined, acting_user=olga)

    assert head(ballot.audit_stream) == closed_head  # a closed ballot's record is final
    assert AuditEvent.objects.filter(stream=ballot.definition.audit_stream, action="membership.left").exists()
