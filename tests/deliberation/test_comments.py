"""Comments through the services: `post_comment`, `edit_comment` (the earlier texts are kept) and
`hide_comment`, the audit row each writes, and what each refuses.

The pages that show and take comments are tested in test_comments_page.py. A refused call raises and leaves
every row as it was, the audit log included (`nothing_written`).
"""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEvent
from deliberation import services
from tests.factories import CommentFactory

from .conftest import last_event


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
