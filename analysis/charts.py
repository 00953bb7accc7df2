"""Geometry for the results charts, drawn as inline SVG by the templates: no script, no CDN.

Each function turns outcome data into shapes with coordinates in a fixed view box; the
templates only place them. Colours are the Okabe–Ito palette, safe for colour-blind readers.
Numbers of outcomes.json are read with `numbers.exact`; floats serve only for positions.
"""

import math
from collections.abc import Mapping, Sequence

from plenary_tally.numbers import exact, shown

PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
POSITIVE, NEUTRAL, NEGATIVE = "#009E73", "#999999", "#D55E00"
WIDTH = 720


def _scale(lo: float, hi: float, left: float, right: float):
    span = (hi - lo) or 1.0
    return lambda v: left + (v - lo) / span * (right - left)


def _ticks(lo: float, hi: float, count: int = 6) -> list[float]:
    step = (hi - lo) / (count - 1) if hi > lo else 1
    return [round(lo + i * step, 2) for i in range(count)]


def score_strip(
    scores: Mapping[str, int | str],
    clusters: Sequence[Sequence[str]],
    bands: Sequence[Mapping],
    mu: int | str,
    titles: Mapping,
) -> dict:
    """The components on the score axis, coloured by k-means cluster, with the band thresholds.

    `scores` and `mu` as outcomes.json writes them; the bands as ballot.json does.
    """
    cluster_of = {key: i for i, members in enumerate(clusters) for key in members}
    at = {key: exact(score) for key, score in scores.items()}
    thresholds = [(b["label"], exact(b["min"]) * exact(mu)) for b in bands]
    values = [float(v) for v in (*at.values(), *(t for _, t in thresholds), 0)]
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.05 or 1
    x = _scale(lo - pad, hi + pad, 30, WIDTH - 30)
    points: list[dict] = []
    rows_end: list[float] = []
    for key in sorted(at, key=lambda k: (at[k], k)):
        px = x(float(at[key]))
        row = next((i for i, end in enumerate(rows_end) if px - end > 120), len(rows_end))
        if row == len(rows_end):
            rows_end.append(px)
        rows_end[row] = px
        cluster = cluster_of.get(key)
        points.append(
            {
                "key": key,
                "title": titles.get(key, key),
                "score": shown(at[key]),
                "x": round(px, 1),
                "label_left": px > WIDTH - 170,
                "y": 40 + row * 22,
                "cluster": None if cluster is None else cluster + 1,
                "colour": PALETTE[cluster % len(PALETTE)] if cluster is not None else NEUTRAL,
            }
        )
    height = 40 + len(rows_end) * 22 + 40
    return {
        "width": WIDTH,
        "height": height,
        "axis_y": height - 30,
        "points": points,
        "thresholds": [{"label": label, "value": shown(v), "x": round(x(float(v)), 1)} for label, v in thresholds],
        "ticks": [{"value": t, "x": round(x(t), 1)} for t in _ticks(lo, hi)],
        "legend": [{"cluster": i + 1, "colour": PALETTE[i % len(PALETTE)]} for i in range(len(clusters))],
    }


def stacked_counts(counts: Mapping[str, Mapping[str, int]], choices: Sequence, titles: Mapping) -> dict:
    """Per component, its votes by choice as one horizontal stacked bar."""
    colours = {}
    for c in choices:
        colours[c.key] = POSITIVE if c.value > 0 else NEGATIVE if c.value < 0 else NEUTRAL
    total_max = max((sum(row.values()) for row in counts.values()), default=0) or 1
    label_w, bar_w, row_h = 200, WIDTH - 260, 20
    rows = []
    for i, (key, row) in enumerate(counts.items()):
        x: float = label_w
        segments = []
        for c in choices:
            n = row.get(c.key, 0)
            w = n / total_max * bar_w
            if n:
                segments.append(
                    {"x": round(x, 1), "width": round(w, 1), "colour": colours[c.key], "label": c.label, "n": n}
                )
            x += w
        rows.append(
            {
                "key": key,
                "title": titles.get(key, key),
                "y": 10 + i * row_h,
                "segments": segments,
                "counts": list(row.values()),
                "total": sum(row.values()),
            }
        )
    return {
        "width": WIDTH,
        "height": 20 + len(rows) * row_h,
        "label_x": label_w - 6,
        "rows": rows,
        "legend": [{"label": c.label, "colour": colours[c.key]} for c in choices],
    }


