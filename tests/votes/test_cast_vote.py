"""`cast_vote`: casting, changing and casting on a member's behalf, with or without a veto grant, and every
reason a vote is refused.

The vote grid is tested in test_vote_grid.py. Each change writes exactly one event, to the ballot's own
stream (`audited`). A refused call raises and leaves every votes and audit row as it was (`nothing_written`).
"""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from deliberation import services as deliberation
from deliberation.models import Membership
from tests.factories import MembershipFactory, UserFactory, WorkingGroupFactory
from votes import services
from votes.models import Ballot, Vote

from .conftest import assert_event, audited, new_ballot, the


def test_a_member_casts_a_vote_for_their_group(ballot, bob, group, cast):
    vote, event = audited(lambda: cast(bob, "code", "use", "required"))

    assert (vote.ballot, vote.voter, vote.group, vote.cast_by) == (ballot, bob, group, bob)
    assert (vote.component.key, vote.criterion.key, vote.choice.key) == ("code", "use", "required")
    assert (vote.grant, vote.rationale, vote.on_behalf) == (None, "", False)
    assert_event(event, ballot=ballot, action="vote.cast", actor="bob", subject=vote)
    assert event.payload == {
        "voter": "bob",
        "group": "weights",
        "component": "code",
        "criterion": "use",
        "choice": "required",
        "value": 1,
        "rationale": "",
        "grant": None,
        "cast_by": "bob",
        "cast_at": vote.cast_at.isoformat(),
        "previous": None,
    }


def test_changing_a_vote_keeps_one_row_and_records_what_it_was(ballot, bob, cast):
    first = cast(bob, choice="required")

    vote, event = audited(lambda: cast(bob, choice="object", rationale="  Not needed to run it.  "))

    assert vote.pk == first.pk
    assert Vote.objects.get().choice.key == "object"
    assert vote.rationale == "Not needed to run it."
    assert_event(event, ballot=ballot, action="vote.changed", actor="bob", subject=vote)
    assert event.payload["previous"] == {"choice": "required", "rationale": ""}
    assert (event.payload["choice"], event.payload["value"], event.payload["rationale"]) == (
        "object",
        -1,
        "Not needed to run it.",
    )


def test_a_new_rationale_alone_is_a_change(ballot, bob, cast):
    cast(bob, choice="abstain")

    _, event = audited(lambda: cast(bob, choice="abstain", rationale="Undecided until the data card is written."))

    assert event.action == "vote.changed"
    assert event.payload["previous"] == {"choice": "abstain", "rationale": ""}


def test_casting_the_same_vote_again_records_nothing(ballot, bob, cast, nothing_written):
    first = cast(bob, choice="abstain", rationale="Undecided")

    with nothing_written():
        again = cast(bob, choice="abstain", rationale="  Undecided ")

    assert again.pk == first.pk


def test_a_grant_holder_uses_the_restricted_choice(ballot, olga, bob, group, not_necessary, cast):
    grant = services.grant_veto(ballot=ballot, choice=not_necessary, group=group, reason="Charter", acting_user=olga)

    vote, event = audited(lambda: cast(bob, "data", "study", "not-necessary"))

    assert vote.grant == grant
    assert vote.is_undocumented_veto
    assert (event.action, event.payload["grant"], event.payload["value"]) == ("vote.cast", grant.pk, -1)


def test_a_category_grant_covers_its_category_only(ballot, olga, bob, group, not_necessary, cast, nothing_written):
    services.grant_veto(
        ballot=ballot, choice=not_necessary, group=group, category="Data", reason="Data only", acting_user=olga
    )

    cast(bob, "data", "use", "not-necessary")
    with nothing_written(), pytest.raises(PermissionDenied, match="“Not necessary” is restricted"):
        cast(bob, "code", "use", "not-necessary")


def test_a_member_grant_covers_that_member_only(ballot, olga, alice, dave, not_necessary, cast, nothing_written):
    services.grant_veto(ballot=ballot, choice=not_necessary, member=dave, reason="Steward", acting_user=olga)

    assert cast(dave, choice="not-necessary").grant.member == dave
    with nothing_written(), pytest.raises(PermissionDenied, match="restricted"):
        cast(alice, choice="not-necessary")


