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
