"""A ballot opening to 5,000 members: the organizer's request, and the 5,000 e-mails a worker sends after it.

    python bench/notify.py                       # 5,000 members, 5 openings of each kind
    python bench/notify.py --members 500 --runs 3 --json var/bench-notify.json

Needs PostgreSQL (`BENCH_DATABASE_URL`, default postgres://postgres@127.0.0.1:5432/plenary_bench_notify: dropped
and created afresh), Redis on 127.0.0.1:6379 (database 13, a queue of its own, deleted at the end) and the test
extras (aiosmtpd, factory-boy: `make .venv/.installed-test`). docs/performance.md explains the figures.

1. The organizer's request, `POST …/open/` through the whole middleware (Django's test client, in-process):
   opening a ballot to N members (one announcement row holding their ids, its expansion queued on Redis after
   the commit), beside two baselines of the same run: the bench's one-INSERT view, and opening a ballot to 5
   members (5 notifications written at once, below `NOTIFICATION_ANNOUNCE_FROM`).
2. The delivery: one worker (`celery -A config worker --pool=solo`) connects, expands what waits (its catch-up:
   N notifications written in batches) and e-mails the N of one opening to a local aiosmtpd server; the time
   until the N-th message arrived, and the worker's peak memory (VmHWM). The server counts the messages and
   their distinct recipients.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/plenary_bench_notify")
REDIS_URL = "redis://127.0.0.1:6379/13"
QUEUE = f"plenary-bench-notify-{uuid.uuid4().hex[:8]}"
os.environ |= {
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "BENCH_DATABASE_URL": DATABASE_URL,
    "BENCH_BROKER_URL": REDIS_URL,
    "BENCH_QUEUE": QUEUE,
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Counting:
    """The aiosmtpd handler: counts what it accepts, and who it is for."""

    def __init__(self) -> None:
        self.count, self.recipients, self.last = 0, set(), 0.0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        with self.lock:
            self.count += 1
            self.recipients.update(envelope.rcpt_tos)
            self.last = time.perf_counter()
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def build(members: int, runs: int):
    """An organizer, a published version of 50 leaves on 4 criteria (200 cells), a group of `members` members with
    verified addresses and a group of 5; `runs` scheduled ballots for each group."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    from deliberation.models import Membership
    from tests.factories import (
        ComponentFactory,
        DefinitionFactory,
        DraftVersionFactory,
        UserFactory,
        WorkingGroupFactory,
    )
    from votes import services

    User = get_user_model()
    organizer = UserFactory(username="organizer")
    definition = DefinitionFactory(slug="osd", title="Open System Definition")
    definition.organizers.add(organizer)
    version = DraftVersionFactory(definition=definition, label="1.0")
    for n in range(50):
        ComponentFactory(version=version, key=f"c{n}", title=f"Component {n}", category="Code")
    big = WorkingGroupFactory(definition=definition, key="members", name="Members")
    small = WorkingGroupFactory(definition=definition, key="few", name="Few")
    users = User.objects.bulk_create(
        [User(username=f"m{n}", email=f"m{n}@bench.invalid", password="!") for n in range(members + 5)]
    )
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users], batch_size=5000
    )
    Membership.objects.bulk_create(
        [Membership(group=big, user=u) for u in users[:members]]
        + [Membership(group=small, user=u) for u in users[members:]]
    )
    criteria = [("use", "Use"), ("study", "Study"), ("modify", "Modify"), ("share", "Share")]
    choices = [{"key": "yes", "label": "Yes", "value": 1}, {"key": "no", "label": "No", "value": 0}]

    def ballots(group, prefix: str) -> list:
        return [
            services.create_ballot(
                version=version, key=f"{prefix}-{n}", title=f"Ballot {prefix} {n}", groups=[group],
                criteria=criteria, choices=choices, acting_user=organizer,
            )
            for n in range(runs + 1)  # the last one for the memory figure
        ]  # fmt: skip

    return organizer, ballots(big, "many"), ballots(small, "few")


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def measure_requests(organizer, many: list, few: list, runs: int, members: int) -> dict:
    from django.db import connection
    from django.test import Client

    from bench.views import CREATE
    from notifications.models import Announcement, Notification

    with connection.cursor() as cursor:
        cursor.execute(CREATE)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(organizer)

    def post(path: str, expect: int) -> None:
        response = client.post(path)
        assert response.status_code == expect, (path, response.status_code)

    def opening(ballot) -> float:
        return timed(lambda: post(f"/d/osd/ballots/{ballot.key}/open/", 302))

    post("/bench/insert/", 204)  # warm: the session, the user, the URLconf
    baseline = [timed(lambda: post("/bench/insert/", 204)) for _ in range(runs)]
    small = [opening(b) for b in few[:runs]]
    large = [opening(b) for b in many[:runs]]
    for ballot in many[:runs]:  # the work done: one announcement to every member, their notifications to come
        [announcement] = Announcement.objects.filter(key=f"ballot-opened:{ballot.pk}")
        assert len(announcement.recipients) == members and announcement.expanded_at is None
        assert not Notification.objects.filter(key=f"ballot-opened:{ballot.pk}").exists()
    tracemalloc.start()
    opening(many[runs])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    median = statistics.median
    return {
        "baseline_insert_ms": ms(median(baseline)),
        "open_to_5_ms": ms(median(small)),
        "open_to_n_ms": ms(median(large)),
        "open_to_n_runs_ms": [ms(t) for t in large],
        "ratio_to_insert": round(median(large) / median(baseline), 1),
        "ratio_to_open_to_5": round(median(large) / median(small), 2),
        "request_python_peak_mb": round(peak / 2**20, 1),
    }


