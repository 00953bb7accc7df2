"""The deliberation pages through their real URLs, for each persona.

olga organizes the definition `osd`; alice chairs its group `weights`, where bob is a member; carol is
signed in but belongs to nothing; an anonymous observer is not signed in. `published` is version 0.0.9
(components code, data, and all-data = mean of data); `draft` is 0.0.10, started from it.
Outsiders get 404 for what they may not see and 403 for what they may see but not do.
"""

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from deliberation import services
from deliberation.models import Comment, DraftVersion, Membership
from tests.client import HTMX, assert_sent_to_login, form_data, page_messages, sign_in
from tests.deliberation.pages import url
from tests.factories import (
    CommentFactory,
    ComponentFactory,
    DefinitionFactory,
    DraftVersionFactory,
    MembershipFactory,
    UserFactory,
    WorkingGroupFactory,
)


@pytest.fixture
def comment(published, bob):
    """bob's comment on the published version."""
    return services.post_comment(author=bob, version=published, body="Training *code* should be required.")


@pytest.fixture
def draft_comment(draft, olga):
    """olga's comment on the draft in progress, which only organizers see."""
    return services.post_comment(author=olga, version=draft, body="Note to self: check the wording.")


# Who sees what ---------------------------------------------------------------------------------

PUBLIC_PAGES = {
    "definition-list": lambda c: url("definition-list"),
    "definition": lambda c: url("definition", "osd"),
    "release-feed": lambda c: url("release-feed", "osd"),
    "diff": lambda c: url("diff", "osd") + "?from=0.0.9&to=0.0.9",
    "version": lambda c: url("version", "osd", "0.0.9"),
    "component": lambda c: url("component", "osd", "0.0.9", "all-data"),
    "group": lambda c: url("group", "osd", "weights"),
    "comment-history": lambda c: url("comment-history", c.pk),
}


@pytest.mark.parametrize("page", PUBLIC_PAGES.values(), ids=PUBLIC_PAGES.keys())
@pytest.mark.parametrize("persona", [None, "bob", "carol", "olga"])
def test_everyone_reads_the_public_pages(page, persona, request, client, draft, group, comment):
    sign_in(client, request, persona)

    assert client.get(page(comment)).status_code == 200


DRAFT_PAGES = {
    "version": lambda c: url("version", "osd", "0.0.10"),
    "component": lambda c: url("component", "osd", "0.0.10", "code"),
    "comment-history": lambda c: url("comment-history", c.pk),
}


@pytest.mark.parametrize("page", DRAFT_PAGES.values(), ids=DRAFT_PAGES.keys())
@pytest.mark.parametrize("persona", [None, "alice", "bob", "carol", "dave"])
def test_a_draft_in_progress_is_404_for_everyone_but_organizers(page, persona, request, client, group, draft_comment):
    sign_in(client, request, persona)

    assert client.get(page(draft_comment)).status_code == 404


@pytest.mark.parametrize("page", DRAFT_PAGES.values(), ids=DRAFT_PAGES.keys())
def test_organizers_read_their_draft_in_progress(page, client, olga, draft_comment):
    client.force_login(olga)

    response = client.get(page(draft_comment))

    assert response.status_code == 200
    assert b"0.0.10" in response.content


@pytest.mark.parametrize("persona", [None, "bob", "carol"])
def test_the_definition_page_does_not_mention_a_draft_in_progress(persona, request, client, draft):
    sign_in(client, request, persona)

    response = client.get(url("definition", "osd"))

    assert b"0.0.9" in response.content
    assert b"0.0.10" not in response.content
    assert b"draft in progress" not in response.content


def test_the_organizer_sees_the_draft_on_the_definition_page(client, olga, draft):
    client.force_login(olga)

    response = client.get(url("definition", "osd"))

    assert b"0.0.10" in response.content
    assert b"draft in progress" in response.content


@pytest.mark.parametrize("persona", [None, "bob", "carol"])
def test_an_unknown_definition_version_or_component_is_404(persona, request, client, published):
    sign_in(client, request, persona)

    for path in [
        url("definition", "nope"),
        url("version", "osd", "9.9"),
        url("component", "osd", "0.0.9", "nope"),
        url("group", "osd", "nope"),
        url("release-feed", "nope"),
        url("diff", "nope"),
    ]:
        assert client.get(path).status_code == 404, path


