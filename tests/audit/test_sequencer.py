"""Votes wait in the queue for their place in the log; the sequencer, every barrier and every export give it.

PostgreSQL only: the queue is off on SQLite, where every event is recorded in place.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from analysis import bundles
from analysis import services as analysis
from audit import sequencer, tasks, tlog
from audit.models import AuditEvent, Checkpoint, QueuedEvent, head, log_position, record
from plenary_tally import chain, checkpoints, merkle, notes, verification
from plenary_tally.vocabulary import Action
from tests.factories import MembershipFactory, UserFactory
from votes import services
from votes.models import Vote

from ..votes.replay import replay, stored

POSTGRESQL = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
pytestmark = pytest.mark.skipif(not POSTGRESQL, reason="needs PostgreSQL: on SQLite every event is recorded in place")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def queue(settings):
    settings.AUDIT_QUEUE = True


def log(ballot) -> list[dict]:
    return [e.canonical() for e in AuditEvent.objects.filter(stream=ballot.audit_stream).order_by("seq")]


def assert_whole(ballot) -> list[dict]:
    """Nothing queued; the log one gap-free chain that `verify` accepts; its replay the votes as stored."""
    events = log(ballot)
    assert not QueuedEvent.objects.filter(stream=ballot.audit_stream).exists()
    assert chain.verify(events)[0] is None
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert replay(ballot) == stored(ballot)
    return events


def test_a_vote_waits_in_the_queue_and_the_head_stays_where_the_log_is(ballot, cast, bob):
    before = head(ballot.audit_stream)

    vote = cast(bob, "code", "use", "required")

    queued = QueuedEvent.objects.get(stream=ballot.audit_stream)
    assert (queued.action, queued.subject_id, queued.payload["voter"]) == (Action.VOTE_CAST, str(vote.pk), "bob")
    assert head(ballot.audit_stream) == before
    assert not AuditEvent.objects.filter(stream=ballot.audit_stream, action__startswith="vote.").exists()


def test_queued_votes_integrate_in_order_into_a_gap_free_chain(ballot, cast, bob, alice, dave):
    cast(bob, "code", "use", "required")
    cast(alice, "code", "use", "object", rationale="Too strict.")
    cast(bob, "code", "use", "abstain")  # changed: after its cast in the queue and in the log
    cast(dave, "data", "study", "required")
    seq_before, queued = log_position(ballot.audit_stream)

    assert queued == 4
    assert sequencer.integrate(ballot.audit_stream) == 4

    events = assert_whole(ballot)
    votes = [e for e in events if e["seq"] > seq_before]
    assert [(e["actor"], e["action"]) for e in votes] == [
        ("bob", Action.VOTE_CAST),
        ("alice", Action.VOTE_CAST),
        ("bob", Action.VOTE_CHANGED),
        ("dave", Action.VOTE_CAST),
    ]
    assert head(ballot.audit_stream) == events[-1]["hash"]
    assert sequencer.integrate(ballot.audit_stream) == 0  # again: nothing doubled


def test_a_withdrawal_waits_in_the_queue_behind_the_cast_it_clears(ballot, cast, bob):
    cast(bob, "code", "use", "required")
    services.withdraw_vote(
        ballot=ballot,
        voter=bob,
        component=ballot.version.components.get(key="code"),
        criterion=ballot.criteria.get(key="use"),
    )

    sequencer.drain()

    events = assert_whole(ballot)
    assert [e["action"] for e in events[-2:]] == [Action.VOTE_CAST, Action.VOTE_WITHDRAWN]
    assert not Vote.objects.filter(ballot=ballot).exists()


def _close(ballot, grant, dispute_raiser, olga):
    return services.close_ballot(ballot=ballot, acting_user=olga)


def _revoke(ballot, grant, dispute_raiser, olga):
    return services.revoke_grant(grant=grant, reason="The charter changed.", acting_user=olga)


def _dispute(ballot, grant, dispute_raiser, olga):
    required = ballot.choices.get(key="required")
    return services.raise_dispute(ballot=ballot, raised_by=dispute_raiser, reason="Not a member.", choice=required)


@pytest.mark.parametrize(
    "barrier, action",
    [(_close, Action.BALLOT_CLOSED), (_revoke, Action.GRANT_REVOKED), (_dispute, Action.DISPUTE_RAISED)],
)
def test_a_barrier_integrates_the_queue_before_its_own_event(barrier, action, ballot, grant, cast, bob, alice, olga):
    cast(bob, "code", "use", "required")
    cast(alice, "data", "use", "not-necessary")
    seq_before, _ = log_position(ballot.audit_stream)

    barrier(ballot, grant, bob, olga)

    events = assert_whole(ballot)
    assert [e["action"] for e in events[seq_before:]] == [Action.VOTE_CAST, Action.VOTE_CAST, action]


def test_a_run_that_read_queued_votes_is_current_and_goes_stale_with_the_next(ballot, cast, bob, alice):
    cast(bob, "code", "use", "required")
    run = analysis.compute_run(ballot)
    seq, queued = log_position(ballot.audit_stream)
    assert queued == 1 and run.audit_seq == seq + queued
    assert not analysis.is_stale(ballot, run)

    sequencer.drain()
    assert not analysis.is_stale(ballot, run)  # the same events, now in the log: no recompute forever

    cast(alice, "code", "use", "object", rationale="Too strict.")
    assert analysis.is_stale(ballot, run)  # queued, not read
    assert not analysis.is_stale(ballot, analysis.compute_run(ballot))


def test_an_export_of_a_ballot_with_queued_votes_holds_every_vote_and_verifies(voted, tmp_path):
    assert log_position(voted.audit_stream)[1] == 5
    path = tmp_path / "tally.zip"

    manifest = bundles.export_bundle(voted, path)

    report = verification.verify(path)
    assert report.ok, report.problems
    assert report.votes == Vote.objects.filter(ballot=voted).count() == 5
    events = assert_whole(voted)
    assert manifest["audit_head"] == events[-1]["hash"]


def test_a_barrier_outside_queue_mode_is_recorded_in_place(ballot, cast, bob, olga, settings):
    settings.AUDIT_QUEUE = False
    cast(bob, "code", "use", "required")
    assert not QueuedEvent.objects.exists()
    assert assert_whole(ballot)[-1]["action"] == Action.VOTE_CAST


@pytest.mark.django_db(transaction=True)
def test_record_refuses_outside_a_transaction(ballot, bob):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        record(stream=ballot.audit_stream, actor=bob, action=Action.VOTE_CAST, subject=ballot, queued=True)


# The command, against the test database, in a process of its own ------------------------------------------------


def start_sequencer(*args: str) -> subprocess.Popen:
    name = connection.settings_dict["NAME"]
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": f"postgres://{connection.settings_dict['USER']}@127.0.0.1:5432/{name}",
        "AUDIT_QUEUE_IN_TESTS": "true",
        "PGAPPNAME": "plenary-sequencer-test",
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "sequence_log", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if not args or "--once" not in args:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "sequencer running" in line, line + process.stdout.read()
    return process


def wait_until(condition, timeout: float, every: float = 0.01) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, "timed out"
        time.sleep(every)
    return time.monotonic() - started


def queued(ballot) -> int:
    return log_position(ballot.audit_stream)[1]


@pytest.mark.django_db(transaction=True)
def test_the_sequencer_gives_a_vote_its_place_within_a_second_and_stops_on_sigterm(ballot, cast, bob):
    process = start_sequencer()
    try:
        cast(bob, "code", "use", "required")
        waited = wait_until(lambda: queued(ballot) == 0, timeout=5)
        assert waited < 1.0
        assert_whole(ballot)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "sequencer stopped" in output


def _the_sequencer_is_in_a_batch() -> bool:
    """Its transaction has written (a transaction id) and not committed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'plenary-sequencer-test'"
            " AND backend_xid IS NOT NULL"
        )
        return cursor.fetchone()[0] > 0


