"""Methodologies: how vote counts become each component's score and outcome. Pure functions.

`mean-bands` is the 2024 OSAID rubric generalised: a leaf's score is the sum of its votes'
values over all criteria, an aggregate's the sum or mean of its parts' scores, μ the mean
score of the leaves, and the outcome the label of the first band whose `min × μ` the score
reaches. `majority` (its own module) passes a component when every condition of the rule holds:
a threshold of a base, a quorum, each group's own condition, and no blocking choice standing.

The margin of a component is the fewest existing votes that, changed to the highest or to
the lowest value on the scale, move it to another outcome (None where no such change can).

Every number is exact: leaf scores are integers; a mean, μ, a band's threshold `min × μ` and a
majority's share are rationals (`Fraction`), and a number of ballot.json is read as the decimal
it is written as (`numbers.exact`). A score on a threshold reaches it, with no tolerance.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

from .majority import majority
from .model import BallotSpec, Cell, Component, Result, Score
from .numbers import exact


def _values_by_component(spec: BallotSpec, cells: Iterable[Cell]) -> dict[str, dict[int, int]]:
    """How many votes of each value each component got, in the order the cells list them."""
    counts: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for cell in cells:
        counts[cell.component][spec.choices[cell.choice].value] += cell.count
    return counts


def _contributions(component: Component, values: dict[str, dict[int, int]]) -> tuple[dict[int, int], Score]:
    """How many votes of each value bear on the component, each weighted by its share of the score.

    `values` is `_values_by_component` of the cells; the values come in the order the cells first list them.
    """
    parts = component.parts if component.is_aggregate else (component.key,)
    weight = Fraction(1, len(parts)) if component.rule == "mean" else 1
    if len(parts) == 1:
        return dict(values.get(parts[0], {})), weight
    counts: dict[int, int] = defaultdict(int)
    for part, by_value in values.items():
        if part in parts:
            for value, n in by_value.items():
                counts[value] += n
    return dict(counts), weight


# mean-bands ----------------------------------------------------------------------------------


def leaf_scores(spec: BallotSpec, cells: Iterable[Cell]) -> dict[str, int]:
    scores = {c.key: 0 for c in spec.leaves}
    for cell in cells:
        if cell.component in scores:
            scores[cell.component] += spec.choices[cell.choice].value * cell.count
    return scores


def all_scores(spec: BallotSpec, leaves: dict[str, int]) -> dict[str, Score]:
    scores: dict[str, Score] = dict(leaves)
    for c in spec.components:
        if c.is_aggregate:
            parts: list[Score] = [leaves.get(p, 0) for p in c.parts]
            scores[c.key] = Fraction(sum(parts, 0), len(parts)) if c.rule == "mean" and parts else sum(parts, 0)
    return scores


def mean_score(leaves: dict[str, int]) -> Fraction:
    return Fraction(sum(leaves.values()), len(leaves)) if leaves else Fraction(0)


def band(score: Score, mu: Score, methodology: Mapping[str, Any]) -> str:
    for b in methodology["bands"]:
        if score >= exact(b["min"]) * mu:
            return b["label"]
    return methodology["otherwise"]


def _bands_margin(
    spec: BallotSpec, component: Component, values: dict[str, dict[int, int]], score: Score, mu: Score, fixed_mu: bool
) -> int | None:
    """Fewest votes changed to the scale's highest (or lowest) value that change the band."""
    methodology, low, high = spec.methodology, *spec.values
    outcome = band(score, mu, methodology)
    counts, weight = _contributions(component, values)
    n_leaves = len(spec.leaves)
    best: int | None = None
    for target in (high, low):
        moved, score_now, mu_now = 0, score, mu
        # the votes furthest from the target move the score most: change those first
        for value in sorted(counts, key=lambda v: -abs(target - v)):
            step = target - value
            if step == 0:
                continue
            available = int(counts[value])

            def changes(k: int, s=score_now, m=mu_now, step=step) -> bool:
                new_mu = m if fixed_mu else m + Fraction(step * k, n_leaves)
                return band(s + step * weight * k, new_mu, methodology) != outcome

            if changes(available):
                lo, hi = 1, available
                while lo < hi:
                    mid = (lo + hi) // 2
                    lo, hi = (lo, mid) if changes(mid) else (mid + 1, hi)
                total = moved + lo
                best = total if best is None else min(best, total)
                break
            moved += available
            score_now += step * weight * available
            mu_now = mu_now if fixed_mu else mu_now + Fraction(step * available, n_leaves)
    return best


def mean_bands(
    spec: BallotSpec, cells: list[Cell], baseline_mu: Score | None = None
) -> tuple[Score, dict[str, Result]]:
    """Every component's score, band and margin; μ from these votes unless a baseline μ is given."""
    leaves = leaf_scores(spec, cells)
    scores = all_scores(spec, leaves)
    mu = mean_score(leaves) if baseline_mu is None else baseline_mu
    fixed = baseline_mu is not None
    values = _values_by_component(spec, cells)
    results = {}
    for c in spec.components:
        moved = _bands_margin(spec, c, values, scores[c.key], mu, fixed)
        results[c.key] = Result(
            score=scores[c.key],
            outcome=band(scores[c.key], mu, spec.methodology),
            margin=moved,
            needs="" if moved is None else f"{moved} {'vote' if moved == 1 else 'votes'} changed would change its band",
        )
    return mu, results


# majority: its own module -----------------------------------------------------------------

__all__ = ["Result", "Score", "all_scores", "band", "leaf_scores", "majority", "mean_bands", "mean_score"]
