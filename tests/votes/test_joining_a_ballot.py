"""Joining and leaving while a ballot is open: every way in is a roster change in the ballot's own stream, removing
a member asks first and says truly what becomes of their votes, and the ballot page says why one cannot vote."""

from audit.models import AuditEvent
from deliberation import services as deliberation
from tests.client import text
from tests.deliberation.pages import url as deliberation_url
from tests.votes.conftest import CHOICES, CRITERIA
from tests.votes.pages import ballot_url
from votes import services
from votes.models import Ballot


def test_an_accepted_request_is_recorded_in_the_open_ballots_stream(ballot, alice, carol, group):
    join_request = deliberation.request_to_join(group=group, user=carol)

    deliberation.decide_join_request(join_request=join_request, accept=True, acting_user=alice)

    joined = AuditEvent.objects.filter(stream=ballot.audit_stream).latest("seq")
    assert (joined.action, joined.payload) == (
        "membership.joined",
        {"group": "weights", "member": "carol", "role": "member"},
    )


def test_removing_a_member_asks_first_and_says_their_votes_stay(client, ballot, cast, olga, bob, nothing_written):
    cast(bob, "code", "use", "required")
    cast(bob, "data", "use", "abstain")
    membership = ballot.groups.get(key="weights").memberships.current().get(user=bob)
    address = deliberation_url("member-remove", "osd", "weights", membership.pk)
    client.force_login(olga)

    with nothing_written():
        page = text(client.get(address))

    assert "Remove @bob from Weights?" in page
    assert "Removal withdraws none of their votes" in page
    assert "@bob has 2 votes there, which stay." in page

    client.post(address)

    assert not ballot.groups.get(key="weights").memberships.current().filter(user=bob).exists()
    assert ballot.votes.filter(voter=bob).count() == 2  # as the page said
    assert AuditEvent.objects.filter(stream=ballot.audit_stream).latest("seq").action == "membership.left"


def test_on_a_sealed_ballot_the_page_does_not_say_how_many(client, olga, bob, published, group, other_group):
    sealed = services.create_ballot(
        version=published,
        key="sealed",
        title="Sealed vote",
        groups=[group],
        criteria=CRITERIA,
        choices=CHOICES,
        results_visibility=Ballot.Visibility.AFTER_CLOSE,
        acting_user=olga,
    )
    services.open_ballot(ballot=sealed, acting_user=olga)
    membership = group.memberships.current().get(user=bob)
    client.force_login(olga)

    page = text(client.get(deliberation_url("member-remove", "osd", "weights", membership.pk)))

    assert "its votes are sealed until it closes; any they cast stay." in page
    assert "@bob has" not in page


def test_the_ballot_page_tells_a_non_member_whom_to_ask(client, ballot, carol):
    client.force_login(carol)

    response = client.get(ballot_url("ballot"))

    assert "You cannot vote on this ballot: @carol is not a member of a working group it enrolls." in text(response)
    assert f'href="{deliberation_url("group", "osd", "weights")}"' in response.content.decode()


def test_the_ballot_page_tells_a_visitor_to_sign_in(client, ballot):
    page = text(client.get(ballot_url("ballot")))

    assert "Only members of the working groups this ballot enrolls vote on it. Sign in to vote if you are one." in page


def test_a_member_is_not_told_why_they_cannot_vote(client, ballot, bob):
    client.force_login(bob)

    assert "You cannot vote" not in text(client.get(ballot_url("ballot")))
