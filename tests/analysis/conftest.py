"""The analysis tests build ballots with the votes tests' fixtures.

The tests of the pure core (test_mean_bands.py, test_majority.py, test_margins.py) share two ballots worked
out by hand: A, by mean-bands (`BANDS_SPEC`, `BANDS_CELLS`, `bands_outcomes()`), and B, by majority with a
threshold of ⅔ (`MAJORITY_SPEC`, `MAJORITY_CELLS`, `majority_outcomes()`); `cell` and `by_key` write and read
them. `brute_force_margin` finds a component's margin by trying every way of changing k votes.
"""

import functools
import itertools

from plenary_tally import methodologies, outcomes
from plenary_tally.model import BallotSpec, Cell, Choice, Component
from tests.votes.conftest import ballot, cast, scheduled  # noqa: F401

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
    """The component's band for some votes, by the rule alone (a score against μ), without any margin."""

    def outcome(cells: list[Cell]) -> str:
        leaves = methodologies.leaf_scores(spec, cells)
        mu = methodologies.mean_score(leaves) if baseline_mu is None else baseline_mu
        return methodologies.band(methodologies.all_scores(spec, leaves)[key], mu, spec.methodology)

    return outcome


def majority_outcome(spec: BallotSpec, key: str):
    return lambda cells: methodologies.majority(spec, cells)[key].outcome
