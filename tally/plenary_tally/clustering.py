"""Clustering, as the 2024 re-analysis did it and as Pol.is does it, the same on every machine.

`components` splits the leaf components on the score axis. In one dimension the best k-means
split can be found exactly: the clusters are runs of the sorted scores, and dynamic programming
over the runs finds the split with the least sum of squared distances, in exact rationals. No
random restarts, no floats: the split, its centres and its silhouettes are the same everywhere.

`opinion_groups` places voters by their votes, as Pol.is does: missing votes take the cell's
mean, the covariance of the cells is computed exactly, its two leading eigenvectors are the axes,
and each voter is projected and scaled by the share of cells they voted on. The eigenvectors are
the one numerical step; they are published (`axes`), and everything after them — the voters'
places on a grid of 10⁻⁶, the k-means on that grid in integers, the numbering of the groups — is
computed exactly from them, so a verifier checks the axes within a tolerance and the rest byte
for byte. docs/analysis.md specifies every step.
"""

import math
import random
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from fractions import Fraction
from functools import cached_property
from itertools import accumulate
from typing import Any, TypeGuard

import numpy as np

from .model import VoterMatrix, voter_matrix
from .numbers import rounded
from .rules import K_RANGE

SILHOUETTE_KS = K_RANGE  # silhouettes for every k a ballot may ask for
MIN_VOTES = 7  # a voter is placed once they voted on this many cells (or on every cell, if there are fewer)
LOADING_PLACES = 10  # an axis' loadings, as published
GRID = 10**6  # places and centres are whole multiples of 1/GRID
RESTARTS = 10
MAX_ITERATIONS = 100
EXACT_FLOAT_SUM = 2**53  # below this, float64 sums and products of integers are exact in any order


# Components on the score axis ------------------------------------------------------------------


def components(scores: Mapping[str, Fraction | int], *, k: int, silhouette: bool = True) -> dict:
    """The exact k-means split of the components' scores: clusters ordered by centre, highest first."""
    keys = sorted(scores, key=lambda key: (-Fraction(scores[key]), key))
    distinct = sorted({Fraction(scores[key]) for key in keys}, reverse=True)
    weights = [sum(1 for key in keys if scores[key] == value) for value in distinct]
    result: dict = {"k": k, "centres": [], "clusters": [], "silhouette": {}}
    if not distinct:
        return result
    k_used = min(k, len(distinct))
    runs = split_scores(distinct, weights, k_used)
    for start, end in runs:
        members = [key for key in keys if distinct[end - 1] <= scores[key] <= distinct[start]]
        result["centres"].append(rounded(_mean(distinct[start:end], weights[start:end])))
        result["clusters"].append(members)
    if k_used < k:
        result["note"] = f"only {len(distinct)} distinct scores: {k_used} clusters"
    if silhouette:
        result["silhouette"] = {
            str(k_): rounded(silhouette_of(distinct, weights, split_scores(distinct, weights, k_)))
            for k_ in SILHOUETTE_KS
            if k_ <= len(distinct) - 1 and k_ < len(keys)
        }
    return result


def _mean(values: Sequence[Fraction], weights: Sequence[int]) -> Fraction:
    return sum((v * w for v, w in zip(values, weights, strict=True)), Fraction(0)) / sum(weights)


def split_scores(values: Sequence[Fraction], weights: Sequence[int], k: int) -> list[tuple[int, int]]:
    """The runs [start, end) of `values` (distinct, highest first, each `weights` times) that split them best.

    Best: the least sum of squared distances to the runs' means, computed exactly. Of several
    best splits, the one whose first run ends soonest, then whose second run ends soonest, and so on.
    """
    n = len(values)
    w, s, q = [0], [Fraction(0)], [Fraction(0)]  # prefix sums of weights, weighted values and squares
    for value, weight in zip(values, weights, strict=True):
        w.append(w[-1] + weight)
        s.append(s[-1] + weight * value)
        q.append(q[-1] + weight * value * value)

    def cost(i: int, j: int) -> Fraction:  # the run values[i:j]
        total = s[j] - s[i]
        return q[j] - q[i] - total * total / (w[j] - w[i])

    # best[c][i]: the least cost of splitting values[i:] into c runs
    best = [[Fraction(0) if i == n else None for i in range(n + 1)]]
    for c in range(1, k + 1):
        row: list[Fraction | None] = [None] * (n + 1)
        before = best[c - 1]
        for i in range(n - c, -1, -1):
            row[i] = min(cost(i, j) + rest for j in range(i + 1, n - c + 2) if (rest := before[j]) is not None)
        best.append(row)
    runs, start = [], 0
    for c in range(k, 0, -1):
        before = best[c - 1]
        end = next(j for j in range(start + 1, n - c + 2) if (rest := before[j]) is not None
                   and cost(start, j) + rest == best[c][start])  # fmt: skip
        runs.append((start, end))
        start = end
    return runs


