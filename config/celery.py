"""The Celery application, as the official Django recipe has it, and the catch-up a worker queues on connecting."""

import logging
import os

from celery import Celery, bootsteps
from celery.schedules import crontab
from kombu.exceptions import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger(__name__)

app = Celery("plenary", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Celery beat (the `beat` service in docker-compose.yml): ballots open and close by themselves at their times.
app.conf.beat_schedule = {
    "apply-ballot-schedules": {"task": "votes.tasks.apply_schedules", "schedule": 15.0},
    "remind-ballots-closing": {"task": "votes.tasks.remind_closing", "schedule": 60.0},
    "send-waiting-notifications": {"task": "notifications.tasks.send_waiting", "schedule": 60.0},
    "send-due-webhooks": {"task": "notifications.tasks.send_due_webhooks", "schedule": 30.0},  # retries, the swept
    "sequence-audit-log": {"task": "audit.tasks.sequence_log", "schedule": 1.0},  # beside the `sequencer` service
    "send-daily-digests": {"task": "notifications.tasks.send_digests", "schedule": crontab(hour=7, minute=0)},
}


class CatchUpOnConnect(bootsteps.StartStopStep):
    """Each time a worker connects to the broker, on start and again after losing it, it queues a recompute of
    every stale outcome: the votes cast while the broker or every worker was down are counted once one is back.
    And the notifications that wait for a worker (queued while the broker was down, or left by a killed worker
    whose lease ran out) are sent, without waiting for beat's next sweep.

    Not `worker_ready`, which fires once per worker process, not when a running worker gets its broker back.
    """

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def start(self, consumer) -> None:
        queue = consumer.task_consumer.queues[0].name  # one this worker reads, so that it runs here or on a peer
        try:
            consumer.app.send_task("analysis.tasks.recompute_stale_outcomes", queue=queue)
        except (OperationalError, OSError):  # lost again already: the next connection queues it
            logger.exception("Could not queue the recompute of stale outcomes")
        try:
            consumer.app.send_task("notifications.tasks.send_waiting", kwargs={"older_than_seconds": 0}, queue=queue)
        except (OperationalError, OSError):
            logger.exception("Could not queue the notifications waiting to be sent")


app.steps["consumer"].add(CatchUpOnConnect)
