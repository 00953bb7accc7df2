"""A rationale is capped at RATIONALE_MAX_LENGTH by cast_vote itself, so the grid, a vote on a member's behalf and
import_tally all obey it (issue 12, findings 3 and 15): refused whole with the reason, nothing written."""

import pytest
from django.core.exceptions import ValidationError

from votes.models import RATIONALE_MAX_LENGTH, Vote


def test_cast_vote_refuses_a_rationale_over_the_limit_and_writes_nothing(cast, bob, nothing_written):
    with nothing_written(), pytest.raises(ValidationError) as refused:
        cast(bob, choice="object", rationale="x" * (RATIONALE_MAX_LENGTH + 1))

    assert refused.value.messages == [
        f"A rationale can be at most {RATIONALE_MAX_LENGTH} characters long; this one has {RATIONALE_MAX_LENGTH + 1}."
    ]


def test_a_rationale_at_the_limit_is_kept_whole(cast, bob):
    cast(bob, choice="object", rationale="x" * RATIONALE_MAX_LENGTH)

    assert len(Vote.objects.get().rationale) == RATIONALE_MAX_LENGTH


def test_an_organizer_on_a_members_behalf_obeys_the_same_limit(cast, bob, olga, nothing_written):
    with nothing_written(), pytest.raises(ValidationError, match="at most"):
        cast(bob, choice="object", rationale="x" * (RATIONALE_MAX_LENGTH + 1), acting_user=olga)
