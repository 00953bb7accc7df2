"""The mean-bands methodology of the pure analysis core on ballot A: scores, μ and bands, scenarios with their
baseline twins, flips, scores by criterion and by group, clusters, and margins by hand and by brute force.

Every expected number below is worked out by hand in the comments beside it or beside the ballot in
tests/analysis/conftest.py. Scores, μ, shares and thresholds are exact: integers and `Fraction`s, written in
outcomes.json as `7` or `"7/3"`. No database.
"""

from fractions import Fraction as F

import pytest

from plenary_tally import methodologies, numbers, outcomes
from plenary_tally.model import BallotSpec, Choice, Component

from .conftest import (
    BANDS_CELLS,
    BANDS_KEYS,
    BANDS_SPEC,
    OSAID,
    bands_outcome,
    bands_outcomes,
    brute_force_margin,
    by_key,
    cell,
    majority_outcomes,
)


@pytest.mark.parametrize(
    "key, score, outcome",
    [
        ("code", 8, "Yes"),  # 8 ≥ 2μ = 8: exactly on the threshold reaches it
        ("data-a", 3, "Lean no"),  # 2 ≤ 3 < 4
        ("data-b", 5, "Maybe"),  # 4 ≤ 5 < 6
        ("docs", 0, "No"),  # no votes: 0 < 2
        ("datasets", 4, "Maybe"),  # mean (3 + 5) / 2 = 4 = μ exactly
        ("everything", 11, "Yes"),  # sum 8 + 3 = 11 ≥ 8
    ],
)
def test_mean_bands_scores_and_outcomes(key, score, outcome):
    mu, results = methodologies.mean_bands(BANDS_SPEC, BANDS_CELLS)
    assert mu == 4  # (8 + 3 + 5 + 0) / 4: leaves only, docs included at 0
    assert (results[key].score, results[key].outcome) == (score, outcome)


@pytest.mark.parametrize(
    "score, mu, outcome",
    [
        (8, 4, "Yes"),  # 8 = 2.0 × 4
        (F(799, 100), 4, "Lean yes"),  # just under 8, at least 1.5 × 4 = 6
        (6, 4, "Lean yes"),  # 6 = 1.5 × 4
        (4, 4, "Maybe"),  # 4 = 1.0 × 4
        (2, 4, "Lean no"),  # 2 = 0.5 × 4
        (F(199, 100), 4, "No"),  # under every band
        (F(3, 10), F(3, 10), "Maybe"),  # 3/10 = 1.0 × 3/10, where the floats 0.3 and 0.1 + 0.2 differ
        (-3, -2, "Yes"),  # μ < 0 turns the bands round: -3 ≥ 2μ = -4, so Yes
    ],
)
def test_a_score_reaches_the_first_band_whose_threshold_it_meets(score, mu, outcome):
    assert methodologies.band(score, mu, OSAID) == outcome


def test_aggregate_scores_sum_or_average_their_parts_and_one_part_feeds_both():
    # leaves with one vote each: code +1, data-a +1 +1 (2), data-b -1, docs nothing
    cells = [
        cell("code", "use", "alpha", "required", 1),
        cell("data-a", "use", "alpha", "required", 1),
        cell("data-a", "study", "beta", "required", 1),
        cell("data-b", "study", "beta", "not-necessary", 1),
    ]
    mu, results = methodologies.mean_bands(BANDS_SPEC, cells)
    assert mu == F(1, 2)  # (1 + 2 - 1 + 0) / 4
    assert results["datasets"].score == F(1, 2)  # mean(2, -1) = 1 / 2
    assert results["everything"].score == 3  # sum(1, 2): data-a counted in both aggregates


# Six leaves of +1 votes: a 2, b 1, c 1, d 3, e 2, f 1, so μ = 10 / 6 = 5/3; abc is the mean of a, b, c = 4/3.
# One band from 0.8 μ = 0.8 × 5/3 = 4/3: abc is exactly on it. In floats 4/3 is 1.3333333333333333 and
# 0.8 × (10 / 6) is 1.3333333333333335, so only a tolerance would let it reach the band; exactly, it does.
ON_THE_LINE_SPEC = BallotSpec(
    criteria=("use",),
    choices={"yes": Choice("yes", 1), "no": Choice("no", -1)},
    components=(
        *(Component(key) for key in ("a", "b", "c", "d", "e", "f")),
        Component("abc", rule="mean", parts=("a", "b", "c")),
    ),
    groups=("g1",),
    methodology={"rule": "mean-bands", "bands": [{"min": 0.8, "label": "Reaches"}], "otherwise": "Short"},
)
ON_THE_LINE_CELLS = [
    cell(key, "use", "g1", "yes", n) for key, n in (("a", 2), ("b", 1), ("c", 1), ("d", 3), ("e", 2), ("f", 1))
]


