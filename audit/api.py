"""The read-only JSON API of the audit log: every event, as the log page shows it.

A vote event on a sealed stream (a ballot whose votes are published when it closes) is
redacted exactly as on the page: only its stream and place in it, marked sealed. An action or
actor filter never finds a sealed vote, so neither who voted nor how many votes were cast, changed
or withdrawn can be learnt from a count either.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from .models import AuditEvent

router = Router(tags=["audit"])


class SealedEventOut(Schema):
    """A vote on a sealed stream: its details are published when the ballot closes."""

    stream: str
    seq: int
    sealed: Literal[True]


class EventOut(Schema):
    """One event as recorded; `hash` is SHA-256 over the canonical JSON of the other fields but `sealed`."""

    stream: str
    seq: int
    sealed: Literal[False]
    at: datetime
    actor: str = Field(description="The handle of who acted; empty for the system.")
    action: str
    subject: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str

    @staticmethod
    def resolve_actor(obj: AuditEvent) -> str:
        return obj.actor_handle


class EventFilters(Schema):
    stream: str | None = Query(None, pattern=r"^[^\x00]+$", description="Only this stream, such as `ballot:osd/v1`.")
    action: str | None = Query(None, pattern=r"^[^\x00]+$", description="Actions starting with this, such as `vote.`.")
    actor: str | None = Query(None, pattern=r"^@?[^\x00]+$", description="Only what this handle did.")


AnyEvent = Annotated[SealedEventOut | EventOut, Field(discriminator="sealed")]


@router.get("/audit/events", response=list[AnyEvent])
@paginate
def event_list(request: HttpRequest, filters: Query[EventFilters]):
    """Every audit event in the order recorded, so a page never shifts as new events arrive."""
    stream, action, actor = ((getattr(filters, name) or "").strip() for name in ("stream", "action", "actor"))
    return AuditEvent.objects.with_seals().matching(stream=stream, action=action, actor=actor).order_by("pk")
