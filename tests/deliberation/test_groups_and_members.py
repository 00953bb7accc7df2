"""Working groups and their rosters: `create_group`, `add_member` and `remove_member`, who may do each, the
audit row each writes, and the roster at any past moment.

A refused call raises and leaves every row as it was, the audit log included (`nothing_written`).
"""

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from deliberation import services
from deliberation.models import Membership
from tests.factories import DefinitionFactory, MembershipFactory, UserFactory, WorkingGroupFactory

from .conftest import last_event

# Working groups --------------------------------------------------------------------------------


def test_organizer_creates_a_working_group(definition, olga):
    group = services.create_group(
        definition=definition, key="code", name="Code", description="Reviews code.", acting_user=olga
    )

    assert (group.definition, group.key, group.name, group.description) == (definition, "code", "Code", "Reviews code.")
    event = last_event()
    assert (event.action, event.actor_handle, event.subject_id) == ("group.created", "olga", str(group.pk))
    assert event.payload == {"key": "code", "name": "Code"}


def test_a_group_key_is_unique_within_a_definition(group, olga, nothing_written):
    with nothing_written(), pytest.raises(ValidationError, match="already exists"):
        services.create_group(definition=group.definition, key="weights", name="Weights again", acting_user=olga)


def test_the_same_group_key_may_exist_in_another_definition(group, olga):
    other = DefinitionFactory(slug="other")
    other.organizers.add(olga)

    assert services.create_group(definition=other, key="weights", name="Weights", acting_user=olga).key == "weights"


@pytest.mark.parametrize("key, name", [("not a slug", "Name"), ("ok", "")])
def test_a_group_needs_a_slug_key_and_a_name(key, name, definition, olga, nothing_written):
    with nothing_written(), pytest.raises(ValidationError):
        services.create_group(definition=definition, key=key, name=name, acting_user=olga)


@pytest.mark.parametrize("persona", ["alice", "bob", "carol"])
def test_only_organizers_create_groups(persona, request, group, nothing_written):
    request.getfixturevalue(persona)  # the persona exists before nothing_written looks
    with nothing_written(), pytest.raises(PermissionDenied):
        services.create_group(
            definition=group.definition, key="new", name="New", acting_user=request.getfixturevalue(persona)
        )


# Memberships -----------------------------------------------------------------------------------


def test_organizer_adds_a_member(group, olga, carol):
    before = timezone.now()

    membership = services.add_member(group=group, user=carol, acting_user=olga)

    assert (membership.user, membership.role, membership.left_at) == (carol, Membership.Role.MEMBER, None)
    assert before <= membership.joined_at <= timezone.now()
    assert carol in [m.user for m in group.memberships.current()]
    event = last_event()
    assert (event.action, event.actor_handle, event.subject_id) == ("membership.joined", "olga", str(membership.pk))
    assert event.payload == {"group": "weights", "member": "carol", "role": "member"}


def test_chair_adds_a_member(group, alice, carol):
    services.add_member(group=group, user=carol, acting_user=alice)

    assert last_event().actor_handle == "alice"
    assert group.memberships.current().filter(user=carol).exists()


def test_organizer_appoints_a_chair(group, olga, carol):
    services.add_member(group=group, user=carol, role=Membership.Role.CHAIR, acting_user=olga)

    assert group.is_chair(carol)
    assert last_event().payload["role"] == "chair"


def test_a_chair_appoints_a_co_chair(group, alice, carol):
    services.add_member(group=group, user=carol, role=Membership.Role.CHAIR, acting_user=alice)

    assert group.is_chair(carol)
    assert (last_event().actor_handle, last_event().payload["role"]) == ("alice", "chair")


@pytest.mark.parametrize("persona", ["bob", "carol", "dave"])
def test_members_and_outsiders_cannot_add_members(persona, request, group, other_group, nothing_written):
    newcomer = UserFactory(username="newcomer")

    request.getfixturevalue(persona)  # the persona exists before nothing_written looks
    with nothing_written(), pytest.raises(PermissionDenied):
        services.add_member(group=group, user=newcomer, acting_user=request.getfixturevalue(persona))


def test_a_chair_of_one_group_cannot_manage_another(group, other_group, alice, carol, nothing_written):
    with nothing_written(), pytest.raises(PermissionDenied):
        services.add_member(group=other_group, user=carol, acting_user=alice)


def test_a_current_member_cannot_join_twice(group, olga, bob, nothing_written):
    with nothing_written(), pytest.raises(ValidationError, match="already a member"):
        services.add_member(group=group, user=bob, acting_user=olga)


