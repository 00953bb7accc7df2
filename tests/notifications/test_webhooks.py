"""Webhooks: an organizer registers an address, and a real HTTP server on 127.0.0.1 (tests/notifications/receiver.py)
gets each event, signed, checking the signature as docs/webhooks.md tells a receiver to.

The receiver is local, so these tests allow private addresses (`WEBHOOK_ALLOW_PRIVATE`) except where they check
that such an address is refused. Time is driven forward by sending a delivery at its stored next attempt.
"""

import json
import re
import time

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analysis import decisions
from analysis import services as analysis
from audit.models import AuditEvent
from deliberation import services as deliberation
from notifications import egress, webhooks
from notifications.models import (
    WEBHOOK_ATTEMPTS,
    WEBHOOK_RETRY_AFTER,
    WEBHOOKS_PER_DEFINITION,
    Event,
    Webhook,
    WebhookDelivery,
)
from tests.analysis.test_recompute import DEADLINE, POSTGRESQL, SHARES_THE_DATABASE, start_worker  # noqa: F401
from tests.client import assert_sent_to_login, text
from votes import services as votes
from votes.models import Ballot

from . import receiver as receivers

ALL = list(Event.values)
SEALED_RATIONALE = "A sealed rationale nobody may read before the close"


@pytest.fixture
def receiver():
    server, receiver = receivers.start()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def local(settings):
    """The receiver is on 127.0.0.1: allowed here, as a site whose receivers share its network would allow it."""
    settings.WEBHOOK_ALLOW_PRIVATE = True


def add(definition, receiver, olga, events=ALL) -> Webhook:
    return webhooks.add_webhook(definition=definition, url=receiver.url, events=events, acting_user=olga)


def delivery_of(webhook: Webhook, event: str) -> WebhookDelivery:
    return WebhookDelivery.objects.get(webhook=webhook, event=event)


# Delivered, signed --------------------------------------------------------------------------------------------


def test_a_ballot_closing_is_posted_to_the_webhook_signed_with_its_secret(
    client, local, receiver, ballot, cast, bob, olga, django_capture_on_commit_callbacks
):
    client.force_login(olga)
    page = client.post(
        reverse("deliberation:webhook-create", args=["osd"]),
        {"url": receiver.url, "events": ["ballot.closed"], "active": "on"},
    )
    assert page.status_code == 200
    secret = re.search(r'value="(whsec_[^"]+)"', page.content.decode()).group(1)  # shown this once
    cast(bob, rationale="Nobody studies a model without its code.")

    with django_capture_on_commit_callbacks(execute=True):
        votes.close_ballot(ballot=ballot, acting_user=olga)

    [post] = receiver.received
    assert post.path == "/hooks/plenary?token=receivers-own"
    assert post.signed_with(secret)
    assert not post.signed_with(secret + "x")
    assert post.headers["Plenary-Event"] == "ballot.closed"
    body = post.json
    assert body["type"] == "ballot.closed" and body["id"] == post.headers["Plenary-Event-Id"]
    assert body["definition"]["slug"] == "osd"
    assert body["data"]["ballot"]["key"] == "components"
    assert body["data"]["ballot"]["status"] == "closed"
    assert body["data"]["ballot"]["votes"] == 1
    assert body["data"]["ballot"]["tally_url"].endswith("/d/osd/ballots/components/tally.zip")
    assert "Nobody studies" not in post.body.decode()  # a vote's details are the bundle's to give, not the hook's
    delivery = Webhook.objects.get().deliveries.get()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    [attempt] = delivery.attempt_log.all()
    assert attempt.status_code == 200 and attempt.response == "thanks"


def test_a_signature_older_than_five_minutes_is_refused_by_the_documented_check(local, receiver, ballot, olga):
    hook = add(ballot.definition, receiver, olga)
    body = b'{"id":"x"}'
    old = int(time.time()) - 301
    header = webhooks.sign(hook.secret, old, body)

    assert receivers.verify(hook.secret, body, header, now=old)
    assert not receivers.verify(hook.secret, body, header)


