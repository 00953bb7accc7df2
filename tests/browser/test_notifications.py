"""Done when: a member sees the ballot that opened on their home page with their progress, reads a mention in the
inbox and follows it to the comment. The ballot, the vote and the comments come through the real services."""

import re

import pytest
from playwright.sync_api import Page, expect

from deliberation import services as deliberation
from notifications.models import Notification
from tests.votes.conftest import CHOICES, CRITERIA
from votes import services as votes

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = "/tmp/plenary-home-390.png"


@pytest.fixture
def world(olga, alice, bob, dave, published, group, other_group):
    ballot = votes.create_ballot(
        version=published,
        key="components",
        title="Component vote on 0.0.9",
        groups=[group, other_group],
        criteria=CRITERIA,
        choices=CHOICES,
        acting_user=olga,
    )
    ballot = votes.open_ballot(ballot=ballot, acting_user=olga)
    votes.cast_vote(
        ballot=ballot,
        voter=bob,
        component=published.components.get(key="code"),
        criterion=ballot.criteria.get(key="use"),
        choice=ballot.choices.get(key="required"),
    )
    mine = deliberation.post_comment(author=bob, version=published, body="Code should be required.")
    deliberation.post_comment(author=dave, version=published, body="Only the training code?", parent=mine)
    mention = deliberation.post_comment(author=alice, version=published, body="@bob, can you draft the wording?")
    return ballot, mention


def test_a_member_sees_their_ballot_on_home_reads_a_mention_and_follows_it_to_the_comment(page: Page, world):
    ballot, mention = world
    unread = Notification.objects.filter(recipient__username="bob", read_at__isnull=True).exclude(kind="digest").count()
    assert unread >= 2  # the reply and the mention, beside the ballot's opening and its creation
    sign_in(page, "bob")
    page.goto("/")

    needs = page.locator("section.needs")
    item = needs.locator(".ballot-progress").filter(has_text="Component vote on 0.0.9")
    expect(item).to_contain_text("1 of 8 cells")
    expect(item.get_by_role("link", name="Component vote on 0.0.9")).to_have_attribute(
        "href", f"/d/osd/ballots/{ballot.key}/vote/"
    )
    expect(needs).to_contain_text("@alice mentioned you on Open System Definition 0.0.9")
    expect(page.locator("#unread-badge")).to_have_text(str(unread))

    page.get_by_role("link", name=re.compile(r"^Inbox")).click()
    expect(page.locator("#inbox-unread")).to_have_text(f"{unread} unread")
    page.evaluate("window.__marker = 1")
    reply = page.locator("li.notification").filter(has_text="@dave replied to your comment")
    reply.get_by_role("button", name="Mark read").click()
    expect(reply.get_by_role("button", name="Mark read")).to_have_count(0)
    expect(page.locator("#unread-badge")).to_have_text(str(unread - 1))  # out of band, with the row
    expect(page.locator("#inbox-unread")).to_have_text(f"{unread - 1} unread")
    assert page.evaluate("window.__marker") == 1, "the page was reloaded"

    page.get_by_role("button", name="@alice mentioned you on Open System Definition 0.0.9").click()

    expect(page).to_have_url(re.compile(rf"/d/osd/v/0\.0\.9/#comment-{mention.pk}$"))
    comment = page.locator(f"#comment-{mention.pk}")
    expect(comment).to_contain_text("can you draft the wording?")
    expect(comment.locator("a.mention")).to_have_text("@bob")
    expect(page.locator("#unread-badge")).to_have_text(str(unread - 2) if unread > 2 else "")  # followed, so read
    page.goto("/")
    expect(page.locator("section.needs")).not_to_contain_text("@alice mentioned you")


def test_the_home_page_fits_a_phone(page: Page, world):
    sign_in(page, "bob")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    expect(page.locator("section.needs")).to_contain_text("1 of 8 cells")

    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=SCREENSHOT, full_page=True)
