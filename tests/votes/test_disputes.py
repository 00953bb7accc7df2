"""Disputes: raising one from the grid or the roll call, and resolving it.

olga organizes the definition `osd`; alice chairs its group `weights`, where bob is a member; dave is
a member of `corpora`; carol is signed in but belongs to nothing; oscar organizes another
definition; an anonymous observer is not signed in. `ballot` is the open ballot `components` on
version 0.0.9 (components code, data and the aggregate all-data) for weights and corpora.
Ballots are public, so outsiders get 403 — never 404 — for what they may see but not do.
"""

import html
import re

import pytest

from audit.models import AuditEvent
from tests.client import page_messages, sign_in, text
from tests.votes.pages import actions, ballot_url, roll_call
from votes import services
from votes.models import Dispute

# Disputes ------------------------------------------------------------------------------------


def test_a_member_disputes_a_groups_choice(client, bob, voted, other_group, choice):
    client.force_login(bob)
    before = AuditEvent.objects.count()

    response = client.post(
        ballot_url("disputes"),
        {"group": other_group.pk, "choice": choice("abstain").pk, "reason": "Abstention hides a veto."},
        follow=True,
    )

    dispute = Dispute.objects.get()
    assert response.redirect_chain == [(ballot_url("disputes") + f"#dispute-{dispute.pk}", 302)]
    assert page_messages(response) == [f"Dispute #{dispute.pk} raised; the organizers will resolve it in public."]
    assert f"#{dispute.pk}: votes for group corpora choosing Abstain Open" in text(response)
    assert (dispute.raised_by, dispute.group, dispute.choice.key, dispute.voter) == (bob, other_group, "abstain", None)
    assert actions(after=before) == ["dispute.raised"]
    event = AuditEvent.objects.get(action="dispute.raised")
    assert (event.actor_handle, event.stream, event.payload["votes"]) == ("bob", voted.audit_stream, 1)


def test_a_member_disputes_one_vote_from_the_roll_call(client, alice, dave, voted):
    client.force_login(alice)
    roll = client.get(ballot_url("roll-call")).content.decode()
    link = html.unescape(re.search(r'href="([^"]*disputes/\?voter=dave&amp;component=code[^"]*)"', roll).group(1))

    form = client.get(link)

    assert form.status_code == 200
    content = form.content.decode()
    code, use = voted.version.components.get(key="code"), voted.criteria.get(key="use")
    assert 'name="voter" value="dave"' in content
    assert f'<option value="{code.pk}" selected>' in content
    assert f'<option value="{use.pk}" selected>' in content
    before = AuditEvent.objects.count()

    response = client.post(
        ballot_url("disputes"),
        {"voter": "dave", "component": code.pk, "criterion": use.pk, "reason": "Cast after the deadline."},
    )

    assert response.status_code == 302
    dispute = Dispute.objects.get()
    assert (dispute.voter, dispute.component, dispute.criterion, dispute.group) == (dave, code, use, None)
    assert dispute.selection == "votes by @dave on code for Use"
    assert actions(after=before) == ["dispute.raised"]
    assert [row[0] for row in roll_call(client, flag="disputed")] == ["@dave"]


@pytest.mark.parametrize("persona", ["carol", "oscar"])
def test_outsiders_cannot_raise_disputes(persona, request, client, oscar, voted, choice, nothing_written):
    sign_in(client, request, persona)

    with nothing_written():
        response = client.post(ballot_url("disputes"), {"choice": choice("abstain").pk, "reason": "Hmm."})

    assert response.status_code == 403
    assert "Only members of the definition's working groups can raise a dispute." in text(response)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"reason": "Something is off."}, "Say which votes you dispute"),
        ({"voter": "carol", "reason": "Hmm."}, "No current vote matches that selection"),
        ({"voter": "nobody", "reason": "Hmm."}, "No account has the handle nobody."),
        ({"voter": "dave", "reason": ""}, "This field is required."),
    ],
    ids=["no selection", "no matching vote", "unknown handle", "no reason"],
)
def test_a_dispute_that_selects_nothing_says_why_and_writes_nothing(
    data, message, client, bob, carol, voted, nothing_written
):
    client.force_login(bob)

    with nothing_written():
        response = client.post(ballot_url("disputes"), data)

    assert response.status_code == 200
    assert message in text(response)


@pytest.mark.parametrize("status, label", [("upheld", "Upheld"), ("dismissed", "Dismissed")])
def test_the_organizer_resolves_a_dispute(status, label, client, olga, dispute):
    client.force_login(olga)
    before = AuditEvent.objects.count()

    response = client.post(
        ballot_url("dispute-resolve", dispute.pk), {"status": status, "resolution": "Decided in the open."}, follow=True
    )

    assert response.redirect_chain == [(ballot_url("disputes") + f"#dispute-{dispute.pk}", 302)]
    assert page_messages(response) == [f"Dispute #{dispute.pk} {label.lower()}."]
    assert f"{label} by @olga" in text(response)
    assert "Decided in the open." in text(response)
    assert f"Resolve dispute #{dispute.pk}" not in text(response)
    dispute.refresh_from_db()
    assert (dispute.status, dispute.resolved_by, dispute.resolution) == (status, olga, "Decided in the open.")
    assert actions(after=before) == ["dispute.resolved"]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"status": "upheld", "resolution": ""}, "Choose uphold or dismiss, and explain the resolution."),
        ({"status": "open", "resolution": "x"}, "Choose uphold or dismiss, and explain the resolution."),
    ],
)
def test_a_resolution_needs_a_status_and_a_text(data, message, client, olga, dispute, nothing_written):
    client.force_login(olga)

    with nothing_written():
        response = client.post(ballot_url("dispute-resolve", dispute.pk), data, follow=True)

    assert page_messages(response) == [message]


def test_a_resolved_dispute_cannot_be_resolved_again(client, olga, dispute, nothing_written):
    services.resolve_dispute(dispute=dispute, status="upheld", resolution="Indeed.", acting_user=olga)
    client.force_login(olga)

    with nothing_written():
        response = client.post(
            ballot_url("dispute-resolve", dispute.pk),
            {"status": "dismissed", "resolution": "On second thought."},
            follow=True,
        )

    assert page_messages(response) == ["This dispute is already upheld."]
