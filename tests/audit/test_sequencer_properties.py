"""Many hands on one ballot while the sequencer is killed and restarted: the log still holds every vote, once.

Threads cast, change and withdraw votes on a few shared cells, and open, close, revoke and regrant the veto
power, and raise disputes, all through the services, while `manage.py sequence_log` runs in a process of its
own that is SIGKILLed and started again at random moments. Then the ballot's export settles its queue, and
its bundle verifies, the replay of its log is its stored votes, and each vote recorded is in the log once.
"""

import random
import subprocess
import threading
import time
from collections import Counter

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from analysis import bundles
from audit.models import AuditEvent
from plenary_tally import verification
from plenary_tally.vocabulary import CLEARS_THE_CELL, SETS_THE_CELL
from votes import services
from votes.models import Ballot

from ..votes.conftest import new_ballot
from .test_sequencer import POSTGRESQL, assert_whole, start_sequencer

pytestmark = [
    pytest.mark.skipif(not POSTGRESQL, reason="needs PostgreSQL: on SQLite every event is recorded in place"),
    pytest.mark.slow,
]

CELLS = [("code", "use"), ("code", "study"), ("data", "use")]  # few, so that hands meet on them
CHOICES = ["required", "abstain", "object", "not-necessary"]
vote = st.tuples(st.just("cast"), st.integers(0, 2), st.integers(0, len(CELLS) - 1), st.sampled_from(CHOICES))
withdrawal = st.tuples(st.just("withdraw"), st.integers(0, 2), st.integers(0, len(CELLS) - 1))
barrier = st.sampled_from([("revoke",), ("dispute",)])
step = st.one_of(vote, vote, vote, withdrawal, barrier)
plans = st.lists(st.lists(step, min_size=10, max_size=20), min_size=3, max_size=4)
kills = st.lists(st.floats(0.05, 0.4), min_size=1, max_size=3)
opening = st.floats(0, 0.1)  # votes before it are refused
closing = st.one_of(st.none(), st.floats(0.3, 1.0))  # votes after it are refused


class Hands:
    """What the threads did that the log must hold: each cast recorded, each withdrawal."""

    def __init__(self, ballot: Ballot, voters, olga):
        self.ballot, self.voters, self.olga = ballot, voters, olga
        self.components = {c.key: c for c in ballot.version.components.leaves()}
        self.criteria = {c.key: c for c in ballot.criteria.all()}
        self.choices = {c.key: c for c in ballot.choices.all()}
        self.lock = threading.Lock()
        self.casts: set[tuple] = set()
        self.withdrawals: Counter = Counter()
        self.errors: list[BaseException] = []
        self.refusals: Counter = Counter()

    def cell(self, voter: int, cell: int) -> dict:
        component, criterion = CELLS[cell]
        return {
            "ballot": self.ballot,
            "voter": self.voters[voter],
            "component": self.components[component],
            "criterion": self.criteria[criterion],
        }

    def do(self, step: tuple) -> None:
        kind = step[0]
        if kind == "cast":
            _, voter, cell, choice = step
            started = timezone.now()
            rationale = "Not needed." if choice == "object" else ""
            cast = services.cast_vote(**self.cell(voter, cell), choice=self.choices[choice], rationale=rationale)
            if cast.cast_at >= started:  # recorded, by this hand or, unchanged since, by another: a set
                with self.lock:
                    self.casts.add((cast.voter.username, *CELLS[cell], cast.cast_at.isoformat()))
        elif kind == "withdraw":
            _, voter, cell = step
            services.withdraw_vote(**self.cell(voter, cell))
            with self.lock:
                self.withdrawals[(self.voters[voter].username, *CELLS[cell])] += 1
        elif kind == "open":
            services.open_ballot(ballot=self.ballot, acting_user=self.olga)
        elif kind == "close":
            services.close_ballot(ballot=self.ballot, acting_user=self.olga)
        elif kind == "revoke":
            grant = self.ballot.grants.filter(revoked_at__isnull=True).first()
            if grant is None:
                services.grant_veto(
                    ballot=self.ballot,
                    choice=self.choices["not-necessary"],
                    group=self.voters[0].memberships.first().group,
                    reason="Charter",
                    acting_user=self.olga,
                )
            else:
                services.revoke_grant(grant=grant, reason="Charter changed.", acting_user=self.olga)
        else:
            services.raise_dispute(
                ballot=self.ballot, raised_by=self.voters[1], reason="Disputed.", choice=self.choices["abstain"]
            )

    def run(self, plan: list[tuple], seed: int) -> None:
        rng = random.Random(seed)
        try:
            for step in plan:
                try:
                    self.do(step)
                except (ValidationError, PermissionDenied) as exc:
                    # refused as the rules say: closed, not open yet, no grant, nothing to withdraw…
                    self.refusals[str(exc)] += 1
                time.sleep(rng.random() / 40)
        except BaseException as exc:  # reported to the test, which fails on it
            self.errors.append(exc)
        finally:
            connection.close()