def test_a_revoked_grant_no_longer_lets_anyone_use_the_choice(
    ballot, olga, bob, group, not_necessary, cast, nothing_written
):
    grant = services.grant_veto(ballot=ballot, choice=not_necessary, group=group, reason="Charter", acting_user=olga)
    services.revoke_grant(grant=grant, reason="Lapsed", acting_user=olga)

    with nothing_written(), pytest.raises(PermissionDenied, match="restricted"):
        cast(bob, choice="not-necessary")


def test_organizer_casts_a_vote_on_a_members_behalf(ballot, olga, bob, cast):
    vote, event = audited(lambda: cast(bob, choice="required", rationale="Sent by e-mail.", acting_user=olga))

    assert (vote.voter, vote.cast_by, vote.on_behalf) == (bob, olga, True)
    assert_event(event, ballot=ballot, action="vote.cast_on_behalf", actor="olga", subject=vote)
    assert (event.payload["voter"], event.payload["cast_by"], event.payload["previous"]) == ("bob", "olga", None)


def test_a_change_on_a_members_behalf_is_recorded_as_such(ballot, olga, bob, cast):
    cast(bob, choice="required")

    vote, event = audited(lambda: cast(bob, choice="abstain", acting_user=olga))

    assert (vote.cast_by, event.action, event.actor_handle) == (olga, "vote.cast_on_behalf", "olga")
    assert event.payload["previous"] == {"choice": "required", "rationale": ""}


def test_a_member_of_two_groups_says_which_one_they_vote_for(ballot, bob, other_group, cast, nothing_written):
    MembershipFactory(group=other_group, user=bob)

    with nothing_written(), pytest.raises(ValidationError, match="choose the group you vote for"):
        cast(bob)
    vote, event = audited(lambda: cast(bob, group=other_group))
    assert (vote.group, event.payload["group"]) == (other_group, "corpora")


def test_once_a_member_of_two_groups_has_voted_a_vote_for_the_other_group_is_refused_not_moved(
    ballot, bob, group, other_group, cast, nothing_written
):
    MembershipFactory(group=other_group, user=bob)
    first = cast(bob, "code", "use", group=other_group)

    with nothing_written(), pytest.raises(PermissionDenied) as refused:
        cast(bob, "code", "use", "abstain", group=group)  # the same cell
    with nothing_written(), pytest.raises(PermissionDenied):
        cast(bob, "data", "study", group=group)  # another cell

    assert str(refused.value) == (
        "@bob votes for Corpora in this ballot: a member of several groups votes for one, chosen with their first "
        "vote, and a vote is never moved to another group. This vote for Weights was not saved; to vote for "
        "Weights instead, first withdraw every vote for Corpora."
    )
    assert Vote.objects.get() == first and first.group == other_group
    later = cast(bob, "data", "use")  # no group named: the one chosen
    assert later.group == other_group


def test_a_member_of_two_groups_who_withdrew_every_vote_may_choose_the_other_group(
    ballot, bob, group, other_group, cast
):
    MembershipFactory(group=other_group, user=bob)
    cast(bob, "code", "use", group=other_group)
    services.withdraw_vote(
        ballot=ballot, voter=bob, component=the(ballot, component="code"), criterion=the(ballot, criterion="use")
    )

    assert cast(bob, "code", "use", group=group).group == group


def test_voting_is_refused_before_the_ballot_opens(scheduled, bob, nothing_written):
    with nothing_written(), pytest.raises(ValidationError, match="has not opened yet"):
        services.cast_vote(
            ballot=scheduled,
            voter=bob,
            component=the(scheduled, component="code"),
            criterion=the(scheduled, criterion="use"),
            choice=the(scheduled, choice="required"),
        )


def test_voting_is_refused_after_the_ballot_closes(ballot, olga, bob, cast, nothing_written):
    services.close_ballot(ballot=ballot, acting_user=olga)

    with nothing_written(), pytest.raises(ValidationError, match="has closed"):
        cast(bob)
    with nothing_written(), pytest.raises(ValidationError, match="has closed"):
        cast(bob, acting_user=olga)


