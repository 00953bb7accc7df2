"""The glue between the database and the pure analysis: load a ballot's counts, compute, store a run."""

import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditEvent, log_position, queue_mode, settled
from plenary_tally import outcomes
from plenary_tally.digest import input_digest
from plenary_tally.model import BallotSpec, Cell, Choice, Component, VoterMatrix
from plenary_tally.vocabulary import Action
from votes import access as votes_access
from votes.models import Ballot

from . import reading
from .models import OutcomeRun

logger = logging.getLogger(__name__)


def ballot_spec(ballot: Ballot) -> BallotSpec:
    """The ballot's rules for the analysis. Sorted in Python, not by the database's collation, so that
    `model.spec_from_json` reads a bundle's `ballot.json` in the same order on any machine."""
    components = sorted(ballot.version.components.prefetch_related("parts"), key=lambda c: (c.category, c.key))
    eligible = votes_access.eligible_roster(ballot)
    return BallotSpec(
        criteria=tuple(ballot.criteria.values_list("key", flat=True)),
        choices={
            c.key: Choice(key=c.key, value=c.value, requires_grant=c.requires_grant, blocking=c.blocking)
            for c in ballot.choices.all()
        },
        components=tuple(
            Component(
                key=c.key,
                category=c.category,
                rule=c.aggregate_rule,
                parts=tuple(sorted(p.key for p in c.parts.all())),
            )
            for c in components
        ),
        groups=tuple(sorted(ballot.groups.values_list("key", flat=True))),
        methodology=ballot.methodology,
        clustering=ballot.clustering,
        eligible={group: len(handles) for group, handles in eligible.items()},
        eligible_voters=len(set().union(*eligible.values())),
        group_names=dict(ballot.groups.values_list("key", "name")),
        carries=ballot.carry_rule != Ballot.CarryRule.NONE,
    )


def vote_cells(ballot: Ballot) -> list[Cell]:
    """The ballot's current votes, counted per component, criterion, group, choice, disputed and conflicted."""
    return reading.read(ballot, ballot_spec(ballot)).cells


def voter_values(ballot: Ballot) -> VoterMatrix:
    """Each voter's group (`model.voter_group`) and values, as the opinion groups read them."""
    return reading.read(ballot, ballot_spec(ballot)).voters


def audit_position(ballot: Ballot) -> int:
    """How many events the ballot's stream holds: its last integrated seq plus its queued events.

    A run stores it as its `audit_seq`. Events are only ever added, and each is either queued or in the log, so a
    later position equal to it means exactly the events the run read, and a larger one, events it did not.
    """
    seq, queued = log_position(ballot.audit_stream)
    return seq + queued


# Events of a ballot's stream that no outcome reads: a decision and its objections rest on a run, they don't move it.
NO_BEARING = (Action.DECISION_RECORDED, Action.OBJECTION_LODGED, Action.OBJECTION_ANSWERED)


def is_stale(ballot: Ballot, run: OutcomeRun | None) -> bool:
    """Whether anything bearing on the outcomes was recorded since the run read it, or the computation changed."""
    if run is None or run.results.get("engine") != outcomes.ENGINE:
        return True
    # The count first: a vote the run did not read is queued now, or in the log when the query below runs.
    seq, queued = log_position(ballot.audit_stream) if queue_mode() else (0, 0)
    if queued and seq + queued > run.audit_seq:
        return True  # votes wait in the queue (barriers empty it, so they came after any decision) that it did not read
    # In the log after the run's position: what came after it, or a vote it read queued that one committed after its
    # snapshot but integrated first pushed past it. Either bears on the outcomes but a decision and its objections.
    later = AuditEvent.objects.filter(stream=ballot.audit_stream, seq__gt=run.audit_seq)
    return later.exclude(action__in=NO_BEARING).exists()


def latest_runs(ballots: Iterable[Ballot]) -> Iterator[tuple[Ballot, OutcomeRun | None, bool]]:
    """Each ballot with its latest run and whether that run is stale."""
    for ballot in ballots:
        run = OutcomeRun.objects.latest_for(ballot)
        yield ballot, run, is_stale(ballot, run)


