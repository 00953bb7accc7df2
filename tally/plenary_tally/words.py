"""Outcomes in words: what the results page and the results CSV say of an `outcomes.json`. Pure.

A scenario's key (`without-disputed@baseline`) is what the bundle keeps; people read its title
("Without the disputed votes, with the thresholds as cast"). A component's outcome is told with
its vote count, and each flip with the scenario that causes it and how many votes that scenario
leaves out ("Maybe without the 32 disputed votes"). Nothing here computes an outcome: it reads
the ones `outcomes.compute` wrote.
"""

from collections.abc import Mapping, Sequence

from .numbers import exact, rounded, shown

BASELINE = "@baseline"
NO_VOTES, ONLY_ABSTENTIONS = "No votes yet", "Only abstentions"


def scenario_title(key: str, group_names: Mapping[str, str]) -> str:
    """A scenario's name in words, for a heading or a column: "Without the disputed votes", "Alpha alone"."""
    base, baseline = _split(key)
    if base == "all":
        title = "As cast"
    elif base == "without-disputed":
        title = "Without the disputed votes"
    elif base == "without-restricted":
        title = "Without the restricted (grant-only) votes"
    elif base == "without-conflicts":
        title = "Without the votes over a declared conflict of interest"
    elif base == "without-carried":
        title = "Without the votes carried from the previous ballot"
    elif base == "without-outdated":
        title = "Without the carried votes on changed components"
    elif base.startswith("without-group:"):
        title = f"Without {_group(base, group_names)}"
    elif base.startswith("only-group:"):
        title = f"{_group(base, group_names)} alone"
    else:
        title = base  # a scenario this version does not know: its key is the best name there is
    return title + (", with the thresholds as cast" if baseline else "")


def scenario_phrase(key: str, group_names: Mapping[str, str], left_out: int | None = None) -> str:
    """A scenario as it reads after an outcome: "without the 32 disputed votes", "with Alpha alone"."""
    base, baseline = _split(key)
    n = f"{left_out} " if left_out is not None else ""
    votes = "vote" if left_out == 1 else "votes"
    if base == "all":
        phrase = "as cast"
    elif base == "without-disputed":
        phrase = f"without the {n}disputed {votes}"
    elif base == "without-restricted":
        phrase = f"without the {n}restricted (grant-only) {votes}"
    elif base == "without-conflicts":
        phrase = f"without the {n}{votes} over a declared conflict"
    elif base == "without-carried":
        phrase = f"without the {n}carried {votes}"
    elif base == "without-outdated":
        phrase = f"without the {n}outdated carried {votes}"
    elif base.startswith("without-group:"):
        group = _group(base, group_names)
        phrase = f"without {group}’s {n}{votes}" if left_out is not None else f"without {group}"
    elif base.startswith("only-group:"):
        phrase = f"with {_group(base, group_names)} alone"
    else:
        phrase = f"in {base}"
    return phrase + (", with the thresholds as cast" if baseline else "")


def left_out(data: Mapping) -> dict[str, int]:
    """How many votes each scenario leaves out of those cast: the leaf components' votes, each counted once."""
    leaves = set(data["counts"])
    cast = {s["key"]: sum(c["votes"] for c in s["components"] if c["key"] in leaves) for s in data["scenarios"]}
    return {key: cast["all"] - n for key, n in cast.items()}


def component_state(
    key: str, data: Mapping, values: Mapping[str, int], parts: Mapping[str, Sequence[str]] | None = None
) -> str | None:
    """`NO_VOTES` or `ONLY_ABSTENTIONS` where that is so of the votes as cast, else None.

    `values` maps each choice's key to its value; `parts` an aggregate's key to its parts' keys.
    """
    leaves = (parts or {}).get(key) or (key,)
    counts = [data["counts"].get(leaf, {}) for leaf in leaves]
    cast = sum(n for row in counts for n in row.values())
    if not cast:
        return NO_VOTES
    if all(values.get(choice, 0) == 0 for row in counts for choice, n in row.items() if n):
        return ONLY_ABSTENTIONS
    return None


