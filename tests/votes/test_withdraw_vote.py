"""`withdraw_vote`: a member withdraws their vote, or an organizer on their behalf, and what is refused.

The withdrawal writes exactly one event, to the ballot's own stream (`audited`). A refused call raises and
leaves every votes and audit row as it was (`nothing_written`).
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from votes import services
from votes.models import Vote

from .conftest import assert_event, audited, the


def test_a_member_withdraws_their_vote(ballot, bob, cast):
    vote = cast(bob, choice="object", rationale="Too early")
    cell = {"component": vote.component, "criterion": vote.criterion}

    _, event = audited(lambda: services.withdraw_vote(ballot=ballot, voter=bob, **cell))

    assert not Vote.objects.exists()
    assert_event(event, ballot=ballot, action="vote.withdrawn", actor="bob", subject=vote)
    assert event.payload == {
        "voter": "bob",
        "group": "weights",
        "component": "code",
        "criterion": "use",
        "choice": "object",
        "value": -1,
        "rationale": "Too early",
        "grant": None,
        "cast_by": "bob",
        "cast_at": vote.cast_at.isoformat(),
        "previous": None,
    }


def test_organizer_withdraws_a_vote_on_a_members_behalf(ballot, olga, bob, cast):
    vote = cast(bob)

    _, event = audited(
        lambda: services.withdraw_vote(
            ballot=ballot, voter=bob, component=vote.component, criterion=vote.criterion, acting_user=olga
        )
    )

    assert not Vote.objects.exists()
    assert (event.action, event.actor_handle, event.payload["voter"], event.payload["cast_by"]) == (
        "vote.withdrawn",
        "olga",
        "bob",
        "olga",
    )


def test_withdraw_vote_refuses_without_a_vote_after_close_or_for_others(
    ballot, olga, alice, bob, cast, nothing_written
):
    cell = {"ballot": ballot, "voter": bob, "component": the(ballot, component="code")}
    use, study = the(ballot, criterion="use"), the(ballot, criterion="study")
    cast(bob, "code", "use")

    with nothing_written():
        with pytest.raises(ValidationError, match="no vote to withdraw"):
            services.withdraw_vote(**cell, criterion=study)
        with pytest.raises(PermissionDenied, match="another member's behalf"):
            services.withdraw_vote(**cell, criterion=use, acting_user=alice)
    services.close_ballot(ballot=ballot, acting_user=olga)
    with nothing_written(), pytest.raises(ValidationError, match="has closed"):
        services.withdraw_vote(**cell, criterion=use)
