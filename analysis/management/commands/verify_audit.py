from django.core.management.base import BaseCommand, CommandError

from analysis.auditing import RecordBroken, verify_records


class Command(BaseCommand):
    help = (
        "Check every audit chain from its first event to its head, that every definition and ballot has its"
        " stream, and that each ballot's stored votes are exactly those its stream leaves; name the first"
        " problem and exit 1."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--stream", help="Check one stream only, e.g. ballot:open-model/components.")

    def handle(self, *args, stream: str | None = None, **options) -> None:
        try:
            checked = verify_records(stream=stream)
        except RecordBroken as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Audit log intact: {checked.events} events in {len(checked.heads)} streams; "
            + ("its definition or ballot has it" if stream else "every definition and ballot has its stream")
            + f"; {checked.ballots} ballot{'' if checked.ballots == 1 else 's'} replayed,"
            f" {checked.votes} stored votes exactly those the log leaves."
        )
        for name, head in sorted(checked.heads.items()):
            self.stdout.write(f"  {name}  head {head}")
