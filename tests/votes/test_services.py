"""Every write use case of the votes app: what it changes, the one audit event it writes, and what it refuses.

Each change writes exactly one event, to the ballot's own stream (`audited`). A refused call
raises and leaves every votes and audit row as it was (`nothing_written`).
"""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from audit.models import AuditEvent, StreamSeal
from deliberation import services as deliberation
from deliberation.models import Membership
from plenary_tally import chain
from tests.factories import MembershipFactory, UserFactory, WorkingGroupFactory
from votes import services
from votes.models import Ballot, Dispute, VetoGrant, Vote

from .conftest import CHOICES, CRITERIA
from .replay import replay, stored


def audited(change):
    """Run `change`; return its result and the one audit event it wrote, failing if it wrote none or several."""
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    result = change()
    new = list(AuditEvent.objects.filter(pk__gt=last))
    assert len(new) == 1, f"expected one audit event, got {[e.action for e in new]}"
    return result, new[0]


def assert_event(event, *, ballot, action, actor, subject):
    assert (event.stream, event.action, event.actor_handle) == (ballot.audit_stream, action, actor)
    assert (event.subject_type, event.subject_id) == (subject._meta.label_lower, str(subject.pk))


def the(ballot, **keys):
    """Look up the ballot's criterion, choice or the version's component by key: the(ballot, choice="abstain")."""
    [(kind, key)] = keys.items()
    related = {"criterion": ballot.criteria, "choice": ballot.choices, "component": ballot.version.components}
    return related[kind].get(key=key)


def new_ballot(version, olga, groups, **overrides):
    fields = {
        "version": version,
        "key": "second",
        "title": "Second vote",
        "groups": groups,
        "criteria": CRITERIA,
        "choices": CHOICES,
        "acting_user": olga,
    }
    return services.create_ballot(**fields | overrides)


@pytest.fixture
def not_necessary(ballot):
    return the(ballot, choice="not-necessary")


# create_ballot ---------------------------------------------------------------------------------


def test_organizer_creates_a_scheduled_ballot_with_its_criteria_and_scale(published, olga, group, other_group):
    ballot, event = audited(
        lambda: new_ballot(published, olga, [other_group, group], key="components", title="Component vote")
    )

    assert (ballot.status, ballot.version, ballot.created_by) == (Ballot.Status.SCHEDULED, published, olga)
    assert set(ballot.groups.all()) == {group, other_group}
    assert list(ballot.criteria.values_list("key", "label")) == CRITERIA
    assert list(ballot.choices.values_list("key", "value", "requires_grant", "requires_rationale", "blocking")) == [
        ("required", 1, False, False, False),
        ("abstain", 0, False, False, False),
        ("not-necessary", -1, True, False, False),
        ("object", -1, False, True, False),
    ]
    assert ballot.methodology["rule"] == "mean-bands"
    assert ballot.audit_stream == "ballot:osd/components"
    assert_event(event, ballot=ballot, action="ballot.created", actor="olga", subject=ballot)
    assert (event.seq, event.prev_hash) == (1, chain.GENESIS_HASH)
    assert event.payload == services.ballot_spec(ballot) | {"roster": services.roster(ballot)}
    assert event.payload["roster"] == {
        "corpora": [{"member": "dave", "role": "member"}],
        "weights": [{"member": "alice", "role": "chair"}, {"member": "bob", "role": "member"}],
    }
    assert event.payload["groups"] == ["corpora", "weights"]
    assert event.payload["criteria"][0] == {"key": "use", "label": "Use"}
    assert event.payload["choices"][2] == {
        "key": "not-necessary",
        "label": "Not necessary",
        "value": -1,
        "requires_grant": True,
        "blocking": False,
        "requires_rationale": False,
    }
    assert event.payload["methodology"] == {
        "rule": "mean-bands",
        "bands": [
            {"min": 2.0, "label": "Yes"},
            {"min": 1.5, "label": "Lean yes"},
            {"min": 1.0, "label": "Maybe"},
            {"min": 0.5, "label": "Lean no"},
        ],
        "otherwise": "No",
    }