# Organizer pages -------------------------------------------------------------------------------

ORGANIZER_PAGES = {
    "draft-edit": lambda label: url("draft-edit", "osd", label),
    "publish": lambda label: url("publish", "osd", label),
    "component-create": lambda label: url("component-create", "osd", label),
    "component-edit": lambda label: url("component-edit", "osd", label, "code"),
}


@pytest.mark.parametrize("page", ORGANIZER_PAGES.values(), ids=ORGANIZER_PAGES.keys())
@pytest.mark.parametrize("method", ["get", "post"])
def test_editing_pages_send_anonymous_visitors_to_sign_in(page, method, client, draft, nothing_written):
    path = page("0.0.10")

    with nothing_written():
        response = getattr(client, method)(path)

    assert_sent_to_login(response, path)


@pytest.mark.parametrize("page", ORGANIZER_PAGES.values(), ids=ORGANIZER_PAGES.keys())
@pytest.mark.parametrize("persona", ["alice", "bob", "carol"])
def test_editing_pages_of_a_draft_are_404_for_those_who_cannot_see_it(page, persona, request, client, group, draft):
    sign_in(client, request, persona)

    assert client.get(page("0.0.10")).status_code == 404
    assert client.post(page("0.0.10"), {"body": "x", "release_notes": "x"}).status_code == 404


@pytest.mark.parametrize("page", ORGANIZER_PAGES.values(), ids=ORGANIZER_PAGES.keys())
@pytest.mark.parametrize("persona", ["alice", "bob", "carol"])
def test_editing_pages_of_a_published_version_are_403_for_non_organizers(
    page, persona, request, client, group, published, nothing_written
):
    sign_in(client, request, persona)

    with nothing_written():
        assert client.get(page("0.0.9")).status_code == 403
        assert client.post(page("0.0.9"), {"label": "0.0.9", "body": "x", "release_notes": "x"}).status_code == 403


@pytest.mark.parametrize("page", ORGANIZER_PAGES.values(), ids=ORGANIZER_PAGES.keys())
def test_editing_pages_of_a_published_version_are_403_for_organizers_too(page, client, olga, published):
    client.force_login(olga)

    response = client.get(page("0.0.9"))

    assert response.status_code == 403
    assert b"published and can no longer change" in response.content


@pytest.mark.parametrize("page", ORGANIZER_PAGES.values(), ids=ORGANIZER_PAGES.keys())
def test_organizers_open_the_editing_pages_of_their_draft(page, client, olga, draft):
    client.force_login(olga)

    assert client.get(page("0.0.10")).status_code == 200


def test_group_creation_is_for_organizers(client, olga, definition, nothing_written):
    path = url("group-create", "osd")
    with nothing_written():
        assert_sent_to_login(client.get(path), path)

    client.force_login(olga)
    assert client.get(path).status_code == 200
    response = client.post(path, {"key": "data", "name": "Data", "description": ""})

    assert response.status_code == 302
    assert response.url == url("group", "osd", "data")
    assert AuditEvent.objects.get().action == "group.created"


@pytest.mark.parametrize("persona", ["alice", "bob", "carol"])
def test_non_organizers_cannot_create_groups(persona, request, client, group, nothing_written):
    sign_in(client, request, persona)

    with nothing_written():
        assert client.get(url("group-create", "osd")).status_code == 403
        assert client.post(url("group-create", "osd"), {"key": "x", "name": "X"}).status_code == 403


@pytest.mark.parametrize("persona", ["alice", "bob", "carol"])
def test_non_organizers_cannot_start_drafts(persona, request, client, group, published, nothing_written):
    sign_in(client, request, persona)

    with nothing_written():
        response = client.post(url("draft-start", "osd"), {"from": "0.0.9", "label": "0.0.10"})

    assert response.status_code == 403


@pytest.mark.parametrize("persona", ["alice", "bob", "carol"])
def test_non_organizers_cannot_remove_components(persona, request, client, group, draft, nothing_written):
    sign_in(client, request, persona)

    with nothing_written():
        assert client.post(url("component-remove", "osd", "0.0.9", "code")).status_code == 403
        assert client.post(url("component-remove", "osd", "0.0.10", "code")).status_code == 404


