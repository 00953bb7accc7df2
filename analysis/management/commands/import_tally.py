from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection

from analysis import imports
from plenary_tally import BundleError
from plenary_tally.ballot import HANDLE

SQLITE_NOTE = (
    "On the embedded SQLite database the import holds every write until it is done (about 20 ms a vote,"
    " so 100,000 votes take half an hour; docs/performance.md): meanwhile others' comments, sign-ins and"
    ' votes are refused with "please try again". Import large ballots on PostgreSQL (DATABASE_URL).'
)


class Command(BaseCommand):
    help = (
        "Import a tally bundle (a zip, or a directory with ballot.json and votes.csv at least) as a new "
        "definition with its ballot, through the same services and audit log as the web app; print its address."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="a bundle zip, or a directory holding ballot.json and votes.csv")
        parser.add_argument(
            "--organizer",
            default="importer",
            help="the handle of the organizer who imports (created if missing); default: importer",
        )
        parser.add_argument(
            imports.USE_EXISTING,
            action="store_true",
            help="make the bundle's handles that already have an account here members, and enter their votes;"
            " without it such a bundle is refused",
        )
        parser.add_argument("--dry-run", action="store_true", help="Check everything, then write nothing.")

    def handle(
        self, *args, path: str, organizer: str, use_existing_accounts: bool = False, dry_run: bool = False, **options
    ) -> None:
        if not HANDLE.fullmatch(organizer):
            raise CommandError(f"--organizer {organizer!r} is not a handle (letters, digits and . @ + - _)")
        if connection.vendor == "sqlite" and not dry_run:
            self.stderr.write(SQLITE_NOTE)
        try:
            imported = imports.import_bundle(
                path, organizer=organizer, use_existing_accounts=use_existing_accounts, dry_run=dry_run
            )
        except BundleError as exc:
            raise CommandError(f"Nothing was imported. {exc}") from exc
        except DatabaseError as exc:  # the import is one transaction: it was rolled back whole
            raise CommandError(f"Nothing was imported: the database failed ({exc}). Run it again.") from exc
        ballot = imported.ballot
        summary = f"{ballot.definition.slug}/{ballot.key}: {imported.votes} votes"
        summary += f", {imported.accounts_created} accounts created"
        if imported.accounts_used:
            used = imported.accounts_used
            summary += f", {used} existing account{'s' if used > 1 else ''} used"
        if dry_run:
            self.stdout.write(f"Dry run, nothing written: the bundle would import as {summary}.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported {summary}."))
            self.stdout.write(ballot.get_absolute_url())
