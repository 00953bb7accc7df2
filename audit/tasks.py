"""Celery tasks of the audit log: thin, safe to run twice."""

from celery import shared_task
from django.db import OperationalError

from . import sequencer


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5, ignore_result=True)
def sequence_log() -> int:
    """Integrate every queued vote event: run by beat every second, behind the `sequence_log` command."""
    return sequencer.drain()
