"""Who may vote, for which group, with which choices: one table of cases, run through `cast_vote` and through the
offline checker's reading of the same ballot's `ballot.json` (`plenary_tally.ballot`), which must agree.

`ballot` (tests/votes/conftest.py): groups weights (alice, bob) and corpora (dave); components code (category
Code) and data (Data); `not-necessary` is the restricted choice. carol is in no group.
"""

import csv
import json
from dataclasses import dataclass
from datetime import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError

from analysis.bundles import ballot_json
from deliberation.models import WorkingGroup
from plenary_tally import formats
from plenary_tally.ballot import ballot_from_data, read_ballot
from plenary_tally.files import Bundle, BundleError
from plenary_tally.votes import read_votes
from tests.factories import MembershipFactory
from votes import services
from votes.access import VotingRights
from votes.models import Vote

NOT_A_MEMBER = "@carol is not a member of a working group enrolled in this ballot."
RESTRICTED = "“Not necessary” is restricted: only holders of a veto grant may use it here."

# voter, group voted for, choice, component, grant (holder, category or "" for every one) -> refusal or None
CASES = [
    ("bob", "weights", "required", "code", None, None),
    ("bob", "weights", "not-necessary", "code", None, RESTRICTED),
    ("bob", "weights", "not-necessary", "code", ("@bob", ""), None),
    ("bob", "weights", "not-necessary", "code", ("weights", ""), None),
    ("bob", "weights", "not-necessary", "code", ("corpora", ""), RESTRICTED),
    ("bob", "weights", "not-necessary", "code", ("@alice", ""), RESTRICTED),
    ("bob", "weights", "not-necessary", "code", ("@bob", "Code"), None),
    ("bob", "weights", "not-necessary", "code", ("@bob", "Data"), RESTRICTED),
    ("bob", "weights", "not-necessary", "data", ("weights", "Data"), None),
    ("dave", "corpora", "not-necessary", "data", ("weights", ""), RESTRICTED),
    ("dave", "corpora", "not-necessary", "data", ("corpora", "Data"), None),
    ("dave", "weights", "required", "code", None, "@dave does not vote for Weights in this ballot."),
    (
        "carol",
        "weights",
        "required",
        "code",
        None,
        "@carol is not a member of a working group enrolled in this ballot.",
    ),
]


@dataclass(frozen=True)
class OfflineVote:
    """A vote as the offline checker reads a row of votes.csv."""

    voter: str
    group: str
    component: str
    criterion: str
    choice: str
    cast_at: datetime | None = None


def _grant(ballot, olga, holder: str | None, category: str) -> None:
    if holder is None:
        return
    by = {"member": get_user_model().objects.get(username=holder[1:])} if holder.startswith("@") else {}
    by = by or {"group": WorkingGroup.objects.get(key=holder)}
    choice = ballot.choices.get(key="not-necessary")
    services.grant_veto(
        ballot=ballot, choice=choice, reason="Holds the data", acting_user=olga, category=category, **by
    )


def _server(ballot, voter, group: str, choice: str, component: str) -> str | None:
    try:
        services.cast_vote(
            ballot=ballot,
            voter=voter,
            component=ballot.version.components.get(key=component),
            criterion=ballot.criteria.get(key="use"),
            choice=ballot.choices.get(key=choice),
            group=WorkingGroup.objects.get(key=group),
        )
    except (PermissionDenied, ValidationError) as exc:
        return " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    return None


def _offline_allows(data: dict, voter: str, group: str, choice: str, component: str) -> bool:
    """The checker's rules for a vote: the voter is one of the group's voters, a restricted choice has a grant."""
    checked = ballot_from_data(data)
    vote = OfflineVote(voter, group, component, "use", choice)
    if voter not in checked.voters.get(group, ()):
        return False
    return not checked.spec.choices[choice].requires_grant or checked.grant_for(vote) is not None


@pytest.mark.parametrize("handle, group_key, choice, component, grant, refusal", CASES)
def test_the_server_and_the_offline_checker_agree_on_who_may_vote_with_what(
    ballot, olga, carol, handle, group_key, choice, component, grant, refusal
):
    holder, category = grant or (None, "")
    _grant(ballot, olga, holder, category)
    user = get_user_model().objects.get(username=handle)
    data = ballot_json(ballot)  # the rules as they stand when the vote is cast

    assert _server(ballot, user, group_key, choice, component) == refusal
    assert _offline_allows(data, handle, group_key, choice, component) is (refusal is None)


@pytest.mark.parametrize("handle, group_key, choice, component, grant, refusal", CASES)
def test_the_grid_offers_exactly_the_choices_the_service_accepts(
    ballot, olga, carol, handle, group_key, choice, component, grant, refusal
):
    holder, category = grant or (None, "")
    _grant(ballot, olga, holder, category)
    rights = VotingRights(ballot, get_user_model().objects.get(username=handle))
    offered = rights.choose_group(group_key) is not None and not rights.other_group
    on = ballot.version.components.get(key=component)
    offered = offered and ballot.choices.get(key=choice) in rights.choices_for(list(ballot.choices.all()), on)
    assert offered is (refusal is None)


# A member of both groups (bob joins corpora): the group of their earlier vote, if any, the group of this vote.
TWO_GROUPS = "a member of several groups votes for one"
TWO_GROUP_CASES = [
    (None, "weights", None),
    (None, "corpora", None),
    ("weights", "weights", None),
    ("corpora", "corpora", None),
    ("weights", "corpora", TWO_GROUPS),
    ("corpora", "weights", TWO_GROUPS),
]


def _offline_reads(data: dict, rows: list[tuple[str, str, str]], tmp_path) -> str | None:
    """What the offline reader says of votes.csv holding these (voter, group, component) votes: None if it reads."""
    (tmp_path / formats.BALLOT_FILE).write_text(json.dumps(data))
    with (tmp_path / formats.VOTES_FILE).open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(formats.VOTE_COLUMNS)
        for voter, group, component in rows:
            writer.writerow([voter, group, component, "use", "required", "1", "", "", "false"])
    bundle = Bundle(tmp_path)
    try:
        list(read_votes(bundle, read_ballot(bundle)))
    except BundleError as exc:
        return exc.message
    return None


@pytest.mark.parametrize("earlier, group_key, refusal", TWO_GROUP_CASES)
def test_a_member_of_two_groups_votes_for_one_on_the_server_and_in_the_offline_checker(
    ballot, bob, other_group, tmp_path, earlier, group_key, refusal
):
    MembershipFactory(group=other_group, user=bob)
    data = ballot_json(ballot)
    rows = [("bob", earlier, "data")] if earlier else []
    if earlier:
        assert _server(ballot, bob, earlier, "required", "data") is None

    said = _server(ballot, bob, group_key, "required", "code")
    offline = _offline_reads(data, [*rows, ("bob", group_key, "code")], tmp_path)

    assert (said is None, offline is None) == (refusal is None, refusal is None), (said, offline)
    if refusal:
        assert TWO_GROUPS in said and TWO_GROUPS in offline
        assert Vote.objects.get().group.key == earlier  # refused, never moved
    rights = VotingRights(ballot, bob)
    offered = rights.choose_group(group_key) is not None and not rights.refusal()
    assert offered is (refusal is None)  # the grid offers what the service accepts
