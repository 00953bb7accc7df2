"""Clustering: the exact 1-D split of the components' scores, and opinion groups of voters. No database."""

import itertools
import json
import math
import random
from fractions import Fraction

import numpy as np
import pytest

from plenary_tally import clustering

# Components on the score axis --------------------------------------------------------------------


def test_components_split_on_the_score_axis_highest_cluster_first():
    # 1-D, k = 2: {9, 10, 11} and {0, 1}; centres 10 and 0.5
    result = clustering.components({"a": 10, "b": 9, "c": 1, "d": 0, "e": 11}, k=2)
    assert result["k"] == 2
    assert result["centres"] == [10, 0.5]
    assert result["clusters"] == [["e", "a", "b"], ["c", "d"]]  # inside a cluster: highest score first
    assert "note" not in result
    # silhouette of that split, s = 1 − a/b per point (a: mean distance inside, b: to the other cluster):
    #   11: 1 − 1.5/10.5 = 6/7   10: 1 − 1/9.5 = 17/19   9: 1 − 1.5/8.5 = 14/17   1: 1 − 1/9 = 8/9   0: 1 − 1/10
    exact = (Fraction(6, 7) + Fraction(17, 19) + Fraction(14, 17) + Fraction(8, 9) + Fraction(9, 10)) / 5
    assert result["silhouette"]["2"] == float(round(exact, 6)) == 0.87286


def test_the_split_of_the_2024_re_analysis():
    # The 2024 re-analysis split the OSAID components' vote totals with k-means (k = 2) into those the
    # working groups held required and the rest; on totals of that shape the exact split is the same.
    totals = {"training-code": 31, "inference-code": 29, "parameters": 27, "architecture": 26, "card": 24,
              "paper": 17, "data-card": 11, "training-data": 9, "test-data": 6, "benchmarks": 2}  # fmt: skip
    result = clustering.components(totals, k=2)
    assert result["clusters"] == [
        ["training-code", "inference-code", "parameters", "architecture", "card"],
        ["paper", "data-card", "training-data", "test-data", "benchmarks"],
    ]
    assert result["centres"] == [27.4, 9]


def _cost(groups):
    return sum(sum((x - sum(g) / len(g)) ** 2 for x in g) for g in groups)


def _partitions(items: list, k: int):
    """Every way of putting `items` into k non-empty groups, each once (which group is called first aside)."""
    if len(items) < k or (items and k == 0):
        return
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for groups in _partitions(rest, k - 1):  # first in a group of its own
        yield [[first], *groups]
    for groups in _partitions(rest, k):  # or in one of the k groups of the others
        for i in range(k):
            yield [*groups[:i], [first, *groups[i]], *groups[i + 1 :]]


def test_the_partitions_are_every_labelling_of_the_items_once():
    # the k-labellings that use every label, up to renaming the labels: k! of them for each partition
    for n in range(6):
        for k in range(n + 2):
            labellings = {
                frozenset(frozenset(i for i, lab in enumerate(labels) if lab == c) for c in range(k))
                for labels in itertools.product(range(k), repeat=n)
                if len(set(labels)) == k
            }
            found = [frozenset(frozenset(g) for g in groups) for groups in _partitions(list(range(n)), k)]
            assert len(found) == len(set(found)) and set(found) == labellings, (n, k)


@pytest.mark.parametrize("trial", range(40))
def test_the_split_is_the_best_of_every_partition(trial):
    # against brute force: every way of putting a handful of scores into k non-empty groups
    rng = random.Random(trial)
    scores = [Fraction(rng.randint(-12, 12), rng.choice([1, 1, 2, 3])) for _ in range(rng.randint(2, 7))]
    distinct = sorted(set(scores), reverse=True)
    weights = [scores.count(v) for v in distinct]
    k = rng.randint(1, len(distinct))
    runs = clustering.split_scores(distinct, weights, k)
    found = _cost([[v for v, w in zip(distinct[s:e], weights[s:e], strict=True) for _ in range(w)] for s, e in runs])
    best = min(_cost(groups) for groups in _partitions(scores, k))
    assert found == best


