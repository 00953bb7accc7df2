"""The append-only, hash-chained record of every state change in Plenary.

Rows are only ever inserted, through `record()`, and the database refuses UPDATE and
DELETE on the table (see `guard.py`). Events form one chain per stream — a definition, a
ballot — so each ballot's record can be downloaded and verified on its own (`chain.py`).

With `settings.AUDIT_QUEUE` (PostgreSQL), a vote does not wait for its place in the chain: it is stored
with its event in the queue (`QueuedEvent`), under a shared hold of its stream and a lock on its cell
only, and the sequencer (`sequencer.py`) gives it its place. Every other event is a barrier: it holds
its stream exclusively, integrates the queue, then takes the next place itself. `docs/audit-log.md`.
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import DatabaseError, connection, models, transaction
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


class QueuedEvent(models.Model):
    """A vote's event, stored with the vote and waiting for the sequencer to give it its place in the chain.

    Not part of the log: no seq, no hashes, never shown on a page. The sequencer deletes each row in the
    transaction that inserts its `AuditEvent`; until then readers count it (`queued_count`) and exports and
    barriers integrate it first (`settle`).
    """

    id = models.BigAutoField(primary_key=True)
    stream = models.CharField(max_length=200, db_index=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    actor_handle = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64)
    subject_type = models.CharField(max_length=100)
    subject_id = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.stream} queued #{self.pk} {self.action}"


def log_position(stream: str) -> tuple[int, int]:
    """The stream's last integrated seq and how many of its events are queued, read by one statement: in one
    snapshot even outside a transaction, so an event the sequencer moves meanwhile is counted once."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT coalesce(max(seq), 0) FROM {AuditEvent._meta.db_table} WHERE stream = %s),"
            f" (SELECT count(*) FROM {QueuedEvent._meta.db_table} WHERE stream = %s)",
            [stream, stream],
        )
        seq, queued = cursor.fetchone()
    return int(seq), int(queued)


# Locks -----------------------------------------------------------------------------------------
# Advisory transaction locks, keyed by a 64-bit hash of a name: the stream ("ballot:…"), the stream's log
# ("log:ballot:…", which the sequencer and barriers take to append), and a vote's cell ("cell:…").
SHARED, EXCLUSIVE = "shared", "exclusive"


def queue_mode() -> bool:
    """Whether votes go through the queue: `settings.AUDIT_QUEUE`, on PostgreSQL only."""
    return bool(getattr(settings, "AUDIT_QUEUE", False)) and connection.vendor == "postgresql"


def _held() -> dict[str, str]:
    """The locks this transaction holds (name -> mode), forgotten when it ends.

    Kept beside the connection's list of on-commit callbacks, which Django replaces by a new list at every
    commit, rollback and rollback to a savepoint (whose locks PostgreSQL releases too): a held list that is no
    longer the connection's means a transaction that has ended, and its locks are gone.
    """
    if not connection.in_atomic_block:
        return {}  # in autocommit a transaction lock ends with its statement: nothing is held
    memo = getattr(connection, "_plenary_locks", None)
    if memo is None or memo[0] is not connection.run_on_commit:
        memo = (connection.run_on_commit, {})
        connection._plenary_locks = memo  # type: ignore[attr-defined]  # our own attribute
    return memo[1]


def _advisory(name: str, *, shared: bool = False) -> None:
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(hashtextextended(%s, 0))", [name])


def lock_stream(stream: str, shared: bool = False) -> None:
    """Take the stream's place in line for the rest of the transaction; each lock once per transaction.

    Services that read state before changing it call this first, so the order of events in a
    stream is the order in which their changes were committed. A vote in queue mode holds it
    SHARED (votes on other cells do not wait for it; `lock_cell` orders those on its cell), every
    other change EXCLUSIVE, so it waits for the votes in flight and they for it. On SQLite every
    write transaction is already exclusive (transaction_mode IMMEDIATE in settings).
    """
    if connection.vendor != "postgresql":
        return
    held = _held()
    if held.get(stream) == EXCLUSIVE or (shared and held.get(stream) == SHARED):
        return
    _advisory(stream, shared=shared)
    held[stream] = SHARED if shared else EXCLUSIVE


def lock_cell(stream: str, *cell: object) -> None:
    """Hold one cell of the stream (a ballot's voter, component and criterion) until the transaction ends."""
    if connection.vendor != "postgresql":
        return
    name = _cell(stream, *cell)
    held = _held()
    if name not in held:
        _advisory(name)
        held[name] = EXCLUSIVE


def _cell(stream: str, *cell: object) -> str:
    return "cell:" + stream + ":" + ":".join(str(part) for part in cell)


def lock_vote(stream: str, *cell: object) -> None:
    """A vote's hold: in queue mode the stream shared and the vote's cell exclusively, else the stream exclusively.

    Votes on other cells go on meanwhile; one on the same cell waits, so a cell has one current vote and its
    queued events are in commit order. Take it before reading the state the vote depends on.
    """
    held = _held()
    if not queue_mode():
        lock_stream(stream)
    elif stream not in held:  # both in one round trip, in this order: the stream's line, then the cell's
        name = _cell(stream, *cell)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock_shared(hashtextextended(%s, 0)), "
                "pg_advisory_xact_lock(hashtextextended(%s, 0))",
                [stream, name],
            )
        held[stream], held[name] = SHARED, EXCLUSIVE
    elif held[stream] != EXCLUSIVE:  # a barrier's transaction (an import) excludes every other vote already
        lock_cell(stream, *cell)