def test_each_event_is_told_with_what_is_public_of_it(
    local, receiver, published, draft, olga, bob, group, other_group, django_capture_on_commit_callbacks
):
    add(published.definition, receiver, olga)
    sealed = votes.create_ballot(
        version=published,
        key="sealed",
        title="Sealed vote",
        groups=[group, other_group],
        criteria=[("use", "Use")],
        choices=[{"key": "required", "label": "Required", "value": 1}],
        results_visibility=Ballot.Visibility.AFTER_CLOSE,
        acting_user=olga,
    )
    deliberation.update_draft(version=draft, label="0.0.10", body="Unpublished wording", acting_user=olga)
    with django_capture_on_commit_callbacks(execute=True):
        sealed = votes.open_ballot(ballot=sealed, acting_user=olga)
    with django_capture_on_commit_callbacks(execute=True):
        votes.cast_vote(
            ballot=sealed,
            voter=bob,
            component=published.components.get(key="code"),
            criterion=sealed.criteria.get(),
            choice=sealed.choices.get(),
            rationale=SEALED_RATIONALE,
        )
    assert [r.json["type"] for r in receiver.received] == ["ballot.opened"]  # a vote is not an event

    with django_capture_on_commit_callbacks(execute=True):
        sealed = votes.close_ballot(ballot=sealed, acting_user=olga)
    analysis.compute_run(sealed)
    with django_capture_on_commit_callbacks(execute=True):
        decisions.record_decision(
            ballot=sealed,
            component=published.components.get(key="code"),
            outcome="Yes",
            statement="Code is required.",
            acting_user=olga,
        )
    with django_capture_on_commit_callbacks(execute=True):
        deliberation.publish_version(version=draft, release_notes="Second.", acting_user=olga)

    kinds = [r.json["type"] for r in receiver.received]
    assert kinds == ["ballot.opened", "ballot.closed", "decision.recorded", "release.published"]
    opened, closed, decided, released = (r.json["data"] for r in receiver.received)
    assert opened["ballot"]["status"] == "open" and "votes" not in opened["ballot"]
    assert closed["ballot"]["votes"] == 1
    assert decided["decision"]["outcome"] == "Yes" and decided["decision"]["recorded_by"] == "olga"
    assert released["release"]["label"] == "0.0.10" and released["release"]["release_notes"] == "Second."
    everything = b"".join(r.body for r in receiver.received).decode()
    assert SEALED_RATIONALE not in everything


def test_a_draft_in_progress_is_told_of_to_nobody(local, receiver, draft, olga, django_capture_on_commit_callbacks):
    add(draft.definition, receiver, olga)
    with django_capture_on_commit_callbacks(execute=True):
        deliberation.update_draft(version=draft, label="0.0.10", body="Unpublished wording", acting_user=olga)
    assert receiver.received == []
    assert not WebhookDelivery.objects.exists()


def test_a_webhook_is_told_only_the_events_it_wants_and_nothing_while_off(
    local, receiver, scheduled, olga, django_capture_on_commit_callbacks
):
    hook = add(scheduled.definition, receiver, olga, events=["ballot.closed"])
    off = add(scheduled.definition, receiver, olga)
    webhooks.change_webhook(webhook=off, url=off.url, events=ALL, active=False, acting_user=olga)
    with django_capture_on_commit_callbacks(execute=True):
        ballot = votes.open_ballot(ballot=scheduled, acting_user=olga)
    assert receiver.received == []
    with django_capture_on_commit_callbacks(execute=True):
        votes.close_ballot(ballot=ballot, acting_user=olga)
    assert [r.json["type"] for r in receiver.received] == ["ballot.closed"]
    assert list(WebhookDelivery.objects.values_list("webhook", flat=True)) == [hook.pk]


# Retried, failed, redelivered ---------------------------------------------------------------------------------


