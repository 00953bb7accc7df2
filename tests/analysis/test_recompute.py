"""Recompute on change: queued once per transaction on commit, idempotent, stale while the broker is down.

The expected outcomes are always the pure core's, computed here from plain data read straight
from the models, never through `analysis.services`. The last tests run the real thing on
PostgreSQL: a Celery worker process consuming from Redis, writing to the test database.
"""

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Max
from django.test import override_settings
from kombu import pools

from analysis import outcomes, services, tasks
from analysis.model import BallotSpec, Cell, Choice, Component
from analysis.models import OutcomeRun
from audit.models import AuditEvent
from config.celery import app
from tests.votes.conftest import CHOICES, CRITERIA
from votes import services as votes
from votes.models import Ballot, Dispute, Vote

REDIS_URL = "redis://127.0.0.1:6379/7"  # a database of its own; each test consumes from a queue of its own
DEADLINE = 60  # seconds a worker gets to start or to land a run

POSTGRESQL = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
SHARES_THE_DATABASE = "needs PostgreSQL: the worker process shares the test database, which SQLite keeps in memory"


# The ballot as plain data, read from the models -------------------------------------------------------------


def from_the_models(ballot: Ballot) -> tuple[BallotSpec, list[Cell], dict]:
    """What the pure core is given: the rules, the vote counts and each voter's values."""
    components = sorted(
        ballot.version.components.prefetch_related("parts"), key=lambda c: (c.category, c.position, c.key)
    )
    spec = BallotSpec(
        criteria=tuple(c.key for c in ballot.criteria.order_by("position")),
        choices={
            c.key: Choice(key=c.key, value=c.value, requires_grant=c.requires_grant, blocking=c.blocking)
            for c in ballot.choices.order_by("position")
        },
        components=tuple(
            Component(c.key, c.category, c.aggregate_rule, tuple(sorted(p.key for p in c.parts.all())))
            for c in components
        ),
        groups=tuple(sorted(g.key for g in ballot.groups.all())),
        methodology=ballot.methodology,
        clustering=ballot.clustering,
    )
    standing = [d for d in ballot.disputes.all() if d.status in (Dispute.Status.OPEN, Dispute.Status.UPHELD)]
    selectors = ("voter_id", "group_id", "choice_id", "component_id", "criterion_id")

    def disputed(vote: Vote) -> bool:
        return any(all(getattr(d, s) in (None, getattr(vote, s)) for s in selectors) for d in standing)

    votes_cast = list(ballot.votes.select_related("voter", "group", "component", "criterion", "choice"))
    counts = Counter((v.component.key, v.criterion.key, v.group.key, v.choice.key, disputed(v)) for v in votes_cast)
    cells = [Cell(*key, count=n) for key, n in sorted(counts.items())]
    voters: dict = {}
    for v in votes_cast:
        voters.setdefault(v.voter.username, (v.group.key, {}))[1][(v.component.key, v.criterion.key)] = v.choice.value
    return spec, cells, voters


def expected_results(ballot: Ballot) -> dict:
    """The pure core's outcomes, as they read back from a JSON field."""
    return json.loads(json.dumps(outcomes.compute(*from_the_models(ballot))))


def last_seq(ballot: Ballot) -> int:
    return AuditEvent.objects.filter(stream=ballot.audit_stream).aggregate(last=Max("seq"))["last"]


def recompute_command(*args: str) -> str:
    out = StringIO()
    call_command("recompute", *args, stdout=out)
    return out.getvalue()


def lines(output: str) -> set[str]:
    return set(output.splitlines())


def cast_by_keys(ballot: Ballot, voter, component: str, criterion: str, choice: str, **kwargs) -> Vote:
    return votes.cast_vote(
        ballot=ballot,
        voter=voter,
        component=ballot.version.components.get(key=component),
        criterion=ballot.criteria.get(key=criterion),
        choice=ballot.choices.get(key=choice),
        **kwargs,
    )


