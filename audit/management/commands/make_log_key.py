"""Make a new signing key for the audit log's checkpoints: `python manage.py make_log_key [NAME]`."""

from django.core.management.base import BaseCommand, CommandParser

from audit import tlog
from plenary_tally import notes


class Command(BaseCommand):
    help = (
        "Print a new signing key for the audit log (for AUDIT_LOG_KEY, or a file AUDIT_LOG_KEY_FILE names) and "
        "its verifier key. NAME defaults to the site's host, from SITE_URL."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", nargs="?", help="the key's name: the site's host, such as plenary.example.org")

    def handle(self, *args, name: str | None = None, **options) -> None:
        key = notes.generate_signer(name or tlog.site())
        self.stdout.write(key)
        self.stderr.write(
            f"Verifier key (public; put the one it replaces into AUDIT_LOG_RETIRED_KEYS): {notes.verifier_of(key)}"
        )
