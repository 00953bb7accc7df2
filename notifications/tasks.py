"""The workers' side of notifications: thin, take ids, safe to run twice."""

from datetime import timedelta
from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from . import services, webhooks


@shared_task(
    autoretry_for=(SMTPException, OSError, OperationalError),
    retry_backoff=settings.NOTIFICATION_RETRY_BACKOFF_SECONDS,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=12,
    acks_late=True,
)
def deliver(ids: list[int]) -> int:
    """E-mail a batch of notifications, each at most once; a mail server that refuses is tried again later."""
    return services.send(ids)


@shared_task(acks_late=True)
def send_waiting(older_than_seconds: float = 30) -> int:
    """Every minute (Celery beat): what waits with no worker on it — queued while the broker was down, or left
    by a worker killed mid-send — is handed to the workers again. A worker that connects to the broker asks for
    it at once, however recent (`older_than_seconds=0`, `config.celery.CatchUpOnConnect`): a notification queued
    twice is still sent once."""
    services.expand_waiting(older_than=timedelta(seconds=older_than_seconds))  # their e-mails queue as they commit
    ids = services.waiting(older_than=timedelta(seconds=older_than_seconds))
    services.queue(ids)
    return len(ids)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5, acks_late=True)
def expand_announcement(pk: int) -> int:
    """Write each recipient's notification of a message to many (`services.expand`); safe to run twice."""
    return services.expand(pk)


@shared_task(acks_late=True)
def send_digests() -> int:
    """Once a day (Celery beat): each person's digest of what they asked to get that way."""
    ids = services.gather_digests()
    services.queue(ids)
    return len(ids)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5, acks_late=True)
def deliver_webhook(delivery_id: int) -> bool:
    """One attempt of a webhook delivery (`webhooks.send`); the next, if it fails, waits in the database for the
    sweep, so that a worker restart loses no retry. Safe to run twice: a delivery not due is left alone."""
    return webhooks.send(delivery_id) is not None


@shared_task(acks_late=True)
def send_due_webhooks() -> int:
    """Every 30 s (Celery beat): the webhook deliveries whose next attempt is due, handed to the workers."""
    ids = webhooks.due()
    webhooks.queue(ids)
    return len(ids)