def silhouette_of(values: Sequence[Fraction], weights: Sequence[int], runs: Sequence[tuple[int, int]]) -> Fraction:
    """The mean silhouette of every component (s = (b − a) / max(a, b); 0 alone in its cluster), exactly."""
    total, count = Fraction(0), 0
    for here, (start, end) in enumerate(runs):
        size = sum(weights[start:end])
        for i in range(start, end):
            if size == 1:
                count += 1
                continue
            inside = sum((abs(values[i] - values[j]) * weights[j] for j in range(start, end)), Fraction(0)) / (size - 1)
            nearest = min(
                sum((abs(values[i] - values[j]) * weights[j] for j in range(s, e)), Fraction(0)) / sum(weights[s:e])
                for there, (s, e) in enumerate(runs)
                if there != here
            )
            top = max(inside, nearest)
            total += weights[i] * ((nearest - inside) / top if top else 0)
            count += weights[i]
    return total / count


# Opinion groups -------------------------------------------------------------------------------


def opinion_groups(
    voters: Mapping[str, tuple[str, Mapping[tuple[str, str], int]]] | VoterMatrix,
    *,
    cells: Sequence[tuple[str, str]],
    k: int,
    seed: int,
    axes: Sequence[Mapping] | None = None,
) -> dict:
    """Voters placed by their votes and grouped by k-means, with the working groups they vote for.

    `voters` maps each voter to (working group, {(component, criterion): value}), or is the
    `VoterMatrix` of the same. `axes`, the axes a published outcomes.json gives, are used instead
    of computing them: what a verifier does once `check_published_axes` has accepted them.
    """
    placed = Placed(voters, cells)
    result: dict = {"k": k, "seed": seed, "grid": placed.grid, "cells": placed.cells}
    result |= {"axes": [], "explained_variance": [], "points": [], "centres": [], "crosstab": {}}
    result["unplaced"] = placed.unplaced
    if len(placed.names) < 3:
        result["note"] = "fewer than three voters with enough votes to place"
        return result
    covariance, trace = placed.covariance
    axes = principal_axes(covariance, trace) if axes is None else axes
    result["axes"] = [{"variance": axis["variance"], "loadings": list(axis["loadings"])} for axis in axes]
    result["explained_variance"] = [rounded(Fraction(axis["variance"]) / trace) if trace else 0 for axis in axes]
    places = project(placed.values, placed.voted, [axis["loadings"] for axis in axes])
    labels, centres = kmeans_on_grid(places, k=k, seed=seed, names=placed.names)
    crosstab: dict[str, dict[str, int]] = {}
    for name, group, (x, y), label in zip(placed.names, placed.groups, places.tolist(), labels, strict=True):
        cluster = label + 1
        result["points"].append({"voter": name, "group": group, "x": _on_grid(x), "y": _on_grid(y), "cluster": cluster})
        crosstab.setdefault(str(cluster), {}).setdefault(group, 0)
        crosstab[str(cluster)][group] += 1
    result["centres"] = [[_on_grid(x), _on_grid(y)] for x, y in centres]
    result["crosstab"] = {c: dict(sorted(g.items())) for c, g in sorted(crosstab.items(), key=lambda i: int(i[0]))}
    return result