def summary(
    data: Mapping,
    *,
    titles: Mapping[str, str],
    group_names: Mapping[str, str],
    values: Mapping[str, int],
    parts: Mapping[str, Sequence[str]] | None = None,
) -> list[dict]:
    """Each component (in the order of `titles`) as cast under the ballot's rule, and what flips it, in words.

    A row holds `key`, `title`, `outcome`, `votes`, `state` (`NO_VOTES`, `ONLY_ABSTENTIONS` or None), `said`
    (the outcome as the line says it: "Lean no (93 votes)", "No votes yet, which scores 0: No"), `needs`
    (the component's `needs` sentence, if outcomes.json has one), `flips` (scenario key, outcome, phrase) and
    `text`, the whole line: "Training data sets: Lean no (93 votes); Maybe without the 32 disputed votes".
    """
    as_cast = {c["key"]: c for c in data["scenarios"][0]["components"]}
    removed = left_out(data)
    flips_of: dict[str, list[dict]] = {}
    for flip in data["flips"]:
        flips_of.setdefault(flip["component"], []).append(flip["to"])
    scored = data["methodology"]["rule"] == "mean-bands"  # there, no votes is a score of 0 and has a band
    rows = []
    for key, title in titles.items():
        if key not in as_cast:
            continue
        result = as_cast[key]
        state = component_state(key, data, values, parts)
        flips = _flip_phrases(flips_of.get(key, []), group_names, removed)
        votes = result["votes"]
        said = state or result["outcome"]
        if state != NO_VOTES:
            said += f" ({_votes(votes)})"
        if state and scored:
            said += f", which scores 0: {result['outcome']}"
        needs = None if state else result.get("needs")  # "only abstentions" and "no votes yet" are said already
        text = f"{title}: {said}" + (f" — {needs}" if needs else "")
        text += "".join(f"; {f['outcome']} {f['phrase']}" for f in flips)
        rows.append(
            {
                "key": key,
                "title": title,
                "outcome": result["outcome"],
                "votes": votes,
                "state": state,
                "said": said,
                "needs": needs,
                "flips": flips,
                "text": text,
            }
        )
    return rows


def _flip_phrases(flips: Sequence[Mapping], group_names: Mapping[str, str], removed: Mapping[str, int]) -> list[dict]:
    """One phrase per flip, a scenario and its `@baseline` twin said once where both flip to the same outcome."""
    by_scenario = {f["scenario"]: f["outcome"] for f in flips}
    phrases = []
    for scenario, outcome in by_scenario.items():
        base, baseline = _split(scenario)
        if baseline and by_scenario.get(base) == outcome:
            continue  # said with its twin
        phrase = scenario_phrase(scenario, group_names, removed.get(scenario))
        if not baseline and by_scenario.get(base + BASELINE) == outcome:
            phrase += ", whether or not the thresholds move with them"
        phrases.append({"scenario": scenario, "outcome": outcome, "phrase": phrase})
    return phrases


def k_explanation(clustering: Mapping) -> str:
    """Why the clusters are the ones shown: the chosen k, where it comes from, and what the silhouettes say."""
    k = clustering.get("k")
    text = (
        f"k = {k} was chosen because the ballot’s clustering settings fix it at {k}, and they cannot change once "
        "voting opens: the split is not picked after seeing the scores"
    )
    silhouette = {int(n): exact(v) for n, v in (clustering.get("silhouette") or {}).items()}
    if silhouette:
        best = max(silhouette, key=lambda n: (silhouette[n], -n))
        if best == k:
            text += f"; it is also the k whose clusters separate best (silhouette {shown(silhouette[k], 3)})"
        elif k in silhouette:
            text += (
                f". Its silhouette is {shown(silhouette[k], 3)}; k = {best} would separate these scores more "
                f"cleanly ({shown(silhouette[best], 3)})"
            )
        else:
            text += f". The silhouette is highest at k = {best} ({shown(silhouette[best], 3)})"
    text += ". The outcomes do not depend on k: the clusters only show how the scores group."
    if clustering.get("note"):
        text += f" Note: {clustering['note']}."
    return text


RESULTS_COLUMNS = (
    "scenario",
    "scenario_title",
    "component",
    "component_title",
    "outcome",
    "score",
    "margin",
    "votes",
)


def results_rows(data: Mapping, titles: Mapping[str, str], group_names: Mapping[str, str]) -> list[tuple]:
    """One row per scenario and component, as the results CSV writes them (`RESULTS_COLUMNS`).

    A score is a decimal rounded to 6 places (a spreadsheet would read `7/3` as a date); the exact
    value is in the bundle's outcomes.json. A score nobody's votes give is empty.
    """
    rows = []
    for scenario in data["scenarios"]:
        title = scenario_title(scenario["key"], group_names)
        for c in scenario["components"]:
            score = "" if c["score"] is None else rounded(exact(c["score"]))
            margin = "" if c["margin"] is None else c["margin"]
            row = (scenario["key"], title, c["key"], titles.get(c["key"], c["key"]), c["outcome"], score, margin)
            rows.append((*row, c["votes"]))
    return rows


def _votes(n: int) -> str:
    return f"{n} vote" if n == 1 else f"{n} votes"


def _split(key: str) -> tuple[str, bool]:
    return (key.removesuffix(BASELINE), True) if key.endswith(BASELINE) else (key, False)


def _group(base: str, group_names: Mapping[str, str]) -> str:
    group = base.split(":", 1)[1]
    return group_names.get(group, group)
