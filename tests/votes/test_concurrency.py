"""Many voters at once: the database keeps one vote per cell and the audit stream stays one gap-free chain.

The race tests need PostgreSQL, where transactions really run side by side; SQLite runs one
write transaction at a time, so there is nothing to race. Each thread has its own database
connection and closes it when done.
"""

import random
import threading

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count

from audit.models import AuditEvent
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