def measure_delivery(first_ballot, members: int, smtp_port: int, handler: Counting) -> dict:
    """The notifications of one opening e-mailed by one worker; the others' are set aside (not e-mailed)."""
    import redis
    from django.utils import timezone

    from notifications.models import Announcement, Delivery, Notification

    Notification.objects.exclude(key=f"ballot-opened:{first_ballot.pk}").update(delivery=Delivery.NOT_EMAILED)
    # the other openings' announcements are set aside: the worker writes and e-mails the first one's alone
    Announcement.objects.exclude(key=f"ballot-opened:{first_ballot.pk}").update(expanded_at=timezone.now())
    client = redis.Redis.from_url(REDIS_URL)
    client.delete(QUEUE)  # the batches the openings queued: the worker's catch-up queues the pending ones again
    env = os.environ | {"EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}", "LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", QUEUE]
    command += ["-n", f"{QUEUE}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"]
    logfile = Path(os.environ.get("TMPDIR", "/tmp")) / f"{QUEUE}.log"
    started = time.perf_counter()
    with logfile.open("wb") as out:
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 600
        while handler.count < members:
            assert worker.poll() is None, logfile.read_text()
            assert time.monotonic() < deadline, f"{handler.count} of {members} arrived:\n{logfile.read_text()}"
            time.sleep(0.05)
        time.sleep(1.0)  # anything sent twice would arrive now
        status = Path(f"/proc/{worker.pid}/status").read_text()
        hwm_kb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        for key in client.scan_iter(match=f"*{QUEUE}*"):
            client.delete(key)
    seconds = handler.last - started
    sent = Notification.objects.filter(key=f"ballot-opened:{first_ballot.pk}", delivery=Delivery.SENT).count()
    assert (handler.count, len(handler.recipients), sent) == (members, members, members), (handler.count, sent)
    return {
        "deliver_seconds": round(seconds, 1),
        "per_second": round(members / seconds),
        "messages": handler.count,
        "recipients": len(handler.recipients),
        "worker_peak_rss_mb": round(hwm_kb / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from aiosmtpd.controller import Controller

    from bench.run import prepare_database

    prepare_database(DATABASE_URL, fresh=True)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    log(f"building: {args.members:,} members, {args.runs + 1} ballots each …")
    organizer, many, few = build(args.members, args.runs)
    handler = Counting()
    smtp = Controller(handler, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        log("the organizer's requests …")
        figures = {"members": args.members, "runs": args.runs}
        figures |= measure_requests(organizer, many, few, args.runs, args.members)
        log(json.dumps(figures))
        log("the delivery …")
        figures |= measure_delivery(many[0], args.members, smtp.port, handler)
    finally:
        smtp.stop()
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
