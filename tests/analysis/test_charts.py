"""Chart geometry: the opinion-group scatter stays the same size however many people vote; no label overlaps another."""

import random
from types import SimpleNamespace

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


def overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


@pytest.mark.parametrize("seed", range(20))
def test_no_two_labels_of_the_score_strip_overlap_and_none_leaves_the_chart(seed):
    rng = random.Random(seed)
    n = rng.randint(2, 30)
    titles = {f"c{i}": "Component " + "x" * rng.randint(0, 40) for i in range(n)}
    scores = {key: rng.choice([rng.randint(-20, 120), 40, 41, 42]) for key in titles}  # bunched, and tied
    bands = [{"min": 2.0, "label": "Yes"}, {"min": 1.5, "label": "Lean yes"}, {"min": 1.0, "label": "Maybe"}]
    bands.append({"min": rng.choice([0.9, 0.5]), "label": "Lean no"})  # thresholds close together too

    strip = charts.score_strip(scores, [list(titles)], bands, "20", titles)

    boxes = []  # each label and each dot: its row and horizontal span
    for p in strip["points"]:
        assert 0 <= p["label_span"][0] and p["label_span"][1] <= strip["width"]
        assert charts.text_width(p["label"], charts.STRIP_LABEL_SIZE) <= p["label_span"][1] - p["label_span"][0] + 0.1
        boxes += [(p["y"], p["label_span"]), (p["y"], (p["x"] - charts.POINT_R, p["x"] + charts.POINT_R))]
    for i, (row, span) in enumerate(boxes):
        assert not any(r == row and overlaps(span, other) for r, other in boxes[i + 1 :]), (row, span)
    labels = [(t["label_y"], t["label_span"]) for t in strip["thresholds"]]
    for i, (row, span) in enumerate(labels):
        assert 0 <= span[0] and span[1] <= strip["width"]
        assert not any(r == row and overlaps(span, other) for r, other in labels[i + 1 :])
    assert min(p["y"] for p in strip["points"]) > max(t["label_y"] for t in strip["thresholds"]) + 10


def test_a_long_title_is_shortened_to_fit_beside_the_bars():
    title = "A component title far too long to fit in the space beside its bar"
    chart = charts.stacked_counts({"a": {"yes": 1}}, [SimpleNamespace(key="yes", label="Yes", value=1)], {"a": title})

    label = chart["rows"][0]["label"]
    assert label.endswith("…") and title.startswith(label[:-1])
    assert charts.text_width(label, charts.COUNTS_LABEL_SIZE) <= chart["label_x"]
