"""A working group's page: its roster today and at a past date, and the chair's and organizers' controls to
add and remove members.

olga organizes the definition `osd`; alice chairs its group `weights`, where bob is a member; carol is
signed in but belongs to nothing; an anonymous observer is not signed in. `published` is version 0.0.9
(components code, data, and all-data = mean of data); `draft` is 0.0.10, started from it.
"""

import re
from datetime import datetime

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from tests.client import page_messages, sign_in
from tests.deliberation.pages import url
from tests.factories import MembershipFactory, UserFactory


def roster(response) -> list[str]:
    html = response.content.decode()
    section = html[html.index('id="roster-heading"') :]
    section = section[: section.index("</table>")]
    return re.findall(r'<span class="meta">@([^<]+)</span>', section)


def test_the_group_page_shows_the_current_roster(client, group, other_group):
    response = client.get(url("group", "osd", "weights"))

    assert roster(response) == ["alice", "bob"]
    assert b"Remove @" not in response.content
    assert b"Add a member" not in response.content


@pytest.fixture
def roster_history(group):
    """erin was in the group from 10 January to 1 March 2024; frank joined on 15 February 2024."""

    def day(text):
        return timezone.make_aware(datetime.fromisoformat(text))

    MembershipFactory(
        group=group,
        user=UserFactory(username="erin"),
        joined_at=day("2024-01-10T09:00"),
        left_at=day("2024-03-01T09:00"),
    )
    MembershipFactory(group=group, user=UserFactory(username="frank"), joined_at=day("2024-02-15T09:00"))
    return group


@pytest.mark.parametrize(
    "at, expected",
    [
        ("2024-01-09", []),
        ("2024-01-10", ["erin"]),
        ("2024-02-20", ["erin", "frank"]),
        ("2024-03-01", ["frank"]),
    ],
)
def test_the_roster_at_a_past_date(at, expected, client, roster_history):
    response = client.get(url("group", "osd", "weights"), {"at": at})

    assert roster(response) == expected


def test_the_roster_today_counts_only_current_members(client, roster_history):
    assert roster(client.get(url("group", "osd", "weights"))) == ["alice", "bob", "frank"]


@pytest.mark.parametrize("at", ["yesterday", "2024-02-30", "2024-13-01", "01/02/2024"])
def test_a_bad_date_shows_a_message_and_todays_roster(at, client, roster_history):
    response = client.get(url("group", "osd", "weights"), {"at": at})

    assert response.status_code == 200
    assert page_messages(response) == ["Give the date as YYYY-MM-DD."]
    assert roster(response) == ["alice", "bob", "frank"]


@pytest.mark.parametrize("manager", ["alice", "olga"])
def test_chairs_and_organizers_see_the_roster_controls(manager, request, client, group):
    sign_in(client, request, manager)

    response = client.get(url("group", "osd", "weights"))

    assert b"Add a member" in response.content
    assert b"Remove @bob" in response.content


def test_chair_adds_and_removes_a_member(client, alice, carol, group):
    client.force_login(alice)

    response = client.post(url("member-add", "osd", "weights"), {"username": "carol", "role": "member"})
    assert response.status_code == 302
    assert response.url == url("group", "osd", "weights")
    assert roster(client.get(response.url)) == ["alice", "bob", "carol"]

    bobs = group.memberships.current().get(user__username="bob")
    response = client.post(url("member-remove", "osd", "weights", bobs.pk))
    assert response.status_code == 302
    page = client.get(url("group", "osd", "weights"))
    assert roster(page) == ["alice", "carol"]
    bobs.refresh_from_db()
    assert bobs.left_at is not None
    assert "@bob" in page.content.decode().split('id="history-heading"')[1]

    assert list(AuditEvent.objects.values_list("action", "actor_handle", "payload")) == [
        ("membership.joined", "alice", {"group": "weights", "member": "carol", "role": "member"}),
        ("membership.left", "alice", {"group": "weights", "member": "bob"}),
    ]


@pytest.mark.parametrize("persona", ["bob", "carol", "dave"])
def test_members_and_outsiders_cannot_change_the_roster(persona, request, client, group, other_group, nothing_written):
    sign_in(client, request, persona)
    bobs = group.memberships.get(user__username="bob")

    with nothing_written():
        add = client.post(url("member-add", "osd", "weights"), {"username": "carol", "role": "member"})
        remove = client.post(url("member-remove", "osd", "weights", bobs.pk))

    assert (add.status_code, remove.status_code) == (403, 403)


def test_a_chair_appoints_a_co_chair(client, alice, carol, group):
    client.force_login(alice)
    assert b'<option value="chair"' in client.get(url("group", "osd", "weights")).content

    client.post(url("member-add", "osd", "weights"), {"username": "carol", "role": "chair"})

    assert group.is_chair(carol)


def test_organizer_appoints_a_chair(client, olga, carol, group):
    client.force_login(olga)
    assert b'<option value="chair"' in client.get(url("group", "osd", "weights")).content

    client.post(url("member-add", "osd", "weights"), {"username": "carol", "role": "chair"})

    assert group.is_chair(carol)


def test_chair_cannot_remove_a_chair(client, alice, group, nothing_written):
    client.force_login(alice)
    chair = group.memberships.get(user=alice)

    with nothing_written():
        assert client.post(url("member-remove", "osd", "weights", chair.pk)).status_code == 403


def test_adding_an_unknown_handle_says_so(client, olga, group, nothing_written):
    client.force_login(olga)

    with nothing_written():
        response = client.post(
            url("member-add", "osd", "weights"), {"username": "nobody", "role": "member"}, follow=True
        )

    assert page_messages(response) == ["No account has the handle nobody."]


def test_adding_a_current_member_again_says_so(client, olga, group, nothing_written):
    client.force_login(olga)

    with nothing_written():
        response = client.post(url("member-add", "osd", "weights"), {"username": "bob", "role": "member"}, follow=True)

    assert page_messages(response) == ["bob is already a member of Weights."]
