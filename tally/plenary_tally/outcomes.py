"""Every scenario of a ballot, side by side: the whole `outcomes.json`. Pure: plain data in, plain data out.

Scenarios are vote sets: `all` (as cast), `without-disputed` (votes with an open or upheld
dispute left out), `without-restricted` (votes with a grant-only choice left out),
`without-conflicts` (votes cast over a standing declared conflict of interest left out),
on a ballot that carries votes `without-carried` (votes carried from the previous ballot and not
confirmed since left out) and `without-outdated` (carried votes on a changed component left out),
`without-group:<key>` and `only-group:<key>`. Where the thresholds derive from the votes
(μ in mean-bands), each scenario but `all` is also computed with the thresholds of `all`
as `<scenario>@baseline`. A flip is a component whose outcome in a scenario differs from
its outcome in `all`.

Scores, μ and thresholds are computed exactly (`methodologies`) and written in their exact
form (`numbers.written`: `7` or `"7/3"`), so every machine writes the same bytes.
"""

from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction

from . import clustering, formats
from .majority import majority
from .methodologies import all_scores, leaf_scores, mean_bands
from .model import BallotSpec, Cell, Result, Score, VoterMatrix
from .numbers import exact, written

FORMAT = formats.OUTCOMES
ENGINE = "plenary-analysis/6"  # bump when a computation changes, so stored runs are recomputed
CLUSTERED = ("all", "without-disputed", "without-restricted")  # the scenarios an analyst sets side by side


def scenarios(spec: BallotSpec) -> dict[str, Callable[[Cell], bool]]:
    """Each scenario's test of whether a vote (a cell of votes) is in it."""
    restricted = {key for key, choice in spec.choices.items() if choice.requires_grant}
    tests: dict[str, Callable[[Cell], bool]] = {
        "all": lambda cell: True,
        "without-disputed": lambda cell: not cell.disputed,
        "without-restricted": lambda cell: cell.choice not in restricted,
        "without-conflicts": lambda cell: not cell.conflicted,
    }
    if spec.carries:
        tests["without-carried"] = lambda cell: not cell.carried
        tests["without-outdated"] = lambda cell: not cell.outdated
    for group in spec.groups:
        tests[f"without-group:{group}"] = _not_in_group(group)
    for group in spec.groups:
        tests[f"only-group:{group}"] = _in_group(group)
    return tests


def _not_in_group(group: str) -> Callable[[Cell], bool]:
    return lambda cell: cell.group != group


def _in_group(group: str) -> Callable[[Cell], bool]:
    return lambda cell: cell.group == group


def _written(value: Score | None) -> int | str | None:
    return None if value is None else written(value)


def _scores(spec: BallotSpec, cells: list[Cell], criteria: int | None = None) -> dict[str, Score | None]:
    """The components' scores alone, as the methodology defines them (`criteria`: how many the cells span)."""
    if spec.methodology["rule"] == "majority":
        return {key: r.score for key, r in majority(spec, cells, criteria).items()}
    return dict(all_scores(spec, leaf_scores(spec, cells)))


def _evaluate(
    spec: BallotSpec, cells: list[Cell], baseline: Score | None = None, criteria: int | None = None
) -> tuple[dict[str, Fraction], dict[str, Result]]:
    """The thresholds, exact, and every component's result (`criteria`: how many criteria the cells span)."""
    if spec.methodology["rule"] == "majority":
        return _majority_thresholds(spec.methodology), majority(spec, cells, criteria)
    mu, results = mean_bands(spec, cells, baseline_mu=baseline)
    return {"mu": Fraction(mu)}, results


def _majority_thresholds(methodology) -> dict[str, Fraction]:
    """A majority's thresholds: its own as `threshold`, each group's as `threshold:<group>`."""
    found = {} if methodology.get("threshold") is None else {"threshold": exact(methodology["threshold"])}
    for group, condition in sorted((methodology.get("groups") or {}).items()):
        if condition.get("threshold") is not None:
            found[f"threshold:{group}"] = exact(condition["threshold"])
    return found


def _thresholds(thresholds: dict[str, Fraction]) -> dict[str, int | str]:
    return {name: written(value) for name, value in thresholds.items()}


def _components(spec: BallotSpec, cells: list[Cell], results: dict[str, Result]) -> list[dict]:
    by_criterion = {c: _scores(spec, [x for x in cells if x.criterion == c], 1) for c in spec.criteria}
    by_group = {g: _scores(spec, [x for x in cells if x.group == g]) for g in spec.groups}
    votes: dict[str, int] = {}
    for x in cells:
        votes[x.component] = votes.get(x.component, 0) + x.count
    return [
        {
            "key": c.key,
            "score": _written(results[c.key].score),
            "outcome": results[c.key].outcome,
            "margin": results[c.key].margin,
            "needs": results[c.key].needs,
            "votes": sum(votes.get(part, 0) for part in (c.parts if c.is_aggregate else (c.key,))),
            "by_criterion": {crit: _written(by_criterion[crit][c.key]) for crit in spec.criteria},
            "by_group": {g: _written(by_group[g][c.key]) for g in spec.groups},
        }
        for c in spec.components
    ]