def check_published_axes(
    axes: object,
    voters: Mapping[str, tuple[str, Mapping[tuple[str, str], int]]] | VoterMatrix,
    *,
    cells: Sequence[tuple[str, str]],
    tolerance: float,
) -> str | None:
    """What is wrong with the axes an outcomes.json publishes for these votes (`check_axes`), or None."""
    placed = Placed(voters, cells)
    if len(placed.names) < 3:
        return None if axes == [] else "axes published where no voters can be placed"
    if not _well_formed(axes):
        return "axes must be a list of {variance, loadings: [numbers]}"
    return check_axes(axes, placed.covariance[0], tolerance)


def _well_formed(axes: object) -> TypeGuard[list[dict[str, Any]]]:
    return isinstance(axes, list) and all(
        isinstance(a, dict) and _number(a.get("variance")) and isinstance(a.get("loadings"), list)
        and all(_number(x) for x in a["loadings"]) for a in axes
    )  # fmt: skip


def _number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


class Placed:
    """The voters the opinion groups place, and the cells those voters voted on, in code-point order.

    A voter is placed once they voted on MIN_VOTES cells, or on every cell that has a vote if there
    are fewer; a cell is used once a placed voter voted on it.
    """

    def __init__(
        self, voters: Mapping[str, tuple[str, Mapping[tuple[str, str], int]]] | VoterMatrix, cells: Sequence
    ) -> None:
        matrix = voter_matrix(voters, sorted(tuple(cell) for cell in cells))
        cast = matrix.voted.sum(axis=1)
        needed = min(MIN_VOTES, int(matrix.voted.any(axis=0).sum()) if len(matrix) else 0)
        placed = (cast >= max(needed, 1)) if len(matrix) else np.zeros(0, dtype=bool)
        used = np.flatnonzero(matrix.voted[placed].any(axis=0)) if placed.any() else np.zeros(0, dtype=np.int64)
        rows = np.flatnonzero(placed)
        self.names = [matrix.names[i] for i in rows.tolist()]
        self.groups = [matrix.groups[i] for i in rows.tolist()]
        self.unplaced = [name for name, is_placed in zip(matrix.names, placed.tolist(), strict=True) if not is_placed]
        self.cells = [list(matrix.cells[j]) for j in used.tolist()]
        self.values, self.voted = matrix.values[rows][:, used], matrix.voted[rows][:, used]
        self.grid = {
            "voters": len(matrix),
            "cells": len(matrix.cells),
            "votes": int(cast.sum()),
            "placed": len(rows),
            "min_votes": needed,
        }

    @cached_property
    def covariance(self) -> tuple[np.ndarray, Fraction]:
        return exact_covariance(self.values, self.voted)


def _on_grid(units: int) -> float | int:
    """Whole units of 1/GRID as a rounded number (int / int is correctly rounded: the float nearest the value)."""
    units = int(units)
    return units // GRID if units % GRID == 0 else units / GRID


def exact_covariance(values: np.ndarray, voted: np.ndarray) -> tuple[np.ndarray, Fraction]:
    """The cells' covariance with missing votes at the cell's mean, each entry the float nearest the exact value.

    With n_j votes summing to S_j in cell j, the centred entry of a vote is v − S_j/n_j and of a
    missing vote 0. n_j·n_l·(n − 1) times the covariance of cells j and l is the integer
    n_j n_l P − n_j S_l Q_jl − n_l S_j Q_lj + S_j S_l R, where P = VᵀV, Q = VᵀM and R = MᵀM over
    the values V (0 where missing) and the mask M of votes. Returns it and its exact trace.
    """
    n, d = values.shape
    mask = voted.astype(np.int64)
    count, total = mask.sum(axis=0), values.sum(axis=0)
    p, q, r = (_integer_product(a, b) for a, b in ((values, values), (values, mask), (mask, mask)))
    cj, tj = count.astype(object)[:, None], total.astype(object)[:, None]
    numerator = cj * cj.T * p - cj * tj.T * q - (cj * tj.T * q).T + tj * tj.T * r
    scale = cj * cj.T * (n - 1)
    covariance = np.array([[a / b for a, b in zip(rows, scales, strict=True)]
                           for rows, scales in zip(numerator.tolist(), scale.tolist(), strict=True)])  # fmt: skip
    trace = sum((Fraction(numerator[j, j], scale[j, j]) for j in range(d)), Fraction(0))
    return covariance.reshape(d, d), trace


