"""The sequencer: gives queued vote events their places in their stream's chain, in batches.

Votes in queue mode are durable the moment they commit, with their event in `QueuedEvent`; this
module appends them to the log (`AuditEvent`), as a transparency log's sequencer integrates the
entries it was handed. One batch is one transaction, under the stream's log lock (`lock_log`,
which a barrier takes too): it reads the queue's committed rows in id order, chains and inserts
them, deletes them, and calls `after_batch`. A crash rolls the whole batch back, so integrating
again is always safe: an event is either still queued or in the log, never both, never neither.
"""

from django.db import connection, transaction

from . import tlog
from .models import AuditEvent, QueuedEvent, append, last_place, lock_log

BATCH = 5000
FIELDS = ("stream", "at", "actor_id", "actor_handle", "action", "subject_type", "subject_id", "payload")


def after_batch(stream: str) -> None:
    """Called in the batch's transaction once its events are in the log, before it commits: the stream's
    checkpoint (its size and Merkle root, signed) is signed here, and commits or rolls back with the
    events it covers, so each batch pays for one signature and one extension of the tree."""
    tlog.sign_checkpoint(stream)


def integrate(stream: str, *, batch: int = BATCH) -> int:
    """Integrate up to `batch` of the stream's queued events, in one transaction: how many."""
    with transaction.atomic():
        lock_log(stream)
        rows = list(QueuedEvent.objects.filter(stream=stream).order_by("id").values("id", *FIELDS)[:batch])
        if not rows:
            return 0
        last = last_place(stream)
        events = []
        for row in rows:
            fields = {name: row[name] for name in FIELDS}
            event = append(fields, last)
            last = {"seq": event.seq, "hash": event.hash}
            events.append(event)
        AuditEvent.objects.bulk_create(events)
        with connection.cursor() as cursor:  # by id: a row committed meanwhile stays for the next batch
            cursor.execute(f"DELETE FROM {QueuedEvent._meta.db_table} WHERE id = ANY(%s)", [[r["id"] for r in rows]])
        after_batch(stream)
        return len(rows)


def integrate_all(stream: str, *, batch: int = BATCH) -> int:
    """Integrate the stream's queue until it is empty (as a barrier does, under its exclusive hold): how many."""
    total = 0
    while n := integrate(stream, batch=batch):
        total += n
    return total


def queued_streams() -> list[str]:
    return sorted(QueuedEvent.objects.order_by().values_list("stream", flat=True).distinct())


def drain(*, batch: int = BATCH) -> int:
    """Integrate every stream with queued events until none is left at the time of asking: how many events."""
    return sum(integrate_all(stream, batch=batch) for stream in queued_streams())