def organize(hands: Hands, open_after: float, close_after: float | None) -> None:
    """The organizer opens the ballot (again: refused if open) and may close it while votes come in."""
    time.sleep(open_after)
    hands.run([("open",)], seed=0)
    if close_after is not None:
        time.sleep(close_after)
        hands.run([("close",)], seed=0)


def killing(first: subprocess.Popen, delays: list[float], done: threading.Event) -> list[subprocess.Popen]:
    """SIGKILL the sequencer after each delay and start another (votes queue while it starts). The processes."""
    started = [first]
    for delay in delays:
        if done.wait(delay):
            break
        started[-1].kill()
        started[-1].wait(timeout=10)
        started.append(start_sequencer())
    return started


@pytest.mark.django_db(transaction=True)
@hypothesis_settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    phases=[Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(plans=plans, delays=kills, opened=st.booleans(), open_after=opening, close_after=closing)
def test_votes_barriers_and_a_killed_sequencer_leave_every_vote_in_the_log_once(
    plans,
    delays,
    opened,
    open_after,
    close_after,
    published,
    group,
    other_group,
    olga,
    alice,
    bob,
    dave,
    settings,
    tmp_path_factory,
):
    settings.AUDIT_QUEUE = True
    key = f"p{AuditEvent.objects.count()}"  # a ballot of its own per example
    ballot = new_ballot(published, olga, [group, other_group], key=key, eligibility=Ballot.Eligibility.LIVE)
    services.grant_veto(
        ballot=ballot, choice=ballot.choices.get(key="not-necessary"), group=group, reason="Charter", acting_user=olga
    )
    if opened:
        ballot = services.open_ballot(ballot=ballot, acting_user=olga)
    assert ballot.audit_stream  # loads the definition before the threads share it
    hands = Hands(ballot, [alice, bob, dave], olga)

    done, processes = threading.Event(), []
    first = start_sequencer()
    sequencing = threading.Thread(target=lambda: processes.extend(killing(first, delays, done)))
    sequencing.start()
    threads = [threading.Thread(target=hands.run, args=(plan, n)) for n, plan in enumerate(plans)]
    threads.append(threading.Thread(target=organize, args=(hands, open_after, close_after)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    done.set()
    sequencing.join(timeout=60)
    for process in processes:
        process.kill()
        process.communicate(timeout=10)

    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert hands.errors == []
    path = tmp_path_factory.mktemp("bundle") / "tally.zip"
    bundles.export_bundle(ballot, path)  # settles the queue the killed sequencers left
    report = verification.verify(path)
    assert report.ok, report.problems
    assert_whole(ballot)
    events = AuditEvent.objects.filter(stream=ballot.audit_stream)
    casts = [
        (p["voter"], p["component"], p["criterion"], p["cast_at"])
        for p in events.filter(action__in=SETS_THE_CELL).values_list("payload", flat=True)
    ]
    assert len(casts) == len(set(casts))  # none doubled: each was recorded at a moment of its own
    assert set(casts) == hands.casts  # none lost
    withdrawals = Counter(
        (p["voter"], p["component"], p["criterion"])
        for p in events.filter(action__in=CLEARS_THE_CELL).values_list("payload", flat=True)
    )
    assert withdrawals == hands.withdrawals
