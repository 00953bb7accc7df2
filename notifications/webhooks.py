"""Webhooks: a definition's organizers register addresses, and Plenary POSTs them its events, signed.

Registering, changing, rotating the secret of and removing a webhook are the organizers' changes to how the
definition is run, so each is an event of the definition's public audit log, like adding an organizer; the event
names the webhook's host and events, never its address (whose path may carry the receiver's own token) nor its
secret. Redelivering is not: it changes nothing of the definition, and the delivery log says who asked.

`emit` is called by the other apps' services inside the transaction of the change it tells of, with what is
public of it: a delivery per webhook that wants the event is written there (the outbox), and handed to a worker
when the transaction commits (`tasks.deliver_webhook`). `send` makes one attempt: the worker claims the delivery
by moving its next attempt a lease ahead (a worker killed mid-send leaves it due again once the lease runs out),
POSTs it (`egress.post`), logs the attempt, and either marks it delivered or sets the next attempt after
`WEBHOOK_RETRY_AFTER`, until it has failed. Beat's sweep (`tasks.send_due_webhooks`) and, embedded, the
`send_webhooks` command send what is due again. A receiver may so get an event twice (a worker killed between its
answer and our commit): it tells them apart by `Plenary-Delivery`, the same on every attempt.
"""

import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import record
from plenary_tally.vocabulary import Action

from . import egress
from .models import (
    WEBHOOK_ATTEMPTS,
    WEBHOOK_RETRY_AFTER,
    WEBHOOKS_PER_DEFINITION,
    Event,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "Plenary-Signature"
LEASE = timedelta(minutes=2)  # longer than any one POST may take (WEBHOOK_CONNECT_TIMEOUT + WEBHOOK_READ_TIMEOUT)
SECRET_PREFIX = "whsec_"


def _require_organizer(definition, user: "User") -> None:
    if not definition.is_organizer(user):
        raise PermissionDenied("Only the definition's organizers manage its webhooks.")


def _check_events(events: Iterable[str]) -> list[str]:
    chosen = sorted(set(events))
    if not chosen:
        raise ValidationError("Choose at least one event to be told of.")
    unknown = [e for e in chosen if e not in Event.values]
    if unknown:
        raise ValidationError(f"Unknown events: {', '.join(unknown)}.")
    return chosen


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


# The organizers' side --------------------------------------------------------------------------------------------


@transaction.atomic
def add_webhook(*, definition, url: str, events: Iterable[str], active: bool = True, acting_user: "User") -> Webhook:
    """Register a webhook. Its secret is on the returned object, for the page to show this once."""
    _require_organizer(definition, acting_user)
    url, chosen = egress.check_url(url), _check_events(events)
    definition = type(definition).objects.select_for_update().get(pk=definition.pk)  # the limit, one at a time
    if Webhook.objects.filter(definition=definition).count() >= WEBHOOKS_PER_DEFINITION:
        raise ValidationError(f"A definition can have at most {WEBHOOKS_PER_DEFINITION} webhooks; remove one first.")
    webhook = Webhook.objects.create(
        definition=definition, url=url, events=chosen, active=active, secret=new_secret(), created_by=acting_user
    )
    record(
        stream=definition.audit_stream,
        actor=acting_user,
        action=Action.WEBHOOK_ADDED,
        subject=webhook,
        payload=webhook.as_recorded(),
    )
    return webhook


@transaction.atomic
def change_webhook(*, webhook: Webhook, url: str, events: Iterable[str], active: bool, acting_user: "User") -> Webhook:
    """Change where a webhook POSTs, what it is told of, or whether it is on; its secret stays."""
    webhook = Webhook.objects.select_for_update().select_related("definition").get(pk=webhook.pk)
    _require_organizer(webhook.definition, acting_user)
    url, chosen = egress.check_url(url), _check_events(events)
    before = {"url": webhook.url, "events": webhook.events, "active": webhook.active}
    after = {"url": url, "events": chosen, "active": active}
    changed = [name for name in before if before[name] != after[name]]  # named, not shown: the address is private
    if not changed:
        raise ValidationError("Nothing changed.")
    webhook.url, webhook.events, webhook.active = url, chosen, active
    webhook.save(update_fields=["url", "events", "active"])
    record(
        stream=webhook.definition.audit_stream,
        actor=acting_user,
        action=Action.WEBHOOK_CHANGED,
        subject=webhook,
        payload=webhook.as_recorded() | {"changed": changed},
    )
    return webhook


@transaction.atomic
def rotate_webhook_secret(*, webhook: Webhook, acting_user: "User") -> Webhook:
    """A new secret, at once: every delivery from now on, retries included, is signed with it."""
    webhook = Webhook.objects.select_for_update().select_related("definition").get(pk=webhook.pk)
    _require_organizer(webhook.definition, acting_user)
    webhook.secret, webhook.secret_rotated_at = new_secret(), timezone.now()
    webhook.save(update_fields=["secret", "secret_rotated_at"])
    record(
        stream=webhook.definition.audit_stream,
        actor=acting_user,
        action=Action.WEBHOOK_SECRET_ROTATED,
        subject=webhook,
        payload=webhook.as_recorded(),
    )
    return webhook


@transaction.atomic
def remove_webhook(*, webhook: Webhook, acting_user: "User") -> None:
    """Remove a webhook, with its delivery log; deliveries not yet sent are never sent."""
    webhook = Webhook.objects.select_for_update().select_related("definition").get(pk=webhook.pk)
    _require_organizer(webhook.definition, acting_user)
    record(
        stream=webhook.definition.audit_stream,
        actor=acting_user,
        action=Action.WEBHOOK_REMOVED,
        subject=webhook,
        payload=webhook.as_recorded(),
    )
    webhook.delete()


@transaction.atomic
def redeliver(*, delivery: WebhookDelivery, acting_user: "User") -> WebhookDelivery:
    """Send a failed delivery's event again, as a new delivery with the same event id and body."""
    delivery = WebhookDelivery.objects.select_related("webhook__definition").get(pk=delivery.pk)
    webhook = delivery.webhook
    _require_organizer(webhook.definition, acting_user)
    if delivery.status != WebhookDelivery.Status.FAILED:
        raise ValidationError("Only a delivery that failed is redelivered; this one is " + delivery.status + ".")
    if not webhook.active:
        raise ValidationError("This webhook is turned off; turn it on to redeliver.")
    again = WebhookDelivery.objects.create(
        webhook=webhook,
        event=delivery.event,
        event_id=delivery.event_id,
        delivery_id=uuid.uuid4(),
        body=delivery.body,
        next_attempt_at=timezone.now(),
        redelivery_of=delivery,
        requested_by=acting_user,
    )
    transaction.on_commit(lambda: queue([again.pk]))
    return again


# Telling of an event (from the other apps' services) -------------------------------------------------------------


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def emit(definition, event: Event, data: dict) -> list[WebhookDelivery]:
    """Queue `event` for every active webhook of `definition` that wants it, in the current transaction.

    `data` is what is public of the change (the caller's to say: a sealed ballot's votes, a draft in progress and
    a hidden comment are never in it). The body is written once here and sent as it is on every attempt."""
    wanting = [w for w in Webhook.objects.filter(definition=definition).active() if w.wants(event)]
    if not wanting:
        return []
    event_id, now = uuid.uuid4(), timezone.now()
    body = _json(
        {
            "id": str(event_id),
            "type": str(event),
            "created_at": now.isoformat(),
            "definition": {
                "slug": definition.slug,
                "title": definition.title,
                "url": absolute(definition.get_absolute_url()),
            },
            "data": data,
        }
    )
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            webhook=w, event=event, event_id=event_id, delivery_id=uuid.uuid4(), body=body, next_attempt_at=now
        )
        for w in wanting
    )
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: queue(ids))
    return deliveries


