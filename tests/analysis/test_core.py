"""The pure analysis core: methodologies, scenarios, flips, margins, the plain-data model. No database.

Every expected number below is worked out by hand in the comments beside it; the margins are
also checked against a brute-force search that tries every way of changing k votes. Scores, μ,
shares and thresholds are exact: integers and `Fraction`s, written in outcomes.json as `7` or
`"7/3"`.
"""

import functools
import itertools
import random
import subprocess
import sys
from fractions import Fraction as F
from pathlib import Path

import pytest

from plenary_tally import methodologies, model, numbers, outcomes
from plenary_tally.model import BallotSpec, Cell, Choice, Component

OSAID = {
    "rule": "mean-bands",
    "bands": [
        {"min": 2.0, "label": "Yes"},
        {"min": 1.5, "label": "Lean yes"},
        {"min": 1.0, "label": "Maybe"},
        {"min": 0.5, "label": "Lean no"},
    ],
    "otherwise": "No",
}


def cell(component: str, criterion: str, group: str, choice: str, count: int, disputed: bool = False) -> Cell:
    return Cell(component, criterion, group, choice, disputed, count)


def by_key(scenario: dict) -> dict[str, dict]:
    return {c["key"]: c for c in scenario["components"]}


# Ballot A: mean-bands ---------------------------------------------------------------------------
#
# Four leaves (code, data-a, data-b, docs) and two aggregates; data-a feeds both of them.
# docs gets no votes at all, but still counts as a leaf of score 0 in μ.
#
#   component  criterion  group  choice               count   value
#   code       use        alpha  required               3     +3
#   code       use        beta   required               2     +2
#   code       study      alpha  required               2     +2
#   code       study      beta   required               1     +1
#   code       study      beta   abstain                1      0      code   = 8
#   data-a     use        alpha  required               3     +3
#   data-a     study      alpha  required               1     +1
#   data-a     study      beta   not-necessary (disp.)  1     -1      data-a = 3
#   data-b     use        alpha  required               2     +2
#   data-b     use        beta   required               2     +2
#   data-b     study      beta   required               2     +2
#   data-b     study      beta   not-necessary          1     -1      data-b = 5
#                                                                     docs   = 0
#   datasets   = mean(data-a, data-b) = (3 + 5) / 2 = 4
#   everything = sum(code, data-a)    =  8 + 3     = 11
#
#   μ = (8 + 3 + 5 + 0) / 4 = 4   (leaves only: not 16/3 without docs, not (16 + 4 + 11) / 6 with aggregates)
#   bands: Yes ≥ 8, Lean yes ≥ 6, Maybe ≥ 4, Lean no ≥ 2, else No

BANDS_SPEC = BallotSpec(
    criteria=("use", "study"),
    choices={
        "required": Choice("required", 1),
        "abstain": Choice("abstain", 0),
        "not-necessary": Choice("not-necessary", -1, requires_grant=True),
    },
    components=(
        Component("code", "Code"),
        Component("data-a", "Data"),
        Component("data-b", "Data"),
        Component("docs", "Documentation"),
        Component("datasets", "Data", rule="mean", parts=("data-a", "data-b")),
        Component("everything", "", rule="sum", parts=("code", "data-a")),
    ),
    groups=("alpha", "beta"),
    methodology=OSAID,
    clustering={"k": 2, "seed": 42},
)
BANDS_CELLS = [
    cell("code", "use", "alpha", "required", 3),
    cell("code", "use", "beta", "required", 2),
    cell("code", "study", "alpha", "required", 2),
    cell("code", "study", "beta", "required", 1),
    cell("code", "study", "beta", "abstain", 1),
    cell("data-a", "use", "alpha", "required", 3),
    cell("data-a", "study", "alpha", "required", 1),
    cell("data-a", "study", "beta", "not-necessary", 1, disputed=True),
    cell("data-b", "use", "alpha", "required", 2),
    cell("data-b", "use", "beta", "required", 2),
    cell("data-b", "study", "beta", "required", 2),
    cell("data-b", "study", "beta", "not-necessary", 1),
]
BANDS_KEYS = ("code", "data-a", "data-b", "docs", "datasets", "everything")


