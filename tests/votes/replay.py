"""The ballot's votes two ways: replayed from its audit stream, and as stored. They must agree."""

from audit.models import AuditEvent
from plenary_tally.vocabulary import CLEARS_THE_CELL, SETS_THE_CELL
from votes.models import Ballot


def replay(ballot: Ballot) -> dict[tuple, tuple]:
    """Each cast sets a (voter, component, criterion) cell, each withdrawal clears it, in stream order."""
    cells: dict[tuple, tuple] = {}
    for event in AuditEvent.objects.filter(stream=ballot.audit_stream).order_by("seq"):
        p = event.payload
        if event.action in SETS_THE_CELL:
            cells[(p["voter"], p["component"], p["criterion"])] = (
                p["group"],
                p["choice"],
                p["rationale"],
                p["cast_by"],
            )
        elif event.action in CLEARS_THE_CELL:
            del cells[(p["voter"], p["component"], p["criterion"])]
    return cells


def stored(ballot: Ballot) -> dict[tuple, tuple]:
    """The ballot's current Vote rows, in the shape `replay` gives."""
    votes = ballot.votes.select_related("voter", "group", "component", "criterion", "choice", "cast_by")
    return {
        (v.voter.username, v.component.key, v.criterion.key): (
            v.group.key,
            v.choice.key,
            v.rationale,
            v.cast_by.username,
        )
        for v in votes
    }