def silhouette_bars(silhouette: Mapping[str, float]) -> dict:
    bars, w = [], 60
    for i, (k, v) in enumerate(sorted(silhouette.items(), key=lambda kv: int(kv[0]))):
        h = max(0.0, v) * 140
        bars.append({"k": k, "value": v, "x": 40 + i * (w + 20), "y": round(160 - h, 1), "height": round(h, 1)})
    return {"width": 40 + len(bars) * (w + 20), "height": 190, "bar_width": w, "bars": bars}


SCATTER_MARKS = 400  # more voters than this are drawn in bins: one mark per place, opinion group and working group
BIN = 14  # the side of a bin, in the view box's units


def scatter(points: Sequence[Mapping], groups: Sequence[str]) -> dict:
    """Voters on the first two principal axes, coloured by opinion group, shaped by working group.

    Up to `SCATTER_MARKS` voters, one mark each. Beyond, the voters of one opinion group and one working
    group who fall in the same small square share a mark, sized by how many they are: the chart stays
    readable, and the page stays the same size however many people vote.
    """
    if not points:
        return {"points": []}
    xs, ys = [p["x"] for p in points], [p["y"] for p in points]
    size = 420
    fx, fy = _scale(min(xs), max(xs), 20, size - 20), _scale(min(ys), max(ys), size - 20, 20)
    shape = {g: i % 4 for i, g in enumerate(groups)}
    binned = len(points) > SCATTER_MARKS
    marks: dict[tuple, dict] = {}
    for p in points:
        cx, cy = fx(p["x"]), fy(p["y"])
        key = (round(cx / BIN), round(cy / BIN), p["cluster"], p["group"]) if binned else (len(marks),)
        mark = marks.setdefault(key, {"group": p["group"], "cluster": p["cluster"], "n": 0, "sx": 0.0, "sy": 0.0})
        mark["n"] += 1
        mark["sx"] += cx
        mark["sy"] += cy
        mark["voter"] = p["voter"]
    drawn = []
    for mark in marks.values():
        n, cx, cy = mark["n"], mark["sx"] / mark["n"], mark["sy"] / mark["n"]
        r = min(12.0, 3 + 1.5 * math.sqrt(n)) if binned else 5.0
        if binned:
            title = f"{n} voter{'s' if n > 1 else ''} ({mark['group']}), opinion group {mark['cluster']}"
        else:
            title = f"@{mark['voter']} ({mark['group']}), opinion group {mark['cluster']}"
        kind = shape.get(mark["group"], 0)
        triangle = (cx, cy - 1.2 * r, cx + 1.2 * r, cy + r, cx - 1.2 * r, cy + r)
        diamond = (cx, cy - 1.2 * r, cx + 1.2 * r, cy, cx, cy + 1.2 * r, cx - 1.2 * r, cy)
        corners = triangle if kind == 2 else diamond
        drawn.append(
            {
                "shape": kind,
                "colour": PALETTE[(mark["cluster"] - 1) % len(PALETTE)],
                "title": title,
                "cx": round(cx, 1),
                "cy": round(cy, 1),
                "r": round(r, 1),
                "x": round(cx - r, 1),
                "y": round(cy - r, 1),
                "side": round(2 * r, 1),
                "polygon": " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(corners[::2], corners[1::2], strict=True)),
            }
        )
    return {
        "width": size,
        "height": size,
        "legend": [{"group": g, "symbol": "●■▲◆"[shape[g]]} for g in groups],
        "points": drawn,
        "binned": binned,
        "voters": len(points),
    }


