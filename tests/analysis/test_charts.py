"""Chart geometry: the opinion-group scatter stays the same size however many people vote."""

import random

import pytest

from analysis import charts


def points(n: int) -> list[dict]:
    pick = random.Random(n)
    return [
        {
            "voter": f"v{i}",
            "group": pick.choice("ab"),
            "x": pick.gauss(0, 1),
            "y": pick.gauss(0, 1),
            "cluster": 1 + i % 2,
        }
        for i in range(n)
    ]


def test_up_to_the_limit_each_voter_has_a_mark_named_for_them():
    drawn = charts.scatter(points(charts.SCATTER_MARKS), ["a", "b"])
    assert not drawn["binned"]
    assert len(drawn["points"]) == charts.SCATTER_MARKS
    assert drawn["points"][0]["title"].startswith("@v0 (")


@pytest.mark.parametrize("n", [charts.SCATTER_MARKS + 1, 5_000, 33_000])
def test_beyond_it_voters_share_marks_and_every_voter_is_counted(n):
    drawn = charts.scatter(points(n), ["a", "b"])
    assert drawn["binned"] and drawn["voters"] == n
    size = charts.scatter(points(n), ["a", "b"])["width"] // charts.BIN + 2
    assert len(drawn["points"]) <= size * size * 2 * 2  # places × opinion groups × working groups
    assert sum(int(p["title"].split(" ")[0]) for p in drawn["points"]) == n


def test_the_score_strip_reads_exact_scores_and_shows_decimals():
    # μ = 14/3 and a band from 0.5 μ = 7/3: the component scored 7/3 sits on its line
    bands = [{"min": 1.0, "label": "Maybe"}, {"min": 0.5, "label": "Lean no"}]
    strip = charts.score_strip({"a": "7/3", "b": 5}, [["b"], ["a"]], bands, "14/3", {"a": "A", "b": "B"})
    point = {p["key"]: p for p in strip["points"]}
    line = {t["label"]: t for t in strip["thresholds"]}
    assert point["a"]["x"] == line["Lean no"]["x"]
    assert (point["a"]["score"], line["Lean no"]["value"], line["Maybe"]["value"]) == ("2.33", "2.33", "4.67")
    assert point["b"]["score"] == "5"
