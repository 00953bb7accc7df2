"""Scheduled work of the votes app: thin, the service does the rest."""

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def apply_schedules() -> int:
    """Open and close the ballots whose time has come (run by Celery beat: config/celery.py); idempotent."""
    return len(services.apply_schedules())


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def remind_closing() -> int:
    """Remind the members with cells without a vote that a ballot closes soon (Celery beat); once each."""
    return services.remind_closing()
