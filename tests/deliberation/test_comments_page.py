"""Comments through their pages: posting (plain and htmx), replies, editing with its history, hiding with
a reason, and who may do each.

olga organizes the definition `osd`; alice chairs its group `weights`, where bob is a member; carol is
signed in but belongs to nothing; an anonymous observer is not signed in. `published` is version 0.0.9
(components code, data, and all-data = mean of data); `draft` is 0.0.10, started from it.
`comment` is bob's comment on 0.0.9, `draft_comment` olga's on the draft (tests/deliberation/conftest.py).
"""

import re

import pytest

from audit.models import AuditEvent
from deliberation.models import Comment
from tests.client import HTMX, assert_sent_to_login, page_messages, sign_in
from tests.deliberation.pages import url


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
