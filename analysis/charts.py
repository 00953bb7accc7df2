"""Geometry for the results charts, drawn as inline SVG by the templates: no script, no CDN.

Each function turns outcome data into shapes with coordinates in a fixed view box; the
templates only place them. Colours are the Okabe–Ito palette, safe for colour-blind readers.
Numbers of outcomes.json are read with `numbers.exact`; floats serve only for positions.
"""

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction

from django.utils.translation import gettext

from plenary_tally import words
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


CHAR_WIDTH = 0.62  # a generous mean advance of a character, in ems, of the sans-serif fonts pages fall back to
POINT_R, LABEL_GAP, ROW_H = 6, 9, 22  # a dot's radius, the gap from it to its label, the height of a row
STRIP_LABEL_SIZE, THRESHOLD_LABEL_SIZE = 11, 10
STRIP_LABEL_CHARS = 24


def text_width(text: str, size: float) -> float:
    """How wide a label is drawn at `size` px, estimated generously, so that labels kept apart by it never touch."""
    return len(text) * CHAR_WIDTH * size


def fit(text: str, width: float, size: float) -> str:
    """The text, shortened with an ellipsis if it would be drawn wider than `width`."""
    if text_width(text, size) <= width:
        return text
    chars = max(1, int(width / (CHAR_WIDTH * size)) - 1)
    return text[:chars].rstrip() + "…"


def _free(row: list[tuple[float, float]], lo: float, hi: float) -> bool:
    return all(hi + 2 <= a or lo - 2 >= b for a, b in row)


def score_strip(
    scores: Mapping[str, int | str],
    clusters: Sequence[Sequence[str]],
    bands: Sequence[Mapping],
    mu: int | str,
    titles: Mapping,
) -> dict:
    """The components on the score axis, coloured by k-means cluster, with the band thresholds.

    `scores` and `mu` as outcomes.json writes them; the bands as ballot.json does. Each dot is labelled
    with its component's title, to its right or, where there is no room, to its left, on the first row
    where neither the dot nor the label touches another: no two labels overlap, none leaves the view box.
    """
    cluster_of = {key: i for i, members in enumerate(clusters) for key in members}
    at = {key: exact(score) for key, score in scores.items()}
    thresholds = [(b["label"], exact(b["min"]) * exact(mu)) for b in bands]
    values = [float(v) for v in (*at.values(), *(t for _, t in thresholds), 0)]
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.05 or 1
    x = _scale(lo - pad, hi + pad, 30, WIDTH - 30)
    threshold_marks, threshold_rows = _threshold_labels(thresholds, x)
    top = 14 + threshold_rows * 12 + 14  # below the thresholds' labels
    points: list[dict] = []
    rows: list[list[tuple[float, float]]] = []  # per row, the spans dots and labels take
    for key in sorted(at, key=lambda k: (at[k], k)):
        px = x(float(at[key]))
        title = titles.get(key, key)
        label = fit(title, STRIP_LABEL_CHARS * CHAR_WIDTH * STRIP_LABEL_SIZE, STRIP_LABEL_SIZE)
        w = text_width(label, STRIP_LABEL_SIZE)
        dot = (px - POINT_R, px + POINT_R)
        right = (px + LABEL_GAP, px + LABEL_GAP + w)
        left = (px - LABEL_GAP - w, px - LABEL_GAP)
        placed = None
        for i in range(len(rows) + 1):
            row = rows[i] if i < len(rows) else []
            if not _free(row, *dot):
                continue
            for side, span in (("right", right), ("left", left)):
                if span[0] >= 0 and span[1] <= WIDTH and _free(row, *span):
                    placed = (i, side, span)
                    break
            if placed:
                break
        assert placed is not None  # an empty row always holds one label on one side or the other
        i, side, span = placed
        if i == len(rows):
            rows.append([])
        rows[i] += [dot, span]
        cluster = cluster_of.get(key)
        points.append(
            {
                "key": key,
                "title": title,
                "label": label,
                "score": shown(at[key]),
                "x": round(px, 1),
                "y": top + i * ROW_H,
                "label_left": side == "left",
                "label_x": round(span[0] if side == "right" else span[1], 1),
                "label_span": (round(span[0], 1), round(span[1], 1)),
                "cluster": None if cluster is None else cluster + 1,
                "colour": PALETTE[cluster % len(PALETTE)] if cluster is not None else NEUTRAL,
            }
        )
    height = top + len(rows) * ROW_H + 30
    return {
        "width": WIDTH,
        "height": height,
        "axis_y": height - 30,
        "points": points,
        "thresholds": threshold_marks,
        "ticks": [{"value": t, "x": round(x(t), 1)} for t in _ticks(lo, hi)],
        "legend": [{"cluster": i + 1, "colour": PALETTE[i % len(PALETTE)]} for i in range(len(clusters))],
    }


