"""Who votes on a ballot: the roster frozen when voting opens (the default), or live.

`frozen` is the ballot `components` under the default rule, not yet open; `scheduled` the same under a live
roster. carol joins weights after opening: under a frozen roster she does not vote, and is told why.
"""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from analysis import bundles
from audit.models import AuditEvent
from deliberation import services as deliberation
from plenary_tally.verification import verify
from tests.client import text
from tests.votes.pages import ballot_url, cell
from votes import services
from votes.models import Ballot, Vote

REASON = "this ballot's roster was frozen when voting opened, so only those who were members then vote on it."


def cast(ballot, voter, **kwargs):
    return services.cast_vote(
        ballot=ballot,
        voter=voter,
        component=ballot.version.components.get(key="code"),
        criterion=ballot.criteria.get(key="use"),
        choice=ballot.choices.get(key="required"),
        **kwargs,
    )


@pytest.fixture
def opened(frozen, olga):
    return services.open_ballot(ballot=frozen, acting_user=olga)


@pytest.fixture
def late(opened, group, carol, olga):
    """carol, added to weights after voting opened."""
    deliberation.add_member(group=group, user=carol, acting_user=olga)
    return carol


def test_a_new_ballot_freezes_its_roster_when_voting_opens_by_default(olga, published, group):
    ballot = services.create_ballot(
        version=published, key="b", title="B", groups=[group], criteria=[("use", "Use")],
        choices=[{"key": "yes", "label": "Yes", "value": 1}], acting_user=olga,
    )  # fmt: skip

    assert ballot.eligibility == Ballot.Eligibility.FROZEN
    assert AuditEvent.objects.get(action="ballot.created").payload["eligibility"] == "frozen"


def test_a_member_added_after_opening_is_refused_with_the_reason_and_nothing_is_written(opened, late, nothing_written):
    with nothing_written(), pytest.raises(PermissionDenied) as refused:
        cast(opened, late)

    assert str(refused.value).startswith("You joined Weights after voting opened on ")
    assert str(refused.value).endswith(REASON)


def test_an_organizer_cannot_vote_for_a_member_added_late_either(opened, late, olga, nothing_written):
    with nothing_written(), pytest.raises(PermissionDenied, match="@carol joined Weights after voting opened"):
        cast(opened, late, acting_user=olga)


def test_members_at_opening_still_vote_under_a_frozen_roster(opened, late, bob):
    assert cast(opened, bob).voter == bob


def test_a_member_who_leaves_and_comes_back_after_opening_does_not_vote(opened, group, bob, olga, nothing_written):
    deliberation.remove_member(membership=group.memberships.get(user=bob), acting_user=olga)
    deliberation.add_member(group=group, user=bob, acting_user=olga)

    with nothing_written(), pytest.raises(PermissionDenied, match="joined Weights after voting opened"):
        cast(opened, bob)


def test_under_a_live_roster_a_member_added_after_opening_votes(scheduled, group, carol, olga):
    ballot = services.open_ballot(ballot=scheduled, acting_user=olga)
    deliberation.add_member(group=group, user=carol, acting_user=olga)

    assert cast(ballot, carol).voter == carol


def test_the_ballot_page_states_the_rule_and_tells_a_late_member_why_they_cannot_vote(client, opened, late):
    client.force_login(late)

    page = text(client.get(ballot_url("ballot")))

    assert "Who votes Frozen: the members of the enrolled groups when voting opens, and no one added later" in page
    assert REASON in page
    assert "Cast your votes" not in page


def test_the_grid_refuses_a_late_member_with_the_reason(client, opened, late, nothing_written):
    client.force_login(late)

    with nothing_written():
        response = client.post(ballot_url("vote-grid"), cell())

    assert response.status_code == 403
    assert REASON in text(response)


def test_opening_records_the_rule_and_the_roster_it_freezes(opened):
    event = AuditEvent.objects.filter(action="ballot.opened").get()

    assert event.payload == {"eligibility": "frozen", "roster": services.roster(opened)}


def test_a_bundle_whose_log_shows_a_vote_by_a_member_added_after_opening_fails_to_verify(
    opened, late, bob, olga, tmp_path
):
    cast(opened, bob)
    # A server that let carol vote anyway: the rule is lifted behind the log's back for her one vote.
    Ballot.objects.filter(pk=opened.pk).update(eligibility=Ballot.Eligibility.LIVE)
    cast(Ballot.objects.get(pk=opened.pk), late)
    Ballot.objects.filter(pk=opened.pk).update(eligibility=Ballot.Eligibility.FROZEN)
    ballot = services.close_ballot(ballot=opened, acting_user=olga, reason="Enough")
    assert Vote.objects.filter(voter=late).exists()
    path = tmp_path / "tally.zip"
    bundles.export_bundle(ballot, path)

    report = verify(path)

    assert not report.ok
    assert any(
        "a vote by carol for weights, who was not a member when voting opened" in str(p) for p in report.problems
    )


def test_the_same_bundle_without_the_late_vote_verifies(opened, late, bob, olga, tmp_path):
    cast(opened, bob)
    ballot = services.close_ballot(ballot=opened, acting_user=olga, reason="Enough")
    path = tmp_path / "tally.zip"
    bundles.export_bundle(ballot, path)

    report = verify(path)

    assert report.ok, report.lines()


def test_a_bundle_that_claims_another_rule_than_its_log_fails_to_verify(opened, bob, olga, tmp_path):
    cast(opened, bob)
    ballot = services.close_ballot(ballot=opened, acting_user=olga, reason="Enough")
    Ballot.objects.filter(pk=ballot.pk).update(eligibility=Ballot.Eligibility.LIVE)
    path = tmp_path / "tally.zip"
    bundles.export_bundle(Ballot.objects.get(pk=ballot.pk), path)

    report = verify(path)

    assert any("eligibility differs from the ballot.created event" in str(p) for p in report.problems)


def test_a_member_who_joined_after_opening_is_not_counted_as_still_to_vote(client, opened, late, olga):
    opened.closes_at = timezone.now() + timedelta(days=1)
    client.force_login(olga)

    page = text(client.get(ballot_url("ballot-close")))

    assert "3 members who may vote have not voted." in page  # alice, bob, dave; not carol
