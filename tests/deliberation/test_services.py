"""Every write use case of the deliberation app: what it changes, the audit row it writes, and what it refuses.

A refused call raises and leaves every row as it was, the audit log included (`nothing_written`).
"""

from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from audit.models import AuditEvent
from deliberation import services
from deliberation.models import Comment, CommentRevision, Component, DraftVersion, Membership
from tests.factories import (
    CommentFactory,
    ComponentFactory,
    DefinitionFactory,
    DraftVersionFactory,
    MembershipFactory,
    UserFactory,
    WorkingGroupFactory,
)


def last_event() -> AuditEvent:
    return AuditEvent.objects.order_by("-seq").first()


def leaf(key: str, title: str | None = None, category: str = "Code") -> dict:
    return {"key": key, "title": title or key.title(), "category": category, "aggregate_rule": ""}


def aggregate(key: str, rule: str = "sum") -> dict:
    return {"key": key, "title": key.title(), "category": "Data", "aggregate_rule": rule}


# Definitions -----------------------------------------------------------------------------------


def test_create_definition_names_its_organizers_and_is_audited(olga, alice):
    definition = services.create_definition(
        slug="osaid", title="Open Source AI Definition", organizers=[olga, alice], acting_user=None
    )

    assert set(definition.organizers.all()) == {olga, alice}
    event = last_event()
    assert (event.action, event.actor_handle, event.subject_id) == ("definition.created", "", str(definition.pk))
    assert event.payload == {"slug": "osaid", "title": "Open Source AI Definition", "organizers": ["alice", "olga"]}


# start_draft -----------------------------------------------------------------------------------


def test_organizer_starts_an_empty_first_draft(definition, olga):
    draft = services.start_draft(definition=definition, label="0.1", acting_user=olga)

    assert (draft.label, draft.body, draft.status, draft.based_on) == ("0.1", "", DraftVersion.Status.DRAFT, None)
    assert not draft.components.exists()
    event = last_event()
    assert (event.action, event.actor_handle, event.subject_type, event.subject_id) == (
        "draft.started",
        "olga",
        "deliberation.draftversion",
        str(draft.pk),
    )
    assert event.payload == {"definition": "osd", "label": "0.1", "based_on": None}


def test_next_draft_copies_text_and_components_of_the_published_version(published, olga):
    draft = services.start_draft(definition=published.definition, label="0.0.10", based_on=published, acting_user=olga)

    assert draft.body == published.body
    assert draft.based_on == published
    assert draft.status == DraftVersion.Status.DRAFT
    assert list(draft.components.values_list("key", "title", "category", "position", "aggregate_rule")) == list(
        published.components.values_list("key", "title", "category", "position", "aggregate_rule")
    )
    assert last_event().payload == {"definition": "osd", "label": "0.0.10", "based_on": "0.0.9"}


def test_copied_aggregate_is_made_of_the_new_drafts_parts(published, olga):
    draft = services.start_draft(definition=published.definition, label="0.0.10", based_on=published, acting_user=olga)

    copy = draft.components.get(key="all-data")
    assert copy.aggregate_rule == "mean"
    assert [(p.key, p.version_id) for p in copy.parts.all()] == [("data", draft.pk)]
    original = published.components.get(key="all-data")
    assert [(p.key, p.version_id) for p in original.parts.all()] == [("data", published.pk)]


def test_a_second_open_draft_is_refused(draft, olga, nothing_written):
    with nothing_written(), pytest.raises(ValidationError, match="already has a draft in progress"):
        services.start_draft(definition=draft.definition, label="0.0.11", acting_user=olga)


@pytest.mark.parametrize("persona", ["alice", "bob", "carol", "dave"])
def test_only_organizers_start_drafts(persona, request, published, nothing_written):
    user = request.getfixturevalue(persona)

    with nothing_written(), pytest.raises(PermissionDenied):
        services.start_draft(definition=published.definition, label="0.0.10", based_on=published, acting_user=user)