def test_a_ballot_may_use_the_majority_rule(published, olga, group):
    methodology = {"rule": "majority", "threshold": 0.667}

    ballot = new_ballot(published, olga, [group], methodology=methodology)

    assert ballot.methodology == methodology
    assert AuditEvent.objects.get(stream=ballot.audit_stream).payload["methodology"] == methodology


@pytest.mark.parametrize("persona", ["alice", "bob", "carol"])
def test_only_organizers_create_ballots(persona, request, published, group, nothing_written):
    request.getfixturevalue(persona)  # the persona exists before nothing_written looks
    with nothing_written(), pytest.raises(PermissionDenied, match="organizers"):
        new_ballot(published, request.getfixturevalue(persona), [group])


def test_ballots_are_held_on_published_versions_only(draft, olga, group, nothing_written):
    with nothing_written(), pytest.raises(ValidationError, match="published versions only"):
        new_ballot(draft, olga, [group])


def test_a_ballot_enrolls_groups_of_its_own_definition(published, olga, nothing_written):
    elsewhere = WorkingGroupFactory(key="elsewhere")

    with nothing_written(), pytest.raises(ValidationError, match="at least one working group of this definition"):
        new_ballot(published, olga, [elsewhere])


SPEC_REFUSALS = {
    "no-groups": ({"groups": []}, "at least one working group"),
    "no-criteria": ({"criteria": []}, "at least one criterion"),
    "no-choices": ({"choices": []}, "needs a choice scale"),
    "duplicate-criterion": ({"criteria": [("use", "Use"), ("use", "Use again")]}, "Each criterion key may appear once"),
    "duplicate-choice": ({"choices": [CHOICES[0], CHOICES[0]]}, "Each choice key may appear once"),
    "closes-before-opens": (
        {"opens_at": timezone.now() + timedelta(days=2), "closes_at": timezone.now() + timedelta(days=1)},
        "closes after it opens",
    ),
    "taken-key": ({"key": "components"}, "already has a ballot with key components"),
    "bad-key": ({"key": "not a slug"}, "slug"),
    "blank-title": ({"title": ""}, "blank"),
    "bad-criterion-key": ({"criteria": [("Use it!", "Use")]}, "slug"),
    "choice-without-value": ({"choices": [{"key": "yes", "label": "Yes"}]}, "The choice yes has no value"),
    "choice-value-beyond-32-bits": (  # refused on every engine, not only where the database would refuse it
        {"choices": [{"key": "yes", "label": "Yes", "value": 2**40}]},
        "The choice yes counts for 1099511627776, but a choice's value is a whole number from -2147483648 to",
    ),
    "bad-methodology": ({"methodology": {"rule": "k-means"}}, "must be one of mean-bands, majority"),
}


@pytest.mark.parametrize("overrides, message", SPEC_REFUSALS.values(), ids=SPEC_REFUSALS.keys())
def test_create_ballot_refuses_a_malformed_specification(overrides, message, ballot, olga, group, nothing_written):
    with nothing_written(), pytest.raises(ValidationError, match=message):
        new_ballot(ballot.version, olga, **{"groups": [group]} | overrides)


