"""A ballot's life through its services: `create_ballot` with its criteria, scale and methodology, then
`open_ballot` and `close_ballot`.

Each change writes exactly one event, to the ballot's own stream (`audited`). A refused call raises and
leaves every votes and audit row as it was (`nothing_written`).
"""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from audit.models import AuditEvent
from deliberation import services as deliberation
from deliberation.models import Membership
from plenary_tally import chain
from tests.factories import WorkingGroupFactory
from votes import services
from votes.models import Ballot

from .conftest import CHOICES, CRITERIA, assert_event, audited, new_ballot

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
    "majority-threshold-text": ({"rule": "majority", "threshold": "half"}, "threshold more than 0 and at most 1"),
    "majority-threshold-over-zero": ({"rule": "majority", "threshold": "1/0"}, "threshold more than 0 and at most 1"),
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
    assert (event.seq, event.payload) == (2, {"eligibility": "live"})


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
