"""`python manage.py send_webhooks`: send the webhook deliveries that are due, first attempts and retries.

What Celery beat's `send-due-webhooks` does in production; `make run` runs it with `--every` beside the server, for
the embedded default, where each first attempt is made in the request's process once its change commits and the
retries wait for this.
"""

import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from notifications import webhooks
from notifications.models import WebhookDelivery


class Command(BaseCommand):
    help = "Send the webhook deliveries whose next attempt is due (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Say which deliveries are due; send nothing.")
        parser.add_argument("--every", type=float, metavar="SECONDS", help="Keep running, sending this often.")

    def handle(self, *args, dry_run: bool = False, every: float | None = None, **options) -> None:
        while True:
            for pk in webhooks.due():
                if dry_run:
                    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=pk)
                    self.stdout.write(f"due: delivery {pk} ({delivery.event} to {delivery.webhook.host})")
                    continue
                delivery = webhooks.send(pk)
                if delivery is not None:
                    self.stdout.write(f"delivery {pk} ({delivery.event}): {delivery.get_status_display().lower()}")
            if every is None or dry_run:
                return
            close_old_connections()
            time.sleep(max(every, 1.0))