def test_of_equally_good_splits_the_first_cluster_ends_soonest():
    # 0, 1, 2 in two clusters: {2} {1, 0} and {2, 1} {0} cost the same (1/2); the first ends soonest
    values = [Fraction(2), Fraction(1), Fraction(0)]
    assert clustering.split_scores(values, [1, 1, 1], 2) == [(0, 1), (1, 3)]
    assert clustering.components({"a": 2, "b": 1, "c": 0}, k=2)["clusters"] == [["a"], ["b", "c"]]


def test_components_are_the_same_whatever_the_order_and_however_often():
    scores = {"code": 29, "weights": 31, "data-a": 9, "data-b": 11, "docs": 17, "paper": 2, "card": 24}
    first = clustering.components(scores, k=3)
    assert clustering.components(dict(reversed(scores.items())), k=3) == first
    assert all(clustering.components(scores, k=3) == first for _ in range(3))
    assert first["centres"] == sorted(first["centres"], reverse=True)


def test_exact_scores_split_exactly():
    # thirds, as a mean aggregate gives them: no float can tell 1/3 + 1/3 + 1/3 from 1
    result = clustering.components({"a": Fraction(1, 3), "b": Fraction(2, 3), "c": Fraction(5)}, k=2)
    assert result["clusters"] == [["c"], ["b", "a"]]
    assert result["centres"] == [5, 0.5]


@pytest.mark.parametrize(
    "values, keys",
    [
        ([1, 5], []),  # two points: no k in 2…6 leaves a point to compare with
        ([1, 5, 9], ["2"]),
        ([1, 5, 9, 14], ["2", "3"]),
        ([1, 1, 1, 5, 5, 9], ["2"]),  # six points but three distinct scores
        ([1, 2, 4, 8, 16, 32, 64, 128], ["2", "3", "4", "5", "6"]),  # never past k = 6
    ],
)
def test_silhouettes_only_for_the_k_the_data_allows(values, keys):
    scores = {f"c{i}": value for i, value in enumerate(values)}
    assert list(clustering.components(scores, k=2)["silhouette"]) == keys


def test_silhouette_left_out_on_request():
    assert clustering.components({"a": 1, "b": 5, "c": 9}, k=2, silhouette=False)["silhouette"] == {}


@pytest.mark.parametrize(
    "scores, k, centres, clusters, note",
    [
        ({"a": 3, "b": 3, "c": 3}, 2, [3], [["a", "b", "c"]], "only 1 distinct scores: 1 clusters"),
        ({"a": 5, "b": 5, "c": 1}, 3, [5, 1], [["a", "b"], ["c"]], "only 2 distinct scores: 2 clusters"),
    ],
)
def test_fewer_distinct_scores_than_k_give_fewer_clusters_and_say_so(scores, k, centres, clusters, note):
    result = clustering.components(scores, k=k)
    assert (result["centres"], result["clusters"], result["note"]) == (centres, clusters, note)


def test_no_scores_no_clusters():
    assert clustering.components({}, k=2) == {"k": 2, "centres": [], "clusters": [], "silhouette": {}}


# Opinion groups -----------------------------------------------------------------------------------

CELLS = [("code", "use"), ("data", "use"), ("data", "study")]
# two camps that cut across the working groups: three say +1 everywhere, three +1 on code and -1 on data
VOTERS = {
    "ann": ("alpha", {("code", "use"): 1, ("data", "use"): 1, ("data", "study"): 1}),
    "bo": ("alpha", {("code", "use"): 1, ("data", "use"): 1, ("data", "study"): 1}),
    "cy": ("beta", {("code", "use"): 1, ("data", "use"): 1, ("data", "study"): 1}),
    "di": ("beta", {("code", "use"): 1, ("data", "use"): -1, ("data", "study"): -1}),
    "ed": ("beta", {("code", "use"): 1, ("data", "use"): -1, ("data", "study"): -1}),
    "flo": ("alpha", {("code", "use"): 1, ("data", "use"): -1, ("data", "study"): -1}),
}