BANDS = [{"min": 2.0, "label": "Yes"}, {"min": 1.0, "label": "Maybe"}]
METHODOLOGY_REFUSALS = {
    "no-rule": ({}, "must be one of mean-bands, majority"),
    "unknown-rule": ({"rule": "borda"}, "must be one of mean-bands, majority"),
    "no-bands": ({"rule": "mean-bands", "bands": [], "otherwise": "No"}, "needs bands"),
    "band-without-label": (
        {"rule": "mean-bands", "bands": [{"min": 1.0}], "otherwise": "No"},
        "Band 1: A band needs a label",
    ),
    "band-min-not-a-number": (
        {"rule": "mean-bands", "bands": [{"min": "2", "label": "Yes"}], "otherwise": "No"},
        "Band 1: A band needs a number as its minimum",
    ),
    "bands-ascending": ({"rule": "mean-bands", "bands": BANDS[::-1], "otherwise": "No"}, "from the highest minimum"),
    "same-minimum-twice": (
        {"rule": "mean-bands", "bands": [BANDS[0], {"min": 2.0, "label": "Also yes"}], "otherwise": "No"},
        "each minimum once",
    ),
    "no-otherwise": ({"rule": "mean-bands", "bands": BANDS}, "needs an `otherwise` label"),
    "blank-otherwise": ({"rule": "mean-bands", "bands": BANDS, "otherwise": " "}, "needs an `otherwise` label"),
    "majority-without-threshold": ({"rule": "majority"}, "threshold more than 0 and at most 1"),
    "majority-threshold-zero": ({"rule": "majority", "threshold": 0}, "threshold more than 0 and at most 1"),
    "majority-threshold-above-one": ({"rule": "majority", "threshold": 1.5}, "threshold more than 0 and at most 1"),
    "majority-threshold-text": ({"rule": "majority", "threshold": "1/2"}, "threshold more than 0 and at most 1"),
}


@pytest.mark.parametrize("methodology, message", METHODOLOGY_REFUSALS.values(), ids=METHODOLOGY_REFUSALS.keys())
def test_validate_methodology_refuses_what_the_analysis_could_not_run(methodology, message):
    with pytest.raises(ValidationError, match=message):
        services.validate_methodology(methodology)


@pytest.mark.parametrize("methodology, message", METHODOLOGY_REFUSALS.values(), ids=METHODOLOGY_REFUSALS.keys())
def test_create_ballot_refuses_an_unrunnable_methodology(methodology, message, published, olga, group, nothing_written):
    with nothing_written(), pytest.raises(ValidationError, match=message):
        new_ballot(published, olga, [group], methodology=methodology)


@pytest.mark.parametrize(
    "methodology",
    [
        {"rule": "mean-bands", "bands": BANDS, "otherwise": "No"},
        {"rule": "mean-bands", "bands": [{"min": 1, "label": "Pass"}], "otherwise": "Fail"},
        {"rule": "majority", "threshold": 0.5},
        {"rule": "majority", "threshold": 1},
    ],
)
def test_validate_methodology_accepts_runnable_rules(methodology):
    assert services.validate_methodology(methodology) is methodology


CLUSTERING_REFUSALS = {
    "seed-too-large": ({"k": 2, "seed": 2**32}, "seed is a whole number from 0 to 4294967295"),
    "seed-negative": ({"k": 2, "seed": -1}, "seed is a whole number from 0 to 4294967295"),
    "seed-text": ({"k": 2, "seed": "42"}, "seed is a whole number"),
    "no-k": ({"seed": 42}, "whole number of clusters k"),
    "k-zero": ({"k": 0, "seed": 42}, "whole number of clusters k from 2 to 6"),
    "k-true": ({"k": True, "seed": 42}, "whole number of clusters k"),
}


@pytest.mark.parametrize("clustering, message", CLUSTERING_REFUSALS.values(), ids=CLUSTERING_REFUSALS.keys())
def test_create_ballot_refuses_clustering_k_means_could_not_run(
    clustering, message, published, olga, group, nothing_written
):
    with nothing_written(), pytest.raises(ValidationError, match=message):
        new_ballot(published, olga, [group], clustering=clustering)


# open_ballot and close_ballot ------------------------------------------------------------------