def outcomes_now(ballot: Ballot) -> dict:
    """The ballot's outcomes as its votes stand: the latest run's when it is current, else computed from the vote
    counts alone (every scenario, flip and cluster; not the opinion groups, which read every voter's values)."""
    run = OutcomeRun.objects.latest_for(ballot)
    if run is not None and not is_stale(ballot, run):
        return run.results
    spec = ballot_spec(ballot)
    return outcomes.compute(spec, reading.read(ballot, spec).cells)


def digest(spec: BallotSpec, cells: list[Cell]) -> str:
    """The run's input digest, as the verifier recomputes it from a bundle (`plenary_tally.digest`)."""
    return input_digest(spec, cells)


@contextmanager
def one_snapshot(settle: Iterable[str] = ()) -> Iterator[None]:
    """A transaction in which every read sees the database as it was at its first read.

    PostgreSQL gives that at REPEATABLE READ; SQLite gives it to any read transaction in WAL
    mode, and a deferred one does not hold the write lock, so voting goes on meanwhile. Inside a
    transaction already begun (a test, a caller's atomic block) the isolation is the caller's.
    With `settle` (audit streams), every vote in the snapshot has its event in those streams' log
    (`audit.models.settled`): votes wait only while the queue is integrated, not while one reads.
    """
    if connection.in_atomic_block or connection.vendor not in ("postgresql", "sqlite"):
        with transaction.atomic(), settled(settle):
            yield
    elif connection.vendor == "postgresql":
        with settled(settle) as release, transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            release()  # its statement fixes the snapshot: the log holds every vote in it
            yield
    else:
        connection.ensure_connection()
        mode, connection.transaction_mode = connection.transaction_mode, "DEFERRED"  # type: ignore[attr-defined]  # SQLite only; not in stubs
        try:
            with transaction.atomic():
                # BEGIN DEFERRED has run; later transactions are as configured
                connection.transaction_mode = mode  # type: ignore[attr-defined]  # SQLite only; not in stubs
                yield
        finally:
            connection.transaction_mode = mode  # type: ignore[attr-defined]  # SQLite only; not in stubs


@contextmanager
def _one_run_at_a_time(ballot: Ballot):
    """At most one recomputation per ballot in flight; a second caller gets False and leaves it be."""
    if connection.vendor != "postgresql":
        yield True  # SQLite: one writer at a time anyway
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 1))", [f"recompute:{ballot.pk}"])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 1))", [f"recompute:{ballot.pk}"])


def compute_run(ballot: Ballot) -> OutcomeRun:
    """Read the ballot once, in one snapshot, compute every scenario, and store the run.

    The run holds the outcomes of the ballot exactly as it stood at its audit position: a vote landing
    meanwhile is not read and moves the position past the run, which makes it stale, never lost.
    """
    started, clock = timezone.now(), time.perf_counter()
    with one_snapshot():
        position = audit_position(ballot)
        spec = ballot_spec(ballot)
        votes = reading.read(ballot, spec)  # one pass over the votes: the counts and the voter matrix
    results = outcomes.compute(spec, votes.cells, votes.voters)
    return OutcomeRun.objects.create(
        ballot=ballot,
        audit_seq=position,
        input_digest=digest(spec, votes.cells),
        methodology=dict(spec.methodology),
        results=results,
        started_at=started,
        duration_ms=round((time.perf_counter() - clock) * 1000),
    )


def recompute(ballot: Ballot) -> OutcomeRun | None:
    """Bring the ballot's outcomes up to date: idempotent, coalescing, rerun while votes keep changing."""
    while True:
        with _one_run_at_a_time(ballot) as mine:
            if not mine:
                logger.info("Recompute of %s already in flight; it will pick up the latest votes", ballot)
                return None
            run = OutcomeRun.objects.latest_for(ballot)
            while is_stale(ballot, run):
                run = compute_run(ballot)
        # Checked again once the lock is released: a change that committed after the last check, and whose
        # recompute found the lock still taken, left it to this one.
        if not is_stale(ballot, run):
            return run


def recompute_stale() -> list[Ballot]:
    """Bring every stale ballot up to date, such as those whose votes came in while the broker was down."""
    ballots = Ballot.objects.select_related("definition", "version").order_by("pk")
    stale = [ballot for ballot, _, out_of_date in latest_runs(ballots) if out_of_date]
    for ballot in stale:
        recompute(ballot)
    return stale