def test_a_mean_of_three_parts_is_an_exact_fraction_and_reaches_a_band_it_is_exactly_on():
    mu, results = methodologies.mean_bands(ON_THE_LINE_SPEC, ON_THE_LINE_CELLS)
    assert mu == F(5, 3)
    assert (results["abc"].score, results["abc"].outcome) == (F(4, 3), "Reaches")
    assert results["abc"].margin == 1  # one +1 of a, b or c turned -1: abc 2/3, μ 4/3, 2/3 < 0.8 × 4/3
    all_ = by_key(outcomes.compute(ON_THE_LINE_SPEC, ON_THE_LINE_CELLS)["scenarios"][0])
    assert all_["abc"]["score"] == "4/3"
    assert all_["abc"]["by_criterion"] == {"use": "4/3"}
    assert all_["abc"]["by_group"] == {"g1": "4/3"}
    assert all_["c"]["score"] == 1


def test_scores_and_thresholds_are_written_in_the_exact_form():
    for found in (bands_outcomes(), majority_outcomes(), outcomes.compute(ON_THE_LINE_SPEC, ON_THE_LINE_CELLS)):
        thresholds = [s["thresholds"] for s in (*found["scenarios"], *found["criteria"].values())]
        scores = [
            score
            for s in found["scenarios"]
            for c in s["components"]
            for score in (c["score"], *c["by_criterion"].values(), *c["by_group"].values())
        ]
        written = [n for t in thresholds for n in t.values()] + [n for n in scores if n is not None]
        assert all(type(n) in (int, str) and numbers.written(numbers.exact(n)) == n for n in written)


# Every scenario of ballot A, by hand.
#
#   without-disputed: data-a loses its -1 → 4.  μ = (8 + 4 + 5 + 0) / 4 = 4.25
#       bands 8.5 / 6.375 / 4.25 / 2.125: code 8 Lean yes, data-a 4 Lean no, data-b 5 Maybe, docs No,
#       datasets (4 + 5) / 2 = 4.5 Maybe, everything 8 + 4 = 12 Yes
#     @baseline, μ = 4 (bands 8 / 6 / 4 / 2): code 8 Yes, data-a 4 Maybe, data-b 5 Maybe, docs No,
#       datasets 4.5 Maybe, everything 12 Yes
#     → μ moves when the disputed vote goes: code flips only with the moving μ, data-a only with the fixed one
#   without-restricted: both not-necessary votes go: data-a 4, data-b 6.  μ = 18 / 4 = 4.5
#       bands 9 / 6.75 / 4.5 / 2.25: code 8 Lean yes, data-a 4 Lean no, data-b 6 Maybe, docs No,
#       datasets 5 Maybe, everything 12 Yes
#     @baseline μ = 4: code Yes, data-a 4 Maybe, data-b 6 Lean yes (6 = 1.5 × 4), docs No, datasets 5 Maybe,
#       everything 12 Yes
#   only beta (= without-group:alpha): code 2 + 1 + 0 = 3, data-a -1, data-b 2 + 2 - 1 = 3, docs 0.
#       μ = 5 / 4 = 1.25, bands 2.5 / 1.875 / 1.25 / 0.625: code Yes, data-a No, data-b Yes, docs No,
#       datasets (−1 + 3) / 2 = 1 Lean no, everything 3 − 1 = 2 Lean yes
#     @baseline μ = 4: code 3 Lean no, data-a No, data-b 3 Lean no, docs No, datasets 1 No,
#       everything 2 Lean no (2 = 0.5 × 4)
#   only alpha (= without-group:beta): code 3 + 2 = 5, data-a 3 + 1 = 4, data-b 2, docs 0.
#       μ = 11 / 4 = 2.75, bands 5.5 / 4.125 / 2.75 / 1.375: code Lean yes, data-a Maybe, data-b Lean no,
#       docs No, datasets (4 + 2) / 2 = 3 Maybe, everything 5 + 4 = 9 Yes
#     @baseline μ = 4: code 5 Maybe, data-a 4 Maybe, data-b 2 Lean no, docs No, datasets 3 Lean no, everything 9 Yes