def _integer_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """aᵀb of two integer matrices, exactly: in float64 (BLAS) while no sum can reach 2⁵³, else in integers."""
    bound = a.shape[0] * int(np.abs(a).max(initial=0)) * int(np.abs(b).max(initial=0))
    if bound < EXACT_FLOAT_SUM:
        return (a.T.astype(np.float64) @ b.astype(np.float64)).astype(np.int64).astype(object)
    return a.T.astype(object) @ b.astype(object)


def principal_axes(covariance: np.ndarray, trace: Fraction) -> list[dict]:
    """The two leading eigenvectors (one if there is one cell), loadings rounded to LOADING_PLACES decimals.

    Each axis' sign makes its largest loading in absolute value, once rounded, positive (the first
    such, on a tie).
    No variance at all (every placed voter voted alike): no axes.
    """
    d = covariance.shape[0]
    if not trace or d == 0:
        return []
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    axes = []
    for a in range(1, min(2, d) + 1):
        loadings = [rounded(Fraction(float(x)), LOADING_PLACES) for x in eigenvectors[:, -a]]
        largest = max(range(d), key=lambda j: (abs(loadings[j]), -j))  # the first of the largest, once rounded
        sign = -1 if loadings[largest] < 0 else 1
        axes.append(
            {
                "variance": rounded(Fraction(float(max(eigenvalues[-a], 0.0))), LOADING_PLACES),
                "loadings": [sign * x + 0 for x in loadings],
            }
        )
    return axes


def check_axes(axes: Sequence[Mapping], covariance: np.ndarray, tolerance: float) -> str | None:
    """What is wrong with published axes as the leading eigenvectors of `covariance`, or None.

    Each must be of unit length and the two orthogonal, each an eigenvector with its `variance` as
    eigenvalue, the variances those of the two largest eigenvalues: all within `tolerance` times
    the largest eigenvalue (at least 1).
    """
    d = covariance.shape[0]
    eigenvalues = np.linalg.eigvalsh(covariance) if d else np.zeros(0)
    scale = max(1.0, float(eigenvalues[-1]) if d else 0.0)
    expected = min(2, d) if d and np.any(covariance) else 0
    if len(axes) != expected:
        return f"{len(axes)} axes, recomputed {expected}"
    vectors = []
    for a, axis in enumerate(axes):
        loadings = np.array([float(x) for x in axis["loadings"]])
        if loadings.shape != (d,):
            return f"axes[{a}] has {loadings.shape[0]} loadings for {d} cells"
        variance = float(axis["variance"])
        if abs(float(loadings @ loadings) - 1) > tolerance:
            return f"axes[{a}] is not of unit length"
        if np.abs(covariance @ loadings - variance * loadings).max() > tolerance * scale:
            return f"axes[{a}] is not an eigenvector of the covariance with eigenvalue {variance}"
        if abs(variance - float(eigenvalues[-1 - a])) > tolerance * scale:
            return f"axes[{a}]: variance {variance}, recomputed {float(eigenvalues[-1 - a])!r}"
        vectors.append(loadings)
    if len(vectors) == 2 and abs(float(vectors[0] @ vectors[1])) > tolerance:
        return "the two axes are not orthogonal"
    return None


def project(values: np.ndarray, voted: np.ndarray, loadings: Sequence[Sequence[float]]) -> np.ndarray:
    """Each voter's place on the axes, in whole units of 1/GRID: the same on every machine.

    x = √(cells / cells voted) · Σ_j (v_j − S_j/n_j)·w_j over the cells voted; every product is one
    IEEE operation, the sum `math.fsum` (exactly rounded), the result rounded half to even.
    """
    n, d = values.shape
    count, total = voted.sum(axis=0), values.sum(axis=0)
    centred = np.where(voted, (count * values - total) / np.maximum(count, 1), 0.0)
    scales = [math.sqrt(d / m) for m in voted.sum(axis=1).tolist()]
    places = np.zeros((n, 2), dtype=np.int64)
    for a, weights in enumerate(loadings):
        products = centred * np.array([float(w) for w in weights])
        for i, (row, scale) in enumerate(zip(products.tolist(), scales, strict=True)):
            places[i, a] = _to_grid(math.fsum(row) * scale)
    return places