@functools.cache
def bands_outcomes() -> dict:
    return outcomes.compute(BANDS_SPEC, BANDS_CELLS)


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


# Brute force -----------------------------------------------------------------------------------


def extremes(spec: BallotSpec) -> tuple[str, str]:
    """The keys of a non-blocking choice with the scale's lowest value and one with its highest."""
    low, high = spec.values
    plain = [c for c in spec.choices.values() if not c.blocking]
    return next(c.key for c in plain if c.value == low), next(c.key for c in plain if c.value == high)


def brute_force_margin(spec: BallotSpec, cells: list[Cell], key: str, outcome_of) -> int | None:
    """The fewest of the component's votes that, each changed to the highest or the lowest value, change its outcome.

    Tries every way: votes in one cell are indistinguishable, so a way of changing k votes is, for each cell
    bearing on the component, how many of its votes go to the highest value and how many to the lowest (which
    covers changing all k in one direction and every mix of the two). μ is recomputed by `outcome_of`.
    """
    component = next(c for c in spec.components if c.key == key)
    parts = component.parts if component.is_aggregate else (key,)
    low, high = extremes(spec)
    mine = [c for c in cells if c.component in parts]
    others = [c for c in cells if c.component not in parts]
    before = outcome_of(cells)
    splits = [[(h, lo) for h in range(c.count + 1) for lo in range(c.count + 1 - h)] for c in mine]
    ways = sorted(itertools.product(*splits), key=lambda way: sum(h + lo for h, lo in way))
    for way in ways:
        k = sum(h + lo for h, lo in way)
        if k == 0:
            continue
        changed = list(others)
        for c, (h, lo) in zip(mine, way, strict=True):
            changed += [
                Cell(c.component, c.criterion, c.group, choice, c.disputed, n)
                for choice, n in ((c.choice, c.count - h - lo), (high, h), (low, lo))
                if n
            ]
        if outcome_of(changed) != before:
            return k
    return None


def bands_outcome(spec: BallotSpec, key: str, baseline_mu: float | None = None):
    return lambda cells: methodologies.mean_bands(spec, cells, baseline_mu=baseline_mu)[1][key].outcome


def majority_outcome(spec: BallotSpec, key: str):
    return lambda cells: methodologies.majority(spec, cells)[key].outcome


@pytest.mark.parametrize("scenario", BANDS_SCENARIOS)
def test_mean_bands_margins_of_every_scenario_match_brute_force(scenario):
    keep = outcomes.scenarios(BANDS_SPEC)[scenario.removesuffix("@baseline")]
    subset = [c for c in BANDS_CELLS if keep(c)]
    baseline = 4 if scenario.endswith("@baseline") else None  # μ of `all`
    found = by_key(next(s for s in bands_outcomes()["scenarios"] if s["key"] == scenario))
    for key in BANDS_KEYS:
        expected = brute_force_margin(BANDS_SPEC, subset, key, bands_outcome(BANDS_SPEC, key, baseline))
        assert found[key]["margin"] == expected, key


def random_ballot(seed: int, methodology: dict) -> tuple[BallotSpec, list[Cell]]:
    """Three leaves with up to five votes each, a mean and a sum aggregate; half the seeds use a scale up to +2."""
    rng = random.Random(seed)
    choices = {"yes": Choice("yes", 1), "abstain": Choice("abstain", 0), "no": Choice("no", -1)}
    if seed % 2:
        choices["strong"] = Choice("strong", 2)
    if methodology["rule"] == "majority":
        choices["veto"] = Choice("veto", -1, requires_grant=True, blocking=True)
    spec = BallotSpec(
        criteria=("use", "study"),
        choices=choices,
        components=(
            Component("a"),
            Component("b"),
            Component("c"),
            Component("ab", rule="mean", parts=("a", "b")),
            Component("bc", rule="sum", parts=("b", "c")),
        ),
        groups=("g1", "g2"),
        methodology=methodology,
    )
    weights = [1 if key == "veto" else 4 for key in choices]
    rows = [
        {
            "component": leaf,
            "criterion": rng.choice(spec.criteria),
            "working_group": rng.choice(spec.groups),
            "choice": rng.choices(list(choices), weights)[0],
            "disputed": rng.random() < 0.3,
        }
        for leaf in ("a", "b", "c")
        for _ in range(rng.randint(0, 5))
    ]
    return spec, model.tally(rows)