def test_voting_is_refused_once_the_closing_time_has_passed(ballot, bob, cast, nothing_written):
    Ballot.objects.filter(pk=ballot.pk).update(closes_at=timezone.now() - timedelta(seconds=1))

    with nothing_written(), pytest.raises(ValidationError, match="has closed"):
        cast(bob)


def test_an_outsider_cannot_vote(ballot, carol, olga, cast, nothing_written):
    with nothing_written(), pytest.raises(PermissionDenied, match="@carol is not a member of a working group enrolled"):
        cast(carol)
    with nothing_written(), pytest.raises(PermissionDenied, match="@carol is not a member"):
        cast(carol, acting_user=olga)


def test_a_member_who_left_cannot_vote(ballot, olga, bob, cast, nothing_written):
    deliberation.remove_member(membership=Membership.objects.get(user=bob), acting_user=olga)

    with nothing_written(), pytest.raises(PermissionDenied, match="@bob is not a member"):
        cast(bob)


def test_a_member_cannot_vote_for_a_group_they_are_not_in(ballot, bob, other_group, cast, nothing_written):
    with nothing_written(), pytest.raises(PermissionDenied, match="@bob does not vote for Corpora"):
        cast(bob, group=other_group)


def test_a_member_of_a_group_not_enrolled_cannot_vote(ballot, cast, nothing_written):
    elsewhere = WorkingGroupFactory(definition=ballot.definition, key="elsewhere")
    erin = MembershipFactory(group=elsewhere, user=UserFactory(username="erin")).user

    with nothing_written(), pytest.raises(PermissionDenied, match="@erin is not a member"):
        cast(erin)


def test_an_aggregate_is_not_voted_on(ballot, bob, cast, nothing_written):
    with nothing_written(), pytest.raises(ValidationError, match="All data is an aggregate"):
        cast(bob, "all-data")


def test_a_component_of_another_version_is_not_voted_on(ballot, bob, draft, nothing_written):
    with nothing_written(), pytest.raises(ValidationError, match="not part of the version this ballot is on"):
        services.cast_vote(
            ballot=ballot,
            voter=bob,
            component=draft.components.get(key="code"),
            criterion=the(ballot, criterion="use"),
            choice=the(ballot, choice="required"),
        )


def test_criteria_and_choices_come_from_the_same_ballot(ballot, olga, bob, group, nothing_written):
    other = new_ballot(ballot.version, olga, [group])
    cell = {"ballot": ballot, "voter": bob, "component": the(ballot, component="code")}

    with nothing_written(), pytest.raises(ValidationError, match="criterion is not part of this ballot"):
        services.cast_vote(**cell, criterion=the(other, criterion="use"), choice=the(ballot, choice="required"))
    with nothing_written(), pytest.raises(ValidationError, match="choice is not on this ballot's scale"):
        services.cast_vote(**cell, criterion=the(ballot, criterion="use"), choice=the(other, choice="required"))


def test_a_restricted_choice_needs_a_grant(ballot, bob, cast, nothing_written):
    with nothing_written(), pytest.raises(PermissionDenied, match="only holders of a veto grant may use it"):
        cast(bob, choice="not-necessary", rationale="Even with a reason")


def test_a_grant_to_another_group_does_not_cover_this_one(
    ballot, olga, bob, other_group, not_necessary, cast, nothing_written
):
    services.grant_veto(ballot=ballot, choice=not_necessary, group=other_group, reason="Charter", acting_user=olga)

    with nothing_written(), pytest.raises(PermissionDenied, match="restricted"):
        cast(bob, choice="not-necessary")


@pytest.mark.parametrize("rationale", ["", "   \n"])
def test_a_choice_that_requires_a_rationale_refuses_a_vote_without_one(rationale, ballot, bob, cast, nothing_written):
    with nothing_written(), pytest.raises(ValidationError, match="A vote “Object” needs a rationale"):
        cast(bob, choice="object", rationale=rationale)


@pytest.mark.parametrize("acting", ["alice", "dave", "carol"])
def test_only_organizers_vote_on_someone_elses_behalf(acting, request, ballot, bob, cast, nothing_written):
    request.getfixturevalue(acting)  # the persona exists before nothing_written looks
    with nothing_written(), pytest.raises(PermissionDenied, match="Only organizers vote on another member's behalf"):
        cast(bob, acting_user=request.getfixturevalue(acting))
