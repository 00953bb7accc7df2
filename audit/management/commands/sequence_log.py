import select
import signal
from types import FrameType

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from audit import sequencer
from audit.models import NOTIFY_CHANNEL, queue_mode

POLL_SECONDS = 0.2
MAX_BATCH = 100_000


def _integrated(n: int) -> str:
    return f"integrated {n:,} event{'' if n == 1 else 's'}"


class Command(BaseCommand):
    help = (
        "Give queued vote events their places in the audit log: listen for votes, integrate every stream with "
        "queued events, poll every 200 ms besides. --once drains the queue and exits. Stops cleanly on SIGTERM."
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
            self.stdout.write("AUDIT_QUEUE is off: draining what is queued, then listening all the same.")
        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        listener = connection.get_new_connection(connection.get_connection_params())
        listener.autocommit = True
        listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
        self.stdout.write("sequencer listening", ending="\n")
        self.stdout.flush()
        try:
            while not stopping:
                n = sequencer.drain(batch=batch)
                if n:
                    self.stdout.write(_integrated(n))
                    self.stdout.flush()
                    continue  # more may have come meanwhile
                try:
                    ready, _, _ = select.select([listener.fileno()], [], [], POLL_SECONDS)
                except InterruptedError:  # a signal: the loop checks `stopping`
                    continue
                if ready:
                    for _ in listener.notifies(timeout=0):
                        pass  # any notification: drain every stream
        finally:
            listener.close()
            connection.close()
        self.stdout.write("sequencer stopped")
