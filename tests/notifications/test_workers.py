"""The outbox with a real Celery worker process on Redis and PostgreSQL, e-mailing a real SMTP server.

A ballot opens to its members (`scheduled`: alice, bob, dave, and more where a test adds them); their e-mails go
out through a worker (`celery -A config worker`, tests/analysis/test_recompute.py's `Worker`) that reads the
test database. Each test checks that every member gets exactly one e-mail: when the broker was down as the
ballot opened, when the mail server refuses for a while, and when a worker is killed in the middle of a batch.
"""

import re
import time

import pytest
from django.db import connection

from notifications.models import Announcement, Delivery, Kind, Notification
from tests.analysis.test_recompute import DEADLINE, POSTGRESQL, SHARES_THE_DATABASE, start_worker  # noqa: F401, F811 (a fixture)
from tests.broker import broker_down
from tests.factories import MembershipFactory, UserFactory
from votes import services

LEASE = 2  # seconds, the workers' NOTIFICATION_LEASE_SECONDS here (120 in production)
MEMBERS = ["alice@example.org", "bob@example.org", "dave@example.org"]

pytestmark = [
    pytest.mark.skipif(not POSTGRESQL, reason=SHARES_THE_DATABASE),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def mail_worker(start_worker, smtp_server, settings, monkeypatch):  # noqa: F811 (the fixture)
    """`mail_worker()` starts a worker that e-mails through `smtp_server`, retries after about a second, takes
    over a lease after LEASE seconds and queues what it queues (the sweep's batches) on this test's queue."""
    monkeypatch.setenv("EMAIL_URL", f"smtp://127.0.0.1:{settings.EMAIL_PORT}")
    monkeypatch.setenv("NOTIFICATION_RETRY_BACKOFF_SECONDS", "1")
    monkeypatch.setenv("NOTIFICATION_LEASE_SECONDS", str(LEASE))
    monkeypatch.setenv("CELERY_TASK_DEFAULT_QUEUE", start_worker.queue)
    return start_worker


def recipients(smtp_server) -> list[str]:
    return sorted(m["To"] for m in smtp_server.messages)


def all_sent(worker, n: int) -> None:
    """Wait until n notifications are marked sent (after the mail server took each)."""
    deadline = time.monotonic() + DEADLINE
    while Notification.objects.filter(delivery=Delivery.SENT).count() < n:
        assert worker.process.poll() is None, f"the worker died:\n{worker.output()}"
        assert time.monotonic() < deadline, f"not all {n} were sent:\n{worker.output()}"
        time.sleep(0.05)
    time.sleep(0.5)  # anything sent twice would arrive now


def succeeded(worker, task: str) -> int:
    return len(re.findall(rf"Task notifications\.tasks\.{task}\[[^]]+\] succeeded", worker.output()))


def test_the_mails_of_a_ballot_opened_while_the_broker_was_down_go_out_once_a_worker_is_back(
    mail_worker, smtp_server, scheduled, olga, caplog
):
    with broker_down("refused"):
        services.open_ballot(ballot=scheduled, acting_user=olga)  # the organizer's request answers all the same
    assert "Could not queue 3 notifications" in caplog.text
    assert Notification.objects.filter(delivery=Delivery.PENDING).count() == 3

    started = time.monotonic()
    worker = mail_worker()  # the broker is back, a worker with it: no sweep awaited (beat's comes every 60 s)
    all_sent(worker, 3)

    assert time.monotonic() - started < 30
    assert recipients(smtp_server) == MEMBERS
    assert succeeded(worker, "send_waiting") == 1  # the worker's catch-up on connecting queued them
    assert succeeded(worker, "deliver") == 1


def test_a_ballot_announced_to_many_while_the_broker_was_down_is_told_to_each_once_a_worker_is_back(
    mail_worker, smtp_server, scheduled, olga, settings, caplog
):
    settings.NOTIFICATION_ANNOUNCE_FROM = 2  # one announcement, not a row per member, as from 200 in production
    with broker_down("refused"):
        services.open_ballot(ballot=scheduled, acting_user=olga)
    assert "Could not queue announcement" in caplog.text
    assert not Notification.objects.filter(kind=Kind.BALLOT_OPENED).exists()

    worker = mail_worker()
    all_sent(worker, 3)

    assert recipients(smtp_server) == MEMBERS
    assert Announcement.objects.get().expanded_at is not None


def test_a_refusing_mail_server_is_tried_again_with_backoff_and_each_member_gets_one_mail(
    mail_worker, smtp_server, scheduled, olga
):
    worker = mail_worker()
    smtp_server.refuse(3)
    started = time.monotonic()

    services.open_ballot(ballot=scheduled, acting_user=olga)
    all_sent(worker, 3)

    assert smtp_server.refused == 3
    assert recipients(smtp_server) == MEMBERS
    retries = re.findall(r"notifications\.tasks\.deliver\[[^]]+\] retry: Retry in (\d+)s", worker.output())
    assert len(retries) == 3, worker.output()
    assert time.monotonic() - started < 30  # about 1 s, then up to 2 s, then up to 4 s (full jitter)
    assert sorted(Notification.objects.filter(kind=Kind.BALLOT_OPENED).values_list("attempts", flat=True)) == [1, 1, 4]


def test_a_worker_killed_mid_batch_loses_no_mail_and_sends_none_twice(mail_worker, smtp_server, scheduled, olga, group):
    """The mail server holds the 5th message of the batch unanswered until the worker is killed (SIGKILL), so
    that message is never accepted: 4 went out, 1 was in flight under a lease, 7 wait. The next worker takes over
    the lease once it has run out, and sends the rest."""
    members = [UserFactory(username=f"member{n}") for n in range(9)]
    for member in members:
        MembershipFactory(group=group, user=member)
    everyone = sorted(MEMBERS + [f"{m.username}@example.org" for m in members])
    worker = mail_worker()
    stalled = smtp_server.stall(5)
    try:
        services.open_ballot(ballot=scheduled, acting_user=olga)
        assert stalled.wait(DEADLINE), f"the 5th message never came:\n{worker.output()}"
        worker.process.kill()  # SIGKILL, in the middle of the 5th message of one batch of 12
        worker.process.wait(timeout=10)
    finally:
        smtp_server.release()

    assert len(smtp_server.messages) == 4
    deliveries = sorted(Notification.objects.filter(kind=Kind.BALLOT_OPENED).values_list("delivery", flat=True))
    assert deliveries == sorted([Delivery.SENT] * 4 + [Delivery.SENDING] + [Delivery.PENDING] * 7)
    in_flight = Notification.objects.get(delivery=Delivery.SENDING)
    with connection.cursor() as cursor:  # the database's clock: the lease runs out by it
        cursor.execute("SELECT now()")
        (now,) = cursor.fetchone()
    time.sleep(max(0.0, (in_flight.sending_since - now).total_seconds() + LEASE + 0.5))

    second = mail_worker()  # nothing queued again by hand
    all_sent(second, 12)

    assert recipients(smtp_server) == everyone  # each exactly once
    in_flight.refresh_from_db()
    assert (in_flight.delivery, in_flight.attempts) == (Delivery.SENT, 2)
