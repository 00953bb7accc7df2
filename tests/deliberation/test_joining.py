"""Joining a working group: asking to join, invitations by e-mail, adding many at once.

Every way in goes through the roster machinery of `add_member` (a `membership.joined` event in the definition's
stream and in each open enrolled ballot's), which tests/votes/test_joining_a_ballot.py checks with a ballot.
"""

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from audit.models import AuditEvent
from deliberation import services
from deliberation.models import BULK_LINES_MAX, JOIN_NOTE_MAX_LENGTH, Invitation, JoinRequest, Membership
from tests.client import page_messages, table_rows, text
from tests.deliberation.pages import url
from tests.factories import UserFactory

GROUP = url("group", "osd", "weights")


def last_event() -> AuditEvent:
    return AuditEvent.objects.latest("pk")


def token_of(message) -> str:
    return re.search(r"/invitations/([^/\s]+)/", message.body).group(1)


# Asking to join ------------------------------------------------------------------------------


def test_carol_asks_to_join_and_sees_that_she_waits(client, carol, group):
    client.force_login(carol)
    assert "Ask to join Weights" in text(client.get(GROUP))

    client.post(url("join-request", "osd", "weights"), {"note": "I train small models."})

    page = text(client.get(GROUP))
    assert "You asked to join on" in page and "have not answered yet" in page
    assert "Ask to join Weights" not in page
    event = last_event()
    assert (event.action, event.actor_handle, event.payload) == (
        "join.requested",
        "carol",
        {"group": "weights", "member": "carol", "note": "I train small models."},
    )


def test_the_chair_declines_with_a_reason_the_requester_reads(client, alice, carol, group, nothing_written):
    join_request = services.request_to_join(group=group, user=carol, note="Please.")
    client.force_login(alice)
    assert "I" in text(client.get(GROUP)) and "Accept @carol" in text(client.get(GROUP))
    decide = url("join-decide", "osd", "weights", join_request.pk)

    with nothing_written():
        refused = client.post(decide, {"decision": "decline", "reason": " "}, follow=True)
    assert page_messages(refused) == ["Say why the request is declined; the requester reads the reason."]

    client.post(decide, {"decision": "decline", "reason": "The group is full this round."})

    assert last_event().action == "join.declined"
    assert last_event().payload["reason"] == "The group is full this round."
    client.force_login(carol)
    page = text(client.get(GROUP))
    assert "declined by @alice" in page and "The group is full this round." in page
    assert "Ask to join Weights" in page  # she may ask again


def test_the_chair_accepts_and_the_requester_is_a_member(client, alice, carol, group):
    join_request = services.request_to_join(group=group, user=carol)
    client.force_login(alice)

    client.post(url("join-decide", "osd", "weights", join_request.pk), {"decision": "accept", "reason": ""})

    assert group.memberships.current().get(user=carol).role == Membership.Role.MEMBER
    assert list(AuditEvent.objects.order_by("-pk").values_list("action", flat=True)[:2]) == [
        "join.accepted",
        "membership.joined",
    ]
    client.force_login(carol)
    assert "Your request to join was accepted by @alice" in text(client.get(GROUP))


def test_a_request_is_decided_once(alice, olga, carol, group, nothing_written):
    join_request = services.request_to_join(group=group, user=carol)
    services.decide_join_request(join_request=join_request, accept=True, acting_user=alice)

    with nothing_written(), pytest.raises(ValidationError, match="already accepted"):
        services.decide_join_request(join_request=join_request, accept=False, reason="No.", acting_user=olga)


@pytest.mark.parametrize("persona", ["bob", "carol", "dave"])
def test_only_chairs_and_organizers_decide(persona, request, carol, group, nothing_written):
    join_request = services.request_to_join(group=group, user=UserFactory(username="erin"))
    acting_user = request.getfixturevalue(persona)

    with nothing_written(), pytest.raises(PermissionDenied):
        services.decide_join_request(join_request=join_request, accept=True, acting_user=acting_user)