def test_organizer_opens_a_scheduled_ballot(scheduled, olga):
    before = timezone.now()

    ballot, event = audited(lambda: services.open_ballot(ballot=scheduled, acting_user=olga))

    ballot.refresh_from_db()
    assert ballot.status == Ballot.Status.OPEN
    assert before <= ballot.opened_at <= timezone.now()
    assert ballot.accepts_votes()
    assert_event(event, ballot=ballot, action="ballot.opened", actor="olga", subject=ballot)
    assert (event.seq, event.payload) == (2, {})


@pytest.mark.parametrize("persona", ["alice", "bob", "carol"])
def test_only_organizers_open_a_ballot(persona, request, scheduled, nothing_written):
    request.getfixturevalue(persona)  # the persona exists before nothing_written looks
    with nothing_written(), pytest.raises(PermissionDenied, match="organizers"):
        services.open_ballot(ballot=scheduled, acting_user=request.getfixturevalue(persona))


def test_an_open_ballot_cannot_open_again(ballot, olga, nothing_written):
    with nothing_written(), pytest.raises(ValidationError, match="Only a scheduled ballot can open; this one is open"):
        services.open_ballot(ballot=ballot, acting_user=olga)


def test_a_ballot_whose_closing_time_has_passed_cannot_open(scheduled, olga, nothing_written):
    Ballot.objects.filter(pk=scheduled.pk).update(closes_at=timezone.now() - timedelta(minutes=1))

    with nothing_written(), pytest.raises(ValidationError, match="closing time has passed"):
        services.open_ballot(ballot=scheduled, acting_user=olga)


def test_closing_freezes_each_groups_roster_with_the_ballot(ballot, olga, alice, bob, cast):
    cast(bob)
    cast(alice, "data", "study", "abstain")

    closed, event = audited(lambda: services.close_ballot(ballot=ballot, acting_user=olga))

    roster = {
        "corpora": [{"member": "dave", "role": "member"}],
        "weights": [{"member": "alice", "role": "chair"}, {"member": "bob", "role": "member"}],
    }
    closed.refresh_from_db()
    assert (closed.status, closed.roster_at_close) == (Ballot.Status.CLOSED, roster)
    assert closed.closed_at is not None
    assert not closed.accepts_votes()
    assert_event(event, ballot=ballot, action="ballot.closed", actor="olga", subject=ballot)
    assert event.payload == {"votes": 2, "roster": roster}

    deliberation.remove_member(membership=Membership.objects.get(user=bob), acting_user=olga)
    closed.refresh_from_db()
    assert closed.roster_at_close == roster
    assert services.roster(closed)["weights"] == [{"member": "alice", "role": "chair"}]


@pytest.mark.parametrize("persona", ["alice", "bob", "carol"])
def test_only_organizers_close_a_ballot(persona, request, ballot, nothing_written):
    request.getfixturevalue(persona)  # the persona exists before nothing_written looks
    with nothing_written(), pytest.raises(PermissionDenied, match="organizers"):
        services.close_ballot(ballot=ballot, acting_user=request.getfixturevalue(persona))


def test_only_an_open_ballot_closes(scheduled, olga, nothing_written):
    with (
        nothing_written(),
        pytest.raises(ValidationError, match="Only an open ballot can close; this one is scheduled"),
    ):
        services.close_ballot(ballot=scheduled, acting_user=olga)


def test_a_closed_ballot_cannot_close_again(ballot, olga, nothing_written):
    services.close_ballot(ballot=ballot, acting_user=olga)

    with nothing_written(), pytest.raises(ValidationError, match="this one is closed"):
        services.close_ballot(ballot=ballot, acting_user=olga)


# grant_veto and revoke_grant -------------------------------------------------------------------


