"""Each kind of notification, from the change that causes it to the mail that arrives over real SMTP: to the people
it concerns, never to whoever acted, once, and without a word of a sealed ballot's votes.

Changes run as a request runs them (`immediate`): their after-commit callbacks too, so the e-mail goes out.
"""

import pytest
from django.urls import reverse

from deliberation import services as deliberation
from deliberation.models import Membership
from notifications import services
from notifications.models import Delivery, Kind, Notification
from tests.mail import text_of
from tests.votes.conftest import CHOICES, CRITERIA
from votes import services as votes
from votes.models import Ballot, Dispute


@pytest.fixture
def immediate(django_capture_on_commit_callbacks):
    def run(change):
        with django_capture_on_commit_callbacks(execute=True):
            return change()

    return run


def recipients(smtp_server) -> list[str]:
    return sorted(m["To"] for m in smtp_server.messages)


def new_ballot(published, olga, groups, **overrides):
    fields = dict(version=published, key="components", title="Component vote", groups=groups, criteria=CRITERIA)
    return votes.create_ballot(**fields | {"choices": CHOICES, "acting_user": olga} | overrides)


def cast(ballot, voter, component, choice, criterion="use", **kwargs):
    return votes.cast_vote(
        ballot=ballot,
        voter=voter,
        component=ballot.version.components.get(key=component),
        criterion=ballot.criteria.get(key=criterion),
        choice=ballot.choices.get(key=choice),
        **kwargs,
    )


# Disputes ------------------------------------------------------------------------------------------


@pytest.fixture
def open_ballot(published, olga, group, other_group, alice, bob, dave):
    """A live ballot, open: bob and dave chose Required on code (bob on two criteria), alice Abstain."""
    ballot = votes.open_ballot(ballot=new_ballot(published, olga, [group, other_group]), acting_user=olga)
    cast(ballot, bob, "code", "required")
    cast(ballot, bob, "code", "required", criterion="study")
    cast(ballot, dave, "code", "required")
    cast(ballot, alice, "code", "abstain")
    return ballot


def test_a_dispute_reaches_the_voters_it_covers_once_each_and_never_the_raiser(
    smtp_server, immediate, open_ballot, bob, olga
):
    required = open_ballot.choices.get(key="required")

    dispute = immediate(
        lambda: votes.raise_dispute(ballot=open_ballot, raised_by=bob, reason="Code is not enough.", choice=required)
    )

    [mail] = smtp_server.messages  # dave's; bob raised it, alice's abstention is not covered
    assert mail["To"] == "dave@example.org"
    assert mail["Subject"] == "[Plenary] Your votes on Component vote are disputed"
    assert "@bob disputes the votes choosing Required" in text_of(mail) and "Code is not enough." in text_of(mail)
    assert "/d/osd/ballots/components/disputes/" in text_of(mail)

    immediate(
        lambda: votes.resolve_dispute(dispute=dispute, status="dismissed", resolution="Votes stand.", acting_user=olga)
    )

    resolved = smtp_server.messages[1:]
    assert sorted(m["To"] for m in resolved) == ["bob@example.org", "dave@example.org"]  # bob once, for 2 votes
    assert {m["Subject"] for m in resolved} == {"[Plenary] A dispute over your votes on Component vote was dismissed"}
    assert Notification.objects.filter(kind=Kind.DISPUTE).count() == 3