POST_ONLY = {
    "comment-create": lambda: url("comment-create", "osd", "0.0.9"),
    "component-comment-create": lambda: url("component-comment-create", "osd", "0.0.9", "code"),
    "draft-start": lambda: url("draft-start", "osd"),
    "component-remove": lambda: url("component-remove", "osd", "0.0.10", "code"),
    "member-add": lambda: url("member-add", "osd", "weights"),
    "member-remove": lambda: url("member-remove", "osd", "weights", Membership.objects.get(user__username="bob").pk),
}


@pytest.mark.parametrize("page", POST_ONLY.values(), ids=POST_ONLY.keys())
def test_post_only_endpoints_reject_get(page, client, olga, draft, group, nothing_written):
    client.force_login(olga)

    with nothing_written():
        assert client.get(page()).status_code == 405


@pytest.mark.parametrize("page", POST_ONLY.values(), ids=POST_ONLY.keys())
def test_post_only_endpoints_send_anonymous_visitors_to_sign_in(page, client, draft, group, nothing_written):
    path = page()

    with nothing_written():
        assert_sent_to_login(client.post(path, {"body": "Hi", "label": "0.0.11", "username": "carol"}), path)


@pytest.mark.parametrize(
    "page",
    [
        lambda c: url("draft-edit", "osd", "0.0.10"),
        lambda c: url("comment-edit", c.pk),
        lambda c: url("comment-hide", c.pk),
        lambda c: url("group-create", "osd"),
    ],
    ids=["draft-edit", "comment-edit", "comment-hide", "group-create"],
)
def test_form_pages_answer_only_get_and_post(page, client, olga, draft, draft_comment):
    client.force_login(olga)

    assert client.put(page(draft_comment)).status_code == 405
    assert client.delete(page(draft_comment)).status_code == 405


# The organizer's release workflow --------------------------------------------------------------


def test_organizer_drafts_and_publishes_a_release_then_starts_the_next(client, olga, definition):
    client.force_login(olga)

    response = client.post(url("draft-start", "osd"), {"label": "0.1"})
    assert response.status_code == 302
    assert response.url == url("draft-edit", "osd", "0.1")

    editor = client.get(url("draft-edit", "osd", "0.1"))
    response = client.post(
        url("draft-edit", "osd", "0.1"), form_data(editor, label="0.1", body="# Preamble\n\nOpen means *free*.")
    )
    assert response.status_code == 302
    assert response.url == url("version", "osd", "0.1")

    for key, title, category in [("code", "Training code", "Code"), ("data", "Training data", "Data")]:
        response = client.post(
            url("component-create", "osd", "0.1"),
            {"key": key, "title": title, "new_category": category, "description": "", "aggregate_rule": ""},
        )
        assert response.status_code == 302
        assert response.url == url("version", "osd", "0.1") + f"#component-{key}"
    version = DraftVersion.objects.get(label="0.1")
    parts = [c.pk for c in version.components.all()]
    response = client.post(
        url("component-create", "osd", "0.1"),
        {"key": "everything", "title": "Everything", "category": "Data", "aggregate_rule": "sum", "parts": parts},
    )
    assert response.status_code == 302
    assert sorted(version.components.get(key="everything").parts.values_list("key", flat=True)) == ["code", "data"]

    page = client.get(url("version", "osd", "0.1")).content.decode()
    assert "draft in progress" in page
    assert "<em>free</em>" in page
    assert "sum of code, data" in page

    response = client.get(url("publish", "osd", "0.1"))
    assert response.status_code == 200
    response = client.post(url("publish", "osd", "0.1"), form_data(response, release_notes="The *first* release."))
    assert response.status_code == 302
    assert response.url == url("version", "osd", "0.1")

    page = client.get(url("version", "osd", "0.1")).content.decode()
    assert 'class="badge published"' in page
    assert "<em>first</em> release" in page
    assert "draft in progress" not in page
    for edit_page in ORGANIZER_PAGES.values():
        assert client.get(edit_page("0.1")).status_code == 403
    assert 'value="0.2"' in page  # the next label is suggested

    response = client.post(url("draft-start", "osd"), {"from": "0.1", "label": "0.2"})
    assert response.status_code == 302
    assert response.url == url("draft-edit", "osd", "0.2")
    page = client.get(url("version", "osd", "0.2")).content.decode()
    assert "started from 0.1" in page
    assert "Training code" in page and "Training data" in page and "sum of code, data" in page

    assert list(AuditEvent.objects.values_list("action", flat=True)) == [
        "draft.started",
        "draft.edited",
        "component.added",
        "component.added",
        "component.added",
        "release.published",
        "draft.started",
    ]
    assert set(AuditEvent.objects.values_list("actor_handle", flat=True)) == {"olga"}