def test_a_receiver_answering_500_is_tried_again_at_the_stored_time_and_then_delivered(
    local, receiver, scheduled, olga, django_capture_on_commit_callbacks
):
    hook = add(scheduled.definition, receiver, olga)
    receiver.answers = [500]
    with django_capture_on_commit_callbacks(execute=True):
        votes.open_ballot(ballot=scheduled, acting_user=olga)

    delivery = delivery_of(hook, "ballot.opened")
    assert delivery.status == WebhookDelivery.Status.PENDING and delivery.attempts == 1
    first = delivery.attempt_log.get()
    assert first.status_code == 500 and len(first.response) == 2_000  # the answer kept, truncated
    assert delivery.next_attempt_at - first.at == WEBHOOK_RETRY_AFTER[0]
    assert webhooks.send(delivery.pk) is None  # not due yet: nothing sent
    assert len(receiver.received) == 1

    webhooks.send(delivery.pk, now=delivery.next_attempt_at)

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED and delivery.attempts == 2
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 200]
    one, two = receiver.received
    assert one.headers["Plenary-Delivery"] == two.headers["Plenary-Delivery"] == str(delivery.delivery_id)
    assert one.body == two.body and two.signed_with(hook.secret)


def test_after_the_last_retry_the_delivery_fails_and_the_organizer_redelivers_it(
    client, local, receiver, scheduled, olga, django_capture_on_commit_callbacks
):
    hook = add(scheduled.definition, receiver, olga)
    receiver.answers = [503] * WEBHOOK_ATTEMPTS
    with django_capture_on_commit_callbacks(execute=True):
        votes.open_ballot(ballot=scheduled, acting_user=olga)
    delivery = delivery_of(hook, "ballot.opened")
    waits = []
    while delivery.status == WebhookDelivery.Status.PENDING:
        previous = delivery.attempt_log.last().at
        waits.append(delivery.next_attempt_at - previous)
        webhooks.send(delivery.pk, now=delivery.next_attempt_at)
        delivery.refresh_from_db()
    assert waits == list(WEBHOOK_RETRY_AFTER)  # 1 min, 5 min, 30 min, 2 h, 12 h
    assert delivery.status == WebhookDelivery.Status.FAILED and delivery.attempts == WEBHOOK_ATTEMPTS

    client.force_login(olga)
    page = client.get(reverse("deliberation:webhook", args=["osd", hook.pk]))
    assert "Failed: no more attempts" in text(page) and "Redeliver" in text(page)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse("deliberation:webhook-redeliver", args=["osd", hook.pk, delivery.pk]))

    again = WebhookDelivery.objects.exclude(pk=delivery.pk).get()
    assert answer.status_code == 302
    assert again.status == WebhookDelivery.Status.DELIVERED and again.requested_by == olga
    assert again.event_id == delivery.event_id and again.body == delivery.body
    assert receiver.received[-1].headers["Plenary-Delivery"] == str(again.delivery_id)
    assert len(receiver.received) == WEBHOOK_ATTEMPTS + 1


def test_the_send_command_sends_what_is_due(local, receiver, scheduled, olga, capsys):
    hook = add(scheduled.definition, receiver, olga)
    votes.open_ballot(ballot=scheduled, acting_user=olga)  # committed with no worker: the delivery waits
    call_command("send_webhooks", "--dry-run")
    assert "due: delivery" in capsys.readouterr().out and receiver.received == []

    call_command("send_webhooks")

    assert "ballot.opened): delivered" in capsys.readouterr().out
    assert delivery_of(hook, "ballot.opened").status == WebhookDelivery.Status.DELIVERED


def test_a_redirect_is_not_followed(local, receiver, scheduled, olga, django_capture_on_commit_callbacks):
    hook = add(scheduled.definition, receiver, olga)
    receiver.answers = [307]
    receiver.headers = {"Location": f"http://127.0.0.1:{receiver.port}/elsewhere"}  # followed, it would POST again
    with django_capture_on_commit_callbacks(execute=True):
        votes.open_ballot(ballot=scheduled, acting_user=olga)
    delivery = delivery_of(hook, "ballot.opened")
    assert delivery.attempt_log.get().status_code == 307
    assert delivery.status == WebhookDelivery.Status.PENDING  # not delivered: tried again later
    assert len(receiver.received) == 1


