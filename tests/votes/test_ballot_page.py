"""The ballot page: opening and closing it, and what it costs to show.

olga organizes the definition `osd`; alice chairs its group `weights`, where bob is a member; dave is
a member of `corpora`; carol is signed in but belongs to nothing; oscar organizes another
definition; an anonymous observer is not signed in. `ballot` is the open ballot `components` on
version 0.0.9 (components code, data and the aggregate all-data) for weights and corpora.
Ballots are public, so outsiders get 403 — never 404 — for what they may see but not do.
"""

import pytest

from tests.client import page_messages, sign_in, text
from tests.factories import MembershipFactory, WorkingGroupFactory
from tests.votes.pages import actions, assert_same_queries_when_the_data_grows, ballot_url, more_votes
from votes.models import Ballot

# Opening and closing -------------------------------------------------------------------------


def test_the_organizer_opens_and_closes_the_ballot(client, olga, scheduled):
    client.force_login(olga)

    response = client.post(ballot_url("ballot-open"), follow=True)
    assert response.redirect_chain == [(ballot_url("ballot"), 302)]
    assert "Voting is open." in page_messages(response)
    assert "Close voting…" in text(response)

    response = client.post(ballot_url("ballot-close"), follow=True)
    assert "Voting is closed; each group's roster is frozen with the ballot." in page_messages(response)
    assert "@alice (chair), @bob" in text(response)  # the roster at close

    scheduled.refresh_from_db()
    assert scheduled.status == Ballot.Status.CLOSED
    assert actions() == ["ballot.created", "ballot.opened", "ballot.closed"]


def test_opening_an_open_ballot_says_why_not_and_writes_nothing(client, olga, ballot, nothing_written):
    client.force_login(olga)

    with nothing_written():
        response = client.post(ballot_url("ballot-open"), follow=True)

    assert page_messages(response) == ["Only a scheduled ballot can open; this one is open."]


def test_closing_a_scheduled_ballot_says_why_not_and_writes_nothing(client, olga, scheduled, nothing_written):
    client.force_login(olga)

    with nothing_written():
        response = client.post(ballot_url("ballot-close"), follow=True)

    assert "Only an open ballot can close; this one is scheduled." in page_messages(response)


# Query counts --------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", [None, "olga"])
def test_the_ballot_overview_needs_the_same_queries_for_many_votes_and_groups(
    persona, request, client, definition, voted, group, django_assert_max_num_queries
):
    sign_in(client, request, persona)

    def grow():
        more_votes(voted, group, 4)
        for _ in range(3):
            extra = WorkingGroupFactory(definition=definition)
            MembershipFactory(group=extra)
            voted.groups.add(extra)

    assert_same_queries_when_the_data_grows(client, ballot_url("ballot"), grow, django_assert_max_num_queries, limit=15)