def _threshold_labels(thresholds: Sequence[tuple[str, Fraction]], x) -> tuple[list[dict], int]:
    """Each threshold's dashed line and its label above it, on the first line of labels where it touches none."""
    marks: list[dict] = []
    lines: list[list[tuple[float, float]]] = []  # per line of labels, the spans taken
    for label, value in sorted(thresholds, key=lambda t: t[1]):
        tx = x(float(value))
        w = text_width(label, THRESHOLD_LABEL_SIZE)
        span = (min(max(tx - w / 2, 0), WIDTH - w), min(max(tx + w / 2, w), WIDTH))
        line = next((i for i, taken in enumerate(lines) if _free(taken, *span)), len(lines))
        if line == len(lines):
            lines.append([])
        lines[line].append(span)
        marks.append(
            {
                "label": label,
                "value": shown(value),
                "x": round(tx, 1),
                "label_x": round((span[0] + span[1]) / 2, 1),
                "label_y": 11 + 12 * line,
                "label_span": (round(span[0], 1), round(span[1], 1)),
            }
        )
    return marks, len(lines)


COUNTS_LABEL_SIZE = 12


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
                "label": fit(titles.get(key, key), label_w - 12, COUNTS_LABEL_SIZE),
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


def silhouette_bars(silhouette: Mapping[str, float], chosen: int | None = None) -> dict:
    """One bar per k, the ballot's chosen k marked."""
    bars, w = [], 60
    for i, (k, v) in enumerate(sorted(silhouette.items(), key=lambda kv: int(kv[0]))):
        h = max(0.0, v) * 140
        x = 40 + i * (w + 20)
        bar = {"k": k, "value": v, "x": x, "y": round(160 - h, 1), "height": round(h, 1), "chosen": int(k) == chosen}
        bars.append(bar)
    return {"width": 40 + len(bars) * (w + 20), "height": 190, "bar_width": w, "bars": bars}


SCATTER_MARKS = 400  # more voters than this are drawn in bins: one mark per place, opinion group and working group
BIN = 14  # the side of a bin, in the view box's units


def scatter(points: Sequence[Mapping], groups: Sequence[str] | Mapping[str, str]) -> dict:
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
    names = dict(groups) if isinstance(groups, Mapping) else {g: g for g in groups}  # by key
    shape = {g: i % 4 for i, g in enumerate(names)}
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
        group = names.get(mark["group"], mark["group"])
        if binned:
            title = f"{n} voter{'s' if n > 1 else ''} ({group}), opinion group {mark['cluster']}"
        else:
            title = f"@{mark['voter']} ({group}), opinion group {mark['cluster']}"
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
        "legend": [{"group": names[g], "symbol": "●■▲◆"[shape[g]]} for g in names],
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