def test_an_anonymous_user_cannot_start_a_draft(definition, nothing_written):
    with nothing_written(), pytest.raises(PermissionDenied):
        services.start_draft(definition=definition, label="0.1", acting_user=AnonymousUser())


def test_a_draft_cannot_start_from_another_draft(draft, olga, nothing_written):
    services.publish_version(version=draft, release_notes="Ready.", acting_user=olga)
    services.start_draft(definition=draft.definition, label="0.0.11", based_on=draft, acting_user=olga)
    in_progress = DraftVersion.objects.get(label="0.0.11")

    with nothing_written(), pytest.raises(ValidationError, match="published version of the same definition"):
        services.start_draft(definition=draft.definition, label="0.0.12", based_on=in_progress, acting_user=olga)


def test_a_draft_cannot_start_from_another_definitions_version(definition, olga, nothing_written):
    elsewhere = DraftVersionFactory(definition=DefinitionFactory(slug="elsewhere"), label="9.9")

    with nothing_written(), pytest.raises(ValidationError, match="published version of the same definition"):
        services.start_draft(definition=definition, label="0.1", based_on=elsewhere, acting_user=olga)


@pytest.mark.parametrize("label", ["0.0.9", "", "0 1", "-x"])
def test_a_draft_needs_a_new_valid_label(label, published, olga, nothing_written):
    with nothing_written(), pytest.raises(ValidationError):
        services.start_draft(definition=published.definition, label=label, based_on=published, acting_user=olga)


# update_draft ----------------------------------------------------------------------------------


def test_organizer_edits_a_drafts_label_and_text(draft, olga):
    services.update_draft(version=draft, label="0.1-rc1", body="# New\n\nText.", acting_user=olga)

    draft.refresh_from_db()
    assert (draft.label, draft.body) == ("0.1-rc1", "# New\n\nText.")
    event = last_event()
    assert (event.action, event.actor_handle) == ("draft.edited", "olga")
    assert event.payload == {"label": "0.1-rc1", "revision": 2, "digest": services.version_digest(draft, salted=True)}


def test_a_private_draft_s_text_cannot_be_confirmed_from_its_public_digest_until_its_release(draft, olga, client):
    """Anyone reads the definition's stream: a digest of the text alone would confirm a guess of a private draft."""
    services.update_draft(version=draft, label=draft.label, body="We require the training data.", acting_user=olga)
    edited = last_event()
    assert client.get("/audit/", {"stream": "definition:osd", "action": "draft.edited"}).status_code == 200

    guessed = DraftVersion.objects.get(pk=draft.pk)  # the right guess, tried as the public digest would allow
    assert services.version_digest(guessed) != edited.payload["digest"]

    services.publish_version(version=draft, release_notes="Released.", acting_user=olga)
    published = last_event()
    salt = published.payload["salt"]  # published with the release: the last edit now checks against the text
    released = DraftVersion.objects.get(pk=draft.pk)
    assert released.digest_salt == salt
    assert services.version_digest(released, salted=True) == edited.payload["digest"]
    assert published.payload["digest"] == services.version_digest(released)


def test_each_draft_has_its_own_salt(draft, published):
    assert len({draft.digest_salt, published.digest_salt}) == 2 and len(draft.digest_salt) == 32


@pytest.mark.parametrize("persona", ["alice", "bob", "carol"])
def test_only_organizers_edit_a_draft(persona, request, draft, nothing_written):
    request.getfixturevalue(persona)  # the persona exists before nothing_written looks
    with nothing_written(), pytest.raises(PermissionDenied):
        services.update_draft(
            version=draft, label="0.0.10", body="Vandalised", acting_user=request.getfixturevalue(persona)
        )


def test_a_draft_cannot_take_the_label_of_another_version(draft, olga, nothing_written):
    with nothing_written(), pytest.raises(ValidationError):
        services.update_draft(version=draft, label="0.0.9", body=draft.body, acting_user=olga)


