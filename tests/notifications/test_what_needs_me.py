"""The home page: what needs a signed-in person, each item linking to its page; an observer sees the list alone."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deliberation import services as deliberation
from notifications.models import Notification
from tests.votes.conftest import CHOICES, CRITERIA
from votes import services as votes
from votes.models import Ballot

HOME = "/"


def open_ballot(version, groups, olga, key="components", **kwargs) -> Ballot:
    ballot = votes.create_ballot(
        version=version,
        key=key,
        title=f"Vote {key}",
        groups=groups,
        criteria=CRITERIA,
        choices=CHOICES,
        acting_user=olga,
        **kwargs,
    )
    return votes.open_ballot(ballot=ballot, acting_user=olga)


def vote(ballot, voter, component="code", criterion="use", choice="required"):
    return votes.cast_vote(
        ballot=ballot,
        voter=voter,
        component=ballot.version.components.get(key=component),
        criterion=ballot.criteria.get(key=criterion),
        choice=ballot.choices.get(key=choice),
    )


def page(client, user) -> str:
    client.force_login(user)
    response = client.get(HOME)
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.content.decode())


def test_a_member_sees_each_open_ballot_they_vote_in_with_their_progress(client, olga, bob, published, group):
    ballot = open_ballot(published, [group], olga)
    vote(ballot, bob)
    vote(ballot, bob, criterion="study")

    html = page(client, bob)

    assert "2 of 8 cells" in html  # two leaf components (not the aggregate) × four criteria
    assert f'href="{reverse("votes:vote-grid", args=["osd", ballot.key])}"' in html


def test_only_ballots_that_give_a_vote_are_listed(client, olga, bob, carol, dave, published, group, other_group):
    open_ballot(published, [group], olga, key="weights-only")  # frozen roster, the default
    open_ballot(published, [other_group], olga, key="corpora-only")
    closed = open_ballot(published, [group], olga, key="closed")
    votes.close_ballot(ballot=closed, acting_user=olga)
    deliberation.add_member(
        group=group, user=carol, acting_user=olga
    )  # after opening: the frozen roster leaves her out

    assert "Vote weights-only" in page(client, bob) and "Vote corpora-only" not in page(client, bob)
    assert "Vote closed" not in page(client, bob)
    assert "Vote weights-only" not in page(client, carol)
    assert "Vote corpora-only" in page(client, dave) and "Vote weights-only" not in page(client, dave)


def test_unread_replies_and_mentions_are_listed_until_read(client, alice, bob, published):
    first = deliberation.post_comment(author=bob, version=published, body="Code first.")
    deliberation.post_comment(author=alice, version=published, body="Yes, and ask @bob's group.", parent=first)

    html = page(client, bob)
    [notification] = Notification.objects.filter(recipient=bob)
    assert "@alice replied to your comment" in html
    assert f'action="{reverse("notifications:read", args=[notification.pk])}"' in html  # opens it, read

    response = client.post(reverse("notifications:read", args=[notification.pk]), {"follow": "1"})
    assert response.status_code == 302 and response["Location"] == notification.path
    assert "@alice replied to your comment" not in page(client, bob)


def test_standing_disputes_over_ones_votes_are_listed(client, olga, alice, bob, dave, published, group, other_group):
    ballot = open_ballot(published, [group, other_group], olga)
    vote(ballot, bob)
    vote(ballot, alice, component="data")
    vote(ballot, dave, component="data")
    dispute = votes.raise_dispute(
        ballot=ballot, raised_by=dave, reason="Stale code.", component=ballot.version.components.get(key="code")
    )

    assert f"#dispute-{dispute.pk}" in page(client, bob) and "Stale code." in page(client, bob)
    assert "Stale code." not in page(client, alice)  # her vote is on data
    votes.resolve_dispute(dispute=dispute, status="dismissed", resolution="Not stale.", acting_user=olga)
    assert "Stale code." not in page(client, bob)


def test_join_requests_are_listed_for_the_chair_and_the_organizers(client, olga, alice, bob, carol, group):
    deliberation.request_to_join(group=group, user=carol, note="")

    assert "@carol asks to join Weights" in page(client, alice)
    assert "@carol asks to join Weights" in page(client, olga)
    assert "@carol asks to join Weights" not in page(client, bob)


def test_an_observer_sees_the_definitions_as_before(client, definition):
    def main(path: str) -> str:
        return client.get(path).content.decode().split('<main id="main">')[1].split("</main>")[0]  # footer aside

    home = main(HOME)
    assert home == main(reverse("deliberation:definition-list"))
    assert "What needs you" not in home and "Open System Definition" in home


def test_the_home_page_reads_as_many_queries_for_six_ballots_as_for_one(
    client, olga, bob, published, group, other_group, django_assert_max_num_queries
):
    client.force_login(bob)
    ballot = open_ballot(published, [group], olga, key="b0")
    vote(ballot, bob)
    with CaptureQueriesContext(connection) as one:
        client.get(HOME)

    for i in range(1, 6):  # more ballots, votes, disputes, mentions and requests
        ballot = open_ballot(published, [group, other_group], olga, key=f"b{i}")
        vote(ballot, bob)
        votes.raise_dispute(ballot=ballot, raised_by=olga, reason=f"Reason {i}.", voter=bob)
        deliberation.post_comment(author=olga, version=published, body=f"@bob, look at b{i}.")
    with django_assert_max_num_queries(len(one)):
        html = re.sub(r"\s+", " ", client.get(HOME).content.decode())
    assert html.count("1 of 8 cells") == 6 and html.count("look at b") == 5 and html.count("Reason ") == 5