def test_a_dispute_on_a_sealed_ballot_says_only_that_it_covers_some_of_your_votes(
    smtp_server, immediate, published, olga, alice, bob, group, other_group
):
    ballot = new_ballot(published, olga, [group, other_group], results_visibility=Ballot.Visibility.AFTER_CLOSE)
    ballot = votes.open_ballot(ballot=ballot, acting_user=olga)
    cast(ballot, bob, "code", "abstain")
    # raise_dispute refuses a sealed ballot; a dispute standing on one (written here as the data allow) must still
    # not leak through its notification.
    dispute = Dispute.objects.create(
        ballot=ballot, raised_by=alice, reason="Bob's Abstain hides a veto.", choice=ballot.choices.get(key="abstain")
    )

    immediate(
        lambda: votes.resolve_dispute(
            dispute=dispute, status="upheld", resolution="Bob abstained on code: upheld.", acting_user=olga
        )
    )

    [mail] = smtp_server.to("bob@example.org")
    assert mail["Subject"] == "[Plenary] A dispute covers some of your votes on Component vote"
    assert "A dispute that covers some of your votes on the ballot Component vote" in text_of(mail)
    for sealed in ("Abstain", "abstain", "veto", "upheld", "Bob abstained", "/disputes/"):
        assert sealed not in text_of(mail) + mail["Subject"]
    assert Notification.objects.get(kind=Kind.DISPUTE).path == "/d/osd/ballots/components/"


# Membership and join requests ----------------------------------------------------------------------


def test_a_member_is_told_they_were_added_as_chair_and_removed_and_the_actor_is_not(
    smtp_server, immediate, group, olga, carol
):
    membership = immediate(
        lambda: deliberation.add_member(group=group, user=carol, role=Membership.Role.CHAIR, acting_user=olga)
    )
    immediate(lambda: deliberation.remove_member(membership=membership, acting_user=olga))

    added, removed = smtp_server.messages
    assert recipients(smtp_server) == ["carol@example.org"] * 2
    assert added["Subject"] == "[Plenary] You are now a chair of Weights"
    assert "@olga appointed you chair of the working group Weights of Open System Definition." in text_of(added)
    assert removed["Subject"] == "[Plenary] You are no longer a chair of Weights"
    assert "you are no longer one of its chairs" in text_of(removed)


def test_a_join_request_reaches_the_chairs_and_organizers_and_its_answer_the_requester(
    smtp_server, immediate, group, other_group, alice, bob, carol, olga
):
    request = immediate(lambda: deliberation.request_to_join(group=group, user=carol, note="I train models."))

    assert recipients(smtp_server) == ["alice@example.org", "olga@example.org"]  # not bob, a member, nor dave
    assert smtp_server.messages[0]["Subject"] == "[Plenary] @carol asks to join Weights"
    assert "Their note: I train models." in text_of(smtp_server.messages[0])

    immediate(
        lambda: deliberation.decide_join_request(
            join_request=request, accept=False, reason="Full for now.", acting_user=alice
        )
    )

    [answer] = smtp_server.messages[2:]
    assert answer["To"] == "carol@example.org"
    assert answer["Subject"] == "[Plenary] Your request to join Weights was declined"
    assert "Their reason: Full for now." in text_of(answer)


def test_an_accepted_request_is_one_e_mail_to_the_requester(smtp_server, immediate, group, dave, olga):
    request = deliberation.request_to_join(group=group, user=dave)

    immediate(lambda: deliberation.decide_join_request(join_request=request, accept=True, acting_user=olga))

    [answer] = smtp_server.to("dave@example.org")
    assert answer["Subject"] == "[Plenary] Your request to join Weights was accepted"
    assert "you are now a member of the working group Weights" in text_of(answer)
    assert Notification.objects.filter(recipient=dave).count() == 1


# Invitations ---------------------------------------------------------------------------------------


def test_an_invitation_arrives_with_its_link_which_the_outbox_does_not_keep(
    smtp_server, immediate, group, alice, settings
):
    settings.SITE_URL = "https://plenary.example"
    invitation = immediate(
        lambda: deliberation.invite_member(
            group=group, email="newcomer@example.org", site_url="https://plenary.example", acting_user=alice
        )
    )

    [mail] = smtp_server.messages
    assert (mail["To"], mail["Subject"]) == ("newcomer@example.org", "[Plenary] Join Weights of Open System Definition")
    text = text_of(mail).replace("\r\n", "\n")
    assert text.startswith("Hello from Plenary,\n\nAlice Chair invites you to join the working group Weights")
    assert text.count("https://plenary.example/invitations/") == 1
    assert "List-Unsubscribe" not in mail and "e-mail settings" not in text_of(mail).lower()
    sent = Notification.objects.get(key=f"invitation:{invitation.pk}")
    assert (sent.delivery, sent.body, sent.path) == (Delivery.SENT, "", "")  # the link works once: no copy kept


