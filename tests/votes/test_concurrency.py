"""Many voters at once: the database keeps one vote per cell and the audit stream stays one gap-free chain.

The race tests need PostgreSQL, where transactions really run side by side; SQLite runs one
write transaction at a time, so there is nothing to race. Each thread has its own database
connection and closes it when done.
"""

import random
import threading
import time

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count

from audit.models import AuditEvent, lock_stream
from deliberation import services as deliberation
from plenary_tally import chain
from tests.factories import MembershipFactory, UserFactory
from votes import services
from votes.models import Vote

from .conftest import CRITERIA
from .replay import replay, stored

on_postgresql = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="needs PostgreSQL: SQLite runs one write transaction at a time",
)

NO_VOTE = "There is no vote to withdraw here."
ROUNDS = 15


def run_together(jobs: list) -> list[BaseException]:
    """Start every job at the same moment, each in its own thread with its own connection; return what they raised."""
    start = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job):
        try:
            start.wait()
            job()
        except BaseException as exc:  # reported to the test, which fails on it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a voting thread hung"
    return errors


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_votes_keep_one_vote_per_cell_and_one_gap_free_chain(
    ballot, olga, alice, bob, dave, group, other_group
):
    services.grant_veto(
        ballot=ballot,
        choice=ballot.choices.get(key="not-necessary"),
        group=other_group,
        reason="Charter",
        acting_user=olga,
    )
    oscar = UserFactory(username="oscar")
    ballot.definition.organizers.add(oscar)
    members = [alice, bob, dave]
    for n in range(17):
        members.append(MembershipFactory(group=group if n % 2 else other_group, user=UserFactory()).user)
    components = {c.key: c for c in ballot.version.components.leaves()}
    criteria = {c.key: c for c in ballot.criteria.all()}
    choices = {c.key: c for c in ballot.choices.all()}
    corpora = set(other_group.memberships.values_list("user_id", flat=True))
    assert ballot.audit_stream == "ballot:osd/components"  # loads the definition before the threads share it
    unexpected: list[str] = []

    def act(rng: random.Random, voter, acting_user, cells: list[tuple[str, str]]) -> None:
        component, criterion = rng.choice(cells)
        cell = {"ballot": ballot, "voter": voter, "component": components[component], "criterion": criteria[criterion]}
        try:
            if rng.random() < 0.3:
                services.withdraw_vote(**cell, acting_user=acting_user)
                return
            keys = ["required", "required", "abstain", "object"]
            if voter.pk in corpora:
                keys.append("not-necessary")
            choice = rng.choice(keys)
            rationale = rng.choice(["", "", "Because."]) if choice != "object" else "Not needed."
            services.cast_vote(**cell, choice=choices[choice], rationale=rationale, acting_user=acting_user)
        except ValidationError as exc:
            if exc.messages != [NO_VOTE]:
                unexpected.extend(exc.messages)

    every_cell = [(component, criterion) for component in components for criterion, _ in CRITERIA]
    hot_cell = [("code", "use")]

    def member(i: int, voter):
        def job():
            rng = random.Random(i)
            for _ in range(ROUNDS):
                act(rng, voter, voter, every_cell)

        return job

    def on_the_hot_cell(i: int, acting_user):
        def job():
            rng = random.Random(100 + i)
            for _ in range(ROUNDS):
                act(rng, bob, acting_user, hot_cell)

        return job

    jobs = [member(i, voter) for i, voter in enumerate(members)]
    jobs += [on_the_hot_cell(i, acting) for i, acting in enumerate([bob, olga, oscar, bob, olga])]

    errors = run_together(jobs)

    assert errors == []
    assert unexpected == []
    per_cell = Vote.objects.values("ballot", "voter", "component", "criterion").annotate(n=Count("pk"))
    assert {row["n"] for row in per_cell} == {1}
    events = [e.canonical() for e in AuditEvent.objects.filter(stream=ballot.audit_stream).order_by("seq")]
    broken, _ = chain.verify(events)
    assert broken is None
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert sum(e["action"].startswith("vote.") for e in events) > len(jobs) * ROUNDS // 3
    assert replay(ballot) == stored(ballot)
    assert stored(ballot)


def test_the_database_refuses_a_second_vote_for_the_same_cell(ballot, bob, group):
    cell = {
        "ballot": ballot,
        "voter": bob,
        "group": group,
        "component": ballot.version.components.get(key="code"),
        "criterion": ballot.criteria.get(key="use"),
        "cast_by": bob,
    }
    Vote.objects.create(**cell, choice=ballot.choices.get(key="required"))

    with pytest.raises(IntegrityError), transaction.atomic():
        Vote.objects.create(**cell, choice=ballot.choices.get(key="abstain"))

    assert Vote.objects.get().choice.key == "required"