ONLY_BETA = ("5/4", ("Yes", "No", "Yes", "No", "Lean no", "Lean yes"))
ONLY_BETA_BASELINE = (4, ("Lean no", "No", "Lean no", "No", "No", "Lean no"))
ONLY_ALPHA = ("11/4", ("Lean yes", "Maybe", "Lean no", "No", "Maybe", "Yes"))
ONLY_ALPHA_BASELINE = (4, ("Maybe", "Maybe", "Lean no", "No", "Lean no", "Yes"))
BANDS_SCENARIOS = {
    "all": (4, ("Yes", "Lean no", "Maybe", "No", "Maybe", "Yes")),
    "without-disputed": ("17/4", ("Lean yes", "Lean no", "Maybe", "No", "Maybe", "Yes")),
    "without-disputed@baseline": (4, ("Yes", "Maybe", "Maybe", "No", "Maybe", "Yes")),
    "without-restricted": ("9/2", ("Lean yes", "Lean no", "Maybe", "No", "Maybe", "Yes")),
    "without-restricted@baseline": (4, ("Yes", "Maybe", "Lean yes", "No", "Maybe", "Yes")),
    "without-conflicts": (4, ("Yes", "Lean no", "Maybe", "No", "Maybe", "Yes")),  # nobody declared one: as cast
    "without-conflicts@baseline": (4, ("Yes", "Lean no", "Maybe", "No", "Maybe", "Yes")),
    "without-group:alpha": ONLY_BETA,
    "without-group:alpha@baseline": ONLY_BETA_BASELINE,
    "without-group:beta": ONLY_ALPHA,
    "without-group:beta@baseline": ONLY_ALPHA_BASELINE,
    "only-group:alpha": ONLY_ALPHA,
    "only-group:alpha@baseline": ONLY_ALPHA_BASELINE,
    "only-group:beta": ONLY_BETA,
    "only-group:beta@baseline": ONLY_BETA_BASELINE,
}


def test_mean_bands_scenarios_come_in_order_each_with_its_baseline_twin():
    assert [s["key"] for s in bands_outcomes()["scenarios"]] == list(BANDS_SCENARIOS)


@pytest.mark.parametrize("scenario", BANDS_SCENARIOS)
def test_mean_bands_scenario_thresholds_and_outcomes(scenario):
    mu, expected = BANDS_SCENARIOS[scenario]
    found = next(s for s in bands_outcomes()["scenarios"] if s["key"] == scenario)
    assert found["thresholds"] == {"mu": mu}
    assert tuple(c["outcome"] for c in found["components"]) == expected
    assert tuple(c["key"] for c in found["components"]) == BANDS_KEYS


def test_a_moving_mu_and_the_baseline_mu_flip_different_components():
    flips = bands_outcomes()["flips"]
    assert [f for f in flips if f["to"]["scenario"] == "without-disputed"] == [
        {
            "component": "code",
            "from": {"scenario": "all", "outcome": "Yes"},
            "to": {"scenario": "without-disputed", "outcome": "Lean yes"},
        }
    ]
    assert [f for f in flips if f["to"]["scenario"] == "without-disputed@baseline"] == [
        {
            "component": "data-a",
            "from": {"scenario": "all", "outcome": "Lean no"},
            "to": {"scenario": "without-disputed@baseline", "outcome": "Maybe"},
        }
    ]


def test_flips_name_exactly_the_components_whose_outcome_differs_from_all():
    _, as_cast = BANDS_SCENARIOS["all"]
    expected = [
        {
            "component": key,
            "from": {"scenario": "all", "outcome": before},
            "to": {"scenario": scenario, "outcome": after},
        }
        for scenario, (_, outcome) in BANDS_SCENARIOS.items()
        for key, before, after in zip(BANDS_KEYS, as_cast, outcome, strict=True)
        if before != after
    ]
    assert bands_outcomes()["flips"] == expected
    # for instance without-restricted@baseline flips data-a (Lean no → Maybe) and data-b (Maybe → Lean yes)
    assert {
        (f["component"], f["to"]["outcome"]) for f in expected if f["to"]["scenario"] == "without-restricted@baseline"
    } == {("data-a", "Maybe"), ("data-b", "Lean yes")}