def _table(data: Mapping, components: Sequence, scenario_keys: list[str], state: Mapping) -> list[dict]:
    """One row per component: its result in each of the given scenarios, flips marked.

    A cell's `note` says "No votes" or "Only abstentions" where a score would say nothing.
    """
    by_scenario = {s["key"]: {c["key"]: c for c in s["components"]} for s in data["scenarios"]}
    rows = []
    for component in components:
        base = by_scenario["all"][component.key]
        cells = []
        for key in scenario_keys:
            result = by_scenario[key][component.key]
            note = None
            if not result["votes"]:
                note = gettext("No votes")
            elif result["score"] is None or (key == "all" and state.get(component.key) == words.ONLY_ABSTENTIONS):
                note = words.ONLY_ABSTENTIONS
            cells.append({"scenario": key, **result, "note": note, "flipped": result["outcome"] != base["outcome"]})
        rows.append({"component": component, "all": base, "cells": cells})
    return rows


def _scenarios(keys: Sequence[str], names: Mapping[str, str]) -> list[dict]:
    return [{"key": key, "title": words.scenario_title(key, names)} for key in keys]


def results(
    data: Mapping,
    *,
    components: Sequence,
    groups: Mapping[str, str],
    criteria: Sequence,
    choices: Sequence,
    parts: Mapping[str, Sequence[str]] | None = None,
) -> dict:
    """What the results page shows of a run's outcomes.json: its summary, tables, clusters and charts.

    `components` in the page's order, `groups` the enrolled groups' names by key, `parts` each aggregate's
    parts' keys; components, criteria and choices are anything with the models' `key` and `title`, `label`
    or `value`.
    """
    titles = {c.key: c.title for c in components}
    all_scenario = data["scenarios"][0]
    keys = [s["key"] for s in data["scenarios"]]
    main = [k for k in MAIN_SCENARIOS if k in keys]
    without_group = [k for g in groups for k in (f"without-group:{g}", f"without-group:{g}@baseline") if k in keys]
    values = {c.key: c.value for c in choices}
    summary = words.summary(data, titles=titles, group_names=groups, values=values, parts=parts)
    state = {row["key"]: row["state"] for row in summary}
    for row in summary:
        for flip in row["flips"]:
            flip["by_group"] = flip["scenario"] not in main
        row["group_flip_count"] = sum(flip["by_group"] for flip in row["flips"])
    context = {
        "data": data,
        "components": components,
        "groups": groups,
        "criteria": criteria,
        "summary": summary,
        "flip_count": sum(len(row["flips"]) for row in summary),
        "group_flip_count": sum(row["group_flip_count"] for row in summary),
        "main_scenarios": _scenarios(main, groups),
        "all_scenarios": _scenarios(keys, groups),
        "main_rows": _table(data, components, main, state),
        "group_scenarios": _scenarios(without_group, groups),
        "group_rows": _table(data, components, without_group, state),
        "pooled": [{"component": c, **data["groups"][c.key]} for c in components],
        "disagreements": sum(bool(data["groups"][c.key]["disagrees"]) for c in components),
        "per_criterion": [
            {
                "component": c,
                "outcomes": [data["criteria"][k.key]["outcomes"][c.key] for k in criteria],
                "pooled": data["groups"][c.key]["pooled"],
            }
            for c in components
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
    context["silhouette"] = silhouette_bars(clusters.get("silhouette", {}), chosen=clusters.get("k"))
    context["why_k"] = words.k_explanation(clusters) if clusters else ""
    opinion = data.get("opinion_groups") or {}
    context["opinion"] = opinion
    if grid := opinion.get("grid"):
        context["grid_size"] = grid["voters"] * grid["cells"]
        context["grid_fill"] = round(100 * grid["votes"] / context["grid_size"]) if context["grid_size"] else 0
    context["scatter"] = scatter(opinion.get("points", []), groups)
    context["crosstab"] = [
        {"cluster": cluster, "counts": [counts.get(g, 0) for g in groups]}
        for cluster, counts in opinion.get("crosstab", {}).items()
    ]
    return context
