"""The majority methodology of the pure analysis core on ballot B (threshold ⅔) and on single components:
shares, vetoes, margins, scenarios, flips, outcomes by criterion, and groups that disagree with the pooled outcome.

Every expected number below is worked out by hand in the comments beside it or beside the ballot in
tests/analysis/conftest.py. Scores, μ, shares and thresholds are exact: integers and `Fraction`s, written in
outcomes.json as `7` or `"7/3"`. No database.
"""

from fractions import Fraction as F

import pytest

from plenary_tally import methodologies, outcomes
from plenary_tally.model import BallotSpec, Component

from .conftest import (
    MAJORITY_CELLS,
    MAJORITY_KEYS,
    MAJORITY_SPEC,
    brute_force_margin,
    cell,
    majority_outcome,
    majority_outcomes,
)


@pytest.mark.parametrize(
    "key, share, outcome, margin",
    [
        # 4 / (4 + 1) = 0.8, abstentions left out.  Down: (4 − m) / 5 < ⅔ ⇔ m > 0.67 → 1 (3/5 = 0.6)
        ("a", F(4, 5), "Passes", 1),
        # 2 / 6 = ⅓.  Up: (2 + m) / 6 ≥ ⅔ ⇔ m ≥ 2 (4/6 reaches ⅔ exactly; 3/6 does not)
        ("b", F(1, 3), "Fails", 2),
        # 5 / 6 positive, but the veto stands: Blocked; changing that one vote unblocks it
        ("c", F(5, 6), "Blocked", 1),
        # only abstentions: nothing cast; one abstention turned +1 (or -1) decides it
        ("d", None, "No votes", 1),
        # no votes at all, nothing to change
        ("e", None, "No votes", None),
        # a and b pooled: 6 yes, 5 no → 6/11.  Up: (6 + m) / 11 ≥ ⅔ ⇔ m ≥ 1.33 → 2 (8/11 = 0.73; 7/11 = 0.64)
        ("ab", F(6, 11), "Fails", 2),
    ],
)
def test_majority_outcomes_as_cast(key, share, outcome, margin):
    result = methodologies.majority(MAJORITY_SPEC, MAJORITY_CELLS)[key]
    assert (result.score, result.outcome, result.margin) == (share, outcome, margin)


@pytest.mark.parametrize(
    "threshold, counts, share, outcome, margin",
    [
        (1 / 2, {"yes": 1, "no": 1}, F(1, 2), "Passes", 1),  # ½ exactly reaches ½; one yes → no: 0/2
        (2 / 3, {"yes": 2, "no": 1}, F(2, 3), "Passes", 1),  # ⅔ reaches the float 2/3 (just under ⅔); 1/3 does not
        (2 / 3, {"yes": 3, "no": 2, "abstain": 4}, F(3, 5), "Fails", 1),  # 3/5, not 3/9; one no → yes: 4/5
        (2 / 3, {"yes": 9, "no": 1}, F(9, 10), "Passes", 3),  # (9 − m)/10 < ⅔ ⇔ m > 2.33: 6/10 fails, 7/10 passes
        (1 / 2, {"no": 3}, 0, "Fails", 2),  # (0 + m)/3 ≥ ½ ⇔ m ≥ 1.5
        (1 / 2, {"yes": 5, "veto": 1}, F(5, 6), "Blocked", 1),
        (1 / 2, {"yes": 5, "veto": 2}, F(5, 7), "Blocked", 2),  # both vetoes must go
        (0.667, {"yes": 2, "no": 1}, F(2, 3), "Fails", 1),  # 0.667 is 667/1000, over ⅔; one no → yes: 3/3
        (1 / 2, {"abstain": 2}, None, "No votes", 1),
        (1 / 2, {}, None, "No votes", None),
    ],
)
def test_majority_of_one_component(threshold, counts, share, outcome, margin):
    spec = BallotSpec(
        criteria=("use",),
        choices=MAJORITY_SPEC.choices,
        components=(Component("x"),),
        groups=("g1",),
        methodology={"rule": "majority", "threshold": threshold},
    )
    cells = [cell("x", "use", "g1", choice, n) for choice, n in counts.items()]
    result = methodologies.majority(spec, cells)["x"]
    assert (result.score, result.outcome, result.margin) == (share, outcome, margin)
    assert margin == brute_force_margin(spec, cells, "x", majority_outcome(spec, "x"))


def test_a_majority_threshold_is_the_decimal_ballot_json_writes():
    # 0.667 is 667/1000, not the float nearest it (0.66700000000000003730…): a share of exactly 667/1000
    # reaches it, ⅔ does not; one of the 667 yes votes turned no and the share falls under it
    spec = BallotSpec(
        criteria=("use",),
        choices=MAJORITY_SPEC.choices,
        components=(Component("x"), Component("y")),
        groups=("g1",),
        methodology={"rule": "majority", "threshold": 0.667},
    )
    cells = [
        cell("x", "use", "g1", "yes", 667),
        cell("x", "use", "g1", "no", 333),
        cell("y", "use", "g1", "yes", 2),
        cell("y", "use", "g1", "no", 1),
    ]
    results = methodologies.majority(spec, cells)
    assert (results["x"].score, results["x"].outcome, results["x"].margin) == (F(667, 1000), "Passes", 1)
    assert (results["y"].score, results["y"].outcome, results["y"].margin) == (F(2, 3), "Fails", 1)
    all_ = outcomes.compute(spec, cells)["scenarios"][0]
    assert all_["thresholds"] == {"threshold": "667/1000"}
    assert [c["score"] for c in all_["components"]] == ["667/1000", "2/3"]


