from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from analysis import bundles
from votes.models import Ballot


class Command(BaseCommand):
    help = "Write a ballot's tally bundle (docs/tally-format.md), the zip its download serves."

    def add_arguments(self, parser) -> None:
        parser.add_argument("ballot", help="definition-slug/ballot-key")
        parser.add_argument("--out", required=True, type=Path, help="The zip file to write, such as tally.zip.")

    def handle(self, *args, ballot: str, out: Path, **options) -> None:
        slug, _, key = ballot.partition("/")
        found = Ballot.objects.select_related("definition", "version").filter(definition__slug=slug, key=key).first()
        if found is None:
            raise CommandError(f"No ballot {ballot}; give it as definition-slug/ballot-key.")
        if not out.parent.is_dir():
            raise CommandError(f"No directory {out.parent} to write {out.name} in.")
        if not found.results_public:
            self.stderr.write(
                self.style.WARNING(
                    f"Warning: the results of {ballot} are sealed until it closes; "
                    "this bundle holds votes that are not public yet."
                )
            )
        partial = out.with_name(out.name + ".part")  # a failed export leaves no half-written bundle behind
        try:
            manifest = bundles.export_bundle(found, partial)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(out)
        self.stdout.write(f"Wrote {out}: {manifest['ballot']}, audit head {manifest['audit_head']}")