def test_organizer_edits_and_removes_a_component_of_the_draft(client, olga, draft):
    client.force_login(olga)

    response = client.post(
        url("component-edit", "osd", "0.0.10", "code"),
        {"key": "code", "title": "Code used for training", "category": "Code", "description": "", "aggregate_rule": ""},
    )
    assert response.status_code == 302
    assert draft.components.get(key="code").title == "Code used for training"

    response = client.post(url("component-remove", "osd", "0.0.10", "code"))
    assert response.status_code == 302
    assert not draft.components.filter(key="code").exists()
    assert list(AuditEvent.objects.filter(seq__gt=1).values_list("action", flat=True)) == [
        "component.changed",
        "component.removed",
    ]


def test_removing_a_part_of_an_aggregate_says_why_it_cannot(client, olga, draft, nothing_written):
    client.force_login(olga)

    with nothing_written():
        response = client.post(url("component-remove", "osd", "0.0.10", "data"), follow=True)

    assert "data is a part of all-data; remove it there first." in page_messages(response)


def test_an_invalid_component_form_shows_the_error_and_saves_nothing(client, olga, draft, nothing_written):
    client.force_login(olga)

    with nothing_written():
        response = client.post(
            url("component-create", "osd", "0.0.10"),
            {"key": "agg", "title": "Aggregate", "category": "Data", "aggregate_rule": "sum"},
        )

    assert response.status_code == 200
    assert b"An aggregate needs at least one part." in response.content


def test_publishing_without_release_notes_is_refused(client, olga, draft, nothing_written):
    client.force_login(olga)

    with nothing_written():
        page = client.get(url("publish", "osd", "0.0.10"))
        response = client.post(url("publish", "osd", "0.0.10"), form_data(page, release_notes="  "))

    assert response.status_code == 200
    assert b"This field is required." in response.content


def test_the_publish_page_lists_the_component_changes_since_the_previous_release(client, olga, draft):
    services.add_component(
        version=draft, fields={"key": "docs", "title": "Docs", "category": "Documentation"}, acting_user=olga
    )
    client.force_login(olga)

    response = client.get(url("publish", "osd", "0.0.10"))

    assert b"<code>docs</code> added" in response.content


def test_a_second_draft_cannot_be_started_while_one_is_open(client, olga, draft, nothing_written):
    client.force_login(olga)

    with nothing_written():
        response = client.post(url("draft-start", "osd"), {"from": "0.0.9", "label": "0.0.11"}, follow=True)

    assert any("already has a draft in progress" in m for m in page_messages(response))


# Comments --------------------------------------------------------------------------------------


def threads(html: str) -> list[str]:
    return re.findall(r'<article class="thread">(.*?)</article>', html, re.S)


def test_a_plain_comment_post_redirects_to_the_new_comment(client, bob, published):
    client.force_login(bob)

    response = client.post(url("comment-create", "osd", "0.0.9"), {"body": "I *agree*."})

    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response.url == url("version", "osd", "0.0.9") + f"#comment-{comment.pk}"
    assert (comment.author, comment.version, comment.component) == (bob, published, None)
    assert b"<em>agree</em>" in client.get(response.url).content


def test_an_htmx_comment_post_returns_only_the_discussion(client, bob, published):
    client.force_login(bob)

    response = client.post(url("comment-create", "osd", "0.0.9"), {"body": "Posted *live*."}, headers=HTMX)

    comment = Comment.objects.get()
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="comments"')
    assert f'id="comment-{comment.pk}"' in html
    assert "<em>live</em>" in html
    assert "comment-posted" in response.headers["HX-Trigger"]