def lock_log(stream: str) -> None:
    """The right to append to the stream's chain: the sequencer's, and a barrier's while it appends."""
    if connection.vendor != "postgresql":
        return
    name = "log:" + stream
    held = _held()
    if name not in held:
        _advisory(name)
        held[name] = EXCLUSIVE


def settle(stream: str) -> int:
    """Hold the stream as a barrier does and integrate its queue: afterwards the log holds every event committed.

    Call inside the transaction of a reader that must see the whole log (an export, a check). How many events
    were integrated; nothing to do outside queue mode.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.settle() runs inside the transaction that reads the settled log")
    if not queue_mode():
        return 0
    from . import sequencer  # it builds on this module

    lock_stream(stream)
    held = _held()
    integrated = 0
    if held.get("settled:" + stream) != EXCLUSIVE:
        integrated = sequencer.integrate_all(stream)
        held["settled:" + stream] = EXCLUSIVE  # under the exclusive lock nothing new can be queued
    return integrated


@contextmanager
def settled(streams: Iterable[str]) -> Iterator[Callable[[], None]]:
    """Settle each stream and keep it settled until the reader calls `release()`: outside a transaction.

    For a reader that sees one snapshot (`analysis.services.one_snapshot`) and must find every vote of it in the
    log: the streams are held exclusively for the session, which waits for the votes in flight and holds back
    the next ones; their queues are integrated; the reader's first statement after that fixes its snapshot, and
    `release()` (which is such a statement) lets votes go on while the reader reads. Inside a transaction
    already begun (a test's) the streams are settled in it and stay held until it ends.
    """
    names = sorted(set(streams))
    if not queue_mode() or not names:
        yield lambda: None
        return
    if connection.in_atomic_block:
        for stream in names:
            settle(stream)
        yield lambda: None
        return
    with connection.cursor() as cursor:
        for stream in names:  # in one order, as every holder of several streams takes them
            cursor.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", [stream])
    held = True

    def release() -> None:
        nonlocal held
        if held:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(pg_advisory_unlock(hashtextextended(s, 0))) FROM unnest(%s::text[]) AS s", [names]
                )
            held = False

    try:
        with transaction.atomic():
            for stream in names:
                settle(stream)
        yield release
    finally:  # the reader's transaction is over: released already, or now
        try:
            release()
        except DatabaseError:
            connection.close()  # a session that is gone holds no locks


def _fields(
    stream: str, actor: "User | None", action: str, subject: models.Model, payload: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "stream": stream,
        "at": timezone.now(),
        "actor": actor,
        "actor_handle": actor.get_username() if actor else "",
        "action": action,
        "subject_type": subject._meta.label_lower,
        "subject_id": str(subject.pk),
        "payload": chain.json_roundtrip(payload or {}),
    }


def append(fields: dict[str, Any], last: dict[str, Any] | None) -> AuditEvent:
    """The event after `last` (the stream's latest seq and hash, or None), hashed; not yet saved."""
    event = AuditEvent(seq=(last["seq"] + 1) if last else 1, prev_hash=last["hash"] if last else GENESIS_HASH, **fields)
    event.hash = event.compute_hash()
    return event


def last_place(stream: str) -> dict[str, Any] | None:
    return AuditEvent.objects.filter(stream=stream).order_by("-seq").values("seq", "hash").first()


def record(
    *,
    stream: str,
    actor: "User | None",
    action: str,
    subject: models.Model,
    payload: dict[str, Any] | None = None,
    queued: bool = False,
) -> AuditEvent | QueuedEvent:
    """Append one event to `stream`. Call inside the transaction of the change it records.

    `queued=True` is for votes (`plenary_tally.vocabulary.VOTE_ACTIONS`), whose service holds the stream
    shared and the vote's cell (`lock_stream(shared=True)`, `lock_cell`): in queue mode the event waits in
    the queue, where the sequencer finds it within 100 ms. Anything else, and a vote outside queue mode, is
    recorded in place: in queue mode a barrier, after the queue is integrated.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record() must run inside the transaction of the change it records")
    fields = _fields(stream, actor, action, subject, payload)
    if queued and queue_mode():
        lock_stream(stream, shared=True)  # nothing to take if the transaction holds it already, as a barrier
        event = QueuedEvent.objects.create(**fields)
        _held().pop("settled:" + stream, None)  # a barrier later in this transaction integrates it first
        return event
    if queue_mode():
        settle(stream)
        lock_log(stream)
    else:
        lock_stream(stream)
    inline = append(fields, last_place(stream))
    inline.save(force_insert=True)
    return inline


from .logmodels import Checkpoint, Cosignature  # noqa: E402, F401  # the log's checkpoints, in a module of their own
