"""Journeys through a real browser: what htmx and allauth do can only be seen from there.

Each test reads like the person doing it. "Without a reload" is proved by a marker set on
`window` before the click: a full page load would wipe it.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from deliberation.models import Comment, DraftVersion

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def set_reload_marker(page: Page) -> None:
    page.evaluate("window.__marker = 1")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__marker") == 1, "the page was reloaded"


def test_member_comments_and_replies_without_a_page_reload(page, bob, group, published):
    sign_in(page, "bob")
    page.goto(published.get_absolute_url())
    comments = page.locator("#comments")
    expect(comments).to_contain_text("No comments yet.")
    set_reload_marker(page)

    comments.get_by_label("Comment on 0.0.9").fill("Training data should be *required*.")
    comments.get_by_role("button", name="Post comment").click()

    thread = comments.locator("article.thread").filter(has_text="Training data should be required.")
    expect(thread).to_have_count(1)
    expect(thread.locator(".prose em")).to_have_text("required")  # Markdown rendered
    expect(comments.get_by_label("Comment on 0.0.9")).to_have_value("")  # a fresh form for the next one
    assert_not_reloaded(page)

    thread.locator("details.reply summary").click()
    thread.get_by_label("Reply to @bob").fill("Or at least described in full.")
    thread.get_by_role("button", name="Post reply").click()

    reply = thread.locator(".replies .comment-body")
    expect(reply).to_have_count(1)
    expect(reply).to_contain_text("Or at least described in full.")
    expect(reply).to_contain_text("@bob")
    assert_not_reloaded(page)

    comment = Comment.objects.get(parent=None)
    assert list(comment.replies.values_list("body", flat=True)) == ["Or at least described in full."]


def test_newcomer_signs_up_confirms_the_address_and_comments(page, published, mailoutbox):
    page.goto("/accounts/signup/")
    page.fill("input[name=email]", "nina@example.org")
    page.fill("input[name=username]", "nina")
    page.fill("input[name=password1]", "a long and fresh passphrase")
    page.fill("input[name=password2]", "a long and fresh passphrase")
    page.get_by_role("button", name="Sign Up").click()
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))

    assert [m.to for m in mailoutbox] == [["nina@example.org"]]
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mailoutbox[0].body)
    assert link is not None, mailoutbox[0].body

    page.goto(link.group())  # GET only shows the confirm button; the POST confirms
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".messages")).to_contain_text("You have confirmed nina@example.org")

    sign_in(page, "nina", "a long and fresh passphrase")
    page.goto(published.get_absolute_url())
    comments = page.locator("#comments")
    comments.get_by_label("Comment on 0.0.9").fill("First time here: why is code separate from data?")
    comments.get_by_role("button", name="Post comment").click()
    expect(comments.locator("article.thread")).to_contain_text("@nina")
    expect(comments.locator("article.thread")).to_contain_text("why is code separate from data?")


def test_organizer_publishes_the_draft_and_starts_the_next(page, draft):
    sign_in(page, "olga")
    page.goto(draft.get_absolute_url())
    expect(page.locator(".badge.draft")).to_be_visible()

    page.get_by_role("link", name="Publish…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Publish Open System Definition 0.0.10?")
    page.get_by_label("Release notes").fill("Carries 0.0.9 forward *unchanged*.")
    page.get_by_role("button", name="Publish 0.0.10").click()

    expect(page).to_have_url(re.compile(r"/d/osd/v/0\.0\.10/$"))
    expect(page.locator(".messages")).to_contain_text("Version 0.0.10 is published.")
    expect(page.locator(".badge.published")).to_be_visible()
    expect(page.locator(".release-notes em")).to_have_text("unchanged")

    next_label = page.get_by_label("Next draft")
    expect(next_label).to_have_value("0.0.11")
    page.get_by_role("button", name="Start the next draft from 0.0.10").click()

    expect(page).to_have_url(re.compile(r"/d/osd/v/0\.0\.11/edit/$"))
    expect(page.locator(".messages")).to_contain_text("Draft 0.0.11 started from 0.0.10.")

    draft.refresh_from_db()
    assert draft.status == DraftVersion.Status.PUBLISHED
    assert draft.release_notes == "Carries 0.0.9 forward *unchanged*."
    following = DraftVersion.objects.get(label="0.0.11")
    assert (following.status, following.based_on) == (DraftVersion.Status.DRAFT, draft)
