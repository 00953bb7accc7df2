"""Reading votes with their flags: which votes a dispute marks as disputed, and which are undocumented vetoes."""

import pytest

from votes import services
from votes.models import Vote

from .conftest import new_ballot, the


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
