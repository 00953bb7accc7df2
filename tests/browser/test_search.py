"""Searching from the header on a phone (390 px wide), in a real browser: the box fits beside nothing else, the
page of results does not scroll sideways, and a result opens its version at the line it was found on."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import DraftVersionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
TEXT = "\n".join(
    ["# An open system", ""]
    + [f"Paragraph {n} says what an open system lets anyone do with it." for n in range(1, 40)]
    + ["Its builders publish the complete training pipeline with every release."]
)


def test_a_search_from_the_header_on_a_phone_leads_to_the_line_it_found(browser, live_server, definition):
    DraftVersionFactory(definition=definition, label="1.0", body=TEXT)
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    page = context.new_page()

    page.goto("/")
    box = page.get_by_role("searchbox", name="Search Plenary")
    field, button = box.bounding_box(), page.locator(".site-search button").bounding_box()
    assert field and button and field["width"] >= 150 and button["x"] + button["width"] <= PHONE["width"]
    box.fill('"training pipeline"')
    box.press("Enter")

    expect(page.locator("main [role=status]")).to_have_text('1 result for “"training pipeline"”')
    expect(page.locator(".search-result mark").first).to_contain_text("training")  # the phrase, or each word
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator(".search-result a").first.click()

    expect(page).to_have_url(re.compile(r"/d/osd/v/1\.0/\?view=lines#L42$"))
    expect(page.locator("#L42")).to_contain_text("the complete training pipeline")
    expect(page.locator("#L42")).to_be_in_viewport()
    context.close()
