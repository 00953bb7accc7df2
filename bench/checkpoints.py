"""Signing a checkpoint after a batch, against re-reading the stream: `python bench/checkpoints.py [--events N]`.

The log signs a stream's head after each batch of votes (`audit.tlog.sign_checkpoint`). It extends the
frontier stored with the latest checkpoint by the batch's events alone, so its cost follows the batch, not
the stream. The baseline is what it would cost to read the stream's N hashes back and compute the root, the
least any signer that keeps no frontier pays. Both run on a fresh SQLite database (migrated here, in a
temporary directory), with N events in one stream and batches of 1, 100 and 1,000 events after them.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    n = parser.parse_args().events
    folder = tempfile.mkdtemp(prefix="plenary-bench-checkpoints-")
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from audit import tlog
    from audit.models import AuditEvent
    from plenary_tally import merkle

    call_command("migrate", verbosity=0)
    stream, now = "ballot:bench/components", timezone.now()

    def add(first: int, count: int) -> None:
        AuditEvent.objects.bulk_create(
            AuditEvent(
                stream=stream,
                seq=seq,
                at=now,
                action="vote.cast",
                subject_type="votes.vote",
                subject_id=str(seq),
                prev_hash="0" * 64,
                hash=f"{seq:064x}",
            )  # fmt: skip
            for seq in range(first, first + count)
        )

    add(1, n)
    tlog.sign_checkpoint(stream)
    baseline = timed(lambda: merkle.root(tlog.leaves(stream)))
    print(f"baseline: read {n:,} hashes and compute the root: {baseline * 1000:.1f} ms")
    size = n
    for batch in (1, 100, 1000):
        times = []
        for _ in range(5):
            add(size + 1, batch)
            size += batch
            start = time.perf_counter()
            tlog.sign_checkpoint(stream)
            times.append(time.perf_counter() - start)
        signing = statistics.median(times)
        print(f"sign after a batch of {batch:>5,}: {signing * 1000:7.2f} ms = {signing / baseline:.3f} x the baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