def test_opinion_groups_find_the_camps_and_cross_them_with_the_working_groups():
    result = clustering.opinion_groups(VOTERS, cells=CELLS, k=2, seed=42)
    points = {p["voter"]: p for p in result["points"]}
    assert [p["voter"] for p in result["points"]] == sorted(VOTERS)
    assert points["ann"]["group"] == "alpha" and points["di"]["group"] == "beta"
    assert {points[v]["cluster"] for v in ("ann", "bo", "cy")} == {2}  # to the right: the positive side
    assert {points[v]["cluster"] for v in ("di", "ed", "flo")} == {1}
    assert result["crosstab"] == {"1": {"alpha": 1, "beta": 2}, "2": {"alpha": 2, "beta": 1}}
    assert result["explained_variance"] == [1, 0]  # one line of disagreement: data
    assert result["grid"] == {"voters": 6, "cells": 3, "votes": 18, "placed": 6, "min_votes": 3}


def test_missing_is_not_zero():
    # Twelve cells. ann and bo agree on everything; bo voted on half of it. With missing votes as 0, bo
    # would sit halfway to the other camp; at the cell's mean and scaled by his share, he is with ann.
    cells = [(f"c{i:02d}", "use") for i in range(12)]
    camp_a, camp_b = dict.fromkeys(cells, 1), dict.fromkeys(cells, -1)
    voters = {
        "ann": ("g", camp_a),
        "bo": ("g", {cell: 1 for cell in cells[:6]} | {cell: 1 for cell in cells[6:7]}),
        "cy": ("g", camp_a),
        "di": ("g", camp_b),
        "ed": ("g", camp_b),
        "flo": ("g", camp_b),
    }
    points = {p["voter"]: p for p in clustering.opinion_groups(voters, cells=cells, k=2, seed=1)["points"]}
    assert points["bo"]["cluster"] == points["ann"]["cluster"] != points["di"]["cluster"]
    # with zeros he would be at 7/12 of ann's place; scaled by √(12/7), at three quarters
    assert points["bo"]["x"] > 0.7 * points["ann"]["x"]


def test_a_voter_with_too_few_votes_is_not_placed_and_the_grid_says_how_full_it_is():
    cells = [(f"c{i:02d}", "use") for i in range(10)]
    voters = {name: ("g", {cell: (-1) ** i for i, cell in enumerate(cells)}) for name in ("ann", "bo", "cy")}
    voters["di"] = ("g", {cell: 1 for cell in cells[:6]})  # six votes: one short of Pol.is' seven
    result = clustering.opinion_groups(voters, cells=cells, k=2, seed=42)
    assert result["unplaced"] == ["di"]
    assert [p["voter"] for p in result["points"]] == ["ann", "bo", "cy"]
    assert result["grid"] == {"voters": 4, "cells": 10, "votes": 36, "placed": 3, "min_votes": 7}


def test_opinion_groups_are_the_same_whatever_the_order():
    first = clustering.opinion_groups(VOTERS, cells=CELLS, k=2, seed=42)
    again = clustering.opinion_groups(dict(reversed(VOTERS.items())), cells=list(reversed(CELLS)), k=2, seed=42)
    assert json.dumps(again) == json.dumps(first)


def test_voters_who_all_agree_make_one_group_and_no_nan():
    same = {("code", "use"): 1, ("data", "use"): 1, ("data", "study"): -1}
    voters = {name: ("alpha", same) for name in ("ann", "bo", "cy", "di")}
    result = clustering.opinion_groups(voters, cells=CELLS, k=2, seed=42)
    assert {p["cluster"] for p in result["points"]} == {1}
    assert result["crosstab"] == {"1": {"alpha": 4}}
    assert result["axes"] == []  # no variance: no axis to publish
    json.dumps(result, allow_nan=False)


@pytest.mark.parametrize("names", [(), ("ann",), ("ann", "bo")])
def test_fewer_than_three_voters_get_a_note_instead_of_groups(names):
    result = clustering.opinion_groups({n: VOTERS[n] for n in names}, cells=CELLS, k=2, seed=42)
    assert result["note"] == "fewer than three voters with enough votes to place"
    assert (result["points"], result["crosstab"]) == ([], {})


def test_groups_are_numbered_left_to_right_whatever_the_seed():
    rng = np.random.default_rng(3)
    cells = [(f"c{i:02d}", "use") for i in range(8)]
    voters = {f"v{i:02d}": ("g", dict(zip(cells, rng.integers(-1, 2, 8).tolist(), strict=True))) for i in range(30)}
    for seed in (0, 1, 2**32 - 1):
        result = clustering.opinion_groups(voters, cells=cells, k=3, seed=seed)
        xs = [x for x, _ in result["centres"]]
        assert xs == sorted(xs)


