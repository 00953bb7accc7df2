"""The pages of passages and suggested changes, without JavaScript: the numbered lines of a version, the
forms to comment on a passage and to suggest a change, a suggestion's page with its support and decision
forms, consolidating, and the release's diff that credits each change to its suggestion.

`osd` drafts in the open here; its draft 0.0.10 has 14 numbered lines. bob and dave are members.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from deliberation import services
from deliberation.models import Comment, Suggestion
from tests.client import page_messages, sign_in
from tests.deliberation.pages import url

from .test_suggestions import TEXT, suggest


@pytest.fixture
def open_draft(definition, draft, olga):
    services.update_definition(
        definition=definition, title=definition.title, summary="", organizers=[olga], drafts_open=True, acting_user=olga
    )
    return services.update_draft(version=draft, label=draft.label, body=TEXT, acting_user=olga)


def test_the_lines_view_numbers_every_source_line_with_its_anchor(client, open_draft):
    html = client.get(url("version", "osd", "0.0.10"), {"view": "lines"}).content.decode()

    assert '<tr id="L12">' in html and 'href="#L12"' in html
    assert "Line 12 of the definition." in html
    assert '<tr id="L15">' not in html


def test_a_member_comments_on_a_passage_and_the_thread_quotes_it(client, request, open_draft):
    sign_in(client, request, "bob")

    response = client.post(
        url("comment-create", "osd", "0.0.10"), {"body": "Too vague.", "line_from": "4", "line_to": "5"}, follow=True
    )

    comment = Comment.objects.get()
    assert (comment.line_from, comment.line_to) == (4, 5)
    html = client.get(url("version", "osd", "0.0.10"), {"view": "lines"}).content.decode()
    assert f'href="#comment-{comment.pk}"' in html  # beside line 4
    assert "Line 4 of the definition.\nLine 5 of the definition." in html
    assert response.status_code == 200


def test_a_passage_outside_the_text_is_refused_with_a_message(client, request, open_draft):
    sign_in(client, request, "bob")
    events = AuditEvent.objects.count()

    response = client.post(
        url("comment-create", "osd", "0.0.10"), {"body": "Beyond.", "line_from": "14", "line_to": "30"}, follow=True
    )

    assert any("outside the text, which has 14 lines" in m for m in page_messages(response))
    assert (Comment.objects.count(), AuditEvent.objects.count()) == (0, events)


def test_a_member_suggests_a_change_from_the_line_link(client, request, open_draft):
    sign_in(client, request, "bob")
    form = client.get(url("suggestion-create", "osd", "0.0.10"), {"from": "12", "to": "12"})
    assert "Line 12 of the definition." in form.content.decode()

    response = client.post(
        url("suggestion-create", "osd", "0.0.10"),
        {"line_from": "12", "line_to": "12", "replacement": "Line twelve.", "reason": "Shorter."},
    )

    suggestion = Suggestion.objects.get()
    assert response["Location"] == suggestion.get_absolute_url()
    assert (suggestion.author.username, suggestion.original) == ("bob", "Line 12 of the definition.")


def test_a_suggestion_outside_the_text_is_shown_again_with_the_reason(client, request, open_draft):
    sign_in(client, request, "bob")

    response = client.post(
        url("suggestion-create", "osd", "0.0.10"),
        {"line_from": "15", "line_to": "15", "replacement": "More.", "reason": "Why not."},
    )

    assert response.status_code == 200
    assert "outside the text" in response.content.decode()
    assert not Suggestion.objects.exists()


def test_support_decide_and_consolidate_through_the_pages(client, request, open_draft, bob, dave):
    s, other = suggest(open_draft, bob), suggest(open_draft, dave, 2, 2, "Line two.")
    sign_in(client, request, "dave")
    client.post(url("suggestion-support", "osd", s.pk))
    assert "Supported by @dave" in client.get(s.get_absolute_url()).content.decode()

    sign_in(client, request, "olga")
    client.post(url("suggestion-decide", "osd", s.pk), {"decision": "accept"})
    refused = client.post(url("suggestion-decide", "osd", other.pk), {"decision": "decline"}, follow=True)
    assert any("Say why" in m for m in page_messages(refused))
    client.post(url("suggestion-decide", "osd", other.pk), {"decision": "decline", "reason": "Fine as it is."})
    client.post(url("consolidate", "osd", "0.0.10"))

    open_draft.refresh_from_db()
    assert open_draft.body.splitlines()[11] == "Line twelve, reworded."
    assert "Declined by @olga: Fine as it is." in client.get(other.get_absolute_url()).content.decode()


def test_a_member_may_not_decide_nor_consolidate(client, request, open_draft, bob):
    s = suggest(open_draft, bob)
    sign_in(client, request, "bob")

    assert client.post(url("suggestion-decide", "osd", s.pk), {"decision": "accept"}).status_code == 403
    assert client.post(url("consolidate", "osd", "0.0.10")).status_code == 403


def test_overlapping_pending_suggestions_are_shown_side_by_side(client, open_draft, bob, dave):
    s = suggest(open_draft, bob, 11, 12)
    rival = suggest(open_draft, dave, 12, 13, "Lines twelve and thirteen.")

    html = client.get(s.get_absolute_url()).content.decode()

    assert "Other pending suggestions on these lines" in html
    assert f"Suggestion {rival.pk}</a> by @dave" in html


def test_the_release_diff_credits_each_change_to_its_suggestion_and_author(client, open_draft, bob, olga):
    s = suggest(open_draft, bob)
    services.decide_suggestion(suggestion=s, accept=True, acting_user=olga)
    services.consolidate_suggestions(version=open_draft, acting_user=olga)
    services.publish_version(version=open_draft, release_notes="Second.", acting_user=olga)

    html = client.get(url("diff", "osd"), {"from": "0.0.9", "to": "0.0.10"}).content.decode()

    assert f'class="mark" title="From suggestion {s.pk}">S{s.pk}</a>' in html
    assert f"Suggestion {s.pk}</a> by @bob" in html


def test_a_comment_on_a_suggestion_is_in_its_discussion_not_the_version_s(client, request, open_draft, bob):
    s = suggest(open_draft, bob)
    sign_in(client, request, "dave")

    response = client.post(url("comment-create", "osd", "0.0.10"), {"body": "Why this word?", "suggestion": s.pk})

    comment = Comment.objects.get()
    assert response["Location"] == f"{s.get_absolute_url()}#comment-{comment.pk}"
    assert "Why this word?" in client.get(s.get_absolute_url()).content.decode()
    assert "Why this word?" not in client.get(url("version", "osd", "0.0.10")).content.decode()


def test_a_line_number_too_long_to_be_one_shows_the_form_without_a_passage(client, request, open_draft):
    sign_in(client, request, "bob")

    response = client.get(url("suggestion-create", "osd", "0.0.10"), {"from": "9" * 5000, "to": "9" * 5000})

    assert response.status_code == 200


def test_the_lines_view_needs_the_same_queries_for_many_suggestions_and_passage_threads(client, open_draft, bob):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url("version", "osd", "0.0.10"), {"view": "lines"}).status_code == 200
        return len(captured)

    suggest(open_draft, bob, 1, 1)
    services.post_comment(author=bob, version=open_draft, body="On one.", lines=(1, 1))
    few = queries()
    for n in range(2, 9):
        suggest(open_draft, bob, n, n)
        services.post_comment(author=bob, version=open_draft, body=f"On {n}.", lines=(n, n))

    assert queries() == few
