"""Veto powers: the grants page, granting and revoking.

olga organizes the definition `osd`; alice chairs its group `weights`, where bob is a member; dave is
a member of `corpora`; carol is signed in but belongs to nothing; oscar organizes another
definition; an anonymous observer is not signed in. `ballot` is the open ballot `components` on
version 0.0.9 (components code, data and the aggregate all-data) for weights and corpora.
Ballots are public, so outsiders get 403 — never 404 — for what they may see but not do.
"""

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from audit.models import AuditEvent
from tests.client import page_messages, table_rows, text
from tests.votes.pages import actions, ballot_url, roll_call
from votes import services
from votes.models import VetoGrant

# Veto powers ---------------------------------------------------------------------------------


def test_the_grants_page_lists_holder_choice_scope_granter_reason_and_use(client, olga, alice, voted, choice):
    services.grant_veto(
        ballot=voted,
        choice=choice("not-necessary"),
        member=alice,
        category="Data",
        reason="alice curates the data sets.",
        acting_user=olga,
    )

    rows = table_rows(client.get(ballot_url("grants")), "grants")

    assert [[re.sub(r"\d+ \w+ \d{4}, \d\d:\d\d", "DATE", cell) for cell in row] for row in rows] == [
        [
            "Weights (every member)",
            "Not necessary −1",
            "every component",
            "by @olga DATE",
            "Charter §3: model builders speak for the weights.",
            "1 vote",
            "active",
        ],
        ["@alice", "Not necessary −1", "Data", "by @olga DATE", "alice curates the data sets.", "0 votes", "active"],
    ]


def test_the_usage_count_links_to_the_votes_cast_with_the_grant(client, voted):
    content = client.get(ballot_url("grants")).content.decode()

    link = html.unescape(re.search(r'href="([^"]*roll-call/\?[^"]*)"', content).group(1))
    assert [row[:2] for row in roll_call(client, **dict(parse_qs(urlsplit(link).query)))] == [
        ("@alice", "Training data/Use")
    ]


def test_the_organizer_grants_a_veto_power(client, olga, ballot, other_group, choice):
    client.force_login(olga)

    response = client.post(
        ballot_url("grants"),
        {
            "choice": choice("not-necessary").pk,
            "group": other_group.pk,
            "category": "Code",
            "reason": "Corpora says so.",
        },
        follow=True,
    )

    assert response.redirect_chain == [(ballot_url("grants"), 302)]
    assert page_messages(response) == ["Granted “Not necessary” to group corpora."]
    grant = VetoGrant.objects.get()
    assert (grant.group, grant.member, grant.category, grant.reason, grant.granted_by) == (
        other_group,
        None,
        "Code",
        "Corpora says so.",
        olga,
    )
    assert AuditEvent.objects.filter(action__startswith="grant.").count() == 1


def test_the_organizer_grants_to_one_member_by_handle(client, olga, bob, ballot, choice):
    client.force_login(olga)

    client.post(ballot_url("grants"), {"choice": choice("not-necessary").pk, "member": "@bob", "reason": "Expert."})

    assert VetoGrant.objects.get().member == bob


@pytest.mark.parametrize(
    "data, message",
    [
        ({}, "Grant the choice to one working group or to one member."),
        ({"member": "nobody"}, "No account has the handle nobody."),
        ({"member": "carol"}, "@carol is not a member of a group enrolled in this ballot."),
        ({"group": "weights", "member": "bob"}, "Grant the choice to one working group or to one member."),
    ],
    ids=["no holder", "unknown handle", "outsider", "two holders"],
)
def test_a_malformed_grant_says_why_and_writes_nothing(
    data, message, client, olga, carol, ballot, group, choice, nothing_written
):
    client.force_login(olga)
    data = {"choice": choice("not-necessary").pk, "reason": "Why not."} | data
    if data.get("group") == "weights":
        data["group"] = group.pk

    with nothing_written():
        response = client.post(ballot_url("grants"), data)

    assert response.status_code == 200
    assert message in text(response)


def test_the_organizer_revokes_a_grant_with_a_reason(client, olga, grant):
    client.force_login(olga)

    response = client.post(ballot_url("grant-revoke", grant.pk), {"reason": "The charter changed."}, follow=True)

    assert page_messages(response) == ["Revoked “Not necessary” from group weights."]
    assert "revoked by @olga" in text(response)
    assert "The charter changed." in text(response)
    grant.refresh_from_db()
    assert (grant.revoked_by, grant.revoke_reason) == (olga, "The charter changed.")
    assert actions()[-1] == "grant.revoked"


def test_revoking_without_a_reason_writes_nothing(client, olga, grant, nothing_written):
    client.force_login(olga)

    with nothing_written():
        response = client.post(ballot_url("grant-revoke", grant.pk), {"reason": ""}, follow=True)

    assert page_messages(response) == ["Say why the grant is revoked; the reason is shown publicly."]
