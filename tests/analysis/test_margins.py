"""Margins against a brute-force search that tries every way of changing k votes, on random ballots: mean-bands
with a moving μ and against a baseline μ, and majority. No database.
"""

import itertools
import random
import re

import pytest

from plenary_tally import majority, methodologies, model
from plenary_tally.model import BallotSpec, Cell, Choice, Component
from plenary_tally.rules import BASES

from .conftest import OSAID, bands_outcome, brute_force_margin, majority_outcome


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


# The majority rule as bodies write it: bases, quorums, groups' own conditions, recusal ---------------------

RULES = [
    {"rule": "majority", "threshold": "2/3", "base": "eligible", "for": ["yes"], "recuse": "recuse"},
    {
        "rule": "majority",
        "groups": {"g1": {"threshold": "1/2", "strict": True}, "g2": {"threshold": "2/3", "at_least": 1}},
        "quorum": {"count": 2},
    },
    {"rule": "majority", "threshold": 0.5, "base": "cast-and-abstentions", "at_least": 2, "recuse": "recuse"},
    {
        "rule": "majority",
        "threshold": "3/5",
        "strict": True,
        "groups": {"g1": {"at_least": 1}},
        "quorum": {"share": "1/3", "abstentions": False},
    },
    {"rule": "majority", "threshold": "1/2", "base": "cast", "groups": {"g1": {"threshold": "2/3"}}},
    {"rule": "majority", "threshold": "3/5", "groups": {"g1": {"threshold": "1/2"}, "g2": {"threshold": "1/2"}}},
]


def rules_ballot(seed: int) -> tuple[BallotSpec, list[Cell]]:
    spec, cells = random_ballot(seed * 2, RULES[seed % len(RULES)])  # an even seed: the scale -1..1
    choices = dict(spec.choices, recuse=Choice("recuse", 0))
    spec = BallotSpec(**{**spec.__dict__, "choices": choices, "eligible": {"g1": 4, "g2": 3}, "eligible_voters": 6})
    rng = random.Random(seed)
    recused = [Cell(leaf, "use", rng.choice(spec.groups), "recuse", False, 1) for leaf in "abc" if rng.random() < 0.4]
    return spec, cells + recused


def brute_force_rule_margin(spec: BallotSpec, cells: list[Cell], key: str) -> int | None:
    """The fewest votes changed that change the outcome: in favour to against when it passes, against or
    abstaining to in favour when it fails, every way of choosing them tried."""
    outcome_of = majority_outcome(spec, key)
    before = outcome_of(cells)
    component = next(c for c in spec.components if c.key == key)
    parts = component.parts if component.is_aggregate else (key,)
    passing = before == "Passes"
    rule = majority.Rule.of(spec)
    counted = {key for key, choice in spec.choices.items() if key != rule.recuse and not choice.blocking}
    movable = (rule.favour if passing else counted - rule.favour) & counted
    target = "no" if passing else "yes"
    mine = [c for c in cells if c.component in parts and c.choice in movable]
    others = [c for c in cells if c not in mine]
    for way in sorted(itertools.product(*[range(c.count + 1) for c in mine]), key=sum):
        if not sum(way):
            continue
        changed = list(others)
        for c, k in zip(mine, way, strict=True):
            changed += [
                Cell(c.component, c.criterion, c.group, ch, c.disputed, n)
                for ch, n in ((c.choice, c.count - k), (target, k))
                if n
            ]
        if outcome_of(changed) != before:
            return sum(way)
    return None


@pytest.mark.parametrize("seed", range(70))
def test_a_rules_margin_matches_brute_force_on_random_ballots(seed):
    spec, cells = rules_ballot(seed)
    results = methodologies.majority(spec, cells)
    for c in spec.components:
        found = results[c.key]
        if found.outcome == "Blocked":
            assert found.margin == sum(
                x.count for x in cells if x.choice == "veto" and x.component in (c.parts or (c.key,))
            )
        elif found.needs.startswith("fails quorum") or found.outcome == "No votes":
            assert found.margin in (None, 1)
        else:
            assert found.margin == brute_force_rule_margin(spec, cells, c.key), (c.key, found)


def passes_with(spec: BallotSpec, mine: list[Cell], added: int = 0, removed: int = 0) -> bool:
    """One leaf's outcome with new votes in favour, or with fewer votes against (taken from its cells in turn)."""
    key = mine[0].component
    changed = [Cell(key, "use", "g1", "yes", False, added)] if added else []
    for c in mine:
        gone = min(removed, c.count) if c.choice == "no" else 0
        removed -= gone
        if c.count > gone:
            changed.append(Cell(c.component, c.criterion, c.group, c.choice, c.disputed, c.count - gone))
    return methodologies.majority(spec, changed)[key].outcome == "Passes"


NEEDS = re.compile(r"needs (\d+) more in favour(?:, or (\d+) fewer against)?$")


@pytest.mark.parametrize("seed", range(40))
def test_what_a_failing_component_needs_matches_brute_force(seed):
    methodology = {"rule": "majority", "threshold": ("1/2", "2/3", 0.75)[seed % 3], "strict": seed % 2 == 1}
    methodology |= {"base": BASES[seed % 3]} | ({"at_least": 2} if seed % 5 == 0 else {})
    spec, cells = rules_ballot(seed)
    spec = BallotSpec(**{**spec.__dict__, "methodology": methodology})
    for leaf in spec.leaves:
        mine = [c for c in cells if c.component == leaf.key and c.choice != "veto"]
        found = methodologies.majority(spec, mine)[leaf.key]
        if found.outcome != "Fails":
            continue
        more, fewer = (int(n) if n else None for n in NEEDS.match(found.needs).groups())

        assert passes_with(spec, mine, added=more) and not passes_with(spec, mine, added=more - 1), found.needs
        if fewer is not None:
            assert passes_with(spec, mine, removed=fewer) and not passes_with(spec, mine, removed=fewer - 1), (
                found.needs
            )
