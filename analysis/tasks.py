"""Celery tasks of the analysis: thin, take ids, safe to run twice."""

import logging

from celery import shared_task
from django.db import OperationalError, connection, transaction

from votes.models import Ballot

from . import services

logger = logging.getLogger(__name__)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5, acks_late=True)
def recompute_outcome(ballot_id: int) -> None:
    ballot = Ballot.objects.filter(pk=ballot_id).select_related("definition", "version").first()
    if ballot is not None:  # deleted meanwhile: nothing to do
        services.recompute(ballot)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5, acks_late=True)
def recompute_stale_outcomes() -> None:
    """Queued by each worker as it connects to the broker (config/celery.py): what changed while none listened."""
    services.recompute_stale()


class _Enqueue:
    """The on-commit callback that queues one ballot's recompute; equal per ballot, so queued once."""

    def __init__(self, ballot_id: int):
        self.ballot_id = ballot_id
        self.ran = False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Enqueue) and other.ballot_id == self.ballot_id

    def __hash__(self) -> int:
        return hash(self.ballot_id)

    def __call__(self) -> None:
        self.ran = True
        try:
            recompute_outcome.delay(self.ballot_id)
        except Exception:  # this runs after the commit: it may leave the outcome stale, never fail the change
            logger.exception("Could not queue the recompute of ballot %s; its outcome is stale", self.ballot_id)


def enqueue_recompute(ballot_id: int) -> None:
    """Queue a recompute when the current transaction commits; one per ballot per transaction."""
    callback = _Enqueue(ballot_id)
    # run_on_commit holds (savepoint ids, callback, robust) for the open transaction
    if any(queued == callback and not queued.ran for _, queued, _ in connection.run_on_commit):  # type: ignore[misc]  # stubs omit robust
        return
    transaction.on_commit(callback)