# Refused -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/",
        "http://localhost/hook",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/",
        "http://192.168.1.1/",
        "http://0.0.0.0/",
        "ftp://example.org/",
        "file:///etc/passwd",
        "https://user:pass@example.org/",
        "https://example.org/" + "x" * 500,
    ],
)
def test_an_address_plenary_may_not_call_is_refused_and_nothing_is_written(url, definition, olga, nothing_written):
    with nothing_written(), pytest.raises(ValidationError):
        webhooks.add_webhook(definition=definition, url=url, events=ALL, acting_user=olga)


def test_a_private_address_is_refused_on_the_page_and_again_at_send_time(
    client, settings, receiver, scheduled, olga, django_capture_on_commit_callbacks
):
    client.force_login(olga)
    page = client.post(reverse("deliberation:webhook-create", args=["osd"]), {"url": receiver.url, "events": ALL})
    assert page.status_code == 200 and "not a public address" in text(page)
    assert not Webhook.objects.exists()

    settings.WEBHOOK_ALLOW_PRIVATE = True  # saved while allowed (or while its name resolved to a public address)
    hook = add(scheduled.definition, receiver, olga)
    settings.WEBHOOK_ALLOW_PRIVATE = False
    with django_capture_on_commit_callbacks(execute=True):
        votes.open_ballot(ballot=scheduled, acting_user=olga)

    assert receiver.received == []
    attempt = delivery_of(hook, "ballot.opened").attempt_log.get()
    assert attempt.status_code is None and "not a public address" in attempt.error


def test_a_definition_has_at_most_its_limit_of_webhooks(local, receiver, definition, olga):
    for _ in range(WEBHOOKS_PER_DEFINITION):
        add(definition, receiver, olga)
    with pytest.raises(ValidationError, match="at most"):
        add(definition, receiver, olga)
    assert Webhook.objects.count() == WEBHOOKS_PER_DEFINITION


def test_egress_reads_no_more_than_its_cap_of_an_endless_answer(local):
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def endless() -> None:
        connection, _ = listener.accept()
        connection.recv(65536)
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
        try:
            while True:
                connection.sendall(b"x" * 65536)
        except OSError:
            connection.close()

    threading.Thread(target=endless, daemon=True).start()
    answer = egress.post(f"http://127.0.0.1:{listener.getsockname()[1]}/", b"{}", {})
    listener.close()
    assert answer.status == 200 and len(answer.text) == 2_000
    assert answer.duration_ms < 5_000


# Who sees what -----------------------------------------------------------------------------------------------


def test_carol_and_oscar_can_neither_see_nor_manage_the_webhooks(
    client, local, receiver, definition, olga, carol, oscar
):
    hook = add(definition, receiver, olga)
    for outsider in (carol, oscar):
        client.force_login(outsider)
        assert client.get(reverse("deliberation:webhook-list", args=["osd"])).status_code == 403
        assert client.get(reverse("deliberation:webhook", args=["osd", hook.pk])).status_code == 404
        assert client.post(reverse("deliberation:webhook-delete", args=["osd", hook.pk])).status_code == 404
        assert client.post(reverse("deliberation:webhook-rotate", args=["osd", hook.pk])).status_code == 404
    client.logout()
    path = reverse("deliberation:webhook-list", args=["osd"])
    assert_sent_to_login(client.get(path), path)
    hook.refresh_from_db()
    assert Webhook.objects.count() == 1 and hook.secret == Webhook.objects.get().secret


