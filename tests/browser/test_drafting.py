"""An organizer writes a draft in a real browser: the key of a new component follows its title while nobody has
typed one (a small script, the same slug the server makes), and the component lands under the chosen category."""

import pytest
from playwright.sync_api import expect

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_key_follows_the_title_until_the_organizer_types_one(page, olga, draft):
    sign_in(page, "olga")
    page.goto(draft.get_absolute_url())
    page.get_by_role("link", name="Add component").click()

    page.get_by_label("Title").fill("Évaluation data (v2)")
    expect(page.get_by_label("Key")).to_have_value("evaluation-data-v2")
    page.get_by_label("Key").fill("evals")
    page.get_by_label("Title").fill("Evaluation data")
    expect(page.get_by_label("Key")).to_have_value("evals")

    page.get_by_role("combobox", name="Category").select_option("Data")
    page.get_by_role("button", name="Save component").click()

    expect(page.locator("#component-evals")).to_contain_text("Evaluation data")
    assert draft.components.get(key="evals").category == "Data"


def test_an_organizer_writes_and_publishes_a_first_draft_by_clicking_only(page, olga, definition):
    sign_in(page, "olga")
    page.goto(definition.get_absolute_url())
    page.get_by_label("Label of the first draft").fill("0.1")
    page.get_by_role("button", name="Start the first draft").click()

    page.get_by_label("Body").fill("# Preamble\n\nOpen means *free*.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".definition-text em")).to_have_text("free")

    page.get_by_role("link", name="Add component").click()
    page.get_by_label("Title").fill("Training code")
    expect(page.get_by_label("Key")).to_have_value("training-code")
    page.get_by_label("Or a new category").fill("Code")
    page.get_by_role("button", name="Save component").click()
    expect(page.locator("#component-training-code")).to_contain_text("Training code")

    page.get_by_role("link", name="Publish…").click()
    expect(page.locator(".consequences")).to_contain_text("The text and its 1 component become fixed")
    page.get_by_label("Release notes").fill("The first release.")
    page.get_by_role("button", name="Publish 0.1").click()

    expect(page.locator(".messages")).to_contain_text("Version 0.1 is published.")
    page.get_by_role("link", name="Revisions of the text").click()
    expect(page.locator("table.revisions tbody tr")).to_have_count(2)  # as started, and as saved