def compute(
    spec: BallotSpec,
    cells: list[Cell],
    voters: Mapping[str, tuple[str, Mapping[tuple[str, str], int]]] | VoterMatrix | None = None,
    axes: Sequence[Mapping] | None = None,
) -> dict:
    """The outcomes of every scenario, the flips, the clustering and (given voters) the opinion groups.

    `axes` are the opinion groups' axes to place the voters on instead of computing them: those a
    published outcomes.json gives, once the verifier has checked them (`clustering.check_published_axes`).
    """
    moving_thresholds = spec.methodology["rule"] == "mean-bands"
    k, seed = int(spec.clustering.get("k", 2)), int(spec.clustering.get("seed", 42))
    results: list[dict] = []
    cluster_runs: dict[str, dict] = {}
    baseline = None
    for key, keep in scenarios(spec).items():
        subset = [cell for cell in cells if keep(cell)]
        thresholds, outcome = _evaluate(spec, subset)
        if key == "all":
            baseline = thresholds.get("mu")
        results.append(
            {"key": key, "thresholds": _thresholds(thresholds), "components": _components(spec, subset, outcome)}
        )
        if key in CLUSTERED:
            scores = {c.key: outcome[c.key].score for c in spec.leaves}  # exact, as the methodology computed them
            cluster_runs[key] = clustering.components(
                {leaf: s for leaf, s in scores.items() if s is not None}, k=k, silhouette=key == "all"
            )
        if moving_thresholds and key != "all":
            thresholds_b, outcome_b = _evaluate(spec, subset, baseline=baseline)
            results.append(
                {
                    "key": f"{key}@baseline",
                    "thresholds": _thresholds(thresholds_b),
                    "components": _components(spec, subset, outcome_b),
                }
            )
    outcomes = {
        "format": FORMAT,
        "engine": ENGINE,
        "methodology": dict(spec.methodology),
        "counts": _counts(spec, cells),
        "scenarios": results,
        "criteria": _per_criterion(spec, cells),
        "groups": _groups_against_pooled(spec, results),
        "clustering": cluster_runs,
        "flips": flips(results),
    }
    if voters is not None:
        groups = clustering.opinion_groups(voters, cells=opinion_cells(spec), k=k, seed=seed, axes=axes)
        outcomes["opinion_groups"] = groups
    return outcomes


def opinion_cells(spec: BallotSpec) -> list[tuple[str, str]]:
    """The cells the opinion groups place voters by: every leaf component under every criterion."""
    return [(c.key, criterion) for c in spec.leaves for criterion in spec.criteria]


def _counts(spec: BallotSpec, cells: list[Cell]) -> dict[str, dict[str, int]]:
    """How many votes each leaf component got of each choice, all criteria together."""
    counts = {c.key: {choice: 0 for choice in spec.choices} for c in spec.leaves}
    for cell in cells:
        if cell.component in counts:
            counts[cell.component][cell.choice] += cell.count
    return counts


def _per_criterion(spec: BallotSpec, cells: list[Cell]) -> dict:
    """Each criterion on its own: the methodology applied to that criterion's votes only."""
    per = {}
    for criterion in spec.criteria:
        thresholds, outcome = _evaluate(spec, [c for c in cells if c.criterion == criterion], criteria=1)
        per[criterion] = {
            "thresholds": _thresholds(thresholds),
            "outcomes": {key: r.outcome for key, r in outcome.items()},
        }
    return per


def _groups_against_pooled(spec: BallotSpec, results: list[dict]) -> dict:
    """Each group's own outcome (its `only-group` scenario) beside the pooled one, flagged where most groups differ."""
    by_key = {r["key"]: {c["key"]: c["outcome"] for c in r["components"]} for r in results}
    pooled = by_key["all"]
    table = {}
    for component in pooled:
        outcomes = {g: by_key[f"only-group:{g}"][component] for g in spec.groups}
        counts: dict[str, int] = {}
        for outcome in outcomes.values():
            counts[outcome] = counts.get(outcome, 0) + 1
        majority_outcome = next((o for o, n in counts.items() if n * 2 > len(outcomes)), None)
        table[component] = {
            "pooled": pooled[component],
            "groups": outcomes,
            "majority_of_groups": majority_outcome,
            "disagrees": majority_outcome is not None and majority_outcome != pooled[component],
        }
    return table


def flips(results: list[dict]) -> list[dict]:
    """Every component whose outcome in a scenario differs from its outcome as cast."""
    base = {c["key"]: c["outcome"] for c in results[0]["components"]}
    found = []
    for scenario in results[1:]:
        for c in scenario["components"]:
            if c["outcome"] != base[c["key"]]:
                found.append(
                    {
                        "component": c["key"],
                        "from": {"scenario": "all", "outcome": base[c["key"]]},
                        "to": {"scenario": scenario["key"], "outcome": c["outcome"]},
                    }
                )
    return found
