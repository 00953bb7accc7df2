"""Margins against a brute-force search that tries every way of changing k votes, on random ballots: mean-bands
with a moving μ and against a baseline μ, and majority. No database.
"""

import random

import pytest

from plenary_tally import methodologies, model
from plenary_tally.model import BallotSpec, Cell, Choice, Component

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