@pytest.fixture
def second(published, group, other_group, olga):
    """Another open ballot on the same version: one criterion, Required or Abstain."""
    ballot = votes.create_ballot(
        version=published,
        key="second",
        title="Second look",
        groups=[group, other_group],
        criteria=CRITERIA[:1],
        choices=CHOICES[:2],
        acting_user=olga,
    )
    return votes.open_ballot(ballot=ballot, acting_user=olga)


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """The ballot ids whose recompute was handed to Celery, in order; the task still runs (eagerly in tests)."""
    ids: list[int] = []
    delay = tasks.recompute_outcome.delay
    monkeypatch.setattr(tasks.recompute_outcome, "delay", lambda ballot_id: ids.append(ballot_id) or delay(ballot_id))
    return ids


# Queued on commit, stored as the pure core computes it ------------------------------------------------------


def test_one_transaction_queues_one_recompute_per_ballot_which_stores_the_pure_cores_outcomes(
    ballot, second, cast, alice, bob, dave, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            for voter in (alice, bob, dave):
                cast(voter, "code", "use", "required")
            cast(bob, "data", "use", "required")
            cast(dave, "data", "study", "abstain")
            cast(alice, "data", "use", "object", rationale="Provenance unknown.")
            votes.raise_dispute(ballot=ballot, raised_by=bob, reason="No evidence given.", voter=alice)
            cast_by_keys(second, bob, "code", "use", "required")

    assert len(callbacks) == 2
    assert queued == [ballot.pk, second.pk]
    run = OutcomeRun.objects.get(ballot=ballot)
    assert run.results == expected_results(ballot)
    assert run.results["flips"], "alice's disputed objection moves an outcome"
    assert run.audit_seq == last_seq(ballot)
    assert re.fullmatch(r"[0-9a-f]{64}", run.input_digest)
    assert run.duration_ms is not None and run.duration_ms >= 0
    assert run.methodology == ballot.methodology
    assert OutcomeRun.objects.get(ballot=second).results == expected_results(second)


def test_recomputing_is_idempotent_and_a_new_vote_makes_the_outcome_stale_until_recomputed(
    ballot, cast, alice, bob, dave
):
    for voter in (alice, bob, dave):
        cast(voter, "code", "use", "required")
        cast(voter, "data", "use", "abstain")
    tasks.recompute_outcome.delay(ballot.pk)  # the Celery task path, eager in tests
    run = OutcomeRun.objects.latest_for(ballot)

    tasks.recompute_outcome.delay(ballot.pk)
    assert services.recompute(ballot) == run
    assert OutcomeRun.objects.filter(ballot=ballot).count() == 1
    assert not services.is_stale(ballot, run)

    cast(bob, "code", "use", "object", rationale="Not without the build scripts.")
    assert services.is_stale(ballot, run)
    tasks.recompute_outcome.delay(ballot.pk)

    latest = OutcomeRun.objects.latest_for(ballot)
    assert OutcomeRun.objects.filter(ballot=ballot).count() == 2
    assert latest.audit_seq == last_seq(ballot) > run.audit_seq
    assert latest.input_digest != run.input_digest
    assert latest.results == expected_results(ballot)
    assert not services.is_stale(ballot, latest)


def test_the_recompute_command_brings_stale_ballots_up_to_date(ballot, second, cast, bob, dave):
    cast(bob, "code", "use", "required")
    cast(dave, "data", "modify", "abstain")
    cast_by_keys(second, bob, "code", "use", "abstain")
    services.recompute(second)
    second_run = OutcomeRun.objects.latest_for(second)

    assert lines(recompute_command("--dry-run")) == {
        "osd/components: stale",
        f"osd/second: up to date (audit #{second_run.audit_seq})",
    }
    assert not OutcomeRun.objects.filter(ballot=ballot).exists()

    output = recompute_command()
    run = OutcomeRun.objects.get(ballot=ballot)
    assert lines(output) == {
        f"osd/components: recomputed at audit #{last_seq(ballot)} in {run.duration_ms} ms",
        f"osd/second: up to date (audit #{second_run.audit_seq})",
    }
    assert run.results == expected_results(ballot)
    assert OutcomeRun.objects.latest_for(second) == second_run

    assert lines(recompute_command()) == {
        f"osd/components: up to date (audit #{run.audit_seq})",
        f"osd/second: up to date (audit #{second_run.audit_seq})",
    }
    assert recompute_command("osd/components") == f"osd/components: up to date (audit #{run.audit_seq})\n"
    assert OutcomeRun.objects.count() == 2
    with pytest.raises(CommandError, match="No ballot osd/nope; give it as definition-slug/ballot-key."):
        call_command("recompute", "osd/nope")


# The broker down --------------------------------------------------------------------------------------------


def _drop_broker_connections() -> None:
    """Close the pooled broker connections, so the next publish connects to the broker configured now."""
    pools.reset()  # kombu's pools are shared by broker address
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def publishing_to(broker_url: str, queue: str | None = None):
    """This process's Celery app publishes to `broker_url` for real (into `queue`), then goes back to eager."""
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager", "task_routes")}
    routes = {"analysis.tasks.recompute_outcome": {"queue": queue}} if queue else saved["task_routes"]
    with override_settings(CELERY_BROKER_URL=broker_url, CELERY_TASK_ALWAYS_EAGER=False):
        _drop_broker_connections()
        app.conf.update(broker_url=broker_url, task_always_eager=False, task_routes=routes)
        try:
            yield
        finally:
            app.conf.update(saved)
            _drop_broker_connections()


@contextmanager
def broker_down(how: str):
    """A Redis address where nothing listens (refused), or where something accepts and never answers (silent)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    if how == "refused":
        listener.close()
    else:
        listener.listen(16)  # the kernel completes the handshakes; nobody ever reads
    try:
        with publishing_to(f"redis://127.0.0.1:{port}/0"):
            yield
    finally:
        listener.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", ["refused", "silent"])
def test_with_the_broker_down_a_vote_still_commits_and_the_outcome_stays_stale_until_the_command(
    ballot, cast, bob, how, caplog
):
    cast_votes: list[Vote] = []

    def cast_one() -> None:  # in a thread of its own, so that a hang fails the test instead of hanging it
        try:
            cast_votes.append(cast(bob, "code", "use", "required"))
        finally:
            connection.close()

    with broker_down(how):
        thread = threading.Thread(target=cast_one, daemon=True)
        thread.start()
        thread.join(timeout=15)
        assert not thread.is_alive(), f"casting a vote with the broker {how} did not return within 15 s"

    [vote] = cast_votes
    assert f"Could not queue the recompute of ballot {ballot.pk}; its outcome is stale" in caplog.text
    assert Vote.objects.get(pk=vote.pk).choice.key == "required"
    event = AuditEvent.objects.get(stream=ballot.audit_stream, action="vote.cast", subject_id=str(vote.pk))
    assert event.seq == last_seq(ballot)
    assert OutcomeRun.objects.latest_for(ballot) is None
    assert services.is_stale(ballot, None)

    output = recompute_command()
    run = OutcomeRun.objects.get(ballot=ballot)
    assert output == f"osd/components: recomputed at audit #{event.seq} in {run.duration_ms} ms\n"
    assert not services.is_stale(ballot, run)
    assert run.results == expected_results(ballot)


# Coalescing under concurrency -------------------------------------------------------------------------------


@pytest.mark.skipif(not POSTGRESQL, reason="needs PostgreSQL: on SQLite one recompute runs at a time anyway")
@pytest.mark.django_db(transaction=True)
def test_a_change_landing_while_a_recompute_finishes_is_not_lost(ballot, cast, alice, bob, dave, monkeypatch, caplog):
    """The recompute in flight has just found its run up to date when a vote commits: that vote's own recompute
    finds the lock taken and leaves it; the one in flight must notice once it lets go."""
    for voter in (alice, bob, dave):
        cast(voter, "code", "use", "required")  # committed; recomputed eagerly
    landed: list[Vote] = []
    is_stale = services.is_stale

    def a_vote_lands_meanwhile() -> None:
        try:
            landed.append(cast(bob, "data", "use", "abstain"))  # commits, then runs its recompute eagerly
        finally:
            connection.close()

    def is_stale_then_a_vote_lands(b: Ballot, run: OutcomeRun | None) -> bool:
        stale = is_stale(b, run)
        if not stale and not landed:
            thread = threading.Thread(target=a_vote_lands_meanwhile)
            thread.start()
            thread.join(timeout=30)
        return stale

    monkeypatch.setattr(services, "is_stale", is_stale_then_a_vote_lands)
    cast(dave, "data", "use", "required")

    assert landed, "the vote landed while the recompute held the lock"
    assert f"Recompute of {ballot} already in flight" in caplog.text
    latest = OutcomeRun.objects.latest_for(ballot)
    assert latest.audit_seq == last_seq(ballot)
    assert latest.results == expected_results(ballot)


# A real worker process on PostgreSQL and Redis ---------------------------------------------------------------


class Worker:
    """`celery -A config worker` in production mode on the test database, consuming one queue."""

    def __init__(self, queue: str, log: Path):
        db = settings.DATABASES["default"]
        database_url = (
            f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}"
            f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{quote(db['NAME'])}"
        )
        env = os.environ | {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": REDIS_URL,
            "SECRET_KEY": settings.SECRET_KEY,
            "ALLOWED_HOSTS": "localhost",
            "DEBUG": "false",
            "LOG_LEVEL": "INFO",
        }
        self.log = log
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1"]
        command += ["-Q", queue, "-n", f"{queue}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [*command, "--loglevel=INFO"], cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + DEADLINE
        while " ready." not in self.output():
            assert self.process.poll() is None, f"the worker exited:\n{self.output()}"
            assert time.monotonic() < deadline, f"the worker did not start in {DEADLINE} s:\n{self.output()}"
            time.sleep(0.05)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def succeeded(self) -> int:
        return len(re.findall(r"Task analysis\.tasks\.recompute_outcome\[[^]]+\] succeeded", self.output()))

    def wait_until_succeeded(self, tasks_queued: int) -> None:
        deadline = time.monotonic() + DEADLINE
        while self.succeeded() < tasks_queued:
            assert self.process.poll() is None, f"the worker died:\n{self.output()}"
            assert time.monotonic() < deadline, f"{tasks_queued} tasks did not all succeed:\n{self.output()}"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _redis_or_skip() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except (redis.RedisError, OSError) as error:
        reason = f"needs Redis at {REDIS_URL} for a real Celery worker: {error}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return client


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    """`start_worker()` starts a worker on a queue of this test's own; every worker is stopped at the end."""
    if not POSTGRESQL:
        pytest.skip(SHARES_THE_DATABASE)
    client = _redis_or_skip()
    queue = f"plenary-test-{uuid.uuid4().hex[:12]}"
    workers: list[Worker] = []

    def start() -> Worker:
        workers.append(Worker(queue, tmp_path / f"worker-{len(workers) + 1}.log"))
        return workers[-1]

    try:
        with publishing_to(REDIS_URL, queue=queue):
            yield start
    finally:
        for worker in workers:
            worker.stop()
        for key in client.scan_iter(match=f"*{queue}*"):  # the queue and kombu's bindings of it
            client.delete(key)
        for tag, raw in client.hgetall("unacked").items():  # what a killed worker held, unacknowledged
            if queue in json.loads(raw)[1:]:
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)