@pytest.mark.parametrize("seed", range(24))
def test_mean_bands_margin_matches_brute_force_on_random_ballots(seed):
    spec, cells = random_ballot(seed, OSAID)
    _, results = methodologies.mean_bands(spec, cells)
    for c in spec.components:
        assert results[c.key].margin == brute_force_margin(spec, cells, c.key, bands_outcome(spec, c.key)), c.key


@pytest.mark.parametrize("seed", range(24))
def test_baseline_margin_matches_brute_force_on_random_ballots(seed):
    # the without-disputed scenario against the μ of all the votes, which stays put as votes change
    spec, cells = random_ballot(seed, OSAID)
    baseline, _ = methodologies.mean_bands(spec, cells)
    subset = [c for c in cells if not c.disputed]
    _, results = methodologies.mean_bands(spec, subset, baseline_mu=baseline)
    for c in spec.components:
        expected = brute_force_margin(spec, subset, c.key, bands_outcome(spec, c.key, baseline))
        assert results[c.key].margin == expected, c.key


@pytest.mark.parametrize("seed", range(24))
def test_majority_margin_matches_brute_force_on_random_ballots(seed):
    spec, cells = random_ballot(seed, {"rule": "majority", "threshold": (0.5, 2 / 3, 0.75)[seed % 3]})
    results = methodologies.majority(spec, cells)
    for c in spec.components:
        assert results[c.key].margin == brute_force_margin(spec, cells, c.key, majority_outcome(spec, c.key)), c.key


# Ballot B: majority, threshold ⅔ -----------------------------------------------------------------
#
#   component  criterion  group  choice     count
#   a          use        g1     yes          2
#   a          use        g2     yes          1
#   a          use        g3     no           1
#   a          study      g2     abstain      2
#   a          study      g3     yes          1      a: 4 yes, 1 no, 2 abstain
#   b          use        g1     yes          1
#   b          use        g3     no           3  (disputed)
#   b          study      g2     yes          1
#   b          study      g3     no           1      b: 2 yes, 4 no
#   c          use        g1     yes          2
#   c          use        g2     yes          2
#   c          study      g3     yes          1
#   c          study      g3     veto         1      c: 5 yes, 1 veto (-1, blocking, grant only)
#   d          use        g1     abstain      1
#   d          use        g2     abstain      1
#   d          study      g3     abstain      1      d: 3 abstentions
#                                                    e: no votes;  ab: a and b pooled

MAJORITY_SPEC = BallotSpec(
    criteria=("use", "study"),
    choices={
        "yes": Choice("yes", 1),
        "abstain": Choice("abstain", 0),
        "no": Choice("no", -1),
        "veto": Choice("veto", -1, requires_grant=True, blocking=True),
    },
    components=(
        Component("a"),
        Component("b"),
        Component("c"),
        Component("d"),
        Component("e"),
        Component("ab", rule="sum", parts=("a", "b")),
    ),
    groups=("g1", "g2", "g3"),
    methodology={"rule": "majority", "threshold": 2 / 3},
)
MAJORITY_CELLS = [
    cell("a", "use", "g1", "yes", 2),
    cell("a", "use", "g2", "yes", 1),
    cell("a", "use", "g3", "no", 1),
    cell("a", "study", "g2", "abstain", 2),
    cell("a", "study", "g3", "yes", 1),
    cell("b", "use", "g1", "yes", 1),
    cell("b", "use", "g3", "no", 3, disputed=True),
    cell("b", "study", "g2", "yes", 1),
    cell("b", "study", "g3", "no", 1),
    cell("c", "use", "g1", "yes", 2),
    cell("c", "use", "g2", "yes", 2),
    cell("c", "study", "g3", "yes", 1),
    cell("c", "study", "g3", "veto", 1),
    cell("d", "use", "g1", "abstain", 1),
    cell("d", "use", "g2", "abstain", 1),
    cell("d", "study", "g3", "abstain", 1),
]
MAJORITY_KEYS = ("a", "b", "c", "d", "e", "ab")


@functools.cache
def majority_outcomes() -> dict:
    return outcomes.compute(MAJORITY_SPEC, MAJORITY_CELLS)


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