def _the_sequencer_is_gone() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'plenary-sequencer-test'")
        return cursor.fetchone()[0] == 0


@pytest.mark.django_db(transaction=True)
def test_a_sequencer_killed_mid_batch_loses_and_doubles_nothing(ballot, group, cast, olga):
    voters = [MembershipFactory(group=group, user=UserFactory()).user for _ in range(6)]
    components = [c.key for c in ballot.version.components.leaves()]
    criteria = [c.key for c in ballot.criteria.all()]
    with transaction.atomic():  # one commit, so the sequencer finds them all at once
        for round_ in range(5):
            for voter in voters:
                for component in components:
                    for criterion in criteria:
                        cast(voter, component, criterion, ["required", "abstain"][round_ % 2])
    seq_before, total = log_position(ballot.audit_stream)
    batch = 8  # many batches: the kill finds one in flight and more to come
    assert total > 3 * batch

    process = start_sequencer("--batch", str(batch))
    try:
        wait_until(_the_sequencer_is_in_a_batch, timeout=10, every=0.001)
        process.kill()
        process.wait(timeout=10)
        wait_until(_the_sequencer_is_gone, timeout=10)
    finally:
        process.kill()
        process.communicate(timeout=10)

    seq, left = log_position(ballot.audit_stream)
    assert left > 0, "the sequencer finished before it was killed"
    assert seq + left == seq_before + total  # nothing lost, nothing doubled
    assert (seq - seq_before) % batch == 0  # whole batches only: the one killed rolled back
    assert chain.verify(log(ballot))[0] is None

    again = start_sequencer("--once")
    again.communicate(timeout=60)
    assert again.returncode == 0
    assert log_position(ballot.audit_stream) == (seq_before + total, 0)
    assert_whole(ballot)