def test_leaving_keeps_the_membership_with_its_times(group, alice, bob):
    membership = group.memberships.get(user=bob)
    joined = membership.joined_at

    services.remove_member(membership=membership, acting_user=alice)

    membership.refresh_from_db()
    assert membership.joined_at == joined
    assert joined <= membership.left_at <= timezone.now()
    assert not group.memberships.current().filter(user=bob).exists()
    event = last_event()
    assert (event.action, event.actor_handle, event.subject_id) == ("membership.left", "alice", str(membership.pk))
    assert event.payload == {"group": "weights", "member": "bob"}


def test_a_former_member_can_join_again_and_both_stays_are_kept(group, olga, bob):
    first = services.remove_member(membership=group.memberships.get(user=bob), acting_user=olga)

    second = services.add_member(group=group, user=bob, acting_user=olga)

    stays = list(group.memberships.filter(user=bob).order_by("joined_at"))
    assert stays == [first, second]
    assert stays[0].left_at is not None and stays[1].left_at is None
    assert second.joined_at >= first.left_at


def test_the_roster_at_a_moment_is_rebuilt_from_join_and_leave_times(group, olga, bob, carol):
    bobs = group.memberships.get(user=bob)
    carols = services.add_member(group=group, user=carol, acting_user=olga)
    services.remove_member(membership=bobs, acting_user=olga)
    bobs.refresh_from_db()

    def roster(moment):
        return set(group.memberships.at(moment).values_list("user__username", flat=True))

    assert roster(carols.joined_at - timedelta(microseconds=1)) == {"alice", "bob"}
    assert roster(carols.joined_at) == {"alice", "bob", "carol"}
    assert roster(bobs.left_at - timedelta(microseconds=1)) == {"alice", "bob", "carol"}
    assert roster(bobs.left_at) == {"alice", "carol"}
    assert roster(timezone.now()) == set(group.memberships.current().values_list("user__username", flat=True))


@pytest.mark.parametrize(
    "moment, expected",
    [
        ("2024-01-01T00:00:00+00:00", set()),
        ("2024-01-10T00:00:00+00:00", {"erin"}),
        ("2024-02-20T00:00:00+00:00", {"erin", "frank"}),
        ("2024-03-01T00:00:00+00:00", {"frank"}),
        ("2024-06-01T00:00:00+00:00", {"frank", "erin"}),
    ],
)
def test_membership_at_a_past_moment(moment, expected, definition):
    group = WorkingGroupFactory(definition=definition)
    erin, frank = UserFactory(username="erin"), UserFactory(username="frank")
    MembershipFactory(
        group=group,
        user=erin,
        joined_at=datetime.fromisoformat("2024-01-10T00:00:00+00:00"),
        left_at=datetime.fromisoformat("2024-03-01T00:00:00+00:00"),
    )
    MembershipFactory(group=group, user=frank, joined_at=datetime.fromisoformat("2024-02-15T00:00:00+00:00"))
    MembershipFactory(group=group, user=erin, joined_at=datetime.fromisoformat("2024-05-01T00:00:00+00:00"))

    at = datetime.fromisoformat(moment)
    assert set(Membership.objects.filter(group=group).at(at).values_list("user__username", flat=True)) == expected


def test_chair_removes_a_member(group, alice, bob):
    services.remove_member(membership=group.memberships.get(user=bob), acting_user=alice)

    assert not group.memberships.current().filter(user=bob).exists()


def test_chair_cannot_remove_a_chair(group, alice, nothing_written):
    with nothing_written(), pytest.raises(PermissionDenied, match="Only organizers remove a chair"):
        services.remove_member(membership=group.memberships.get(user=alice), acting_user=alice)


def test_organizer_removes_a_chair(group, olga, alice):
    services.remove_member(membership=group.memberships.get(user=alice), acting_user=olga)

    assert not group.is_chair(alice)


@pytest.mark.parametrize("persona", ["bob", "carol", "dave"])
def test_members_and_outsiders_cannot_remove_members(persona, request, group, other_group, nothing_written):
    bobs = group.memberships.get(user__username="bob")

    request.getfixturevalue(persona)  # the persona exists before nothing_written looks
    with nothing_written(), pytest.raises(PermissionDenied):
        services.remove_member(membership=bobs, acting_user=request.getfixturevalue(persona))


def test_a_member_cannot_leave_twice(group, olga, bob, nothing_written):
    membership = services.remove_member(membership=group.memberships.get(user=bob), acting_user=olga)

    with nothing_written(), pytest.raises(ValidationError, match="already left"):
        services.remove_member(membership=membership, acting_user=olga)
