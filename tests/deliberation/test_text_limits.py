"""One comment must not take the site down (issue 12, finding 3).

What a person writes is capped (COMMENT_MAX_LENGTH, DRAFT_BODY_MAX_LENGTH, RELEASE_NOTES_MAX_LENGTH beside the
models), refused whole with the reason by the service, whoever calls it. Markdown is rendered once, by the service
that saves the text, and pages show the stored HTML: a view renders no Markdown at all, so what a body holds costs
nothing per view. Comment posts and edits are rate-limited per author (settings.COMMENT_RATE_LIMIT). How long the
renderer takes on a worst-case body is measured in bench/, not here.
"""

import importlib
from unittest import mock

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from deliberation import markdown, services
from deliberation.models import (
    COMMENT_MAX_LENGTH,
    DRAFT_BODY_MAX_LENGTH,
    RELEASE_NOTES_MAX_LENGTH,
    Comment,
)
from tests.client import HTMX, form_data
from tests.deliberation.pages import url
from tests.factories import CommentFactory, DraftVersionFactory

TOO_LONG = f"A comment can be at most {COMMENT_MAX_LENGTH} characters long; this one has {COMMENT_MAX_LENGTH + 1}."

# Bodies at the cap that are the costliest or deepest for markdown-it: unclosed brackets (the reported outage),
# quotes and list markers nested as deep as the text allows, emphasis that never closes.
WORST_CASES = {
    "brackets": "[" * COMMENT_MAX_LENGTH,
    "nested quotes": (">" * COMMENT_MAX_LENGTH),
    "nested lists": ("- " * COMMENT_MAX_LENGTH)[:COMMENT_MAX_LENGTH],
    "quotes and lists": ("> - " * COMMENT_MAX_LENGTH)[:COMMENT_MAX_LENGTH],
    "open emphasis": ("*a" * COMMENT_MAX_LENGTH)[:COMMENT_MAX_LENGTH],
    "links": ("[a](" * COMMENT_MAX_LENGTH)[:COMMENT_MAX_LENGTH],
}


@pytest.fixture
def no_markdown_rendered():
    """`with no_markdown_rendered():` fails if anything renders Markdown inside the block."""
    return lambda: mock.patch.object(markdown._markdown, "render", side_effect=AssertionError("Markdown rendered"))


# Lengths -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_a_comment_over_the_limit_is_refused_on_the_page_with_the_reason_and_nothing_is_written(
    client, bob, published, nothing_written, headers
):
    client.force_login(bob)

    with nothing_written():
        response = client.post(
            url("comment-create", "osd", "0.0.9"),
            {"body": "x" * (COMMENT_MAX_LENGTH + 1)},
            headers=headers,
            follow=True,
        )

    assert response.status_code == 200
    assert TOO_LONG in response.content.decode()


def test_a_comment_at_the_limit_is_posted(client, bob, published):
    client.force_login(bob)

    client.post(url("comment-create", "osd", "0.0.9"), {"body": "x" * COMMENT_MAX_LENGTH})

    assert len(Comment.objects.get().body) == COMMENT_MAX_LENGTH


def test_post_comment_refuses_a_body_over_the_limit_whoever_calls_it(bob, published, nothing_written):
    with nothing_written(), pytest.raises(ValidationError) as refused:
        services.post_comment(author=bob, version=published, body="x" * (COMMENT_MAX_LENGTH + 1))

    assert refused.value.messages == [TOO_LONG]


def test_an_edit_over_the_limit_is_refused_and_the_comment_stays(client, bob, published, nothing_written):
    comment = services.post_comment(author=bob, version=published, body="Short.")
    client.force_login(bob)

    with nothing_written():
        response = client.post(url("comment-edit", comment.pk), {"body": "x" * (COMMENT_MAX_LENGTH + 1)})
        with pytest.raises(ValidationError, match="at most"):
            services.edit_comment(comment=comment, body="x" * (COMMENT_MAX_LENGTH + 1), acting_user=bob)

    assert response.status_code == 200
    assert TOO_LONG in response.content.decode()


def test_a_draft_over_the_limit_is_refused_with_the_reason(client, olga, draft, nothing_written):
    client.force_login(olga)

    with nothing_written():
        edit = url("draft-edit", "osd", "0.0.10")
        response = client.post(
            edit, form_data(client.get(edit), label="0.0.10", body="x" * (DRAFT_BODY_MAX_LENGTH + 1))
        )
        with pytest.raises(ValidationError, match="at most"):
            services.update_draft(
                version=draft, label="0.0.10", body="x" * (DRAFT_BODY_MAX_LENGTH + 1), acting_user=olga
            )

    assert response.status_code == 200
    assert f"A draft&#x27;s text can be at most {DRAFT_BODY_MAX_LENGTH} characters long" in response.content.decode()


def test_release_notes_over_the_limit_are_refused_with_the_reason(olga, draft, nothing_written):
    with nothing_written(), pytest.raises(ValidationError) as refused:
        services.publish_version(version=draft, release_notes="x" * (RELEASE_NOTES_MAX_LENGTH + 1), acting_user=olga)

    assert refused.value.messages == [
        f"Release notes can be at most {RELEASE_NOTES_MAX_LENGTH} characters long; "
        f"these have {RELEASE_NOTES_MAX_LENGTH + 1}."
    ]


# Rendered once, when saved -------------------------------------------------------------------------


