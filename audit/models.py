"""The append-only, hash-chained record of every state change in Plenary.

Rows are only ever inserted, through `record()`, and the database refuses UPDATE and
DELETE on the table (see `guard.py`). Events form one chain per stream — a definition, a
ballot — so each ballot's record can be downloaded and verified on its own (`chain.py`).
"""

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from plenary_tally import chain
from plenary_tally.vocabulary import VOTE_ACTIONS

if TYPE_CHECKING:
    from django.contrib.auth.models import User

GENESIS_HASH = chain.GENESIS_HASH
canonical_json = chain.canonical_json

CANONICAL_COLUMNS = (
    "stream", "seq", "at", "actor_handle", "action", "subject_type", "subject_id", "payload", "prev_hash", "hash"
)  # fmt: skip


def _canonical(stream, seq, at, actor_handle, action, subject_type, subject_id, payload, prev_hash, hash) -> dict:
    fields = {
        "stream": stream,
        "seq": seq,
        "at": at.isoformat(),
        "actor": actor_handle,
        "action": action,
        "subject": f"{subject_type}:{subject_id}",
        "payload": payload,
        "prev_hash": prev_hash,
    }
    return fields | {"hash": hash}


class AuditEventQuerySet(models.QuerySet):
    def about(self, subject: models.Model) -> "AuditEventQuerySet":
        return self.filter(subject_type=subject._meta.label_lower, subject_id=str(subject.pk))

    def with_seals(self) -> "AuditEventQuerySet":
        """Each event annotated with whether its details are sealed (a vote on a sealed stream)."""
        sealed_stream = models.Exists(StreamSeal.objects.filter(stream=models.OuterRef("stream")))
        return self.annotate(
            sealed=models.Case(
                models.When(sealed_stream & models.Q(action__in=VOTE_ACTIONS), then=True),
                default=False,
                output_field=models.BooleanField(),
            )
        )

    def matching(self, *, stream: str = "", action: str = "", actor: str = "") -> "AuditEventQuerySet":
        """The public log's filters: one stream, actions starting with `action`, one actor.

        Call on `with_seals()`: a filter on action or actor never finds a sealed vote, so neither who
        voted nor how many votes were cast, changed or withdrawn can be counted from its results.
        """
        events = self
        if stream:
            events = events.filter(stream=stream)
        if action:
            events = events.filter(action__startswith=action, sealed=False)
        if actor:
            events = events.filter(actor_handle=actor.lstrip("@"), sealed=False)
        return events

    def in_chain_order(self) -> "AuditEventQuerySet":
        return self.order_by("stream", "seq")

    def canonical(self, chunk_size: int = 2000) -> Iterator[dict[str, Any]]:
        """Each event as `AuditEvent.canonical()` gives it, streamed from plain rows: memory stays flat."""
        for row in self.values_list(*CANONICAL_COLUMNS).iterator(chunk_size=chunk_size):
            yield _canonical(*row)


class AuditEvent(models.Model):
    stream = models.CharField(max_length=200)
    seq = models.PositiveBigIntegerField()
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    actor_handle = models.CharField(max_length=150, blank=True)  # snapshot, hashed
    action = models.CharField(max_length=64, db_index=True)
    subject_type = models.CharField(max_length=100)
    subject_id = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["stream", "seq"], name="one_event_per_place_in_stream")]
        indexes = [models.Index(fields=["subject_type", "subject_id"]), models.Index(fields=["actor_handle"])]

    def __str__(self) -> str:
        return f"{self.stream} #{self.seq} {self.action}"

    @property
    def subject(self) -> str:
        return f"{self.subject_type}:{self.subject_id}"

    def canonical(self) -> dict[str, Any]:
        """The event as plain JSON data: what the hash covers, plus the hash."""
        return _canonical(*(getattr(self, column) for column in CANONICAL_COLUMNS))

    def compute_hash(self) -> str:
        return chain.event_hash(self.canonical())


class StreamSeal(models.Model):
    """A stream whose vote events stay private on the public pages until it is unsealed.

    A ballot whose results are published after it closes seals its stream while voting runs.
    Its events are recorded and chained as always, and its head hash is public, committing to
    every vote; only their details wait for the seal to lift. This row is not an event: it may
    be deleted, and deleting it is what unsealing means.
    """

    stream = models.CharField(max_length=200, unique=True)
    sealed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.stream} (sealed)"


def seal(stream: str) -> None:
    StreamSeal.objects.get_or_create(stream=stream)


def unseal(stream: str) -> None:
    StreamSeal.objects.filter(stream=stream).delete()


def head(stream: str) -> str:
    """The hash of a stream's latest event: what an observer notes to check the record later."""
    latest = AuditEvent.objects.filter(stream=stream).order_by("-seq").values_list("hash", flat=True).first()
    return latest or GENESIS_HASH


def lock_stream(stream: str) -> None:
    """Take the stream's place in line for the rest of the transaction.

    Services that read state before changing it call this first, so the order of events in a
    stream is the order in which their changes were committed. On SQLite every write
    transaction is already exclusive (transaction_mode IMMEDIATE in settings).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [stream])


def record(
    *, stream: str, actor: "User | None", action: str, subject: models.Model, payload: dict[str, Any] | None = None
) -> AuditEvent:
    """Append one event to `stream`. Call inside the transaction of the change it records."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record() must run inside the transaction of the change it records")
    lock_stream(stream)
    last = AuditEvent.objects.filter(stream=stream).order_by("-seq").values("seq", "hash").first()
    event = AuditEvent(
        stream=stream,
        seq=(last["seq"] + 1) if last else 1,
        at=timezone.now(),
        actor=actor,
        actor_handle=actor.get_username() if actor else "",
        action=action,
        subject_type=subject._meta.label_lower,
        subject_id=str(subject.pk),
        payload=chain.json_roundtrip(payload or {}),
        prev_hash=last["hash"] if last else GENESIS_HASH,
    )
    event.hash = event.compute_hash()
    event.save(force_insert=True)
    return event


from .logmodels import Checkpoint, Cosignature  # noqa: E402, F401  # the log's checkpoints, in a module of their own
