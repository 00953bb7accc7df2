"""Recompute on change: queued once per transaction on commit, idempotent, stale while the broker is down.

The expected outcomes are always the pure core's, computed here from plain data read straight
from the models, never through `analysis.services`. The last tests run the real thing on
PostgreSQL: a Celery worker process consuming from Redis, writing to the test database.
"""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Max

from analysis import services, tasks
from analysis.models import OutcomeRun
from audit.models import AuditEvent
from plenary_tally import outcomes
from plenary_tally.model import BallotSpec, Cell, Choice, Component
from tests.broker import REDIS_URL, BrokerLine, broker_down, delete_queue, publishing_to, redis_or_skip
from tests.votes.conftest import CHOICES, CRITERIA
from votes import services as votes
from votes.models import Ballot, Dispute, Vote

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

    assert len([c for c in callbacks if isinstance(c, tasks._Enqueue)]) == 2  # the dispute also tells alice
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


def succeeded_by_now(worker, task: str, expected: int) -> int:
    """How often `task` succeeded, once the worker has logged `expected` of them or the deadline passed.

    A run is stored before the worker logs that its task succeeded: under load the line comes a little later."""
    deadline = time.monotonic() + DEADLINE
    while worker.succeeded(task) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return worker.succeeded(task)


@pytest.mark.slow
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

    def __init__(self, queue: str, log: Path, broker_url: str = REDIS_URL):
        db = settings.DATABASES["default"]
        database_url = (
            f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}"
            f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{quote(db['NAME'])}"
        )
        env = os.environ | {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
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

    def succeeded(self, task: str = "recompute_outcome") -> int:
        return len(re.findall(rf"Task analysis\.tasks\.{task}\[[^]]+\] succeeded", self.output()))

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


class Workers:
    """`start_worker()` starts a worker consuming `start_worker.queue`, this test's own queue."""

    def __init__(self, queue: str, logs: Path):
        self.queue, self.logs, self.started = queue, logs, []

    def __call__(self, broker_url: str = REDIS_URL) -> Worker:
        self.started.append(Worker(self.queue, self.logs / f"worker-{len(self.started) + 1}.log", broker_url))
        return self.started[-1]


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    """Workers on a queue of this test's own, which this process publishes to; every one is stopped at the end."""
    if not POSTGRESQL:
        pytest.skip(SHARES_THE_DATABASE)
    client = redis_or_skip()
    workers = Workers(f"plenary-test-{uuid.uuid4().hex[:12]}", tmp_path)
    try:
        with publishing_to(REDIS_URL, queue=workers.queue):
            yield workers
    finally:
        for worker in workers.started:
            worker.stop()
        delete_queue(client, workers.queue)


def wait_for_run(ballot: Ballot, worker: Worker) -> OutcomeRun:
    """The run at the stream's last position, once the worker has stored it."""
    seq, deadline = last_seq(ballot), time.monotonic() + DEADLINE
    while (run := OutcomeRun.objects.filter(ballot=ballot, audit_seq=seq).first()) is None:
        assert worker.process.poll() is None, f"the worker died:\n{worker.output()}"
        assert time.monotonic() < deadline, f"no run at audit #{seq} within {DEADLINE} s:\n{worker.output()}"
        time.sleep(0.05)
    return run


def recompute_in_flight() -> tuple[str, str] | None:
    """The state and last statement of another session holding a recompute's lock on this database, if one does."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.state, a.query FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.pid <> pg_backend_pid()"
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        return cursor.fetchone()


def done_reading(session: tuple[str, str] | None) -> bool:
    """Whether the recompute has read the ballot: its read transaction committed, or it has written since."""
    return session is not None and session[0] == "idle" and not session[1].lstrip().upper().startswith("SELECT")


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
    visibility timeout (an hour by default); the next worker to connect catches up on its own."""
    worker = start_worker()
    for voter in (alice, bob, dave):
        cast_by_keys(ballot, voter, "code", "use", "required")
    previous = wait_for_run(ballot, worker)
    worker.wait_until_succeeded(3)
    runs = list(OutcomeRun.objects.filter(ballot=ballot).order_by("pk").values())

    cast_by_keys(ballot, bob, "data", "study", "object", rationale="Undisclosed sources.")
    deadline = time.monotonic() + DEADLINE
    while not done_reading(recompute_in_flight()):
        assert time.monotonic() < deadline, f"the worker never read the ballot to recompute:\n{worker.output()}"
    worker.process.send_signal(signal.SIGSTOP)  # frozen where it is: computing, however fast the computation
    assert recompute_in_flight(), "the recompute finished before the kill: it would not land mid-way"
    worker.process.kill()  # SIGKILL, mid-recompute: no cleanup, no acknowledgement
    worker.process.wait(timeout=10)
    deadline = time.monotonic() + 10
    while recompute_in_flight():  # its database session ends and takes the lock with it
        assert time.monotonic() < deadline, "the killed worker's lock outlived it"
        time.sleep(0.05)

    assert list(OutcomeRun.objects.filter(ballot=ballot).order_by("pk").values()) == runs  # every field as it was
    assert OutcomeRun.objects.latest_for(ballot) == previous
    assert services.is_stale(ballot, previous)

    worker = start_worker()  # nothing queued again, no command run
    run = wait_for_run(ballot, worker)
    assert run.results == expected_results(ballot)
    assert OutcomeRun.objects.filter(ballot=ballot).count() == len(runs) + 1
    assert succeeded_by_now(worker, "recompute_stale_outcomes", 1) == 1


@pytest.mark.skipif(not POSTGRESQL, reason=SHARES_THE_DATABASE)
@pytest.mark.django_db(transaction=True)
def test_votes_cast_while_the_broker_was_unreachable_are_counted_once_a_worker_starts(
    start_worker, ballot, second, alice, bob, dave, caplog
):
    with broker_down("refused"):
        for voter in (alice, bob, dave):
            cast_by_keys(ballot, voter, "code", "use", "required")
        cast_by_keys(second, dave, "code", "use", "abstain")
    assert caplog.text.count("its outcome is stale") == 4
    assert not OutcomeRun.objects.exists()

    worker = start_worker()  # the broker is back, and a worker with it; nobody runs `manage.py recompute`

    for stale in (ballot, second):
        assert wait_for_run(stale, worker).results == expected_results(stale)
    assert succeeded_by_now(worker, "recompute_stale_outcomes", 1) == 1
    assert worker.succeeded() == 0, "the worker caught up by itself, not on a queued recompute"


@pytest.mark.slow
@pytest.mark.skipif(not POSTGRESQL, reason=SHARES_THE_DATABASE)
@pytest.mark.django_db(transaction=True)
def test_a_running_worker_that_gets_its_broker_back_counts_the_votes_cast_while_it_was_gone(
    start_worker, ballot, alice, bob, dave, caplog
):
    with BrokerLine() as line, publishing_to(line.url, queue=start_worker.queue):
        worker = start_worker(broker_url=line.url)
        cast_by_keys(ballot, alice, "code", "use", "required")
        before = wait_for_run(ballot, worker)

        line.cut()  # Redis goes away for the worker and for this process, which publishes as the web app does
        deadline = time.monotonic() + DEADLINE
        while "Connection to broker lost" not in worker.output():
            assert time.monotonic() < deadline, f"the worker did not notice the broker was gone:\n{worker.output()}"
            time.sleep(0.05)
        for voter in (bob, dave):
            cast_by_keys(ballot, voter, "code", "use", "required")
        assert caplog.text.count("its outcome is stale") == 2
        assert OutcomeRun.objects.latest_for(ballot) == before
        assert services.is_stale(ballot, before)

        line.restore()  # the same worker reconnects; nothing is queued again and no command is run
        run = wait_for_run(ballot, worker)

    assert run.results == expected_results(ballot)
    assert succeeded_by_now(worker, "recompute_stale_outcomes", 2) == 2, "once on starting, once on reconnecting"