# publish_version -------------------------------------------------------------------------------


def test_publishing_fixes_the_version_and_records_its_digest(draft, olga):
    before = timezone.now()

    services.publish_version(version=draft, release_notes="Adds *nothing* yet.", acting_user=olga)

    draft.refresh_from_db()
    assert draft.status == DraftVersion.Status.PUBLISHED
    assert draft.release_notes == "Adds *nothing* yet."
    assert draft.published_by == olga
    assert before <= draft.published_at <= timezone.now()
    event = last_event()
    assert (event.action, event.actor_handle, event.subject_id) == ("release.published", "olga", str(draft.pk))
    assert event.payload == {
        "definition": "osd",
        "label": "0.0.10",
        "digest": services.version_digest(draft),
        "salt": draft.digest_salt,
        "components": 3,
    }
    assert len(event.payload["digest"]) == 64


def test_the_digest_commits_to_text_and_components(draft, olga):
    digest = services.version_digest(draft)

    services.add_component(version=draft, fields=leaf("docs"), acting_user=olga)
    with_component = services.version_digest(draft)
    draft = services.update_draft(version=draft, label=draft.label, body="Other text", acting_user=olga)

    assert len({digest, with_component, services.version_digest(draft)}) == 3


def test_the_same_content_has_the_same_digest(published, draft):
    assert services.version_digest(draft) != services.version_digest(published)  # labels differ
    draft.label = published.label
    assert services.version_digest(draft) == services.version_digest(published)


@pytest.mark.parametrize("notes", ["", "   \n\t"])
def test_a_release_needs_release_notes(notes, draft, olga, nothing_written):
    with nothing_written(), pytest.raises(ValidationError, match="release notes"):
        services.publish_version(version=draft, release_notes=notes, acting_user=olga)


@pytest.mark.parametrize("persona", ["alice", "bob", "carol"])
def test_only_organizers_publish(persona, request, draft, nothing_written):
    request.getfixturevalue(persona)  # the persona exists before nothing_written looks
    with nothing_written(), pytest.raises(PermissionDenied):
        services.publish_version(version=draft, release_notes="Mine now.", acting_user=request.getfixturevalue(persona))


def test_an_aggregate_without_parts_cannot_be_published(draft, olga, nothing_written):
    ComponentFactory(version=draft, key="empty", aggregate_rule="sum")

    with nothing_written(), pytest.raises(ValidationError, match="empty"):
        services.publish_version(version=draft, release_notes="Ready.", acting_user=olga)


CHANGES_TO_A_VERSION = {
    "update_draft": lambda v, u: services.update_draft(version=v, label=v.label, body="Changed", acting_user=u),
    "add_component": lambda v, u: services.add_component(version=v, fields=leaf("new"), acting_user=u),
    "update_component": lambda v, u: services.update_component(
        component=v.components.get(key="code"), fields={"title": "Changed"}, acting_user=u
    ),
    "remove_component": lambda v, u: services.remove_component(component=v.components.get(key="code"), acting_user=u),
    "publish_version": lambda v, u: services.publish_version(version=v, release_notes="Again", acting_user=u),
}


@pytest.mark.parametrize("change", CHANGES_TO_A_VERSION.values(), ids=CHANGES_TO_A_VERSION.keys())
def test_a_published_version_never_changes(change, draft, olga, nothing_written):
    services.publish_version(version=draft, release_notes="Final.", acting_user=olga)

    with nothing_written(), pytest.raises(ValidationError, match="published and can no longer change"):
        change(draft, olga)


# Components ------------------------------------------------------------------------------------