def wait_for_run(ballot: Ballot, worker: Worker) -> OutcomeRun:
    """The run at the stream's last position, once the worker has stored it."""
    seq, deadline = last_seq(ballot), time.monotonic() + DEADLINE
    while (run := OutcomeRun.objects.filter(ballot=ballot, audit_seq=seq).first()) is None:
        assert worker.process.poll() is None, f"the worker died:\n{worker.output()}"
        assert time.monotonic() < deadline, f"no run at audit #{seq} within {DEADLINE} s:\n{worker.output()}"
        time.sleep(0.05)
    return run


def recompute_in_flight() -> bool:
    """Whether another session holds a recompute's lock on this database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))"
        )
        return cursor.fetchone()[0]


BURST = [(component, criterion) for component in ("code", "data") for criterion, _ in CRITERIA][1:]  # not code/use


@pytest.mark.skipif(not POSTGRESQL, reason=SHARES_THE_DATABASE)
@pytest.mark.django_db(transaction=True)
def test_a_worker_process_recomputes_committed_votes_and_coalesces_a_burst(start_worker, ballot, alice, bob, dave):
    worker = start_worker()
    for voter in (alice, bob, dave):
        cast_by_keys(ballot, voter, "code", "use", "required")  # each its own committed transaction
    run = wait_for_run(ballot, worker)
    assert run.results == expected_results(ballot)

    burst_from = last_seq(ballot)
    burst = [(voter, *cell) for voter in (alice, bob, dave) for cell in BURST][:20]  # each a new vote
    for n, (voter, component, criterion) in enumerate(burst):
        cast_by_keys(ballot, voter, component, criterion, "required" if n % 3 else "abstain")
    final = wait_for_run(ballot, worker)
    worker.wait_until_succeeded(3 + len(burst))

    runs = OutcomeRun.objects.filter(ballot=ballot, audit_seq__gt=burst_from).count()
    assert 1 <= runs < len(burst), f"{runs} runs for {len(burst)} votes"
    assert final.results == expected_results(ballot)
    assert not re.search(r"ERROR|Traceback|retry|raised", worker.output()), worker.output()


@pytest.mark.skipif(not POSTGRESQL, reason=SHARES_THE_DATABASE)
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_recompute_leaves_the_previous_run_and_the_next_worker_catches_up(
    start_worker, ballot, alice, bob, dave
):
    """Runs are computed first and stored in one INSERT, so a worker dying mid-way leaves nothing half-written.

    Its task was acknowledged late, but Redis hands an unacknowledged message out again only after the
    visibility timeout (an hour by default): until then the results page or the command queues it again."""
    worker = start_worker()
    for voter in (alice, bob, dave):
        cast_by_keys(ballot, voter, "code", "use", "required")
    previous = wait_for_run(ballot, worker)
    worker.wait_until_succeeded(3)
    runs = set(OutcomeRun.objects.filter(ballot=ballot).values_list("pk", flat=True))

    cast_by_keys(ballot, bob, "data", "study", "object", rationale="Undisclosed sources.")
    deadline = time.monotonic() + DEADLINE
    while not recompute_in_flight():
        assert time.monotonic() < deadline, f"the worker never started the recompute:\n{worker.output()}"
        time.sleep(0.002)
    worker.process.kill()  # SIGKILL, mid-recompute: no cleanup, no acknowledgement
    worker.process.wait(timeout=10)
    deadline = time.monotonic() + 10
    while recompute_in_flight():  # its database session ends and takes the lock with it
        assert time.monotonic() < deadline, "the killed worker's lock outlived it"
        time.sleep(0.05)

    assert set(OutcomeRun.objects.filter(ballot=ballot).values_list("pk", flat=True)) == runs
    assert OutcomeRun.objects.latest_for(ballot) == previous
    assert OutcomeRun.objects.get(pk=previous.pk).results == previous.results
    assert services.is_stale(ballot, previous)

    worker = start_worker()
    tasks.recompute_outcome.delay(ballot.pk)  # queued again, as the command or the results page would
    run = wait_for_run(ballot, worker)
    assert run.results == expected_results(ballot)
    assert OutcomeRun.objects.filter(ballot=ballot).count() == len(runs) + 1