# Following -----------------------------------------------------------------------------------------


def test_members_and_organizers_follow_by_default_and_anyone_may_follow_or_unfollow_on_the_page(
    client, group, other_group, alice, bob, carol, dave, olga
):
    client.force_login(carol)
    assert "Follow</button>" in client.get(reverse("deliberation:definition", args=["osd"])).content.decode()
    response = client.post(reverse("deliberation:definition-follow", args=["osd"]))
    assert response.status_code == 302 and response.url == "/d/osd/"
    assert "Unfollow</button>" in client.get(reverse("deliberation:definition", args=["osd"])).content.decode()

    client.force_login(bob)
    client.post(reverse("deliberation:definition-unfollow", args=["osd"]))
    assert "Follow</button>" in client.get(reverse("deliberation:definition", args=["osd"])).content.decode()

    assert sorted(u.username for u in services.followers(group.definition)) == ["alice", "carol", "dave", "olga"]


def test_followers_hear_of_a_release_and_a_new_ballot_in_their_digest_and_the_actor_does_not(
    smtp_server, immediate, draft, published, group, other_group, alice, bob, carol, dave, olga
):
    services.follow(user=carol, definition=published.definition)
    services.unfollow(user=bob, definition=published.definition)

    immediate(lambda: deliberation.publish_version(version=draft, release_notes="Clearer wording.", acting_user=olga))
    ballot = immediate(lambda: new_ballot(published, olga, [group]))

    told = Notification.objects.filter(kind=Kind.FOLLOWED).values_list("recipient__username", "key")
    assert sorted(told) == [
        (who, key) for who in ("alice", "carol", "dave") for key in (f"ballot:{ballot.pk}", f"release:{draft.pk}")
    ]
    assert smtp_server.messages == []  # what one follows comes once a day by default

    immediate(lambda: services.queue(services.gather_digests()))

    assert recipients(smtp_server) == ["alice@example.org", "carol@example.org", "dave@example.org"]
    [digest] = smtp_server.to("carol@example.org")
    assert "* Open System Definition 0.0.10 is published" in text_of(digest)
    assert "* A new ballot on Open System Definition: Component vote" in text_of(digest)


# Accounts ------------------------------------------------------------------------------------------


def test_the_sign_up_confirmation_speaks_for_the_configured_site(db, smtp_server, client, settings):
    settings.SITE_URL = "https://plenary.example"
    password = "a long enough passphrase"

    response = client.post(
        reverse("account_signup"),
        {"email": "newcomer@example.org", "username": "newcomer", "password1": password, "password2": password},
    )

    assert response.status_code == 302
    [mail] = smtp_server.messages
    assert mail["Subject"].startswith("[Plenary] ")
    assert text_of(mail).startswith("Hello from Plenary!")  # not from the host the request named
    assert "Thank you for using Plenary!\nplenary.example" in text_of(mail).replace("\r\n", "\n")
    # the link is on the site the newcomer signed up on, so that it opens where they are signed in
    assert "http://testserver/accounts/confirm-email/" in text_of(mail)


def test_a_person_sets_the_name_their_e_mails_greet_them_by(smtp_server, immediate, client, bob):
    client.force_login(bob)
    page = client.get(reverse("notifications:settings"))
    assert 'name="first_name"' in page.content.decode()

    response = client.post(
        reverse("notifications:settings"), {"save": "name", "first_name": " Bobbie ", "last_name": ""}
    )

    assert response.status_code == 302
    message = services.Message(Kind.MEMBERSHIP, "test:1", "Hello", "Body.", "/d/osd/")
    immediate(lambda: services.notify([bob], message))
    [mail] = smtp_server.messages
    assert text_of(mail).startswith("Hello Bobbie,")