def test_organizer_adds_a_component_at_the_end(draft, olga):
    last = draft.components.order_by("-position").first().position

    component = services.add_component(
        version=draft,
        fields={**leaf("docs", "Usage documentation", "Documentation"), "description": "How to run it."},
        acting_user=olga,
    )

    assert component.version == draft
    assert component.position == last + 1
    assert (component.title, component.category, component.description) == (
        "Usage documentation",
        "Documentation",
        "How to run it.",
    )
    event = last_event()
    assert (event.action, event.actor_handle, event.subject_id) == ("component.added", "olga", str(component.pk))
    assert event.payload == {
        "version": "0.0.10",
        "key": "docs",
        "title": "Usage documentation",
        "category": "Documentation",
        "aggregate": None,
    }


def test_the_first_component_of_an_empty_draft_is_at_position_one(definition, olga):
    draft = services.start_draft(definition=definition, label="0.1", acting_user=olga)

    assert services.add_component(version=draft, fields=leaf("code"), acting_user=olga).position == 1


def test_organizer_adds_an_aggregate_of_parts(draft, olga):
    code, data = draft.components.get(key="code"), draft.components.get(key="data")

    agg = services.add_component(
        version=draft, fields=aggregate("everything", "sum"), parts=[data, code], acting_user=olga
    )

    assert agg.is_aggregate
    assert set(agg.parts.all()) == {code, data}
    assert last_event().payload["aggregate"] == {"rule": "sum", "of": ["code", "data"]}


def test_one_part_may_feed_several_aggregates(draft, olga):
    data = draft.components.get(key="data")

    services.add_component(version=draft, fields=aggregate("data-sum"), parts=[data], acting_user=olga)

    assert set(data.aggregates.values_list("key", flat=True)) == {"all-data", "data-sum"}


@pytest.mark.parametrize(
    "fields, part_keys, message",
    [
        (aggregate("agg"), [], "needs at least one part"),
        (leaf("leafy"), ["code"], "Choose a rule"),
        (aggregate("agg"), ["all-data"], "cannot be a part"),
        (leaf("code"), [], "already has a component with key code"),
        ({**leaf("x"), "key": "not a slug"}, [], "slug"),
        ({**leaf("x"), "title": ""}, [], "blank"),
        ({**leaf("x"), "aggregate_rule": "median"}, ["code"], "median"),
    ],
    ids=[
        "aggregate-without-parts",
        "parts-without-rule",
        "aggregate-of-aggregate",
        "duplicate-key",
        "bad-key",
        "no-title",
        "unknown-rule",
    ],
)
def test_add_component_refuses_malformed_components(fields, part_keys, message, draft, olga, nothing_written):
    parts = [draft.components.get(key=k) for k in part_keys]

    with nothing_written(), pytest.raises(ValidationError, match=message):
        services.add_component(version=draft, fields=fields, parts=parts, acting_user=olga)


def test_parts_come_from_the_same_version(draft, published, olga, nothing_written):
    with nothing_written(), pytest.raises(ValidationError, match="cannot be a part"):
        services.add_component(
            version=draft, fields=aggregate("agg"), parts=[published.components.get(key="code")], acting_user=olga
        )


def test_organizer_changes_a_component(draft, olga):
    code = draft.components.get(key="code")

    services.update_component(component=code, fields={"title": "Code used for training"}, acting_user=olga)

    code.refresh_from_db()
    assert code.title == "Code used for training"
    event = last_event()
    assert (event.action, event.actor_handle, event.subject_id) == ("component.changed", "olga", str(code.pk))
    assert event.payload == {
        "version": "0.0.10",
        "key": "code",
        "title": "Code used for training",
        "category": "Code",
        "aggregate": None,
    }


def test_an_aggregate_can_change_its_rule_and_parts(draft, olga):
    agg, code = draft.components.get(key="all-data"), draft.components.get(key="code")

    services.update_component(component=agg, fields={"aggregate_rule": "sum"}, parts=[code], acting_user=olga)

    agg.refresh_from_db()
    assert agg.aggregate_rule == "sum"
    assert list(agg.parts.all()) == [code]
    assert last_event().payload["aggregate"] == {"rule": "sum", "of": ["code"]}