def test_majority_labels_can_be_renamed():
    spec = BallotSpec(
        criteria=("use",),
        choices=MAJORITY_SPEC.choices,
        components=(Component("x"),),
        groups=("g1",),
        methodology={"rule": "majority", "threshold": 0.5, "labels": {"pass": "Required"}},
    )
    assert methodologies.majority(spec, [cell("x", "use", "g1", "yes", 1)])["x"].outcome == "Required"


# Scenarios of ballot B (majority has no thresholds that move, so no @baseline twins):
#   without-disputed: b loses 3 no → 2 yes, 1 no = ⅔ Passes (exactly); ab 6 yes, 2 no = 0.75 Passes
#   without-restricted: the veto goes → c 5/5 Passes
#   g1 only: a 2/2, b 1/1, c 2/2, ab 3/3 Passes; d only abstains
#   g2 only: a 1/1 (2 abstain), b 1/1, c 2/2, ab 2/2 Passes
#   g3 only: a 1/2 Fails, b 0/4 Fails, c vetoed, ab 1/6 Fails
#   without g1: a 2/3 Passes, b 1/5 Fails, c vetoed, ab 3/8 Fails
#   without g2: a 3/4 Passes, b 1/5 Fails, c vetoed, ab 4/9 Fails
#   without g3: a 3/3, b 2/2, c 4/4, ab 5/5 Passes
NONE = "No votes"
MAJORITY_SCENARIOS = {
    "all": ("Passes", "Fails", "Blocked", NONE, NONE, "Fails"),
    "without-disputed": ("Passes", "Passes", "Blocked", NONE, NONE, "Passes"),
    "without-restricted": ("Passes", "Fails", "Passes", NONE, NONE, "Fails"),
    "without-conflicts": ("Passes", "Fails", "Blocked", NONE, NONE, "Fails"),  # nobody declared one: as cast
    "without-group:g1": ("Passes", "Fails", "Blocked", NONE, NONE, "Fails"),
    "without-group:g2": ("Passes", "Fails", "Blocked", NONE, NONE, "Fails"),
    "without-group:g3": ("Passes", "Passes", "Passes", NONE, NONE, "Passes"),
    "only-group:g1": ("Passes", "Passes", "Passes", NONE, NONE, "Passes"),
    "only-group:g2": ("Passes", "Passes", "Passes", NONE, NONE, "Passes"),
    "only-group:g3": ("Fails", "Fails", "Blocked", NONE, NONE, "Fails"),
}


def test_majority_scenarios_have_no_baseline_twins():
    assert [s["key"] for s in majority_outcomes()["scenarios"]] == list(MAJORITY_SCENARIOS)


@pytest.mark.parametrize("scenario", MAJORITY_SCENARIOS)
def test_majority_scenario_outcomes(scenario):
    found = next(s for s in majority_outcomes()["scenarios"] if s["key"] == scenario)
    # the float 2/3 that ballot.json holds, 0.6666666666666666, read as the decimal written
    assert found["thresholds"] == {"threshold": "3333333333333333/5000000000000000"}
    assert tuple(c["outcome"] for c in found["components"]) == MAJORITY_SCENARIOS[scenario]


def test_majority_flips():
    flipped = {(f["to"]["scenario"], f["component"], f["to"]["outcome"]) for f in majority_outcomes()["flips"]}
    assert flipped == {
        ("without-disputed", "b", "Passes"),
        ("without-disputed", "ab", "Passes"),
        ("without-restricted", "c", "Passes"),
        ("without-group:g3", "b", "Passes"),
        ("without-group:g3", "c", "Passes"),
        ("without-group:g3", "ab", "Passes"),
        ("only-group:g1", "b", "Passes"),
        ("only-group:g1", "c", "Passes"),
        ("only-group:g1", "ab", "Passes"),
        ("only-group:g2", "b", "Passes"),
        ("only-group:g2", "c", "Passes"),
        ("only-group:g2", "ab", "Passes"),
        ("only-group:g3", "a", "Fails"),
    }


# Per criterion --------------------------------------------------------------------------------------


def test_majority_per_criterion():
    # use:   a 3 yes 1 no Passes, b 1 yes 3 no Fails, c 4 yes Passes, ab 4 yes 4 no Fails
    # study: a 1 yes (2 abstain) Passes, b 1 yes 1 no Fails, c vetoed, ab 2 yes 1 no = ⅔ Passes
    criteria = majority_outcomes()["criteria"]
    assert criteria["use"]["outcomes"] == dict(
        zip(MAJORITY_KEYS, ("Passes", "Fails", "Passes", NONE, NONE, "Fails"), strict=True)
    )
    assert criteria["study"]["outcomes"] == dict(
        zip(MAJORITY_KEYS, ("Passes", "Fails", "Blocked", NONE, NONE, "Passes"), strict=True)
    )


# Per group against pooled ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, groups, majority_of_groups, disagrees",
    [
        ("a", ("Passes", "Passes", "Fails"), "Passes", False),  # pooled Passes too
        ("b", ("Passes", "Passes", "Fails"), "Passes", True),  # pooled 2/6 Fails
        ("c", ("Passes", "Passes", "Blocked"), "Passes", True),  # pooled Blocked by g3's veto
        ("d", (NONE, NONE, NONE), NONE, False),
        ("e", (NONE, NONE, NONE), NONE, False),
        ("ab", ("Passes", "Passes", "Fails"), "Passes", True),  # pooled 6/11 Fails
    ],
)
def test_pooled_outcome_is_flagged_where_most_groups_disagree(key, groups, majority_of_groups, disagrees):
    row = majority_outcomes()["groups"][key]
    assert row == {
        "pooled": MAJORITY_SCENARIOS["all"][MAJORITY_KEYS.index(key)],
        "groups": dict(zip(MAJORITY_SPEC.groups, groups, strict=True)),
        "majority_of_groups": majority_of_groups,
        "disagrees": disagrees,
    }