def test_a_comment_on_a_component_stays_on_the_component(client, bob, published):
    client.force_login(bob)

    response = client.post(url("component-comment-create", "osd", "0.0.9", "code"), {"body": "Required."})

    comment = Comment.objects.get()
    assert comment.component.key == "code"
    assert response.url == url("component", "osd", "0.0.9", "code") + f"#comment-{comment.pk}"
    assert b"Required." in client.get(url("component", "osd", "0.0.9", "code")).content
    assert b"Required." not in client.get(url("version", "osd", "0.0.9")).content


def test_replies_appear_nested_under_the_comment_they_answer(client, carol, olga, published, comment):
    client.force_login(carol)
    client.post(url("comment-create", "osd", "0.0.9"), {"body": "A reply.", "parent": comment.pk})
    reply = Comment.objects.get(body="A reply.")
    client.force_login(olga)
    client.post(
        url("comment-create", "osd", "0.0.9"), {"body": "A reply to the reply.", "parent": reply.pk}, headers=HTMX
    )
    answer = Comment.objects.get(body="A reply to the reply.")

    (thread,) = threads(client.get(url("version", "osd", "0.0.9")).content.decode())

    assert thread.index(f'id="comment-{comment.pk}"') < thread.index('class="replies"')
    replies = thread[thread.index('class="replies"') :]
    assert replies.index(f'id="comment-{reply.pk}"') < replies.index(f'id="comment-{answer.pk}"')
    assert answer.parent == comment


@pytest.mark.parametrize("body", ["", "   \n "])
def test_an_empty_comment_is_refused_with_a_message(body, client, bob, published, nothing_written):
    client.force_login(bob)

    with nothing_written():
        response = client.post(url("comment-create", "osd", "0.0.9"), {"body": body}, follow=True)

    assert response.redirect_chain == [(url("version", "osd", "0.0.9"), 302)]
    assert page_messages(response) == ["Your comment was not posted: This field is required."]


def test_an_empty_htmx_comment_shows_the_error_in_place(client, bob, published, nothing_written):
    client.force_login(bob)

    with nothing_written():
        response = client.post(url("comment-create", "osd", "0.0.9"), {"body": " "}, headers=HTMX)

    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b'role="alert"' in response.content
    assert b"This field is required." in response.content
    assert "HX-Trigger" not in response.headers


def test_anonymous_comments_are_sent_to_sign_in(client, published, nothing_written):
    path = url("comment-create", "osd", "0.0.9")

    with nothing_written():
        assert_sent_to_login(client.post(path, {"body": "Drive-by."}), path)
        assert_sent_to_login(client.post(path, {"body": "Drive-by."}, headers=HTMX), path)


@pytest.mark.parametrize("persona", ["bob", "carol"])
def test_nobody_but_organizers_comments_on_a_draft(persona, request, client, group, draft, nothing_written):
    sign_in(client, request, persona)

    with nothing_written():
        assert client.post(url("comment-create", "osd", "0.0.10"), {"body": "Peek"}).status_code == 404
        assert (
            client.post(url("component-comment-create", "osd", "0.0.10", "code"), {"body": "Peek"}).status_code == 404
        )


def test_the_author_edits_a_comment_and_its_history_stays_visible(client, bob, comment):
    client.force_login(bob)
    assert client.get(url("comment-edit", comment.pk)).status_code == 200

    response = client.post(url("comment-edit", comment.pk), {"body": "Training code *must* be required."})

    assert response.status_code == 302
    assert response.url == url("version", "osd", "0.0.9") + f"#comment-{comment.pk}"
    version_page = client.get(url("version", "osd", "0.0.9")).content.decode()
    assert "<em>must</em>" in version_page
    assert url("comment-history", comment.pk) in version_page
    client.logout()
    history = client.get(url("comment-history", comment.pk)).content.decode()
    assert "<em>must</em>" in history
    assert "Training *code* should be required." in history


@pytest.mark.parametrize("persona", ["olga", "alice", "carol"])
def test_only_the_author_edits_a_comment(persona, request, client, group, comment, nothing_written):
    sign_in(client, request, persona)

    with nothing_written():
        assert client.get(url("comment-edit", comment.pk)).status_code == 403
        assert client.post(url("comment-edit", comment.pk), {"body": "Rewritten"}).status_code == 403


