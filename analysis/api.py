"""The read-only JSON API of a ballot's outcomes: the latest run, as the results page reads it.

While the ballot's results are not public the outcomes are a 403, like the page. A stale run
is served with `stale: true` and its recompute queued, as the page does; with no run yet
every field of the run is null.
"""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.errors import HttpError

from deliberation.api import Key, NotFound, Slug
from votes.access import get_ballot
from votes.api import Sealed

from .models import OutcomeRun

RESULTS_SEALED = "The results of this ballot are published when voting closes."

router = Router(tags=["analysis"])


class OutcomesOut(Schema):
    ballot: str
    stale: bool = Field(description="Whether anything was recorded on the ballot since this run read it.")
    audit_seq: int | None = Field(description="The position in the ballot's audit stream the run read up to.")
    input_digest: str | None = Field(description="SHA-256 of the ballot's rules and the vote counts the run read.")
    started_at: datetime | None
    duration_ms: int | None
    methodology: dict[str, Any] | None
    results: dict[str, Any] | None = Field(
        description=(
            "outcomes.json (format plenary-outcomes/1): every scenario, the flips, the clustering; "
            'scores and thresholds exact, 7 or "7/3" (docs/tally-format.md, "Numbers").'
        )
    )


@router.get("/definitions/{slug}/ballots/{key}/outcomes", response={200: OutcomesOut, 403: Sealed, 404: NotFound})
def outcomes(request: HttpRequest, slug: Slug, key: Key):
    """The latest outcome run of the ballot; 403 while its results are sealed."""
    ballot = get_ballot(slug, key)
    if not ballot.results_public:
        raise HttpError(403, RESULTS_SEALED)
    run, stale = OutcomeRun.objects.current_for(ballot)
    return {
        "ballot": ballot.key,
        "stale": stale,
        "audit_seq": run.audit_seq if run else None,
        "input_digest": run.input_digest if run else None,
        "started_at": run.started_at if run else None,
        "duration_ms": run.duration_ms if run else None,
        "methodology": run.methodology if run else None,
        "results": run.results if run else None,
    }
