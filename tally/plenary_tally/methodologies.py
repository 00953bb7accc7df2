"""Methodologies: how vote counts become each component's score and outcome. Pure functions.

`mean-bands` is the 2024 OSAID rubric generalised: a leaf's score is the sum of its votes'
values over all criteria, an aggregate's the sum or mean of its parts' scores, μ the mean
score of the leaves, and the outcome the label of the first band whose `min × μ` the score
reaches. `majority` passes a component when the share of positive values among the votes
cast (abstentions left out) reaches a threshold, unless a blocking choice stands.

The margin of a component is the fewest existing votes that, changed to the highest or to
the lowest value on the scale, move it to another outcome (None where no such change can).
"""

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from .model import BallotSpec, Cell, Component


@dataclass(frozen=True)
class Result:
    """One component's outcome under one methodology and vote set."""

    score: float | None
    outcome: str
    margin: int | None


def _number(x: float) -> float | int:
    """Scores as JSON shows them: whole numbers stay whole, others keep 6 decimals."""
    x = round(x, 6)
    return int(x) if x == int(x) else x


def _values_by_component(spec: BallotSpec, cells: Iterable[Cell]) -> dict[str, dict[int, int]]:
    """How many votes of each value each component got, in the order the cells list them."""
    counts: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for cell in cells:
        counts[cell.component][spec.choices[cell.choice].value] += cell.count
    return counts


def _contributions(component: Component, values: dict[str, dict[int, int]]) -> tuple[dict[int, int], float]:
    """How many votes of each value bear on the component, each weighted by its share of the score.

    `values` is `_values_by_component` of the cells; the values come in the order the cells first list them.
    """
    parts = component.parts if component.is_aggregate else (component.key,)
    weight = 1 / len(parts) if component.rule == "mean" else 1.0
    if len(parts) == 1:
        return dict(values.get(parts[0], {})), weight
    counts: dict[int, int] = defaultdict(int)
    for part, by_value in values.items():
        if part in parts:
            for value, n in by_value.items():
                counts[value] += n
    return dict(counts), weight


# mean-bands ----------------------------------------------------------------------------------


def leaf_scores(spec: BallotSpec, cells: Iterable[Cell]) -> dict[str, float]:
    scores = {c.key: 0 for c in spec.leaves}
    for cell in cells:
        if cell.component in scores:
            scores[cell.component] += spec.choices[cell.choice].value * cell.count
    return scores


def all_scores(spec: BallotSpec, leaves: dict[str, float]) -> dict[str, float]:
    scores = dict(leaves)
    for c in spec.components:
        if c.is_aggregate:
            parts = [leaves.get(p, 0) for p in c.parts]
            scores[c.key] = sum(parts) / len(parts) if c.rule == "mean" and parts else sum(parts)
    return scores


def mean_score(leaves: dict[str, float]) -> float:
    return sum(leaves.values()) / len(leaves) if leaves else 0.0


def band(score: float, mu: float, methodology: dict) -> str:
    for b in methodology["bands"]:
        if score >= b["min"] * mu - 1e-9:
            return b["label"]
    return methodology["otherwise"]


def _bands_margin(
    spec: BallotSpec, component: Component, values: dict[str, dict[int, int]], score: float, mu: float, fixed_mu: bool
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
                new_mu = m if fixed_mu else m + step * k / n_leaves
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
            mu_now = mu_now if fixed_mu else mu_now + step * available / n_leaves
    return best


def mean_bands(
    spec: BallotSpec, cells: list[Cell], baseline_mu: float | None = None
) -> tuple[float, dict[str, Result]]:
    """Every component's score, band and margin; μ from these votes unless a baseline μ is given."""
    leaves = leaf_scores(spec, cells)
    scores = all_scores(spec, leaves)
    mu = mean_score(leaves) if baseline_mu is None else baseline_mu
    fixed = baseline_mu is not None
    values = _values_by_component(spec, cells)
    results = {
        c.key: Result(
            score=_number(scores[c.key]),
            outcome=band(scores[c.key], mu, spec.methodology),
            margin=_bands_margin(spec, c, values, scores[c.key], mu, fixed),
        )
        for c in spec.components
    }
    return mu, results


# majority ------------------------------------------------------------------------------------

MAJORITY_LABELS = {"pass": "Passes", "fail": "Fails", "blocked": "Blocked", "none": "No votes"}


def majority(spec: BallotSpec, cells: list[Cell]) -> dict[str, Result]:
    threshold = spec.methodology["threshold"]
    labels = MAJORITY_LABELS | spec.methodology.get("labels", {})
    results = {}
    for c in spec.components:
        parts = c.parts if c.is_aggregate else (c.key,)
        positive = negative = blocking = 0
        for cell in cells:
            if cell.component not in parts:
                continue
            choice = spec.choices[cell.choice]
            positive += cell.count if choice.value > 0 else 0
            negative += cell.count if choice.value < 0 else 0
            blocking += cell.count if choice.blocking else 0
        cast = positive + negative
        share = positive / cast if cast else None
        if blocking:
            outcome, margin = labels["blocked"], blocking
        elif not cast:
            # only abstentions (or nothing): any one of them changed to either end decides it
            abstaining = sum(cell.count for cell in cells if cell.component in parts)
            outcome, margin = labels["none"], 1 if abstaining else None
        elif share >= threshold - 1e-9:
            # positive votes turned negative until the share falls below the threshold
            needed = math.floor(positive - threshold * cast + 1e-9) + 1
            outcome, margin = labels["pass"], needed if needed <= positive else None
        else:
            needed = max(1, math.ceil(threshold * cast - positive - 1e-9))
            outcome, margin = labels["fail"], needed if needed <= negative else None
        results[c.key] = Result(score=_number(share) if share is not None else None, outcome=outcome, margin=margin)
    return results