@pytest.mark.django_db(transaction=True)
def test_a_vote_committed_after_a_runs_snapshot_but_placed_before_a_vote_it_read_makes_it_stale(
    ballot, cast, bob, alice
):
    """Queue ids follow the inserts, places the commits: the run's position must not claim the vote it missed."""
    inserted, go = threading.Event(), threading.Event()

    def a_slow_vote() -> None:
        try:
            with transaction.atomic():
                cast(alice, "data", "use", "required")  # queued first, committed last
                inserted.set()
                go.wait(timeout=30)
        finally:
            connection.close()

    slow = threading.Thread(target=a_slow_vote)
    slow.start()
    assert inserted.wait(timeout=30)
    cast(bob, "code", "use", "required")
    run = analysis.compute_run(ballot)  # reads bob's vote, queued; not alice's, not committed
    go.set()
    slow.join(timeout=30)

    assert analysis.is_stale(ballot, run)  # two queued, it read one
    sequencer.drain()  # alice's first (lower id), then bob's: bob's place is past the run's position
    assert [e["actor"] for e in log(ballot)[-2:]] == ["alice", "bob"]
    assert analysis.is_stale(ballot, run)
    assert_whole(ballot)


def advisory_locks_held() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
        return cursor.fetchone()[0]


def test_votes_under_a_barrier_s_hold_take_no_lock_per_cell(ballot, cast, bob, alice, dave):
    """An import votes under the ballot's exclusive hold (here the fixture's opening, in this test's transaction):
    a lock per cell would add nothing, and 10⁵ of them would run out of PostgreSQL's lock slots."""
    before = advisory_locks_held()
    cast(bob, "code", "use", "required")
    cast(alice, "code", "study", "required")
    cast(dave, "data", "use", "required")
    assert advisory_locks_held() == before
    assert queued(ballot) == 3


@pytest.mark.django_db(transaction=True)
def test_a_vote_in_its_own_transaction_holds_the_stream_shared_and_its_cell(ballot, bob):
    component, criterion = ballot.version.components.get(key="code"), ballot.criteria.get(key="use")
    with transaction.atomic():
        services.cast_vote(
            ballot=ballot,
            voter=bob,
            component=component,
            criterion=criterion,
            choice=ballot.choices.get(key="required"),
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT mode FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() ORDER BY mode"
            )
            modes = [row[0] for row in cursor.fetchall()]
    assert modes == ["ExclusiveLock", "ShareLock"]  # its cell; the ballot's stream


def test_beat_s_task_integrates_every_queued_vote(ballot, cast, bob, alice):
    cast(bob, "code", "use", "required")
    cast(alice, "data", "use", "required")

    assert tasks.sequence_log.delay().get() == 2

    assert_whole(ballot)


def test_sequence_log_once_drains_the_queue_and_refuses_a_batch_out_of_range(ballot, cast, bob):
    cast(bob, "code", "use", "required")
    with pytest.raises(CommandError, match="--batch is a number of events from 1 to 100,000"):
        call_command("sequence_log", "--once", "--batch", "0")
    out = StringIO()

    call_command("sequence_log", "--once", stdout=out)

    assert out.getvalue() == "integrated 1 event\n"
    assert_whole(ballot)


def test_each_batch_signs_a_checkpoint_of_the_log_it_leaves(ballot, cast, bob, alice):
    cast(bob, "code", "use", "required")
    cast(alice, "code", "use", "object", rationale="Too strict.")

    assert sequencer.integrate(ballot.audit_stream) == 2

    size = tlog.head_size(ballot.audit_stream)
    signed = Checkpoint.objects.get(stream=ballot.audit_stream, size=size)  # in the batch's own transaction
    checkpoint = checkpoints.verify_checkpoint(signed.note, notes.Verifier(tlog.log_key()))
    assert checkpoint.root == merkle.root([merkle.event_leaf(e["hash"]) for e in log(ballot)])
