from django.core.management.base import BaseCommand, CommandError

from analysis import services
from votes.models import Ballot


class Command(BaseCommand):
    help = "Recompute stale outcomes now: one ballot (DEFINITION/KEY) or every ballot whose outcome is stale."

    def add_arguments(self, parser) -> None:
        parser.add_argument("ballot", nargs="?", help="definition-slug/ballot-key; all stale ballots if omitted")
        parser.add_argument("--dry-run", action="store_true", help="List the stale ballots without recomputing.")

    def handle(self, *args, ballot: str | None = None, dry_run: bool = False, **options) -> None:
        ballots = Ballot.objects.select_related("definition", "version")
        if ballot:
            slug, _, key = ballot.partition("/")
            ballots = ballots.filter(definition__slug=slug, key=key)
            if not ballots.exists():
                raise CommandError(f"No ballot {ballot}; give it as definition-slug/ballot-key.")
        for b, run, stale in services.latest_runs(ballots):
            if not stale and run is not None:  # a ballot without a run is stale
                self.stdout.write(f"{b.definition.slug}/{b.key}: up to date (audit #{run.audit_seq})")
                continue
            if dry_run:
                self.stdout.write(f"{b.definition.slug}/{b.key}: stale")
                continue
            run = services.recompute(b)
            if run is None:
                self.stdout.write(f"{b.definition.slug}/{b.key}: a recompute is already running")
            else:
                self.stdout.write(
                    f"{b.definition.slug}/{b.key}: recomputed at audit #{run.audit_seq} in {run.duration_ms} ms"
                )
