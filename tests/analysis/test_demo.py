from io import StringIO

import pytest
from django.core.management import call_command

from analysis import services
from votes.models import Ballot


@pytest.mark.slow
def test_the_demo_ballot_has_an_outcome_that_flips_without_the_disputed_votes(db):
    call_command("seed_demo", stdout=StringIO())
    ballot = Ballot.objects.get(key="components-0-0-9")

    run = services.compute_run(ballot)

    flipped = {f["component"] for f in run.results["flips"] if f["to"]["scenario"] == "without-disputed"}
    assert flipped, "the demo should show an outcome that hinges on the disputed votes"