# The results page ------------------------------------------------------------------------------

MAIN_SCENARIOS = (
    "all",
    "without-disputed",
    "without-disputed@baseline",
    "without-restricted",
    "without-restricted@baseline",
)


def _table(data: Mapping, components: Sequence, scenario_keys: list[str]) -> list[dict]:
    """One row per component: its result in each of the given scenarios, flips marked."""
    by_scenario = {s["key"]: {c["key"]: c for c in s["components"]} for s in data["scenarios"]}
    rows = []
    for component in components:
        base = by_scenario["all"][component.key]
        cells = []
        for key in scenario_keys:
            result = by_scenario[key][component.key]
            cells.append({"scenario": key, **result, "flipped": result["outcome"] != base["outcome"]})
        rows.append({"component": component, "all": base, "cells": cells})
    return rows


def results(
    data: Mapping, *, components: Sequence, groups: Sequence[str], criteria: Sequence, choices: Sequence
) -> dict:
    """What the results page shows of a run's outcomes.json: its tables, flips, clusters and charts.

    `components` in the page's order, `groups` the enrolled groups' keys; components, criteria and choices are
    anything with the models' `key` and `title`, `label` or `value`.
    """
    titles = {c.key: c.title for c in components}
    all_scenario = data["scenarios"][0]
    keys = [s["key"] for s in data["scenarios"]]
    main = [k for k in MAIN_SCENARIOS if k in keys]
    without_group = [k for g in groups for k in (f"without-group:{g}", f"without-group:{g}@baseline") if k in keys]
    context = {
        "data": data,
        "components": components,
        "groups": groups,
        "criteria": criteria,
        "main_scenarios": main,
        "main_rows": _table(data, components, main),
        "group_scenarios": without_group,
        "group_rows": _table(data, components, without_group),
        "pooled": [{"component": c, **data["groups"][c.key]} for c in components],
        "per_criterion": [
            {
                "component": c,
                "outcomes": [data["criteria"][k.key]["outcomes"][c.key] for k in criteria],
                "pooled": data["groups"][c.key]["pooled"],
            }
            for c in components
        ],
        "flips": [
            f | {"title": titles.get(f["component"], f["component"])}
            for f in data["flips"]
            if f["to"]["scenario"] in main
        ],
        "group_flips": [
            f | {"title": titles.get(f["component"], f["component"])}
            for f in data["flips"]
            if f["to"]["scenario"] not in main
        ],
        "mu": all_scenario["thresholds"].get("mu"),
        "counts_chart": stacked_counts(data["counts"], list(choices), titles),
    }
    clusters = data["clustering"].get("all") or {}
    leaf_keys = {c.key for c in components if not c.is_aggregate}
    leaves = {c["key"]: c["score"] for c in all_scenario["components"] if c["key"] in leaf_keys}
    if data["methodology"]["rule"] == "mean-bands" and clusters.get("clusters"):
        bands = data["methodology"]["bands"]
        context["strip"] = score_strip(leaves, clusters["clusters"], bands, context["mu"], titles)
    context["clusters"] = [
        {"n": n, "centre": centre, "members": [titles.get(k, k) for k in members]}
        for n, (centre, members) in enumerate(
            zip(clusters.get("centres", []), clusters.get("clusters", []), strict=True), start=1
        )
    ]
    context["silhouette"] = silhouette_bars(clusters.get("silhouette", {}))
    opinion = data.get("opinion_groups") or {}
    context["opinion"] = opinion
    if grid := opinion.get("grid"):
        context["grid_size"] = grid["voters"] * grid["cells"]
        context["grid_fill"] = round(100 * grid["votes"] / context["grid_size"]) if context["grid_size"] else 0
    context["scatter"] = scatter(opinion.get("points", []), groups)
    return context
