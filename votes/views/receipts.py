"""A voter's receipts: their vote events with inclusion proofs and a signed checkpoint, to check offline later.

A receipt holds the vote's payload, which stays sealed on a sealed ballot until it closes: only the voter
downloads their own receipts, and the address names no one else (`plenary_tally.receipts`, docs/audit-log.md).
"""

import json

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_safe

from audit import tlog
from config.http import AuthenticatedHttpRequest
from plenary_tally import receipts

from ..access import get_ballot


def _download(data: dict, filename: str) -> HttpResponse:
    response = HttpResponse(json.dumps(data, indent=2, ensure_ascii=False) + "\n", content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_safe
def vote_receipt(
    request: AuthenticatedHttpRequest, slug: str, key: str, component: str, criterion: str
) -> HttpResponse:
    """The receipt of the latest vote event of one of the signed-in voter's cells."""
    ballot = get_ballot(slug, key)
    events = tlog.vote_events(ballot.audit_stream, request.user.get_username(), cell=(component, criterion))
    if not events:
        raise Http404("You have no vote on this cell of this ballot.")
    return _download(tlog.receipt(events[-1]), f"{slug}-{key}-receipt-{component}-{criterion}.json")


@login_required
@require_safe
def vote_receipts(request: AuthenticatedHttpRequest, slug: str, key: str) -> HttpResponse:
    """Every receipt of the signed-in voter on this ballot, one per vote event of theirs, as one file."""
    ballot = get_ballot(slug, key)
    events = tlog.vote_events(ballot.audit_stream, request.user.get_username())
    if not events:
        raise Http404("You have no vote on this ballot.")
    data = {"format": receipts.RECEIPT_FORMAT, "receipts": tlog.receipts_for(events)}
    return _download(data, f"{slug}-{key}-receipts.json")
