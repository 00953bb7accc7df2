"""The workers' side of notifications: thin, take ids, safe to run twice."""

from smtplib import SMTPException

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(
    autoretry_for=(SMTPException, OSError, OperationalError),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=12,
    acks_late=True,
)
def deliver(ids: list[int]) -> int:
    """E-mail a batch of notifications, each at most once; a mail server that refuses is tried again later."""
    return services.send(ids)


@shared_task(acks_late=True)
def send_waiting() -> int:
    """Every minute (Celery beat): what waits with no worker on it — queued while the broker was down, or left
    by a worker killed mid-send — is handed to the workers again."""
    ids = services.waiting()
    services.queue(ids)
    return len(ids)


@shared_task(acks_late=True)
def send_digests() -> int:
    """Once a day (Celery beat): each person's digest of what they asked to get that way."""
    ids = services.gather_digests()
    services.queue(ids)
    return len(ids)
