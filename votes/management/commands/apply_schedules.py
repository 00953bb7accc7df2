"""`python manage.py apply_schedules`: open and close the ballots whose opening or closing time has come, and
remind the members with cells without a vote of a ballot that closes soon (`services.remind_closing`).

What Celery beat runs in production (`votes.tasks.apply_schedules`); `make run` runs it with `--every` beside the
server, for the embedded default. Reading any page of a ballot applies its schedule too, so a ballot is shown as it
is even with neither running, and a vote after its closing time is refused whatever ran.
"""

import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from votes import services
from votes.models import Ballot


class Command(BaseCommand):
    help = "Open and close the ballots whose opening or closing time has come (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Say which ballots are due; change nothing.")
        parser.add_argument(
            "--every", type=float, metavar="SECONDS", help="Keep running, applying the schedules this often."
        )

    def handle(self, *args, dry_run: bool = False, every: float | None = None, **options) -> None:
        while True:
            if dry_run:
                for ballot in Ballot.objects.due().select_related("definition"):
                    self.stdout.write(f"due: {ballot.audit_stream} ({ballot.status}, {ballot.transition_due()} now)")
            else:
                for ballot in services.apply_schedules():
                    self.stdout.write(f"{ballot.audit_stream} is {ballot.status}")
                if reminded := services.remind_closing():
                    self.stdout.write(f"{reminded} reminders that a ballot closes soon")
            if every is None or dry_run:
                return
            close_old_connections()
            time.sleep(max(every, 1.0))