def test_a_member_or_a_second_request_is_refused(client, bob, carol, group, nothing_written):
    services.request_to_join(group=group, user=carol)

    with nothing_written():
        with pytest.raises(ValidationError, match="already a member"):
            services.request_to_join(group=group, user=bob)
        with pytest.raises(ValidationError, match="already asked"):
            services.request_to_join(group=group, user=carol)


def test_a_note_too_long_is_refused_whole(client, carol, group, nothing_written):
    client.force_login(carol)

    with nothing_written():
        response = client.post(
            url("join-request", "osd", "weights"), {"note": "x" * (JOIN_NOTE_MAX_LENGTH + 1)}, follow=True
        )

    assert "at most 1000 characters" in page_messages(response)[0]


# Invitations ---------------------------------------------------------------------------------


def invite(client, who, email="newcomer@example.org", role="member", django_capture_on_commit_callbacks=None):
    client.force_login(who)
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(url("invitation-create", "osd", "weights"), {"email": email, "role": role}, follow=True)


def test_a_chair_invites_by_e_mail_greeting_by_the_site_name(
    client, alice, group, settings, django_capture_on_commit_callbacks
):
    settings.SITE_NAME = "Open Models Consultation"

    response = invite(
        client, alice, "Newcomer@Example.org", django_capture_on_commit_callbacks=django_capture_on_commit_callbacks
    )

    assert page_messages(response) == ["Invitation sent to newcomer@example.org."]
    [message] = mail.outbox
    assert message.to == ["newcomer@example.org"]
    assert message.subject == "[Open Models Consultation] Join Weights of Open System Definition"
    assert message.body.startswith("Hello from Open Models Consultation,")
    assert "Alice Chair invites you to join the working group Weights" in message.body
    assert "testserver" not in message.body.split("\n")[0]
    assert f"http://testserver/invitations/{token_of(message)}/" in message.body
    event = last_event()
    assert (event.action, event.actor_handle) == ("invitation.sent", "alice")
    assert "newcomer@example.org" not in str(event.payload)  # the public log keeps no address
    assert table_rows(client.get(GROUP), "invitations")[0][:2] == ["newcomer@example.org", "member"]


