import csv
import tempfile
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from audit import tlog
from audit.models import head
from config.http import HtmxHttpRequest
from deliberation.markdown import render_markdown
from plenary_tally import words
from plenary_tally.csvcells import neutralise
from votes.access import get_ballot
from votes.models import Ballot
from votes.views.ballots import ballot_context

from . import bundles, charts, services
from .models import OutcomeRun

SPOOL_IN_MEMORY = 8 * 1024 * 1024  # a bigger bundle spills to a temporary file
TALLY_FORMAT = Path(__file__).resolve().parent.parent / "docs" / "tally-format.md"
SEALED = "The results of this ballot are published when voting closes."


def _published(slug: str, key: str) -> Ballot:
    """The ballot whose results may be downloaded: a sealed one is refused, as its results page hides them."""
    ballot = get_ballot(slug, key)
    if not ballot.results_public:
        raise PermissionDenied(SEALED)
    return ballot


def results(request: HtmxHttpRequest, slug: str, key: str) -> HttpResponse:
    ballot = get_ballot(slug, key)
    context = ballot_context(request, ballot) | {"audit_head": head(ballot.audit_stream), "log_key": tlog.log_key()}
    if not ballot.results_public:
        return render(request, "analysis/results.html", context | {"hidden": True})
    run, stale = OutcomeRun.objects.current_for(ballot)
    context |= {"run": run, "stale": stale}
    if run is not None:
        components = list(ballot.version.components.order_by("category", "position", "key").prefetch_related("parts"))
        context |= charts.results(
            run.results,
            components=components,
            groups=dict(ballot.groups.order_by("key").values_list("key", "name")),
            criteria=list(ballot.criteria.all()),
            choices=list(ballot.choices.all()),
            parts={c.key: [p.key for p in c.parts.all()] for c in components if c.is_aggregate},
        )
    template = "analysis/results.html#results" if request.htmx else "analysis/results.html"
    return render(request, template, context)


@require_safe
def tally_download(request: HttpRequest, slug: str, key: str) -> FileResponse:
    """The ballot's tally bundle, for anyone once its results are public."""
    ballot = _published(slug, key)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
    bundles.export_bundle(ballot, spool)
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=bundles.filename(ballot))


@require_safe
def results_csv(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    """The results page's outcomes as a spreadsheet: one row per scenario and component, in words and keys."""
    ballot = _published(slug, key)
    data = services.outcomes_now(ballot)
    titles = dict(ballot.version.components.values_list("key", "title"))
    groups = dict(ballot.groups.values_list("key", "name"))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{ballot.definition.slug}-{ballot.key}-results.csv"'
    writer = csv.writer(response)
    writer.writerow(words.RESULTS_COLUMNS)
    for row in words.results_rows(data, titles, groups):
        writer.writerow([neutralise(cell) if isinstance(cell, str) else cell for cell in row])
    return response


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
