"""The outbox: a notification commits with its change, is e-mailed once over real SMTP, as the person chose.

Tasks run in-process here (the embedded default); tests/notifications/test_workers.py runs a real worker.
"""

from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse

from notifications import services
from notifications.models import Announcement, Delivery, Kind, Mode, Notification, Preference
from tests.mail import html_of, text_of

MESSAGE = services.Message(
    kind=Kind.BALLOT_OPENED, key="ballot:1", subject="Voting opened", body="Vote on 0.0.9.", path="/d/osd/b/one/"
)


@pytest.fixture
def immediate(django_capture_on_commit_callbacks):
    """Run a change and its after-commit callbacks, as a request does."""

    def run(change):
        with django_capture_on_commit_callbacks(execute=True):
            return change()

    return run


def test_a_notification_is_e_mailed_once_in_plain_text_and_html_with_its_link(
    smtp_server, immediate, alice, bob, settings
):
    settings.SITE_URL = "https://plenary.example"
    immediate(lambda: services.notify([alice, bob], MESSAGE))

    [to_alice] = smtp_server.to("alice@example.org")
    assert to_alice["Subject"] == "[Plenary] Voting opened"
    assert "Hello Alice Chair," in text_of(to_alice)
    assert "https://plenary.example/d/osd/b/one/" in text_of(to_alice)
    assert '<a href="https://plenary.example/d/osd/b/one/">Voting opened</a>' in html_of(to_alice)
    assert len(smtp_server.messages) == 2
    assert set(Notification.objects.values_list("delivery", flat=True)) == {Delivery.SENT}


def test_the_same_thing_is_told_once_per_person(smtp_server, immediate, alice):
    immediate(lambda: services.notify([alice], MESSAGE))
    immediate(lambda: services.notify([alice, alice], MESSAGE))

    assert len(smtp_server.messages) == 1
    assert Notification.objects.count() == 1


def test_a_notification_rolls_back_with_its_change(smtp_server, alice):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.notify([alice], MESSAGE)
        raise RuntimeError("the change fails")

    assert not Notification.objects.exists()
    assert smtp_server.messages == []


def test_each_person_chooses_by_kind_and_the_digest_gathers_the_daily_ones(smtp_server, immediate, alice, bob):
    Preference.objects.create(user=alice, kind=Kind.BALLOT_OPENED, mode=Mode.DAILY)
    Preference.objects.create(user=bob, kind=Kind.BALLOT_OPENED, mode=Mode.OFF)
    immediate(lambda: services.notify([alice, bob], MESSAGE))
    second = services.Message(Kind.BALLOT_OPENED, "ballot:2", "Second ballot opened", "Vote again.", "/d/osd/b/two/")
    immediate(lambda: services.notify([alice], second))

    assert smtp_server.messages == []  # alice waits for her digest; bob reads it on the site
    assert Notification.objects.get(recipient=bob).delivery == Delivery.NOT_EMAILED

    immediate(lambda: services.queue(services.gather_digests()))

    [digest] = smtp_server.messages
    assert digest["To"] == "alice@example.org"
    assert digest["Subject"] == "[Plenary] 2 updates since your last digest"
    assert "* Voting opened" in text_of(digest) and "* Second ballot opened" in text_of(digest)
    assert set(
        Notification.objects.filter(recipient=alice).exclude(kind=Kind.DIGEST).values_list("delivery", flat=True)
    ) == {Delivery.DIGESTED}
    assert services.gather_digests() == []  # nothing waits any more


def test_one_click_unsubscribe_by_the_link_needs_no_sign_in(smtp_server, immediate, client, alice):
    immediate(lambda: services.notify([alice], MESSAGE))
    [mail] = smtp_server.messages
    link = mail["List-Unsubscribe"].strip().strip("<>")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in text_of(mail)

    response = client.post(link.removeprefix("http://127.0.0.1:8000"), {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert Preference.objects.get(user=alice, kind=Kind.BALLOT_OPENED).mode == Mode.OFF
    second = services.Message(Kind.BALLOT_OPENED, "ballot:2", "Second", "Again.", "/d/osd/b/two/")
    immediate(lambda: services.notify([alice], second))
    assert len(smtp_server.messages) == 1
    assert Notification.objects.get(key="ballot:2").delivery == Delivery.NOT_EMAILED


def test_a_forged_unsubscribe_link_is_refused(client, alice):
    assert client.post(reverse("notifications:unsubscribe", args=["e30:forged:sig"])).status_code == 404


def test_a_refusing_mail_server_leaves_the_notification_pending_for_the_retry(smtp_server, alice):
    [notification] = services.notify([alice], MESSAGE)
    smtp_server.refuse(1)

    with pytest.raises(Exception, match="451"):
        services.send([notification.pk])
    notification.refresh_from_db()
    assert (notification.delivery, notification.attempts, "451" in notification.last_error) == (
        Delivery.PENDING,
        1,
        True,
    )

    assert services.send([notification.pk]) == 1
    assert services.send([notification.pk]) == 0  # sent: a retry sends nothing more
    assert len(smtp_server.messages) == 1


def test_a_lease_run_out_is_taken_over_and_a_live_one_is_not(smtp_server, alice, settings):
    [notification] = services.notify([alice], MESSAGE)
    Notification.objects.filter(pk=notification.pk).update(delivery=Delivery.SENDING, sending_since="2020-01-01T00:00Z")
    assert services.waiting() == [notification.pk]  # a worker died holding it

    assert services.send([notification.pk]) == 1
    Notification.objects.filter(pk=notification.pk).update(delivery=Delivery.SENDING, sending_since="2999-01-01T00:00Z")
    assert services.send([notification.pk]) == 0  # another worker is on it
    assert len(smtp_server.messages) == 1


def test_the_inbox_shows_each_notification_and_how_it_was_delivered(client, immediate, smtp_server, alice):
    immediate(lambda: services.notify([alice], MESSAGE))
    client.force_login(alice)

    page = client.get(reverse("notifications:inbox"))

    assert "Voting opened" in page.content.decode() and "E-mailed" in page.content.decode()
    assert client.get(reverse("notifications:unread")).content.decode().count('aria-label="1 unread"') == 1
    [notification] = Notification.objects.all()
    client.post(reverse("notifications:read", args=[notification.pk]), headers={"HX-Request": "true"})
    assert 'aria-label="1 unread"' not in client.get(reverse("notifications:unread")).content.decode()


def test_a_message_to_many_is_one_row_in_the_change_and_each_is_told_once_after(
    smtp_server, immediate, alice, bob, carol, dave, settings
):
    settings.NOTIFICATION_ANNOUNCE_FROM = 2  # from two recipients on, as from 200 in production
    people = [alice.pk, bob.pk, carol.pk, dave.pk]

    with transaction.atomic():
        services.announce(people, MESSAGE)
        assert Announcement.objects.count() == 1 and not Notification.objects.exists()  # nothing per person yet

    [announcement] = Announcement.objects.all()
    assert services.expand_waiting(older_than=timedelta(0)) == 4  # as the sweep does once the broker is back
    assert services.expand(announcement.pk) == 0  # expanded: a second worker writes nothing
    immediate(lambda: services.queue(services.waiting(older_than=timedelta(0))))
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(
        f"{u}@example.org" for u in ("alice", "bob", "carol", "dave")
    )

    immediate(lambda: services.announce(people, MESSAGE))  # the same message again: nobody is told twice
    assert len(smtp_server.messages) == 4
