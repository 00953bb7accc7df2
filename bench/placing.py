"""How long the sequencer takes to give a vote its place in the log, read from the log itself (`bench/run.py`).

A vote's event carries `at`, taken in the vote's transaction; each batch of the sequencer signs the
checkpoint of the log it leaves, in its own transaction (`audit.sequencer.after_batch`), so the first
checkpoint of the stream whose size reaches an event's seq was signed as that event took its place.
No side effects on import: the tests read the same figures from the log they build.
"""

import time

from django.db import connection

from audit.models import AuditEvent, Checkpoint, log_position
from bench.load import percentile
from plenary_tally.vocabulary import SETS_THE_CELL


def wait_drained(stream: str, timeout: float = 300) -> float:
    """Seconds until none of the stream's events is queued any more: the sequencer has placed them all."""
    started = time.perf_counter()
    while log_position(stream)[1]:
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"the sequencer left events queued {timeout:.0f} s after the load")
        time.sleep(0.01)
    return round(time.perf_counter() - started, 3)


def lags(stream: str, after: int, upto: int) -> list[float]:
    """For each vote event of the stream with seq in (after, upto], in seq order: the seconds from its `at` to
    the `signed_at` of the first checkpoint covering it. Refuses an event that no checkpoint covers."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.seq, EXTRACT(EPOCH FROM c.signed_at - e.at) FROM {AuditEvent._meta.db_table} e"
            f" LEFT JOIN LATERAL (SELECT signed_at FROM {Checkpoint._meta.db_table} k"
            "   WHERE k.stream = e.stream AND k.size >= e.seq ORDER BY k.size LIMIT 1) c ON true"
            " WHERE e.stream = %s AND e.seq > %s AND e.seq <= %s AND e.action = ANY(%s) ORDER BY e.seq",
            [stream, after, upto, [str(action) for action in SETS_THE_CELL]],
        )
        rows = cursor.fetchall()
    uncovered = [seq for seq, lag in rows if lag is None]
    if uncovered:
        raise RuntimeError(f"{stream}: no checkpoint covers event #{uncovered[0]}")
    return [float(lag) for _, lag in rows]


def lag_figures(found: list[float]) -> dict:
    """The events and their lag's p50, p95 and max, in milliseconds (None for a load with no event)."""

    def ms(seconds: float | None) -> float | None:
        return None if seconds is None else round(seconds * 1000, 1)

    return {
        "events": len(found),
        "lag_p50_ms": ms(percentile(found, 50)) if found else None,
        "lag_p95_ms": ms(percentile(found, 95)) if found else None,
        "lag_max_ms": ms(max(found)) if found else None,
    }


def batches(stream: str, after: int, upto: int) -> int:
    """The checkpoints signed for the events with seq in (after, upto]: one per batch that placed them."""
    return Checkpoint.objects.filter(stream=stream, size__gt=after, size__lte=upto).count()
