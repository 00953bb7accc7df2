import tempfile
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from audit.models import head
from deliberation.markdown import render_markdown
from votes.access import get_ballot
from votes.views.ballots import ballot_context

from . import bundles, charts, services, tasks
from .models import OutcomeRun

MAIN_SCENARIOS = (
    "all",
    "without-disputed",
    "without-disputed@baseline",
    "without-restricted",
    "without-restricted@baseline",
)
SPOOL_IN_MEMORY = 8 * 1024 * 1024  # a bigger bundle spills to a temporary file
TALLY_FORMAT = Path(__file__).resolve().parent.parent / "docs" / "tally-format.md"


def _table(run: OutcomeRun, components: list, scenario_keys: list[str]) -> list[dict]:
    """One row per component: its result in each of the given scenarios, flips marked."""
    by_scenario = {s["key"]: {c["key"]: c for c in s["components"]} for s in run.results["scenarios"]}
    rows = []
    for component in components:
        base = by_scenario["all"][component.key]
        cells = []
        for key in scenario_keys:
            result = by_scenario[key][component.key]
            cells.append({"scenario": key, **result, "flipped": result["outcome"] != base["outcome"]})
        rows.append({"component": component, "all": base, "cells": cells})
    return rows


def results(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    ballot = get_ballot(slug, key)
    context = ballot_context(request, ballot) | {"audit_head": head(ballot.audit_stream)}
    if not ballot.results_public:
        return render(request, "analysis/results.html", context | {"hidden": True})
    run = OutcomeRun.objects.latest_for(ballot)
    stale = services.is_stale(ballot, run)
    if stale:
        tasks.enqueue_recompute(ballot.pk)  # queued again in case the broker was down; runs now when eager
        run = OutcomeRun.objects.latest_for(ballot)
        stale = services.is_stale(ballot, run)
    context |= {"run": run, "stale": stale}
    if run is not None:
        context |= _results_context(ballot, run)
    template = "analysis/results.html#results" if request.htmx else "analysis/results.html"
    return render(request, template, context)


def _results_context(ballot, run: OutcomeRun) -> dict:
    data = run.results
    components = list(ballot.version.components.order_by("category", "position", "key"))
    titles = {c.key: c.title for c in components}
    groups = list(ballot.groups.order_by("key").values_list("key", flat=True))
    criteria = list(ballot.criteria.all())
    keys = [s["key"] for s in data["scenarios"]]
    main = [k for k in MAIN_SCENARIOS if k in keys]
    without_group = [k for g in groups for k in (f"without-group:{g}", f"without-group:{g}@baseline") if k in keys]
    all_scenario = data["scenarios"][0]
    context = {
        "data": data,
        "components": components,
        "groups": groups,
        "criteria": criteria,
        "main_scenarios": main,
        "main_rows": _table(run, components, main),
        "group_scenarios": without_group,
        "group_rows": _table(run, components, without_group),
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
        "counts_chart": charts.stacked_counts(data["counts"], list(ballot.choices.all()), titles),
    }
    clusters = data["clustering"].get("all") or {}
    leaf_keys = {c.key for c in components if not c.is_aggregate}
    leaves = {c["key"]: c["score"] for c in all_scenario["components"] if c["key"] in leaf_keys}
    if data["methodology"]["rule"] == "mean-bands" and clusters.get("clusters"):
        bands = data["methodology"]["bands"]
        context["strip"] = charts.score_strip(leaves, clusters["clusters"], bands, context["mu"], titles)
    context["clusters"] = [
        {"n": n, "centre": centre, "members": [titles.get(k, k) for k in members]}
        for n, (centre, members) in enumerate(
            zip(clusters.get("centres", []), clusters.get("clusters", []), strict=True), start=1
        )
    ]
    context["silhouette"] = charts.silhouette_bars(clusters.get("silhouette", {}))
    opinion = data.get("opinion_groups") or {}
    context["opinion"] = opinion
    if grid := opinion.get("grid"):
        context["grid_size"] = grid["voters"] * grid["cells"]
        context["grid_fill"] = round(100 * grid["votes"] / context["grid_size"]) if context["grid_size"] else 0
    context["scatter"] = charts.scatter(opinion.get("points", []), groups)
    return context


@require_safe
def tally_download(request: HttpRequest, slug: str, key: str) -> FileResponse:
    """The ballot's tally bundle, for anyone once its results are public."""
    ballot = get_ballot(slug, key)
    if not ballot.results_public:
        raise PermissionDenied("The tally of this ballot is published when voting closes.")
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
    bundles.export_bundle(ballot, spool)
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=bundles.filename(ballot))


@require_safe
def verifier_download(request: HttpRequest) -> HttpResponse:
    """The verifier's source as a zip: what `pip install <this address>` installs as `plenary-tally`."""
    response = HttpResponse(bundles.verifier_archive(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{bundles.verifier_filename()}"'
    return response


@require_safe
def tally_format(request: HttpRequest) -> HttpResponse:
    """docs/tally-format.md as a page: the format of a tally bundle and what its verifier checks."""
    return render(request, "analysis/tally_format.html", {"text": render_markdown(TALLY_FORMAT.read_text())})