# The plain-data model ----------------------------------------------------------------------------


def test_tally_counts_rows_into_sorted_cells():
    rows = [
        {"component": "code", "criterion": "use", "working_group": "alpha", "choice": "required", "disputed": "false"},
        {"component": "code", "criterion": "use", "working_group": "alpha", "choice": "required", "disputed": ""},
        {"component": "code", "criterion": "use", "working_group": "alpha", "choice": "required", "disputed": "true"},
        {"component": "code", "criterion": "use", "working_group": "beta", "choice": "required", "disputed": False},
        {"component": "data", "criterion": "study", "working_group": "beta", "choice": "no", "disputed": True},
        {"component": "data", "criterion": "study", "working_group": "beta", "choice": "no", "disputed": "1"},
        {"component": "code", "criterion": "study", "working_group": "alpha", "choice": "required", "disputed": "0"},
    ]
    assert model.tally(rows) == [
        Cell("code", "study", "alpha", "required", False, 1),
        Cell("code", "use", "alpha", "required", False, 2),
        Cell("code", "use", "alpha", "required", True, 1),
        Cell("code", "use", "beta", "required", False, 1),
        Cell("data", "study", "beta", "no", True, 2),
    ]
    assert model.tally([]) == []


DESIGN_BALLOT = {
    "format": "plenary-ballot/1",
    "definition": {"slug": "example", "title": "Example Definition"},
    "version": "0.1",
    "title": "Component vote on 0.1",
    "criteria": [{"key": "use", "label": "Use"}, {"key": "study", "label": "Study"}],
    "choices": [
        {"key": "required", "label": "Required", "value": 1},
        {"key": "not-necessary", "label": "Not necessary", "value": -1, "requires_grant": True},
    ],
    "working_groups": [{"key": "alpha", "name": "Alpha", "members": ["ann", "bo"]}],
    "grants": [{"holder": "alpha", "choice": "not-necessary", "reason": "charter §3"}],
    "components": [
        {"key": "code", "title": "Training code", "category": "Code"},
        {"key": "data-a", "title": "Training data", "category": "Data"},
        {"key": "data-b", "title": "Testing data", "category": "Data"},
        {
            "key": "datasets",
            "title": "Datasets",
            "category": "Data",
            "aggregate": {"rule": "mean", "of": ["data-a", "data-b"]},
        },
    ],
    "methodology": {
        "rule": "mean-bands",
        "bands": [
            {"min": 2.0, "label": "Yes"},
            {"min": 1.5, "label": "Lean yes"},
            {"min": 1.0, "label": "Maybe"},
            {"min": 0.5, "label": "Lean no"},
        ],
        "otherwise": "No",
    },
    "clustering": {"k": 2, "seed": 42},
}


def test_spec_from_the_design_example_ballot_json():
    spec = model.spec_from_json(DESIGN_BALLOT)
    assert spec == BallotSpec(
        criteria=("use", "study"),
        choices={
            "required": Choice("required", 1),
            "not-necessary": Choice("not-necessary", -1, requires_grant=True),
        },
        components=(
            Component("code", "Code"),
            Component("data-a", "Data"),
            Component("data-b", "Data"),
            Component("datasets", "Data", rule="mean", parts=("data-a", "data-b")),
        ),
        groups=("alpha",),
        methodology=DESIGN_BALLOT["methodology"],
        clustering={"k": 2, "seed": 42},
    )
    assert [c.key for c in spec.leaves] == ["code", "data-a", "data-b"]
    assert spec.values == (-1, 1)


def test_spec_without_clustering_gets_the_default():
    ballot = {key: value for key, value in DESIGN_BALLOT.items() if key != "clustering"}
    assert model.spec_from_json(ballot).clustering == {"k": 2, "seed": 42}


# Purity ------------------------------------------------------------------------------------------


def test_the_pure_core_does_not_import_django():
    code = (
        "import sys, plenary_tally.model, plenary_tally.methodologies, plenary_tally.outcomes, "
        "plenary_tally.clustering; "
        "assert not any(m.startswith('django') for m in sys.modules), "
        "sorted(m for m in sys.modules if m.startswith('django'))"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