def test_the_secret_is_shown_once_and_never_in_a_page_or_the_audit_log(client, local, receiver, definition, olga):
    client.force_login(olga)
    created = client.post(
        reverse("deliberation:webhook-create", args=["osd"]), {"url": receiver.url, "events": ALL, "active": "on"}
    )
    hook = Webhook.objects.get()
    assert hook.secret in created.content.decode()
    assert created["Cache-Control"].startswith("max-age=0")
    rotated = client.post(reverse("deliberation:webhook-rotate", args=["osd", hook.pk]))
    old, hook = hook.secret, Webhook.objects.get()
    assert hook.secret != old and hook.secret in rotated.content.decode()
    client.post(
        reverse("deliberation:webhook", args=["osd", hook.pk]), {"url": receiver.url, "events": ["ballot.closed"]}
    )

    for name in ("webhook-list", "webhook"):
        args = ["osd"] if name == "webhook-list" else ["osd", hook.pk]
        shown = client.get(reverse(f"deliberation:{name}", args=args)).content.decode()
        assert hook.secret not in shown and old not in shown
    events = list(AuditEvent.objects.filter(stream="definition:osd", action__startswith="webhook."))
    assert [e.action for e in events] == ["webhook.added", "webhook.secret_rotated", "webhook.changed"]
    assert events[-1].payload == {
        "webhook": hook.pk,
        "host": "127.0.0.1",
        "events": ["ballot.closed"],
        "active": False,
        "changed": ["events", "active"],
    }
    logged = json.dumps([e.payload for e in events])
    assert hook.secret not in logged and old not in logged and "receivers-own" not in logged  # nor the address


def test_removing_a_webhook_is_recorded_and_takes_its_log(client, local, receiver, scheduled, olga):
    hook = add(scheduled.definition, receiver, olga)
    votes.open_ballot(ballot=scheduled, acting_user=olga)
    client.force_login(olga)
    answer = client.post(reverse("deliberation:webhook-delete", args=["osd", hook.pk]))
    assert answer.status_code == 302
    assert not Webhook.objects.exists() and not WebhookDelivery.objects.exists()
    assert AuditEvent.objects.filter(action="webhook.removed").get().payload["host"] == "127.0.0.1"


# Through a real worker ---------------------------------------------------------------------------------------


@pytest.mark.skipif(not POSTGRESQL, reason=SHARES_THE_DATABASE)
@pytest.mark.django_db(transaction=True)
def test_a_worker_process_delivers_a_closed_ballot_through_redis(start_worker, monkeypatch, receiver, ballot, olga):  # noqa: F811
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("CELERY_TASK_DEFAULT_QUEUE", start_worker.queue)
    with monkeypatch.context() as allowed:
        from django.conf import settings

        allowed.setattr(settings, "WEBHOOK_ALLOW_PRIVATE", True)
        hook = add(ballot.definition, receiver, olga)
    worker = start_worker()

    votes.close_ballot(ballot=ballot, acting_user=olga)

    deadline = time.monotonic() + DEADLINE
    while not receiver.received or delivery_of(hook, "ballot.closed").status != WebhookDelivery.Status.DELIVERED:
        assert worker.process.poll() is None, f"the worker died:\n{worker.output()}"
        assert time.monotonic() < deadline, f"not delivered:\n{worker.output()}"
        time.sleep(0.05)
    [post] = receiver.received
    assert post.signed_with(hook.secret) and post.json["type"] == "ballot.closed"
    assert "notifications.tasks.deliver_webhook" in worker.output()


def test_an_https_receiver_whose_certificate_is_not_trusted_is_not_sent_to(local, tmp_path):
    """TLS is verified against the host name even though the connection goes to the address checked."""
    import ssl
    import subprocess

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"]
        + ["-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    server, receiver = receivers.start()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    try:
        answer = egress.post(f"https://localhost:{receiver.port}/", b"{}", {})
    finally:
        server.shutdown()
        server.server_close()
    assert answer.status is None and "CERTIFICATE_VERIFY_FAILED" in answer.error
    assert receiver.received == []


def test_the_delivery_log_reads_in_the_same_queries_however_long(client, local, receiver, definition, olga):
    hook = add(definition, receiver, olga)
    client.force_login(olga)
    path = reverse("deliberation:webhook", args=["osd", hook.pk])

    def queries_with(deliveries: int) -> int:
        for _ in range(deliveries):
            webhooks.emit(definition, Event.BALLOT_OPENED, {"ballot": None})
        for pk in webhooks.due():
            webhooks.send(pk)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    assert queries_with(2) == queries_with(5)
