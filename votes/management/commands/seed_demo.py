"""`python manage.py seed_demo`: the whole demo, deliberation first, then the ballot on top.

The command lives here rather than in deliberation because the demo needs both apps and
deliberation may not import votes. (Django runs the command of the first app in
INSTALLED_APPS that has one by a name, so only one app may define `seed_demo`.)
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from deliberation import demo as deliberation_demo
from votes import demo


class Command(BaseCommand):
    help = "Load the demo definition, versions, working groups, discussion and component ballot (idempotent)."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            definition, loaded = deliberation_demo.load()
            ballot = definition.ballots.filter(key=demo.BALLOT_KEY).first()
            if ballot is None:
                people = deliberation_demo.people()
                ballot = demo.seed_ballot(
                    definition=definition,
                    version=definition.versions.get(label="0.0.9"),
                    organizers=[people["mara"], people["tomasz"]],
                    people=people,
                )
                loaded = True
        if loaded:
            self.stdout.write(self.style.SUCCESS("Demo loaded."))
        else:
            self.stdout.write("The demo is already loaded.")
        self.stdout.write(f"Ballot: {ballot.title}, {ballot.votes.count()} votes, at {ballot.get_absolute_url()}")
        for line in deliberation_demo.accounts():
            self.stdout.write(line)