def test_organizer_hides_a_comment_and_the_reason_stays_in_its_place(client, olga, comment):
    client.force_login(olga)
    assert client.get(url("comment-hide", comment.pk)).status_code == 200

    response = client.post(url("comment-hide", comment.pk), {"reason": "Off topic, sorry."})

    assert response.status_code == 302
    client.logout()
    for page in [url("version", "osd", "0.0.9"), url("comment-history", comment.pk)]:
        html = client.get(page).content.decode()
        assert "Hidden by @olga" in html
        assert "Off topic, sorry." in html
        assert "should be required" not in html
    event = AuditEvent.objects.last()
    assert (event.action, event.actor_handle, event.payload) == (
        "comment.hidden",
        "olga",
        {"author": "bob", "reason": "Off topic, sorry."},
    )


def test_hiding_without_a_reason_hides_nothing(client, olga, comment, nothing_written):
    client.force_login(olga)

    with nothing_written():
        response = client.post(url("comment-hide", comment.pk), {"reason": " "})

    assert response.status_code == 200
    assert b"This field is required." in response.content


@pytest.mark.parametrize("persona", ["alice", "bob", "carol"])
def test_non_organizers_cannot_hide_comments(persona, request, client, group, comment, nothing_written):
    sign_in(client, request, persona)

    with nothing_written():
        assert client.get(url("comment-hide", comment.pk)).status_code == 403
        assert client.post(url("comment-hide", comment.pk), {"reason": "I disagree"}).status_code == 403


@pytest.mark.parametrize("name", ["comment-edit", "comment-hide"])
@pytest.mark.parametrize("persona", ["bob", "carol"])
def test_comment_pages_of_a_draft_are_404_for_non_organizers(name, persona, request, client, group, draft_comment):
    sign_in(client, request, persona)

    assert client.get(url(name, draft_comment.pk)).status_code == 404
    assert client.post(url(name, draft_comment.pk), {"body": "x", "reason": "x"}).status_code == 404


@pytest.mark.parametrize("name", ["comment-edit", "comment-hide"])
def test_comment_pages_send_anonymous_visitors_to_sign_in(name, client, comment):
    path = url(name, comment.pk)

    assert_sent_to_login(client.get(path), path)


# Diff ------------------------------------------------------------------------------------------

OLD_LINE = "A system is open when anyone can use, study, modify and share it."
NEW_LINE = "A system is open when anyone may use, study, modify and share it, for any purpose."


@pytest.fixture
def two_releases(published, olga):
    """0.0.10 changes a line of text, removes code, adds docs and retitles data; both are published."""
    draft = services.start_draft(definition=published.definition, label="0.0.10", based_on=published, acting_user=olga)
    draft = services.update_draft(
        version=draft,
        label="0.0.10",
        body=published.body.replace(OLD_LINE, NEW_LINE) + "\nAdded line.\n",
        acting_user=olga,
    )
    services.remove_component(component=draft.components.get(key="code"), acting_user=olga)
    services.add_component(
        version=draft, fields={"key": "docs", "title": "Docs", "category": "Documentation"}, acting_user=olga
    )
    services.update_component(
        component=draft.components.get(key="data"), fields={"title": "Training data sets"}, acting_user=olga
    )
    return services.publish_version(version=draft, release_notes="Second.", acting_user=olga)


def component_change_rows(html: str) -> set[tuple[str, str]]:
    return set(re.findall(r'<tr class="(added|removed|changed)">\s*<th scope="row"><code>([^<]+)</code>', html))


def test_the_side_by_side_diff_shows_removed_and_added_lines(client, two_releases):
    response = client.get(url("diff", "osd"), {"from": "0.0.9", "to": "0.0.10"})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="diff side"' in html
    assert f'<td class="text del">{OLD_LINE}</td>' in html
    assert f'<td class="text ins">{NEW_LINE}</td>' in html
    assert '<td class="text ins">Added line.</td>' in html