def test_components_carry_votes_and_scores_by_criterion_and_by_group():
    all_ = by_key(bands_outcomes()["scenarios"][0])
    # code: use 3 + 2 = 5, study 2 + 1 + 0 = 3; alpha 3 + 2 = 5, beta 2 + 1 + 0 = 3; 9 votes with the abstention
    assert all_["code"]["by_criterion"] == {"use": 5, "study": 3}
    assert all_["code"]["by_group"] == {"alpha": 5, "beta": 3}
    assert all_["code"]["votes"] == 9
    # datasets by group: alpha mean(4, 2) = 3, beta mean(-1, 3) = 1; votes of its parts 5 + 7 = 12
    assert all_["datasets"]["by_group"] == {"alpha": 3, "beta": 1}
    assert all_["datasets"]["votes"] == 12
    assert all_["docs"]["votes"] == 0


def test_compute_clusters_the_leaves_of_the_scenarios_set_side_by_side():
    runs = bands_outcomes()["clustering"]
    assert list(runs) == ["all", "without-disputed", "without-restricted"]
    # all: leaves 8, 5, 3, 0.  k = 2 splits: {8} {5,3,0} SSE 12.67; {8,5} {3,0} SSE 4.5 + 4.5 = 9; {8,5,3} {0} 12.67
    assert runs["all"]["clusters"] == [["code", "data-b"], ["data-a", "docs"]]
    assert runs["all"]["centres"] == [6.5, 1.5]
    # silhouette, k = 2: 8 → 1 − 3/6.5, 5 → 1 − 3/3.5, 3 → 1 − 3/3.5, 0 → 1 − 3/6.5: mean 0.340659
    #             k = 3: {8} {5,3} {0}; singletons count 0, 5 and 3 → 1 − 2/3 each: mean 0.166667
    assert runs["all"]["silhouette"] == pytest.approx({"2": 0.340659, "3": 0.166667}, abs=1e-6)
    # without-disputed: 8, 5, 4, 0 → {8,5,4} {0} (SSE 8.67) beats {8,5} {4,0} (12.5); silhouette for `all` only
    assert runs["without-disputed"]["clusters"] == [["code", "data-b", "data-a"], ["docs"]]
    assert runs["without-disputed"]["centres"] == [5.666667, 0]
    assert runs["without-disputed"]["silhouette"] == {}


def test_compute_groups_the_voters_when_given_them():
    # alpha's three voters +1 on code/use, beta's two -1; all +1 on data-a/use, the other cell with a vote
    voters = {
        "ann": ("alpha", {("code", "use"): 1, ("data-a", "use"): 1}),
        "bo": ("alpha", {("code", "use"): 1, ("data-a", "use"): 1}),
        "cy": ("alpha", {("code", "use"): 1, ("data-a", "use"): 1}),
        "di": ("beta", {("code", "use"): -1, ("data-a", "use"): 1}),
        "ed": ("beta", {("code", "use"): -1, ("data-a", "use"): 1}),
    }
    assert "opinion_groups" not in bands_outcomes()
    found = outcomes.compute(BANDS_SPEC, BANDS_CELLS, voters=voters)["opinion_groups"]
    assert [p["voter"] for p in found["points"]] == ["ann", "bo", "cy", "di", "ed"]
    assert sum(n for row in found["crosstab"].values() for n in row.values()) == 5