def test_an_aggregate_can_become_a_leaf_again(draft, olga):
    agg = draft.components.get(key="all-data")

    services.update_component(component=agg, fields={"aggregate_rule": ""}, parts=[], acting_user=olga)

    agg.refresh_from_db()
    assert not agg.is_aggregate
    assert not agg.parts.exists()
    assert not draft.components.get(key="data").aggregates.exists()


def test_a_part_of_an_aggregate_cannot_become_an_aggregate(draft, olga, nothing_written):
    data, code = draft.components.get(key="data"), draft.components.get(key="code")

    with nothing_written(), pytest.raises(ValidationError, match="part of an aggregate"):
        services.update_component(component=data, fields={"aggregate_rule": "sum"}, parts=[code], acting_user=olga)


def test_an_aggregate_cannot_be_its_own_part(draft, olga, nothing_written):
    agg = draft.components.get(key="all-data")
    code = draft.components.get(key="code")
    services.update_component(
        component=code, fields={"aggregate_rule": "sum"}, parts=[draft.components.get(key="data")], acting_user=olga
    )
    code.refresh_from_db()

    with nothing_written(), pytest.raises(ValidationError, match="cannot be a part"):
        services.update_component(component=code, fields={}, parts=[code], acting_user=olga)
    assert agg.parts.count() == 1


def test_a_component_cannot_take_the_key_of_another(draft, olga, nothing_written):
    with nothing_written(), pytest.raises(ValidationError, match="already has a component with key data"):
        services.update_component(component=draft.components.get(key="code"), fields={"key": "data"}, acting_user=olga)


def test_organizer_removes_a_component(draft, olga):
    code = draft.components.get(key="code")
    pk = code.pk

    services.remove_component(component=code, acting_user=olga)

    assert not Component.objects.filter(pk=pk).exists()
    event = last_event()
    assert (event.action, event.actor_handle, event.subject_id) == ("component.removed", "olga", str(pk))
    assert event.payload == {
        "version": "0.0.10",
        "key": "code",
        "title": "Training code",
        "category": "Code",
        "aggregate": None,
    }


def test_removing_an_aggregate_frees_its_parts(draft, olga):
    services.remove_component(component=draft.components.get(key="all-data"), acting_user=olga)

    assert last_event().payload["aggregate"] == {"rule": "mean", "of": ["data"]}
    assert not draft.components.get(key="data").aggregates.exists()


def test_a_part_used_by_an_aggregate_cannot_be_removed(draft, olga, nothing_written):
    with nothing_written(), pytest.raises(ValidationError, match="part of all-data"):
        services.remove_component(component=draft.components.get(key="data"), acting_user=olga)


COMPONENT_CHANGES = {
    "add": lambda v, u: services.add_component(version=v, fields=leaf("new"), acting_user=u),
    "update": lambda v, u: services.update_component(
        component=v.components.get(key="code"), fields={"title": "Mine"}, acting_user=u
    ),
    "remove": lambda v, u: services.remove_component(component=v.components.get(key="code"), acting_user=u),
}


@pytest.mark.parametrize("change", COMPONENT_CHANGES.values(), ids=COMPONENT_CHANGES.keys())
@pytest.mark.parametrize("persona", ["alice", "bob", "carol"])
def test_only_organizers_change_components(change, persona, request, draft, nothing_written):
    request.getfixturevalue(persona)  # the persona exists before nothing_written looks
    with nothing_written(), pytest.raises(PermissionDenied):
        change(draft, request.getfixturevalue(persona))


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


def test_chair_cannot_appoint_a_chair(group, alice, carol, nothing_written):
    with nothing_written(), pytest.raises(PermissionDenied, match="Only organizers appoint chairs"):
        services.add_member(group=group, user=carol, role=Membership.Role.CHAIR, acting_user=alice)


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


# Comments --------------------------------------------------------------------------------------