def waiting_for_a_lock(timeout: float = 10, count: int = 1) -> None:
    """Return once `count` other sessions wait for an advisory lock (a ballot's place in line); fail after `timeout`."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
            if cursor.fetchone()[0] >= count:
                return
            time.sleep(0.01)
    pytest.fail("no session waited for the ballot's place in line")


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_vote_still_in_line_when_its_voter_is_removed_is_refused(ballot, alice, bob, group):
    """The roster is read before the ballot's place in line is taken: bob's vote reads him as a member, then waits
    in line behind his removal, which holds the ballot's line (it is recorded in the ballot's stream) until it
    commits."""
    cell = {
        "ballot": ballot,
        "voter": bob,
        "component": ballot.version.components.get(key="code"),
        "criterion": ballot.criteria.get(key="use"),
        "choice": ballot.choices.get(key="required"),
    }
    assert ballot.audit_stream and group.definition.audit_stream  # loaded before the threads share them
    removing = threading.Event()

    def remove_bob():
        with transaction.atomic():
            deliberation.remove_member(membership=group.memberships.get(user=bob), acting_user=alice)
            removing.set()
            waiting_for_a_lock()  # bob's vote has read the roster and waits for its place in line

    def vote():
        assert removing.wait(30)
        services.cast_vote(**cell)

    errors = run_together([remove_bob, vote])

    assert [str(e) for e in errors] == ["@bob is no longer a member of Weights."]
    assert not Vote.objects.exists()
    assert not AuditEvent.objects.filter(stream=ballot.audit_stream, action__startswith="vote.").exists()


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_removal_waits_in_the_ballot_s_line_behind_a_vote_already_in_it(ballot, alice, bob, group):
    """Both orders are safe: a vote already in line is recorded, then the removal, in that order in the stream."""
    cell = {
        "ballot": ballot,
        "voter": bob,
        "component": ballot.version.components.get(key="code"),
        "criterion": ballot.criteria.get(key="use"),
        "choice": ballot.choices.get(key="required"),
    }
    assert ballot.audit_stream and group.definition.audit_stream
    in_line, voting = threading.Event(), threading.Event()

    def hold_the_line():  # an earlier vote on the ballot, still being decided
        with transaction.atomic():
            lock_stream(ballot.audit_stream)
            in_line.set()
            assert voting.wait(30)
            waiting_for_a_lock(count=2)  # bob's vote, then his removal, wait behind it

    def vote():
        assert in_line.wait(30)
        voting.set()
        services.cast_vote(**cell)

    def remove_bob():
        assert voting.wait(30)
        waiting_for_a_lock()  # the vote is in line first
        deliberation.remove_member(membership=group.memberships.get(user=bob), acting_user=alice)

    errors = run_together([hold_the_line, vote, remove_bob])

    assert errors == []
    actions = AuditEvent.objects.filter(stream=ballot.audit_stream).order_by("seq").values_list("action", flat=True)
    assert list(actions)[-2:] == ["vote.cast", "membership.left"]


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_no_vote_is_recorded_after_its_voter_is_removed_while_others_crowd_the_ballot(ballot, alice, bob, group):
    crowd = [MembershipFactory(group=group, user=UserFactory()).user for _ in range(8)]
    components = list(ballot.version.components.leaves())
    criteria = list(ballot.criteria.all())
    choices = [ballot.choices.get(key="required"), ballot.choices.get(key="abstain")]
    assert ballot.audit_stream and group.definition.audit_stream  # loaded before the threads share them
    bobs_votes, removed, refused = threading.Event(), threading.Event(), []

    def cast(voter, n: int) -> None:
        services.cast_vote(
            ballot=ballot,
            voter=voter,
            component=components[n % len(components)],
            criterion=criteria[n // len(components) % len(criteria)],
            choice=choices[n // (len(components) * len(criteria)) % 2],
        )

    def member(voter):
        def job():
            for n in range(60):
                cast(voter, n)
                if removed.is_set() and n > 30:
                    return

        return job

    def as_bob():
        for n in range(10_000):
            try:
                cast(bob, n)
            except PermissionDenied as exc:
                refused.append(str(exc))
                return
            if n == 5:
                bobs_votes.set()

    def remove_bob():
        assert bobs_votes.wait(60)
        deliberation.remove_member(membership=group.memberships.get(user=bob), acting_user=alice)
        removed.set()

    errors = run_together([*(member(voter) for voter in crowd), as_bob, remove_bob])

    assert errors == []
    left_at = group.memberships.get(user=bob).left_at
    assert refused and Vote.objects.filter(voter=bob).exists()
    assert not Vote.objects.filter(voter=bob, cast_at__gte=left_at).exists()
    late = AuditEvent.objects.filter(stream=ballot.audit_stream, payload__voter="bob", at__gte=left_at)
    assert not late.exists()