# Margins of ballot A, by hand. The scale runs from -1 to +1; n = 4 leaves, so each changed vote of step s
# moves μ by s / 4.
#
#   code 8, Yes.  Up: only the abstention can move (+1), and score − 2μ grows by 1 − 2/4 > 0: stays Yes.
#     Down: k votes +1 → -1: score 8 − 2k, μ = 4 − k/2, 2μ = 8 − k; Yes needs 8 − 2k ≥ 8 − k, so k = 1 flips.
#   data-a 3, Lean no.  Up: its -1 → +1: score 5, μ = 4.5 → Maybe.  Margin 1.
#   data-b 5, Maybe.  Up: its -1 → +1: score 7, μ = 4.5, 1.5μ = 6.75 → Lean yes.  Margin 1.
#   docs: no votes to change → None.
#   datasets 4, Maybe exactly on μ.  Down: one +1 of data-a → -1: score 4 − 2/2 = 3, μ = 3.5 → Lean no.  1.
#   everything 11, Yes.  Down: 11 − 2k < 8 − k  ⇔  k > 3, so 4 (score 3, μ = 2, 2μ = 4, Lean yes).
#   Up moves score − 2μ up only.  Margin 4.
#
#   without-disputed (μ 4.25, moving): everything 12, Yes.  Down: 12 − 2k < 8.5 − k ⇔ k > 3.5 → 4.
#     code 8, Lean yes: the abstention → +1 gives 9 and μ 4.5, 2μ = 9: Yes.  Margin 1.
#   without-disputed@baseline (μ fixed at 4): everything: 12 − 2k < 8 ⇔ k > 2 → 3.
#     data-a 4, Maybe: one +1 → -1 gives 2 < 4: Lean no.  Margin 1.

BANDS_MARGINS = [
    ("all", "code", 1),
    ("all", "data-a", 1),
    ("all", "data-b", 1),
    ("all", "docs", None),
    ("all", "datasets", 1),
    ("all", "everything", 4),
    ("without-disputed", "everything", 4),
    ("without-disputed", "code", 1),
    ("without-disputed@baseline", "everything", 3),
    ("without-disputed@baseline", "data-a", 1),
]


@pytest.mark.parametrize("scenario, key, margin", BANDS_MARGINS)
def test_mean_bands_margin_by_hand(scenario, key, margin):
    found = next(s for s in bands_outcomes()["scenarios"] if s["key"] == scenario)
    assert by_key(found)[key]["margin"] == margin


@pytest.mark.parametrize("scenario", BANDS_SCENARIOS)
def test_mean_bands_margins_of_every_scenario_match_brute_force(scenario):
    keep = outcomes.scenarios(BANDS_SPEC)[scenario.removesuffix("@baseline")]
    subset = [c for c in BANDS_CELLS if keep(c)]
    baseline = 4 if scenario.endswith("@baseline") else None  # μ of `all`
    found = by_key(next(s for s in bands_outcomes()["scenarios"] if s["key"] == scenario))
    for key in BANDS_KEYS:
        expected = brute_force_margin(BANDS_SPEC, subset, key, bands_outcome(BANDS_SPEC, key, baseline))
        assert found[key]["margin"] == expected, key


# Per criterion --------------------------------------------------------------------------------------


def test_mean_bands_per_criterion_has_its_own_mu():
    # use:   code 3 + 2 = 5, data-a 3, data-b 2 + 2 = 4, docs 0 → μ = 12 / 4 = 3; bands 6 / 4.5 / 3 / 1.5
    #        code Lean yes, data-a Maybe, data-b Maybe, docs No, datasets 3.5 Maybe, everything 8 Yes
    # study: code 2 + 1 + 0 = 3, data-a 1 − 1 = 0, data-b 2 − 1 = 1, docs 0 → μ = 4 / 4 = 1; bands 2 / 1.5 / 1 / 0.5
    #        code Yes, data-a No, data-b Maybe, docs No, datasets 0.5 Lean no (exactly), everything 3 Yes
    criteria = bands_outcomes()["criteria"]
    assert criteria["use"] == {
        "thresholds": {"mu": 3},
        "outcomes": dict(zip(BANDS_KEYS, ("Lean yes", "Maybe", "Maybe", "No", "Maybe", "Yes"), strict=True)),
    }
    assert criteria["study"] == {
        "thresholds": {"mu": 1},
        "outcomes": dict(zip(BANDS_KEYS, ("Yes", "No", "Maybe", "No", "Lean no", "Yes"), strict=True)),
    }


# Per group against pooled ------------------------------------------------------------------------


def test_two_groups_that_split_make_no_majority_and_no_flag():
    # ballot A: code is Lean yes for alpha and Yes for beta: no outcome has more than half of two groups
    groups = bands_outcomes()["groups"]
    assert groups["code"] == {
        "pooled": "Yes",
        "groups": {"alpha": "Lean yes", "beta": "Yes"},
        "majority_of_groups": None,
        "disagrees": False,
    }
    assert groups["docs"]["majority_of_groups"] == "No"
    assert not any(row["disagrees"] for row in groups.values())