def test_member_comments_on_a_version(published, bob):
    comment = services.post_comment(author=bob, version=published, body="Looks *good*.")

    assert (comment.version, comment.component, comment.parent, comment.author) == (published, None, None, bob)
    event = last_event()
    assert (event.action, event.actor_handle, event.subject_id) == ("comment.posted", "bob", str(comment.pk))
    assert event.payload == {"version": "0.0.9", "component": None, "parent": None}


def test_member_comments_on_a_component(published, component, bob):
    comment = services.post_comment(author=bob, version=published, component=component, body="Required, surely.")

    assert comment.component == component
    assert last_event().payload == {"version": "0.0.9", "component": "code", "parent": None}


def test_a_reply_to_a_reply_joins_the_top_level_comment(published, bob, carol, olga):
    top = services.post_comment(author=bob, version=published, body="First.")
    reply = services.post_comment(author=carol, version=published, parent=top, body="Second.")

    answer = services.post_comment(author=olga, version=published, parent=reply, body="Third.")

    assert reply.parent == top
    assert answer.parent == top
    assert last_event().payload == {"version": "0.0.9", "component": None, "parent": top.pk}
    assert list(top.replies.order_by("created_at")) == [reply, answer]


@pytest.mark.parametrize("body", ["", "   ", "\n\t\n"])
def test_an_empty_comment_is_refused(body, published, bob, nothing_written):
    with nothing_written(), pytest.raises(ValidationError, match="cannot be empty"):
        services.post_comment(author=bob, version=published, body=body)


def test_an_anonymous_visitor_cannot_comment(published, nothing_written):
    with nothing_written(), pytest.raises(PermissionDenied):
        services.post_comment(author=AnonymousUser(), version=published, body="Hello")


def test_a_comment_cannot_name_another_versions_component(draft, published, bob, nothing_written):
    with nothing_written(), pytest.raises(ValidationError, match="another version"):
        services.post_comment(author=bob, version=published, component=draft.components.get(key="code"), body="Hi")


def test_a_reply_stays_in_its_thread(published, component, bob, carol, nothing_written):
    on_version = services.post_comment(author=bob, version=published, body="On the version.")

    with nothing_written(), pytest.raises(ValidationError, match="same thread"):
        services.post_comment(author=carol, version=published, component=component, parent=on_version, body="Hi")


def test_author_edits_a_comment_and_the_earlier_text_is_kept(published, bob):
    comment = CommentFactory(version=published, author=bob, body="Frist!")

    services.edit_comment(comment=comment, body="First!", acting_user=bob)
    services.edit_comment(comment=comment, body="First, and on topic.", acting_user=bob)

    comment.refresh_from_db()
    assert comment.body == "First, and on topic."
    assert comment.edited_at is not None
    revisions = list(comment.revisions.all())
    assert [r.body for r in revisions] == ["Frist!", "First!"]
    assert revisions[0].written_at == comment.created_at
    assert revisions[0].written_at < revisions[1].written_at < comment.edited_at
    events = list(AuditEvent.objects.filter(action="comment.edited"))
    assert [(e.actor_handle, e.subject_id, e.payload) for e in events] == [
        ("bob", str(comment.pk), {"revisions": 1}),
        ("bob", str(comment.pk), {"revisions": 2}),
    ]


def test_saving_the_same_text_is_not_an_edit(published, bob, nothing_written):
    comment = CommentFactory(version=published, author=bob, body="Unchanged.")

    with nothing_written():
        services.edit_comment(comment=comment, body="Unchanged.", acting_user=bob)


@pytest.mark.parametrize("persona", ["olga", "alice", "carol"])
def test_only_its_author_edits_a_comment(persona, request, published, bob, nothing_written):
    comment = CommentFactory(version=published, author=bob)

    request.getfixturevalue(persona)  # the persona exists before nothing_written looks
    with nothing_written(), pytest.raises(PermissionDenied):
        services.edit_comment(
            comment=comment, body="Put words in bob's mouth", acting_user=request.getfixturevalue(persona)
        )