def test_organizer_grants_a_restricted_choice_to_a_group(ballot, olga, group, not_necessary):
    grant, event = audited(
        lambda: services.grant_veto(
            ballot=ballot, choice=not_necessary, group=group, reason="  Charter §3.  ", acting_user=olga
        )
    )

    assert (grant.group, grant.member, grant.category, grant.reason) == (group, None, "", "Charter §3.")
    assert (grant.granted_by, grant.revoked_at) == (olga, None)
    assert_event(event, ballot=ballot, action="grant.made", actor="olga", subject=grant)
    assert event.payload == {
        "choice": "not-necessary",
        "holder": "weights",
        "holder_kind": "group",
        "category": None,
        "reason": "Charter §3.",
        "granted_at": grant.granted_at.isoformat(),
        "revoked_at": None,
    }


def test_organizer_grants_a_restricted_choice_to_one_member_for_one_category(ballot, olga, dave, not_necessary):
    grant, event = audited(
        lambda: services.grant_veto(
            ballot=ballot, choice=not_necessary, member=dave, category="Data", reason="Data steward", acting_user=olga
        )
    )

    assert (grant.group, grant.member, grant.category) == (None, dave, "Data")
    assert event.payload == {
        "choice": "not-necessary",
        "holder": "@dave",
        "holder_kind": "member",
        "category": "Data",
        "reason": "Data steward",
        "granted_at": grant.granted_at.isoformat(),
        "revoked_at": None,
    }


@pytest.mark.parametrize("persona", ["alice", "bob", "carol"])
def test_only_organizers_grant_vetoes(persona, request, ballot, group, not_necessary, nothing_written):
    request.getfixturevalue(persona)  # the persona exists before nothing_written looks
    with nothing_written(), pytest.raises(PermissionDenied, match="organizers"):
        services.grant_veto(
            ballot=ballot,
            choice=not_necessary,
            group=group,
            reason="I'd like one",
            acting_user=request.getfixturevalue(persona),
        )


def test_grant_veto_refuses_what_it_cannot_grant(ballot, olga, group, other_group, dave, carol, nothing_written):
    not_necessary = the(ballot, choice="not-necessary")
    outsiders = WorkingGroupFactory(definition=ballot.definition, key="outsiders", name="Outsiders")
    other_ballot = new_ballot(ballot.version, olga, [group])
    refusals = [
        ({"choice": the(ballot, choice="required"), "group": group}, "restricted choices only"),
        ({"choice": the(other_ballot, choice="not-necessary"), "group": group}, "restricted choices only"),
        ({"choice": not_necessary}, "to one working group or to one member"),
        ({"choice": not_necessary, "group": group, "member": dave}, "to one working group or to one member"),
        ({"choice": not_necessary, "group": outsiders}, "Outsiders is not enrolled in this ballot"),
        ({"choice": not_necessary, "member": carol}, "@carol is not a member of a group enrolled"),
        ({"choice": not_necessary, "group": group, "category": "Weights"}, "no component in category Weights"),
        ({"choice": not_necessary, "group": group, "reason": "  "}, "needs a reason"),
    ]

    for fields, message in refusals:
        with nothing_written(), pytest.raises(ValidationError, match=message):
            services.grant_veto(ballot=ballot, acting_user=olga, **{"reason": "Because"} | fields)


def test_no_grant_is_made_on_a_closed_ballot(ballot, olga, group, not_necessary, nothing_written):
    services.close_ballot(ballot=ballot, acting_user=olga)

    with nothing_written(), pytest.raises(ValidationError, match="closed; grants can no longer change"):
        services.grant_veto(ballot=ballot, choice=not_necessary, group=group, reason="Late", acting_user=olga)