def test_the_invitee_signs_up_from_the_link_and_joins(client, alice, group, django_capture_on_commit_callbacks):
    invite(client, alice, role="chair", django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    link = f"/invitations/{token_of(mail.outbox[0])}/"
    client.logout()

    page = client.get(link)
    assert "Sign up" in text(page) and "newcomer@example.org" in text(page)
    signup = client.get(f"/accounts/signup/?next={link}")
    assert 'value="newcomer@example.org"' in signup.content.decode()  # the invited address, filled in
    response = client.post(
        f"/accounts/signup/?next={link}",
        {
            "email": "newcomer@example.org",
            "username": "newcomer",
            "password1": "a long enough passphrase",
            "password2": "a long enough passphrase",
            "next": link,
        },
    )
    assert response.status_code == 302 and response.url == link  # signed in at once: the link proved the address
    assert len(mail.outbox) == 1  # no confirmation mail
    assert EmailAddress.objects.get(email="newcomer@example.org").verified

    joined = client.post(link, follow=True)

    assert page_messages(joined)[-1] == "You joined Weights as chair."
    newcomer = group.memberships.current().get(user__username="newcomer")
    assert newcomer.role == "chair"
    assert list(AuditEvent.objects.order_by("-pk").values_list("action", "actor_handle")[:2]) == [
        ("invitation.accepted", "newcomer"),
        ("membership.joined", "newcomer"),
    ]
    with pytest.raises(ValidationError, match="accepted"):  # once
        services.accept_invitation(invitation=Invitation.objects.get(), user=newcomer.user)


def test_an_existing_account_signs_in_from_the_link(client, alice, carol, group, django_capture_on_commit_callbacks):
    invite(client, alice, carol.email, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    link = f"/invitations/{token_of(mail.outbox[0])}/"
    client.force_login(carol)

    assert "Join Weights as @carol" in text(client.get(link))
    client.post(link)

    assert group.memberships.current().filter(user=carol).exists()


def test_another_account_cannot_use_the_link(
    client, alice, dave, group, nothing_written, django_capture_on_commit_callbacks
):
    invite(client, alice, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    link = f"/invitations/{token_of(mail.outbox[0])}/"
    client.force_login(dave)

    with nothing_written():
        response = client.post(link)

    assert response.status_code == 403
    assert "sent to newcomer@example.org, which is not a verified address of @dave" in text(response)


def test_a_revoked_or_expired_invitation_no_longer_works(
    client, alice, olga, carol, group, nothing_written, django_capture_on_commit_callbacks
):
    invite(client, alice, carol.email, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    link = f"/invitations/{token_of(mail.outbox[0])}/"
    invitation = Invitation.objects.get()
    client.post(url("invitation-revoke", "osd", "weights", invitation.pk))
    assert last_event().action == "invitation.revoked"

    client.force_login(carol)
    assert "This invitation is revoked" in text(client.get(link))
    with nothing_written():
        refused = client.post(link, follow=True)
    assert page_messages(refused) == ["This invitation is revoked; ask the group's chairs for a new one."]

    services.invite_member(group=group, email="late@example.org", site_url="http://testserver", acting_user=olga)
    late = Invitation.objects.get(email="late@example.org")
    Invitation.objects.filter(pk=late.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with nothing_written(), pytest.raises(ValidationError, match="expired"):
        services.accept_invitation(invitation=late, user=carol)


def test_an_address_already_invited_or_a_member_is_refused(alice, bob, group, nothing_written):
    services.invite_member(group=group, email="x@example.org", site_url="http://testserver", acting_user=alice)

    with nothing_written():
        with pytest.raises(ValidationError, match="still open"):
            services.invite_member(group=group, email="X@example.org ", site_url="http://t", acting_user=alice)
        with pytest.raises(ValidationError, match="already a member"):
            services.invite_member(group=group, email=bob.email, site_url="http://t", acting_user=alice)
        with pytest.raises(PermissionDenied):
            services.invite_member(group=group, email="y@example.org", site_url="http://t", acting_user=bob)


# Many at once --------------------------------------------------------------------------------


def test_many_lines_each_accepted_or_refused_with_its_reason(
    client, alice, carol, dave, group, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    lines = "\n".join(["@carol", "bob", dave.email, "stranger@example.org", "nobody", "", "carol"])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("members-bulk", "osd", "weights"), {"lines": lines, "role": "member"})

    assert table_rows(response, "bulk-results") == [
        ["@carol", "accepted", "@carol added as member."],
        ["bob", "refused", "bob is already a member of Weights."],
        ["dave@example.org", "accepted", "@dave added as member."],
        ["stranger@example.org", "accepted", "No account has this address: invited to join as member."],
        ["nobody", "refused", "No account has the handle nobody."],
        ["carol", "refused", "carol is already a member of Weights."],
    ]
    assert set(group.memberships.current().values_list("user__username", flat=True)) == {
        "alice",
        "bob",
        "carol",
        "dave",
    }
    invited, *told = sorted(mail.outbox, key=lambda m: "Join" not in m.subject)  # the added are told they are in
    assert invited.to == ["stranger@example.org"]
    assert invited.subject == "[Plenary] Join Weights of Open System Definition"
    assert sorted(m.to[0] for m in told) == ["carol@example.org", "dave@example.org"]


def test_too_many_lines_are_refused_whole(client, alice, group, nothing_written):
    client.force_login(alice)
    lines = "\n".join(f"user{n}@example.org" for n in range(BULK_LINES_MAX + 1))

    with nothing_written():
        response = client.post(url("members-bulk", "osd", "weights"), {"lines": lines, "role": "member"})

    assert f"At most {BULK_LINES_MAX} lines at once; this has {BULK_LINES_MAX + 1}." in text(response)


def test_join_requests_are_kept(carol, group):
    services.request_to_join(group=group, user=carol, note="Hello.")

    assert JoinRequest.objects.pending().get().note == "Hello."
