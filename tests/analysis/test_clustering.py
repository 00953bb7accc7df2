"""Clustering: 1-D k-means on the components' scores, and opinion groups of voters. No database."""

import json

import pytest

from plenary_tally import clustering


def test_components_split_on_the_score_axis_highest_cluster_first():
    # 1-D, k = 2: {9, 10, 11} and {0, 1}; centres 10 and 0.5
    result = clustering.components({"a": 10, "b": 9, "c": 1, "d": 0, "e": 11}, k=2, seed=42)
    assert result["k"] == 2 and result["seed"] == 42
    assert result["centres"] == [10, 0.5]
    assert result["clusters"] == [["e", "a", "b"], ["c", "d"]]  # inside a cluster: highest score first
    assert "note" not in result
    # silhouette of that split, s = 1 − a/b per point (a: mean distance inside, b: to the other cluster):
    #   11: 1 − 1.5/10.5 = 0.857143   10: 1 − 1/9.5 = 0.894737   9: 1 − 1.5/8.5 = 0.823529
    #    1: 1 − 1/9     = 0.888889    0: 1 − 1/10  = 0.9         mean 4.364298 / 5 = 0.872860
    assert result["silhouette"]["2"] == pytest.approx(0.872860, abs=1e-6)


def test_components_are_the_same_whatever_the_order_and_however_often():
    scores = {"code": 29, "weights": 31, "data-a": 9, "data-b": 11, "docs": 17, "paper": 2, "card": 24}
    first = clustering.components(scores, k=3, seed=7)
    assert clustering.components(dict(reversed(scores.items())), k=3, seed=7) == first
    assert all(clustering.components(scores, k=3, seed=7) == first for _ in range(3))
    assert first["centres"] == sorted(first["centres"], reverse=True)


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
    assert list(clustering.components(scores, k=2, seed=42)["silhouette"]) == keys


def test_silhouette_left_out_on_request():
    assert clustering.components({"a": 1, "b": 5, "c": 9}, k=2, seed=42, silhouette=False)["silhouette"] == {}


@pytest.mark.parametrize(
    "scores, k, centres, clusters, note",
    [
        ({"a": 3, "b": 3, "c": 3}, 2, [3], [["a", "b", "c"]], "only 1 distinct scores: 1 clusters"),
        ({"a": 5, "b": 5, "c": 1}, 3, [5, 1], [["a", "b"], ["c"]], "only 2 distinct scores: 2 clusters"),
    ],
)
def test_fewer_distinct_scores_than_k_give_fewer_clusters_and_say_so(scores, k, centres, clusters, note):
    result = clustering.components(scores, k=k, seed=42)
    assert (result["centres"], result["clusters"], result["note"]) == (centres, clusters, note)


def test_no_scores_no_clusters():
    assert clustering.components({}, k=2, seed=42) == {
        "k": 2,
        "seed": 42,
        "centres": [],
        "clusters": [],
        "silhouette": {},
    }


# Opinion groups -----------------------------------------------------------------------------------

CELLS = [("code", "use"), ("data", "use"), ("data", "study")]
# two camps that cut across the working groups: three say +1 everywhere, three +1 on code and -1 on data
VOTERS = {
    "ann": ("alpha", {("code", "use"): 1, ("data", "use"): 1, ("data", "study"): 1}),
    "bo": ("alpha", {("code", "use"): 1, ("data", "use"): 1, ("data", "study"): 1}),
    "cy": ("beta", {("code", "use"): 1, ("data", "use"): 1}),  # no vote on (data, study): counts 0
    "di": ("beta", {("code", "use"): 1, ("data", "use"): -1, ("data", "study"): -1}),
    "ed": ("beta", {("code", "use"): 1, ("data", "use"): -1, ("data", "study"): -1}),
    "flo": ("alpha", {("code", "use"): 1, ("data", "use"): -1, ("data", "study"): -1}),
}


def test_opinion_groups_find_the_camps_and_cross_them_with_the_working_groups():
    result = clustering.opinion_groups(VOTERS, cells=CELLS, k=2, seed=42)
    points = {p["voter"]: p for p in result["points"]}
    assert [p["voter"] for p in result["points"]] == sorted(VOTERS)
    assert {p["group"] for p in points.values()} == {"alpha", "beta"}
    assert points["ann"]["group"] == "alpha" and points["di"]["group"] == "beta"
    together = {points[v]["cluster"] for v in ("ann", "bo", "cy")}, {points[v]["cluster"] for v in ("di", "ed", "flo")}
    assert len(together[0]) == len(together[1]) == 1 and together[0] != together[1]
    # the camps' make-up: {ann, bo (alpha), cy (beta)} and {flo (alpha), di, ed (beta)}
    assert sorted(tuple(row.values()) for row in result["crosstab"].values()) == [(1, 2), (2, 1)]
    assert sum(n for row in result["crosstab"].values() for n in row.values()) == len(VOTERS)
    assert len(result["explained_variance"]) == 2


def test_opinion_groups_are_the_same_every_time():
    first = clustering.opinion_groups(VOTERS, cells=CELLS, k=2, seed=42)
    again = clustering.opinion_groups(dict(reversed(VOTERS.items())), cells=CELLS, k=2, seed=42)
    assert again == first


def test_voters_who_all_agree_make_one_group_and_no_nan():
    same = {("code", "use"): 1, ("data", "use"): 1, ("data", "study"): -1}
    voters = {name: ("alpha", same) for name in ("ann", "bo", "cy", "di")}
    result = clustering.opinion_groups(voters, cells=CELLS, k=2, seed=42)
    assert {p["cluster"] for p in result["points"]} == {1}
    assert result["crosstab"] == {"1": {"alpha": 4}}
    json.dumps(result, allow_nan=False)


@pytest.mark.parametrize("names", [(), ("ann",), ("ann", "bo")])
def test_fewer_than_three_voters_get_a_note_instead_of_groups(names):
    result = clustering.opinion_groups({n: VOTERS[n] for n in names}, cells=CELLS, k=2, seed=42)
    assert result["note"] == "fewer than three voters"
    assert (result["points"], result["crosstab"]) == ([], {})