def test_organizer_revokes_a_grant_and_says_how_many_votes_used_it(ballot, olga, bob, group, not_necessary, cast):
    grant = services.grant_veto(ballot=ballot, choice=not_necessary, group=group, reason="Charter", acting_user=olga)
    cast(bob, choice="not-necessary")

    revoked, event = audited(lambda: services.revoke_grant(grant=grant, reason=" Charter lapsed ", acting_user=olga))

    grant.refresh_from_db()
    assert (grant.revoked_by, grant.revoke_reason) == (olga, "Charter lapsed")
    assert grant.revoked_at is not None
    assert not VetoGrant.objects.active().exists()
    assert_event(event, ballot=ballot, action="grant.revoked", actor="olga", subject=grant)
    assert event.payload == {
        "choice": "not-necessary",
        "holder": "weights",
        "holder_kind": "group",
        "category": None,
        "reason": "Charter",
        "granted_at": grant.granted_at.isoformat(),
        "revoked_at": grant.revoked_at.isoformat(),
        "revoke_reason": "Charter lapsed",
        "used_by_votes": 1,
    }
    assert Vote.objects.get().grant == grant  # votes already cast stand; disputing them is a separate step


def test_revoke_grant_refuses_to_revoke_twice_without_a_reason_or_by_others(
    ballot, olga, alice, group, not_necessary, nothing_written
):
    grant = services.grant_veto(ballot=ballot, choice=not_necessary, group=group, reason="Charter", acting_user=olga)

    with nothing_written():
        with pytest.raises(PermissionDenied, match="organizers"):
            services.revoke_grant(grant=grant, reason="Mine", acting_user=alice)
        with pytest.raises(ValidationError, match="Say why"):
            services.revoke_grant(grant=grant, reason=" ", acting_user=olga)
    services.revoke_grant(grant=grant, reason="Lapsed", acting_user=olga)
    with nothing_written(), pytest.raises(ValidationError, match="already revoked"):
        services.revoke_grant(grant=grant, reason="Again", acting_user=olga)


def test_no_grant_is_revoked_on_a_closed_ballot(ballot, olga, group, not_necessary, nothing_written):
    grant = services.grant_veto(ballot=ballot, choice=not_necessary, group=group, reason="Charter", acting_user=olga)
    services.close_ballot(ballot=ballot, acting_user=olga)

    with nothing_written(), pytest.raises(ValidationError, match="closed; grants can no longer change"):
        services.revoke_grant(grant=grant, reason="Too late", acting_user=olga)


# cast_vote -------------------------------------------------------------------------------------


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


# withdraw_vote ---------------------------------------------------------------------------------


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


# raise_dispute and resolve_dispute ------------------------------------------------------------


def test_a_member_disputes_a_set_of_votes(ballot, olga, alice, bob, dave, other_group, not_necessary, cast):
    services.grant_veto(ballot=ballot, choice=not_necessary, group=other_group, reason="Charter", acting_user=olga)
    cast(dave, "code", "use", "not-necessary")
    cast(dave, "data", "use", "not-necessary")
    cast(dave, "data", "study", "required")
    cast(bob, "code", "use", "required")

    dispute, event = audited(
        lambda: services.raise_dispute(
            ballot=ballot, raised_by=alice, reason=" No rationale given. ", group=other_group, choice=not_necessary
        )
    )

    assert (dispute.status, dispute.raised_by, dispute.reason) == (Dispute.Status.OPEN, alice, "No rationale given.")
    assert dispute.selection == "votes for group corpora choosing Not necessary"
    assert_event(event, ballot=ballot, action="dispute.raised", actor="alice", subject=dispute)
    assert event.payload == {
        "selection": {
            "voter": None,
            "group": "corpora",
            "choice": "not-necessary",
            "component": None,
            "criterion": None,
        },
        "reason": "No rationale given.",
        "status": "open",
        "resolution": "",
        "votes": 2,
    }


def test_an_organizer_disputes_a_single_vote(ballot, olga, bob, cast):
    cast(bob, "code", "use")
    cast(bob, "code", "study")

    dispute, event = audited(
        lambda: services.raise_dispute(
            ballot=ballot,
            raised_by=olga,
            reason="Cast after the deadline agreed in the meeting.",
            voter=bob,
            component=the(ballot, component="code"),
            criterion=the(ballot, criterion="study"),
        )
    )

    assert dispute.selection == "votes by @bob on code for Study"
    assert event.payload["selection"] == {
        "voter": "bob",
        "group": None,
        "choice": None,
        "component": "code",
        "criterion": "study",
    }
    assert event.payload["votes"] == 1