def _to_grid(x: float) -> int:
    """The whole number of units of 1/GRID nearest x, exactly (half to even)."""
    numerator, denominator = x.as_integer_ratio()
    units, rest = divmod(numerator * GRID, denominator)
    return units + (1 if 2 * rest > denominator or (2 * rest == denominator and units % 2) else 0)


def kmeans_on_grid(points: np.ndarray, *, k: int, seed: int, names: Sequence[str]) -> tuple[list[int], list]:
    """k-means on whole-number points, in integers: each point's group (0, 1, …) and the groups' centres.

    RESTARTS runs, each started by k-means++ with Python's `random.Random(seed)` (its `random()`,
    whose sequence Python keeps stable), then Lloyd's steps: each point to the nearest centre (the
    first on a tie), each centre to its points' mean rounded half to even, until nothing moves or
    MAX_ITERATIONS. The run with the least sum of squared distances wins (the first on a tie). The
    groups are numbered by centre, left to right, then bottom to top, then by their first voter.
    """
    distinct = len({tuple(p) for p in points.tolist()})
    k_used = max(1, min(k, distinct))
    wide = int(np.abs(points).max(initial=0)) >= 2**30  # squared distances would pass int64
    points = points.astype(object) if wide else points
    rng = random.Random(seed)
    best: tuple[int, np.ndarray, np.ndarray] | None = None
    for _ in range(RESTARTS):
        centres = _kmeans_plus_plus(points, k_used, rng)
        labels = _nearest(points, centres)
        for _ in range(MAX_ITERATIONS):
            for c in range(k_used):
                members = points[labels == c]
                if len(members):  # a centre left without points stays where it is
                    centres[c] = [round(Fraction(int(total), len(members))) for total in members.sum(axis=0).tolist()]
            moved = _nearest(points, centres)
            if np.array_equal(moved, labels):
                break
            labels = moved
        cost = sum(int(x) for x in ((points - centres[labels]) ** 2).sum(axis=1).tolist())
        if best is None or cost < best[0]:
            best = (cost, labels, centres)
    assert best is not None  # RESTARTS > 0: the loop ran
    _, labels, centres = best
    used = sorted(set(labels.tolist()))
    first = {c: min(name for name, label in zip(names, labels.tolist(), strict=True) if label == c) for c in used}
    order = sorted(used, key=lambda c: (int(centres[c][0]), int(centres[c][1]), first[c]))
    number = {c: i for i, c in enumerate(order)}
    return [number[c] for c in labels.tolist()], [(int(centres[c][0]), int(centres[c][1])) for c in order]


def _nearest(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Each point's nearest centre, by squared distance; the first of several as near."""
    dx, dy = points[:, 0, None] - centres[None, :, 0], points[:, 1, None] - centres[None, :, 1]
    return (dx * dx + dy * dy).argmin(axis=1)


def _kmeans_plus_plus(points: np.ndarray, k: int, rng: random.Random) -> np.ndarray:
    """k starting centres: the first point at random, each next one with chance ∝ its squared distance."""
    n = len(points)
    chosen = [points[int(rng.random() * n)]]
    nearest = ((points - chosen[0]) ** 2).sum(axis=1)
    while len(chosen) < k:
        cumulative = list(accumulate(int(x) for x in nearest.tolist()))
        pick = min(bisect_right(cumulative, rng.random() * cumulative[-1]), n - 1)
        while nearest[pick] == 0:  # only where rounding lands the draw on the very end
            pick -= 1
        chosen.append(points[pick])
        nearest = np.minimum(nearest, ((points - points[pick]) ** 2).sum(axis=1))
    return np.array(chosen, dtype=points.dtype).reshape(k, 2)
