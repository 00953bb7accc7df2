"""Votes that follow the text: a ballot on a new version carries the votes of the ballot on the previous one
(the versions and votes of `carrying`)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from analysis import services as analysis
from audit.models import AuditEvent
from notifications.models import Notification
from plenary_tally import outcomes
from plenary_tally.model import BallotSpec, Cell, Choice, Component
from plenary_tally.vocabulary import Action
from tests.client import table_rows
from tests.votes.pages import ballot_rows
from votes import services
from votes.models import Ballot, Vote

# ruff: noqa: F811 (the fixtures of `carrying`, imported to be found, are the tests' parameters)
from .carrying import MERGE, carrying, cast_on, closed_1, version_1, version_2  # noqa: F401
from .conftest import CHOICES, CRITERIA


def carried(ballot: Ballot) -> set[tuple]:
    return {
        (v.voter.username, v.component.key, v.criterion.key, v.choice.key, v.carried, v.outdated)
        for v in ballot.votes.select_related("voter", "component", "criterion", "choice")
    }


def test_under_unchanged_only_a_vote_on_a_component_whose_text_is_the_same_carries(carrying):
    ballot = carrying(Ballot.CarryRule.UNCHANGED)

    assert carried(ballot) == {("alice", "code", "use", "required", True, False)}


def test_under_mark_outdated_every_vote_carries_and_those_on_changed_or_merged_components_are_outdated(carrying):
    ballot = carrying(Ballot.CarryRule.MARK_OUTDATED)

    assert carried(ballot) == {
        ("alice", "code", "use", "required", True, False),
        ("alice", "datasets", "use", "required", True, True),  # training and testing data agreed: merged
        ("alice", "model", "use", "required", True, True),
        ("dave", "model", "use", "abstain", True, True),
    }  # bob's two data votes disagree: nothing carries onto Datasets, he decides afresh


def test_under_none_nothing_carries(carrying):
    ballot = carrying(Ballot.CarryRule.NONE)

    assert not ballot.votes.exists()
    assert not AuditEvent.objects.filter(stream=ballot.audit_stream, action=Action.VOTE_CARRIED).exists()


def test_without_a_mapping_a_merged_component_carries_nothing(carrying):
    ballot = carrying(Ballot.CarryRule.MARK_OUTDATED, mapping={})

    assert {(v[0], v[1]) for v in carried(ballot)} == {("alice", "code"), ("alice", "model"), ("dave", "model")}


def test_each_carried_vote_is_one_audit_event_and_each_voter_is_told(carrying, closed_1, alice, dave, bob):
    ballot = carrying(Ballot.CarryRule.MARK_OUTDATED)

    events = AuditEvent.objects.filter(stream=ballot.audit_stream, action=Action.VOTE_CARRIED).order_by("seq")
    assert events.count() == ballot.votes.count() == 4
    first = events.filter(payload__component="datasets").get()
    assert first.payload["carried_from"] == closed_1.key
    assert first.payload["outdated"] is True
    assert first.payload["choice"] == "required" and first.payload["voter"] == "alice"
    opened = AuditEvent.objects.get(stream=ballot.audit_stream, action=Action.BALLOT_OPENED)
    assert all(e.seq > opened.seq for e in events)
    told = Notification.objects.filter(key=f"votes-carried:{ballot.pk}")
    assert {n.recipient.username for n in told} == {"alice", "dave"}
    assert "3 votes" in told.get(recipient=alice).subject
    assert not told.filter(recipient=bob).exists()


def test_a_carried_vote_s_voter_changes_confirms_or_withdraws_it(carrying, alice, dave):
    ballot = carrying(Ballot.CarryRule.MARK_OUTDATED)

    changed = cast_on(ballot, alice, "model", "object", rationale="The new wording is too loose.")
    confirmed = cast_on(ballot, alice, "code", "required")  # the same choice again: confirmed
    services.withdraw_vote(
        ballot=ballot,
        voter=dave,
        component=ballot.version.components.get(key="model"),
        criterion=ballot.criteria.get(key="use"),
    )

    assert (changed.carried, changed.outdated, changed.choice.key) == (False, False, "object")
    assert (confirmed.carried, confirmed.outdated) == (False, False)
    assert carried(ballot) == {
        ("alice", "code", "use", "required", False, False),
        ("alice", "datasets", "use", "required", True, True),
        ("alice", "model", "use", "object", False, False),
    }
    actions = list(
        AuditEvent.objects.filter(stream=ballot.audit_stream).order_by("seq").values_list("action", flat=True)
    )
    assert actions[-3:] == [Action.VOTE_CHANGED, Action.VOTE_CHANGED, Action.VOTE_WITHDRAWN]


def test_a_carried_vote_cast_again_unchanged_after_confirming_records_nothing(carrying, alice):
    ballot = carrying(Ballot.CarryRule.UNCHANGED)
    cast_on(ballot, alice, "code", "required")
    events = AuditEvent.objects.filter(stream=ballot.audit_stream).count()

    cast_on(ballot, alice, "code", "required")

    assert AuditEvent.objects.filter(stream=ballot.audit_stream).count() == events


@pytest.mark.parametrize(
    "change, message",
    [
        ({"carry_mapping": {"nope": ["code"]}}, "nope is not a component voted on in 2.0"),
        ({"carry_mapping": {"datasets": ["nope"]}}, "nope: not a component voted on in 1.0"),
        ({"carry_mapping": {"datasets": []}}, "Map datasets from one to"),
        ({"carry_mapping": {"datasets": ["model", "model"]}}, "appears once"),
        ({"carry_rule": "sometimes"}, "There is no rule"),
        ({"carried_from": None}, "Say which earlier ballot"),
    ],
)
def test_a_carry_the_ballot_could_not_follow_is_refused(version_2, closed_1, olga, group, change, message):
    settings = {"carried_from": closed_1, "carry_rule": Ballot.CarryRule.UNCHANGED, "carry_mapping": MERGE}
    with pytest.raises(ValidationError, match=message):
        services.create_ballot(
            version=version_2,
            key="v2",
            title="Components of 2.0",
            groups=[group],
            criteria=CRITERIA,
            choices=CHOICES,
            acting_user=olga,
            **(settings | change),
        )


def test_votes_are_carried_from_a_closed_ballot_on_an_earlier_version_only(version_1, version_2, closed_1, olga, group):
    def create(version, source, key):
        return services.create_ballot(
            version=version,
            key=key,
            title="Another",
            groups=[group],
            criteria=CRITERIA,
            choices=CHOICES,
            acting_user=olga,
            carried_from=source,
            carry_rule=Ballot.CarryRule.UNCHANGED,
        )

    later = create(version_2, closed_1, "v2")
    with pytest.raises(ValidationError, match="earlier version"):
        create(version_1, later, "back")
    with pytest.raises(ValidationError, match="earlier version"):
        create(version_1, closed_1, "same-version")
    scheduled = services.create_ballot(
        version=version_1, key="v1-b", title="Again", groups=[group], criteria=CRITERIA, choices=CHOICES,
        acting_user=olga,
    )  # fmt: skip
    with pytest.raises(ValidationError, match="closed ballot"):
        create(version_2, scheduled, "from-scheduled")


def test_the_scenarios_leave_out_the_carried_and_the_outdated_votes(carrying, alice, bob):
    ballot = carrying(Ballot.CarryRule.MARK_OUTDATED)
    cast_on(ballot, alice, "code", "required")  # confirmed: no longer carried
    cast_on(ballot, bob, "datasets", "abstain")

    results = outcomes.compute(analysis.ballot_spec(ballot), analysis.vote_cells(ballot))
    votes = {s["key"]: {c["key"]: c["votes"] for c in s["components"]} for s in results["scenarios"]}

    assert votes["all"] == {"code": 1, "datasets": 2, "model": 2}
    assert votes["without-carried"] == {"code": 1, "datasets": 1, "model": 0}
    assert votes["without-outdated"] == {"code": 1, "datasets": 1, "model": 0}


def test_without_outdated_keeps_a_carried_vote_on_an_unchanged_component():
    spec = BallotSpec(
        criteria=("use",),
        choices={"yes": Choice("yes", 1)},
        components=(Component("code"),),
        groups=("g",),
        methodology={"rule": "mean-bands", "bands": [{"min": 0.5, "label": "Yes"}], "otherwise": "No"},
        carries=True,
    )
    cells = [
        Cell("code", "use", "g", "yes", False, 2, carried=True),
        Cell("code", "use", "g", "yes", False, 3, carried=True, outdated=True),
        Cell("code", "use", "g", "yes", False, 5),
    ]
    tests = outcomes.scenarios(spec)

    assert sum(c.count for c in cells if tests["without-carried"](c)) == 5
    assert sum(c.count for c in cells if tests["without-outdated"](c)) == 7
    assert "without-carried" not in outcomes.scenarios(BallotSpec(**{**spec.__dict__, "carries": False}))


def test_a_ballot_that_carries_nothing_has_no_carried_votes_flagged(ballot, cast, alice):
    cast(alice, "code", "use", "required")

    assert not Vote.objects.filter(carried=True).exists()
    assert "carry" not in services.ballot_spec(ballot)


def test_the_grid_the_roll_call_and_the_ballot_page_mark_carried_votes_in_words(client, carrying, alice, definition):
    ballot = carrying(Ballot.CarryRule.MARK_OUTDATED)
    cast_on(ballot, alice, "model", "object", rationale="Too loose now.")
    args = [definition.slug, ballot.key]

    page = client.get(reverse("votes:ballot", args=args)).content.decode()
    rows = table_rows(client.get(reverse("votes:roll-call", args=args)), "roll-call")
    client.force_login(alice)
    grid = client.get(reverse("votes:vote-grid", args=args)).content.decode()

    assert "Carry every vote, marking those on changed components outdated, from" in page
    assert "datasets ← training-data, testing-data" in page
    flagged = {(row[0], row[2]): row[4] for row in rows}
    assert (
        "↻ carried" in flagged[("Training code", "@alice")] and "outdated" not in flagged[("Training code", "@alice")]
    )
    assert "↻ carried, outdated" in flagged[("Datasets", "@alice")]
    assert "carried" not in flagged[("Model", "@alice")]  # changed: the voter's own now
    assert grid.count("↻ carried") == 2 and grid.count("outdated: the text changed") == 1
    assert "save to confirm it" in grid


def carry_form(version_2, closed_1, group, **changes) -> dict:
    return {
        "title": "Components of 2.0",
        "key": "v2",
        "version": version_2.pk,
        "groups": [group.pk],
        **ballot_rows([("use", "Use")], [{"key": "required", "label": "Required", "value": "1"}]),
        "eligibility": "live",
        "time_zone": "UTC",
        "results_visibility": "live",
        "rule": "mean-bands",
        "bands": "0.5 Yes",
        "otherwise": "No",
        "k": "2",
        "seed": "42",
        "carried_from": closed_1.pk,
        "carry_rule": "mark_outdated",
        "carry_mapping": "datasets: training-data, testing-data\n",
    } | changes


def test_the_organizer_declares_the_carry_on_the_ballot_form(client, olga, version_2, closed_1, group, definition):
    client.force_login(olga)

    response = client.post(
        reverse("votes:ballot-create", args=[definition.slug]), carry_form(version_2, closed_1, group)
    )

    assert response.status_code == 302, response.context["form"].errors
    ballot = Ballot.objects.get(key="v2")
    assert (ballot.carried_from, ballot.carry_rule, ballot.carry_mapping) == (closed_1, "mark_outdated", MERGE)
    created = AuditEvent.objects.get(stream=ballot.audit_stream, action=Action.BALLOT_CREATED)
    assert created.payload["carry"] == {
        "from": {"key": "v1", "version": "1.0"},
        "rule": "mark_outdated",
        "mapping": MERGE,
    }


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"carry_mapping": "datasets training-data"}, "carry_mapping", "Line 1: write a new component's key, a colon"),
        ({"carry_mapping": "datasets: a\ndatasets: b"}, "carry_mapping", "Line 2: datasets is mapped on an earlier"),
        ({"carry_mapping": "x" * 20_001}, "carry_mapping", "Ensure this value has at most 20000 characters"),
        ({"carry_mapping": "datasets: nope"}, None, "nope: not a component voted on in 1.0"),
        ({"carried_from": ""}, None, "Say which earlier ballot the votes are carried from."),
    ],
)
def test_a_carry_the_form_cannot_follow_is_refused_and_nothing_is_written(
    client, olga, version_2, closed_1, group, definition, changes, field, message
):
    client.force_login(olga)

    response = client.post(
        reverse("votes:ballot-create", args=[definition.slug]), carry_form(version_2, closed_1, group, **changes)
    )

    assert response.status_code == 200
    assert any(message in e for e in response.context["form"].errors[field or "__all__"]), response.context[
        "form"
    ].errors
    assert not Ballot.objects.filter(key="v2").exists()


def test_the_api_s_roll_call_says_which_votes_are_carried(client, carrying, definition):
    ballot = carrying(Ballot.CarryRule.MARK_OUTDATED)

    page = client.get(f"/api/definitions/{definition.slug}/ballots/{ballot.key}/votes").json()

    flags = {(v["voter"], v["component"]): (v["carried"], v["outdated"]) for v in page["items"]}
    assert flags == {
        ("alice", "code"): (True, False),
        ("alice", "datasets"): (True, True),
        ("alice", "model"): (True, True),
        ("dave", "model"): (True, True),
    }