def test_raise_dispute_refuses_outsiders_and_vague_or_empty_selections(
    ballot, olga, bob, carol, group, draft, cast, nothing_written
):
    cast(bob)
    other = new_ballot(ballot.version, olga, [group])
    outsiders = WorkingGroupFactory(definition=ballot.definition, key="outsiders", name="Outsiders")
    refusals = [
        (ValidationError, {"reason": " "}, "Say why you dispute"),
        (ValidationError, {}, "Say which votes you dispute"),
        (ValidationError, {"group": outsiders}, "Outsiders is not enrolled"),
        (ValidationError, {"choice": the(other, choice="required")}, "choice or criterion is not part of this ballot"),
        (ValidationError, {"criterion": the(other, criterion="use")}, "choice or criterion is not part of this ballot"),
        (ValidationError, {"component": draft.components.get(key="code")}, "not part of the version"),
        (ValidationError, {"criterion": the(ballot, criterion="share")}, "No current vote matches"),
    ]

    with nothing_written():
        with pytest.raises(PermissionDenied, match="Only members of the definition's working groups"):
            services.raise_dispute(ballot=ballot, raised_by=carol, reason="I object", voter=bob)
        for exception, selection, message in refusals:
            with pytest.raises(exception, match=message):
                services.raise_dispute(ballot=ballot, raised_by=bob, **{"reason": "Because"} | selection)


@pytest.fixture
def dispute(ballot, alice, bob, cast):
    cast(bob)
    return services.raise_dispute(ballot=ballot, raised_by=alice, reason="Misclick?", voter=bob)


@pytest.mark.parametrize("status", [Dispute.Status.UPHELD, Dispute.Status.DISMISSED])
def test_organizer_resolves_a_dispute(status, ballot, dispute, olga):
    resolved, event = audited(
        lambda: services.resolve_dispute(
            dispute=dispute, status=status, resolution=" Asked bob on 3 May. ", acting_user=olga
        )
    )

    resolved.refresh_from_db()
    assert (resolved.status, resolved.resolution, resolved.resolved_by) == (status, "Asked bob on 3 May.", olga)
    assert resolved.resolved_at is not None
    assert_event(event, ballot=ballot, action="dispute.resolved", actor="olga", subject=dispute)
    assert event.payload == {
        "selection": {"voter": "bob", "group": None, "choice": None, "component": None, "criterion": None},
        "reason": "Misclick?",
        "status": status,
        "resolution": "Asked bob on 3 May.",
    }


def test_resolve_dispute_refuses_others_bad_statuses_blank_resolutions_and_second_resolutions(
    dispute, olga, alice, nothing_written
):
    with nothing_written():
        with pytest.raises(PermissionDenied, match="organizers"):
            services.resolve_dispute(dispute=dispute, status="upheld", resolution="Mine", acting_user=alice)
        for status in ("open", "maybe"):
            with pytest.raises(ValidationError, match="upheld or dismissed"):
                services.resolve_dispute(dispute=dispute, status=status, resolution="Hm", acting_user=olga)
        with pytest.raises(ValidationError, match="Explain the resolution"):
            services.resolve_dispute(dispute=dispute, status="upheld", resolution="  ", acting_user=olga)
    services.resolve_dispute(dispute=dispute, status="dismissed", resolution="Confirmed.", acting_user=olga)
    with nothing_written(), pytest.raises(ValidationError, match="already dismissed"):
        services.resolve_dispute(dispute=dispute, status="upheld", resolution="Changed my mind", acting_user=olga)


# Reading votes: disputed, undocumented vetoes -----------------------------------------------------