def test_a_comment_cannot_be_emptied_by_an_edit(published, bob, nothing_written):
    comment = CommentFactory(version=published, author=bob)

    with nothing_written(), pytest.raises(ValidationError, match="cannot be empty"):
        services.edit_comment(comment=comment, body="  ", acting_user=bob)


def test_organizer_hides_a_comment_with_a_reason(published, bob, olga):
    comment = CommentFactory(version=published, author=bob, body="Buy cheap GPUs!")

    services.hide_comment(comment=comment, reason="Advertising.", acting_user=olga)

    comment.refresh_from_db()
    assert comment.is_hidden
    assert (comment.hidden_by, comment.hidden_reason) == (olga, "Advertising.")
    event = last_event()
    assert (event.action, event.actor_handle, event.subject_id) == ("comment.hidden", "olga", str(comment.pk))
    assert event.payload == {"author": "bob", "reason": "Advertising."}


@pytest.mark.parametrize("reason", ["", "   "])
def test_hiding_needs_a_reason(reason, published, bob, olga, nothing_written):
    comment = CommentFactory(version=published, author=bob)

    with nothing_written(), pytest.raises(ValidationError, match="Say why"):
        services.hide_comment(comment=comment, reason=reason, acting_user=olga)


@pytest.mark.parametrize("persona", ["alice", "bob", "carol"])
def test_only_organizers_hide_comments(persona, request, published, bob, nothing_written):
    comment = CommentFactory(version=published, author=bob)

    request.getfixturevalue(persona)  # the persona exists before nothing_written looks
    with nothing_written(), pytest.raises(PermissionDenied):
        services.hide_comment(comment=comment, reason="I disagree.", acting_user=request.getfixturevalue(persona))


def test_a_comment_is_hidden_once(published, bob, olga, nothing_written):
    comment = CommentFactory(version=published, author=bob)
    services.hide_comment(comment=comment, reason="Off topic.", acting_user=olga)

    with nothing_written(), pytest.raises(ValidationError, match="already hidden"):
        services.hide_comment(comment=comment, reason="Again.", acting_user=olga)


def test_a_hidden_comment_cannot_be_edited(published, bob, olga, nothing_written):
    comment = CommentFactory(version=published, author=bob)
    services.hide_comment(comment=comment, reason="Off topic.", acting_user=olga)

    with nothing_written(), pytest.raises(ValidationError, match="hidden"):
        services.edit_comment(comment=comment, body="Sneaky edit", acting_user=bob)


def test_every_service_call_in_a_release_cycle_leaves_one_audit_row(published, olga, bob):
    draft = services.start_draft(definition=published.definition, label="0.0.10", based_on=published, acting_user=olga)
    services.update_draft(version=draft, label="0.0.10", body="New text", acting_user=olga)
    docs = services.add_component(version=draft, fields=leaf("docs"), acting_user=olga)
    services.update_component(component=docs, fields={"title": "Docs"}, acting_user=olga)
    services.remove_component(component=draft.components.get(key="code"), acting_user=olga)
    services.publish_version(version=draft, release_notes="Docs in, code out.", acting_user=olga)
    comment = services.post_comment(author=bob, version=draft, body="Why is code out?")
    services.edit_comment(comment=comment, body="Why was code removed?", acting_user=bob)
    services.hide_comment(comment=comment, reason="Test of moderation.", acting_user=olga)

    assert list(AuditEvent.objects.values_list("action", "actor_handle")) == [
        ("draft.started", "olga"),
        ("draft.edited", "olga"),
        ("component.added", "olga"),
        ("component.changed", "olga"),
        ("component.removed", "olga"),
        ("release.published", "olga"),
        ("comment.posted", "bob"),
        ("comment.edited", "bob"),
        ("comment.hidden", "olga"),
    ]
    assert Comment.objects.count() == 1 and CommentRevision.objects.count() == 1