def queue(ids: list[int]) -> None:
    """Hand deliveries to the workers; with no broker they wait for the sweep (`send_due_webhooks`)."""
    from .tasks import deliver_webhook

    for pk in ids:
        try:
            deliver_webhook.delay(pk)
        except Exception:  # after the commit: the delivery stays due, and the sweep sends it
            logger.exception("Could not queue webhook delivery %s; the next sweep sends it", pk)
            return


def due(now=None) -> list[int]:
    return list(WebhookDelivery.objects.due(now).order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:1000])


# Sending ---------------------------------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the secret>`,
    the scheme of Stripe's webhooks (docs/webhooks.md shows how a receiver checks it)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def headers(delivery: WebhookDelivery, secret: str, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": f"Plenary-Webhooks/1 (+{settings.SITE_URL})",
        "Plenary-Event": delivery.event,
        "Plenary-Event-Id": str(delivery.event_id),
        "Plenary-Delivery": str(delivery.delivery_id),
        SIGNATURE_HEADER: sign(secret, timestamp, delivery.body.encode()),
    }


def _claim(pk: int, now) -> WebhookDelivery | None:
    """Take a due delivery for this worker: its next attempt moved a lease ahead, its attempt counted."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.due(now)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("webhook")
            .filter(pk=pk)
            .first()
        )
        if delivery is None:
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = now + LEASE
        delivery.save(update_fields=["attempts", "next_attempt_at"])
    return delivery


def send(pk: int, now=None) -> WebhookDelivery | None:
    """One attempt of a due delivery (None if it is not due, or another worker holds it), logged."""
    now = now or timezone.now()
    delivery = _claim(pk, now)
    if delivery is None:
        return None
    webhook = delivery.webhook
    if not webhook.active:
        answer = egress.Answer(None, "", "Not sent: the webhook was turned off.", 0)
    else:
        body = delivery.body.encode()
        answer = egress.post(webhook.url, body, headers(delivery, webhook.secret, int(time.time())))
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            at=now,
            duration_ms=answer.duration_ms,
            status_code=answer.status,
            error=answer.error,
            response=answer.text,
        )
        if answer.status is not None and 200 <= answer.status < 300:
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = delivery.Status.DELIVERED, now, None
        elif delivery.attempts >= WEBHOOK_ATTEMPTS or not webhook.active:
            delivery.status, delivery.next_attempt_at = delivery.Status.FAILED, None
        else:
            delivery.next_attempt_at = now + WEBHOOK_RETRY_AFTER[delivery.attempts - 1]
        delivery.save(update_fields=["status", "delivered_at", "next_attempt_at"])
    return delivery