@pytest.fixture
def votes(ballot, olga, alice, bob, dave, other_group, not_necessary, cast):
    services.grant_veto(ballot=ballot, choice=not_necessary, group=other_group, reason="Charter", acting_user=olga)
    return {
        "alice-code": cast(alice, "code", "use", "required"),
        "bob-code": cast(bob, "code", "use", "required"),
        "bob-data": cast(bob, "data", "study", "object", rationale="Too costly"),
        "dave-code": cast(dave, "code", "use", "not-necessary"),
        "dave-data": cast(dave, "data", "study", "not-necessary", rationale="Information suffices"),
    }


def flagged(ballot) -> set[str]:
    return {
        f"{v.voter.username}-{v.component.key}"
        for v in Vote.objects.filter(ballot=ballot).with_flags().select_related("voter", "component")
        if v.is_disputed
    }


def test_no_vote_is_disputed_before_a_dispute(ballot, votes):
    assert flagged(ballot) == set()
    assert not Vote.objects.disputed().exists()


@pytest.mark.parametrize(
    "selection, expected",
    [
        ({"voter": "bob"}, {"bob-code", "bob-data"}),
        ({"group": "corpora"}, {"dave-code", "dave-data"}),
        ({"choice": "required"}, {"alice-code", "bob-code"}),
        ({"component": "code", "criterion": "use"}, {"alice-code", "bob-code", "dave-code"}),
        ({"group": "corpora", "choice": "not-necessary", "component": "data"}, {"dave-data"}),
    ],
    ids=["by-voter", "by-group", "by-choice", "by-cell", "all-selectors"],
)
def test_an_open_dispute_flags_exactly_the_votes_it_selects(selection, expected, request, ballot, votes, alice):
    lookups = {
        "voter": lambda key: request.getfixturevalue(key),
        "group": lambda key: ballot.groups.get(key=key),
        "choice": lambda key: the(ballot, choice=key),
        "component": lambda key: the(ballot, component=key),
        "criterion": lambda key: the(ballot, criterion=key),
    }
    selectors = {name: lookups[name](key) for name, key in selection.items()}
    services.raise_dispute(ballot=ballot, raised_by=alice, reason="Questioned", **selectors)

    assert flagged(ballot) == expected
    assert {f"{v.voter.username}-{v.component.key}" for v in Vote.objects.disputed()} == expected


@pytest.mark.parametrize("status, standing", [("upheld", True), ("dismissed", False)])
def test_an_upheld_dispute_keeps_flagging_and_a_dismissed_one_stops(status, standing, ballot, votes, olga, bob):
    dispute = services.raise_dispute(ballot=ballot, raised_by=olga, reason="Questioned", voter=bob)

    services.resolve_dispute(dispute=dispute, status=status, resolution="Decided", acting_user=olga)

    assert flagged(ballot) == ({"bob-code", "bob-data"} if standing else set())


def test_a_dispute_on_another_ballot_flags_nothing_here(ballot, votes, olga, alice, group):
    other = new_ballot(ballot.version, olga, [group])
    services.open_ballot(ballot=other, acting_user=olga)
    services.cast_vote(
        ballot=other,
        voter=alice,
        component=the(other, component="code"),
        criterion=the(other, criterion="use"),
        choice=the(other, choice="required"),
    )

    services.raise_dispute(ballot=other, raised_by=olga, reason="Elsewhere", voter=alice)

    assert flagged(ballot) == set()
    assert flagged(other) == {"alice-code"}


def test_a_restricted_choice_without_a_rationale_is_an_undocumented_veto(ballot, votes):
    assert list(Vote.objects.undocumented_vetoes()) == [votes["dave-code"]]
    assert set(Vote.objects.restricted()) == {votes["dave-code"], votes["dave-data"]}
    assert votes["dave-code"].is_undocumented_veto
    assert not votes["dave-data"].is_undocumented_veto
    assert not votes["bob-data"].is_undocumented_veto  # negative, but open to all and explained


# The audit stream replays to the votes ----------------------------------------------------------


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
