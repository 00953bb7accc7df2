import signal
import time
from types import FrameType

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from audit import sequencer
from audit.models import queue_mode

# How long the sequencer waits when the queue is empty: the most a vote waits for its place, but for a batch.
POLL_SECONDS = 0.1
MAX_BATCH = 100_000


def _integrated(n: int) -> str:
    return f"integrated {n:,} event{'' if n == 1 else 's'}"


class Command(BaseCommand):
    help = (
        "Give queued vote events their places in the audit log: integrate every stream with queued events, "
        "then look again after 100 ms. --once drains the queue and exits. Stops cleanly on SIGTERM."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Integrate what is queued now, then exit.")
        parser.add_argument(
            "--batch", type=int, default=sequencer.BATCH, help=f"Events per transaction (default {sequencer.BATCH})."
        )

    def handle(self, *args, once: bool = False, batch: int = sequencer.BATCH, **options) -> None:
        if not 1 <= batch <= MAX_BATCH:
            raise CommandError(f"--batch is a number of events from 1 to {MAX_BATCH:,}.")
        if connection.vendor != "postgresql":
            self.stdout.write("The queue is PostgreSQL's: on this database every event is recorded in place.")
            return
        if once:
            self.stdout.write(_integrated(sequencer.drain(batch=batch)))
            return
        if not queue_mode():
            self.stdout.write("AUDIT_QUEUE is off: draining what is queued, then watching the queue all the same.")
        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write("sequencer running", ending="\n")
        self.stdout.flush()
        try:
            while not stopping:
                n = sequencer.drain(batch=batch)
                if n:
                    self.stdout.write(_integrated(n))
                    self.stdout.flush()
                    continue  # more may have come meanwhile
                time.sleep(POLL_SECONDS)  # a signal ends the sleep early: the loop checks `stopping`
        finally:
            connection.close()
        self.stdout.write("sequencer stopped")
