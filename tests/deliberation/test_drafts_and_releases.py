"""A definition's versions through the services: `create_definition`, then `start_draft`, `update_draft` and
`publish_version`, and the one audit row each call of a release cycle leaves.

A refused call raises and leaves every row as it was, the audit log included (`nothing_written`).
"""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from audit.models import AuditEvent
from deliberation import services
from deliberation.models import Comment, CommentRevision, DraftVersion
from tests.factories import ComponentFactory, DefinitionFactory, DraftVersionFactory

from .conftest import last_event, leaf

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


# A whole release cycle -------------------------------------------------------------------------


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