def test_kmeans_on_the_grid_finds_the_best_of_its_restarts_in_integers():
    points = np.array([[0, 0], [0, 1], [10, 10], [10, 11], [20, 0], [21, 0]], dtype=np.int64)
    labels, centres = clustering.kmeans_on_grid(points, k=3, seed=7, names=list("abcdef"))
    assert labels == [0, 0, 1, 1, 2, 2]
    assert centres == [(0, 0), (10, 10), (20, 0)]  # each mean rounded half to even: 0.5 → 0, 10.5 → 10, 20.5 → 20


# The axes a verifier accepts ----------------------------------------------------------------------


def _covariance(voters, cells):
    return clustering.Placed(voters, cells).covariance


def test_published_axes_are_checked_within_the_tolerance():
    result = clustering.opinion_groups(VOTERS, cells=CELLS, k=2, seed=42)
    assert clustering.check_published_axes(result["axes"], VOTERS, cells=CELLS, tolerance=1e-8) is None
    bent = [dict(result["axes"][0], loadings=[0.1, 0.7, 0.7]), result["axes"][1]]
    assert "unit length" in clustering.check_published_axes(bent, VOTERS, cells=CELLS, tolerance=1e-8)
    wrong = [result["axes"][1] | {"variance": 2.4}, result["axes"][0] | {"variance": 0}]
    assert "not an eigenvector" in clustering.check_published_axes(wrong, VOTERS, cells=CELLS, tolerance=1e-8)
    assert "list" in clustering.check_published_axes("none", VOTERS, cells=CELLS, tolerance=1e-8)


def test_where_two_axes_explain_as_much_any_basis_of_them_is_accepted_and_gives_its_own_exact_places():
    # four voters at the corners of a square in two cells: the two axes explain the same variance
    cells = [("a", "use"), ("b", "use")]
    corners = {"ann": (1, 1), "bo": (1, -1), "cy": (-1, 1), "di": (-1, -1)}
    voters = {name: ("g", dict(zip(cells, corner, strict=True))) for name, corner in corners.items()}
    covariance, _ = _covariance(voters, cells)
    assert np.allclose(covariance, np.eye(2) * covariance[0, 0])
    turn = math.pi / 7
    rotated = [
        {"variance": float(covariance[0, 0]), "loadings": [round(math.cos(turn), 10), round(math.sin(turn), 10)]},
        {"variance": float(covariance[0, 0]), "loadings": [round(-math.sin(turn), 10), round(math.cos(turn), 10)]},
    ]
    assert clustering.check_published_axes(rotated, voters, cells=cells, tolerance=1e-8) is None
    first = clustering.opinion_groups(voters, cells=cells, k=2, seed=42, axes=rotated)
    assert clustering.opinion_groups(voters, cells=cells, k=2, seed=42, axes=rotated) == first


def test_the_covariance_is_exact_for_any_number_of_voters():
    # 2 cells; values −1 and +1, a third missing: the exact covariance against a slow computation in fractions
    rng = random.Random(5)
    cells = [("a", "use"), ("b", "use")]
    voters = {}
    for i in range(50):
        votes = {cell: rng.choice([-1, 1]) for cell in cells if rng.random() < 0.7}
        votes = votes or {cells[0]: 1}
        voters[f"v{i:02d}"] = ("g", votes)
    placed = clustering.Placed(voters, cells)
    covariance, trace = placed.covariance
    columns = [[votes.get(tuple(c)) for _, votes in (voters[n] for n in placed.names)] for c in placed.cells]
    means = [Fraction(sum(v for v in col if v is not None), sum(v is not None for v in col)) for col in columns]
    centred = [[Fraction(0) if v is None else v - m for v in col] for col, m in zip(columns, means, strict=True)]
    n = len(placed.names)
    for j in range(2):
        for k in range(2):
            exact = sum(a * b for a, b in zip(centred[j], centred[k], strict=True)) / (n - 1)
            assert covariance[j, k] == float(exact)
    assert trace == sum(sum(a * a for a in col) for col in centred) / (n - 1)