@pytest.mark.parametrize("body", WORST_CASES.values(), ids=WORST_CASES.keys())
def test_a_worst_case_comment_is_rendered_once_when_posted_and_never_when_viewed(
    client, olga, bob, published, body, no_markdown_rendered
):
    with mock.patch.object(services, "render_markdown", wraps=markdown.render_markdown) as render:
        comment = services.post_comment(author=bob, version=published, body=body)
    assert render.call_count == 1
    stored = comment.body_html
    assert stored and "<script" not in stored

    client.force_login(olga)  # the organizer sees every page a comment appears on, moderation included
    with no_markdown_rendered():
        pages = [
            client.get(url("version", "osd", "0.0.9")),
            client.get(url("comment-hide", comment.pk)),
            client.get(url("comment-history", comment.pk)),
        ]

    for page in pages:
        assert page.status_code == 200
        assert stored in page.content.decode()  # the stored HTML, as stored


def test_an_edit_renders_the_new_text_once_and_pages_show_it(client, bob, published, no_markdown_rendered):
    comment = services.post_comment(author=bob, version=published, body="First *try*.")

    services.edit_comment(comment=comment, body="Second **try**.", acting_user=bob)

    comment.refresh_from_db()
    assert comment.body_html == "<p>Second <strong>try</strong>.</p>\n"
    with no_markdown_rendered():
        page = client.get(url("version", "osd", "0.0.9")).content.decode()
    assert "<p>Second <strong>try</strong>.</p>" in page
    assert "<em>try</em>" not in page


def test_the_version_page_renders_no_markdown_for_its_text_release_notes_and_comments(
    client, bob, olga, draft, no_markdown_rendered
):
    services.update_draft(version=draft, label="0.0.10", body="# Text\n\n" + "[" * 1000, acting_user=olga)
    services.publish_version(version=draft, release_notes="*Notes* " + ">" * 1000, acting_user=olga)
    services.post_comment(author=bob, version=draft, body="A *comment*.")
    draft.refresh_from_db()

    with no_markdown_rendered():
        page = client.get(url("version", "osd", "0.0.10"))
        feed = client.get(url("release-feed", "osd"))

    html = page.content.decode()
    assert draft.body_html in html and draft.release_notes_html in html
    assert "<em>comment</em>" in html
    assert feed.status_code == 200


def test_a_new_draft_carries_the_rendered_text_of_the_version_it_starts_from(olga, published):
    draft = services.start_draft(definition=published.definition, label="0.0.10", based_on=published, acting_user=olga)

    assert draft.body_html == published.body_html == markdown.render_markdown(published.body)


def test_the_migration_renders_the_stored_html_of_existing_rows_and_shows_an_over_long_one_as_plain_text(published):
    migration = importlib.import_module("deliberation.migrations.0002_stored_html_and_length_limits")
    old = CommentFactory(version=published, body="An *old* comment.", body_html="")
    legacy = CommentFactory(version=published, body="<b>" + "[" * (COMMENT_MAX_LENGTH * 5), body_html="")
    version = DraftVersionFactory(definition=published.definition, body="# Old", body_html="", release_notes_html="")

    with mock.patch.object(markdown._markdown, "render", wraps=markdown._markdown.render) as render:
        migration.render_stored_texts(apps, None)

    old.refresh_from_db(), legacy.refresh_from_db(), version.refresh_from_db()
    assert old.body_html == "<p>An <em>old</em> comment.</p>\n"
    assert legacy.body_html.startswith('<pre class="revision">&lt;b&gt;[[[')  # escaped, not rendered
    assert version.body_html == "<h1>Old</h1>\n" and version.release_notes_html == "<p>First release.</p>\n"
    rendered = [call.args[0] for call in render.call_args_list]
    assert legacy.body not in rendered


# Rate limit --------------------------------------------------------------------------------------

LIMIT = 3


@pytest.fixture
def three_a_day(settings):
    settings.COMMENT_RATE_LIMIT = f"{LIMIT}/d"  # a day, so django-ratelimit's fixed window cannot roll over


def post(client, body: str = "Agreed.", **headers):
    return client.post(url("comment-create", "osd", "0.0.9"), {"body": body}, headers=headers)


def test_a_comment_past_the_rate_limit_gets_a_429_page_and_writes_nothing(
    client, bob, published, three_a_day, nothing_written
):
    client.force_login(bob)
    for _ in range(LIMIT):
        assert post(client).status_code == 302

    with nothing_written():
        response = post(client, "One more.")

    assert response.status_code == 429
    page = response.content.decode()
    assert "<h1>Too many requests</h1>" in page
    assert f"Plenary takes at most {LIMIT} comments and edits from one person" in page
    assert "This one was not saved; try again in" in page
    assert Comment.objects.count() == LIMIT


def test_an_htmx_comment_past_the_rate_limit_says_why_and_keeps_what_was_typed(
    client, bob, published, three_a_day, nothing_written
):
    client.force_login(bob)
    for _ in range(LIMIT):
        assert post(client, **HTMX).status_code == 200

    with nothing_written():
        response = post(client, "Typed with care.", **HTMX)

    assert response.status_code == 429
    html = response.content.decode()
    assert "<html" not in html
    assert f"Plenary takes at most {LIMIT} comments and edits from one person" in html
    assert "Typed with care." in html
    assert "HX-Trigger" not in response.headers


def test_edits_count_against_the_same_limit_and_it_is_per_person(client, alice, bob, published, three_a_day):
    client.force_login(bob)
    comment = services.post_comment(author=bob, version=published, body="Mine.")
    for n in range(LIMIT):
        assert client.post(url("comment-edit", comment.pk), {"body": f"Edit {n}."}).status_code == 302

    assert post(client).status_code == 429
    assert client.post(url("comment-edit", comment.pk), {"body": "Again."}).status_code == 429
    comment.refresh_from_db()
    assert comment.body == f"Edit {LIMIT - 1}."

    client.force_login(alice)
    assert post(client).status_code == 302
