"""A member of two enrolled groups votes for one, chosen once and explicitly; a vote is never moved to the other.

bob is made a member of corpora as well as weights (see tests/votes/conftest.py for `ballot`).
"""

import pytest

from tests.client import HTMX, page_messages, text
from tests.factories import MembershipFactory
from tests.votes.pages import ballot_url, cell, grid_options
from votes.models import Vote

MOVED = (
    "@bob votes for Corpora in this ballot: a member of several groups votes for one, chosen with their first vote, "
    "and a vote is never moved to another group. This vote for Weights was not saved; to vote for Weights instead, "
    "first withdraw every vote for Corpora."
)


@pytest.fixture
def two_groups(ballot, bob, other_group):
    MembershipFactory(group=other_group, user=bob)
    return ballot


def test_the_grid_asks_a_member_of_two_groups_which_one_they_vote_for_before_showing_cells(
    client, bob, two_groups, nothing_written
):
    client.force_login(bob)

    with nothing_written():
        response = client.get(ballot_url("vote-grid"))

    assert response.status_code == 200
    assert "Which working group do you vote for on this ballot?" in text(response)
    assert "once a vote is cast, a vote for another group is refused" in text(response)
    assert grid_options(response) == {}  # no cell before the group is chosen
    content = response.content.decode()
    assert 'type="radio" name="group" value="weights"' in content
    assert 'type="radio" name="group" value="corpora"' in content

    chosen = client.get(ballot_url("vote-grid"), {"group": "corpora"})
    assert "The first vote fixes the group for this ballot." in text(chosen)
    assert len(grid_options(chosen)) == 8


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_a_save_without_a_group_is_refused_until_one_is_chosen(headers, client, bob, two_groups, nothing_written):
    client.force_login(bob)

    with nothing_written():
        response = client.post(ballot_url("vote-grid"), cell(), headers=headers, follow=not headers)

    message = "You belong to several enrolled groups: choose the group you vote for."
    if headers:
        assert message in text(response)
    else:
        assert response.status_code == 400
        assert page_messages(response) == [f"Training code, Use: {message} Nothing was changed."]


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_once_voted_for_one_group_a_save_for_the_other_is_refused_with_the_reason_not_moved(
    headers, client, bob, two_groups, nothing_written
):
    client.force_login(bob)
    client.post(ballot_url("vote-grid"), cell("data", "use", group="corpora"))

    with nothing_written():
        same = client.post(ballot_url("vote-grid"), cell("data", "use", "abstain", group="weights"), headers=headers)
        other = client.post(ballot_url("vote-grid"), cell("code", "use", group="weights"), headers=headers)

    for response in (same, other):
        assert MOVED in text(response)
        assert response.status_code == (200 if headers else 400)
    vote = Vote.objects.get()
    assert (vote.group.key, vote.choice.key) == ("corpora", "required")


def test_once_voted_the_grid_shows_the_group_and_offers_no_switch(client, bob, two_groups):
    client.force_login(bob)
    client.post(ballot_url("vote-grid"), cell("data", "use", group="corpora"))

    page = client.get(ballot_url("vote-grid"))  # no group asked: the one voted for
    asked_other = client.get(ballot_url("vote-grid"), {"group": "weights"})

    assert "You vote for Corpora on this ballot, chosen with the first vote." in text(page)
    assert 'id="vote-group"' not in page.content.decode()
    assert 'name="group" value="corpora"' in page.content.decode()
    assert MOVED in text(asked_other)  # said at once, before anything is typed
    assert 'name="group" value="weights"' not in asked_other.content.decode()
