from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditEvent
from plenary_tally import chain


class Command(BaseCommand):
    help = "Check every audit chain from its first event to its head; name the first broken event."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--stream", help="Check one stream only, e.g. definition:open-model.")

    def handle(self, *args, stream: str | None = None, **options) -> None:
        events = AuditEvent.objects.in_chain_order()
        if stream:
            events = events.filter(stream=stream)
        count = events.count()
        broken, heads = chain.verify(e.canonical() for e in events.iterator(chunk_size=2000))
        if broken is not None:
            raise CommandError(f"Audit chain broken at {broken}")
        self.stdout.write(f"Audit log intact: {count} events in {len(heads)} streams.")
        for name, head in sorted(heads.items()):
            self.stdout.write(f"  {name}  head {head}")