def test_the_inline_diff_shows_removed_and_added_lines(client, two_releases):
    response = client.get(url("diff", "osd"), {"from": "0.0.9", "to": "0.0.10", "view": "inline"})

    html = response.content.decode()
    assert 'class="diff inline"' in html
    rows = re.findall(r'<tr class="(del|ins|)">.*?<td class="text">(.*?)</td>', html, re.S)
    assert ("del", OLD_LINE) in rows
    assert ("ins", NEW_LINE) in rows
    assert ("ins", "Added line.") in rows
    assert ("", "# Preamble") in rows


@pytest.mark.parametrize("view", ["side", "inline"])
def test_the_diff_lists_components_added_removed_and_changed(view, client, two_releases):
    response = client.get(url("diff", "osd"), {"from": "0.0.9", "to": "0.0.10", "view": view})

    assert component_change_rows(response.content.decode()) == {
        ("removed", "code"),
        ("added", "docs"),
        ("changed", "data"),
    }


def test_without_labels_the_diff_compares_the_last_two_versions(client, two_releases):
    response = client.get(url("diff", "osd"))

    assert (response.context["old"].label, response.context["new"].label) == ("0.0.9", "0.0.10")


def test_a_version_compared_with_itself_has_no_changes(client, published):
    html = client.get(url("diff", "osd"), {"from": "0.0.9", "to": "0.0.9"}).content.decode()

    assert "The text is the same." in html
    assert "The components are the same." in html


@pytest.mark.parametrize(
    "query", [{"from": "nope", "to": "0.0.10"}, {"from": "0.0.9", "to": "1.0"}, {"from": "<script>", "to": ""}]
)
def test_unknown_labels_give_a_clear_message(query, client, two_releases):
    response = client.get(url("diff", "osd"), query)

    assert response.status_code == 200
    assert page_messages(response) == ["That version does not exist here; choose two versions from the lists."]
    assert b"<script>" not in response.content


@pytest.mark.parametrize("persona", [None, "bob", "carol"])
def test_the_diff_does_not_reveal_a_draft_in_progress(persona, request, client, group, draft, olga):
    services.update_draft(version=draft, label="0.0.10", body="Secret wording.", acting_user=olga)
    sign_in(client, request, persona)

    response = client.get(url("diff", "osd"), {"from": "0.0.9", "to": "0.0.10"})

    assert page_messages(response) == ["That version does not exist here; choose two versions from the lists."]
    assert b"Secret wording." not in response.content
    assert b'<option value="0.0.10"' not in response.content


def test_the_organizer_diffs_the_draft_in_progress(client, olga, draft):
    services.update_draft(version=draft, label="0.0.10", body="Secret wording.", acting_user=olga)
    client.force_login(olga)

    response = client.get(url("diff", "osd"), {"from": "0.0.9", "to": "0.0.10"})

    assert b'<td class="text ins">Secret wording.</td>' in response.content


def test_with_one_version_there_is_nothing_to_compare(client, published):
    assert b"nothing to compare yet" in client.get(url("diff", "osd")).content


# Working groups --------------------------------------------------------------------------------


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


def test_chair_cannot_appoint_a_chair(client, alice, carol, group, nothing_written):
    client.force_login(alice)

    assert b'<option value="chair"' not in client.get(url("group", "osd", "weights")).content

    with nothing_written():
        response = client.post(url("member-add", "osd", "weights"), {"username": "carol", "role": "chair"}, follow=True)

    assert page_messages(response) == ["Select a valid choice. chair is not one of the available choices."]


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


# Atom feed -------------------------------------------------------------------------------------

ATOM = "{http://www.w3.org/2005/Atom}"


def test_the_release_feed_is_atom_listing_published_releases_only(client, published, draft):
    DraftVersionFactory(
        definition=published.definition,
        label="0.0.8",
        release_notes="The *very* first.",
        published_at=published.published_at - timedelta(days=30),
    )
    DraftVersionFactory(definition=DefinitionFactory(slug="other", title="Another Definition"), label="7.0")

    response = client.get(url("release-feed", "osd"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}title") == "Open System Definition: releases"
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        "Open System Definition 0.0.9",
        "Open System Definition 0.0.8",
    ]
    assert entries[0].find(f"{ATOM}link").get("href").endswith(url("version", "osd", "0.0.9"))
    assert "<em>very</em>" in entries[1].findtext(f"{ATOM}summary")
    assert b"0.0.10" not in response.content
    assert b"Another Definition" not in response.content


def test_the_feed_of_a_definition_without_releases_is_empty(client, definition, olga):
    services.start_draft(definition=definition, label="0.1", acting_user=olga)

    feed = ET.fromstring(client.get(url("release-feed", "osd")).content)

    assert feed.findall(f"{ATOM}entry") == []


# Query counts ----------------------------------------------------------------------------------


def add_definitions(olga, n: int) -> None:
    for _ in range(n):
        definition = DefinitionFactory()
        definition.organizers.add(olga)
        DraftVersionFactory(definition=definition)
        DraftVersionFactory(definition=definition)
        WorkingGroupFactory(definition=definition)


def add_discussion(version: DraftVersion, n: int) -> None:
    """n more components (some in new categories, one more aggregate) and threads with replies."""
    agg = ComponentFactory(version=version, category="Data", aggregate_rule="sum")
    for i in range(n):
        part = ComponentFactory(version=version, category=f"Category {i}")
        agg.parts.add(part)
        top = CommentFactory(version=version, author=UserFactory())
        CommentFactory(version=version, author=UserFactory(), parent=top)
        CommentFactory(version=version, author=UserFactory(), component=part)
        CommentFactory(
            version=version,
            author=UserFactory(),
            parent=top,
            hidden_at=timezone.now(),
            hidden_by=UserFactory(),
            hidden_reason="Spam.",
        )
        DraftVersionFactory(definition=version.definition)


def add_roster(definition, n: int) -> None:
    for _ in range(n):
        group = WorkingGroupFactory(definition=definition)
        MembershipFactory(group=group)
        MembershipFactory(group=group, role=Membership.Role.CHAIR)
        definition.organizers.add(UserFactory())


def assert_same_queries_when_the_data_grows(client, path, grow, django_assert_max_num_queries, limit):
    with django_assert_max_num_queries(limit) as small:
        assert client.get(path).status_code == 200
    grow()
    with django_assert_max_num_queries(limit) as large:
        assert client.get(path).status_code == 200
    assert len(large) == len(small)


@pytest.mark.parametrize("persona", [None, "olga"])
def test_the_definition_list_needs_the_same_queries_for_many_definitions(
    persona, request, client, olga, published, group, django_assert_max_num_queries
):
    sign_in(client, request, persona)

    assert_same_queries_when_the_data_grows(
        client, url("definition-list"), lambda: add_definitions(olga, 5), django_assert_max_num_queries, limit=5
    )


@pytest.mark.parametrize("persona", [None, "bob", "olga"])
def test_the_definition_page_needs_the_same_queries_for_many_versions_and_groups(
    persona, request, client, published, draft, group, django_assert_max_num_queries
):
    sign_in(client, request, persona)

    def grow():
        add_roster(published.definition, 5)
        for _ in range(5):
            DraftVersionFactory(definition=published.definition)

    assert_same_queries_when_the_data_grows(
        client, url("definition", "osd"), grow, django_assert_max_num_queries, limit=10
    )


@pytest.mark.parametrize("persona", [None, "bob", "olga"])
def test_the_version_page_needs_the_same_queries_for_many_components_and_comments(
    persona, request, client, published, draft, group, django_assert_max_num_queries
):
    sign_in(client, request, persona)
    add_discussion(published, 1)

    assert_same_queries_when_the_data_grows(
        client,
        url("version", "osd", "0.0.9"),
        lambda: add_discussion(published, 5),
        django_assert_max_num_queries,
        limit=13,
    )


@pytest.mark.parametrize("persona", [None, "olga"])
def test_the_component_page_needs_the_same_queries_for_many_parts_and_versions(
    persona, request, client, olga, published, draft, django_assert_max_num_queries
):
    sign_in(client, request, persona)
    agg = published.components.get(key="all-data")
    CommentFactory(version=published, component=agg, author=olga)

    def grow():
        for i in range(5):
            agg.parts.add(ComponentFactory(version=published, key=f"part-{i}"))
            version = DraftVersionFactory(definition=published.definition)
            ComponentFactory(version=version, key="all-data")

    assert_same_queries_when_the_data_grows(
        client, url("component", "osd", "0.0.9", "all-data"), grow, django_assert_max_num_queries, limit=12
    )
