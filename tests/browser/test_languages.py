"""The interface in French, in a real browser: chosen with the footer's switcher (no script needed), or asked for by
the browser (Accept-Language). The pages say French; what people wrote (the definition, its text, its components,
the ballot's criteria and choices) stays as they wrote it. (A request that asks for no language gets English:
tests/config/test_translations.py.)"""

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import new_person
from votes import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
TEXT = "A system is open when anyone can use, study, modify and share it."  # the version's body (factories.py)


@pytest.fixture
def ballot(olga, published, group, other_group, alice, bob, dave):
    """An open ballot with votes, so that its results page has outcomes to show."""
    ballot = services.create_ballot(
        version=published,
        key="components",
        title="Component vote on 0.0.9",
        groups=[group, other_group],
        criteria=[("use", "Use"), ("study", "Study")],
        choices=[
            {"key": "required", "label": "Required", "value": 1},
            {"key": "not-necessary", "label": "Not necessary", "value": -1},
        ],
        acting_user=olga,
    )
    services.open_ballot(ballot=ballot, acting_user=olga)
    required = ballot.choices.get(key="required")
    code, use = published.components.get(key="code"), ballot.criteria.get(key="use")
    for voter in (alice, bob, dave):
        services.cast_vote(ballot=ballot, voter=voter, component=code, criterion=use, choice=required)
    return ballot


def pages(ballot, group) -> list[tuple[str, str, list[str]]]:
    """The main pages: address, a French sentence each must show, and what people wrote that it must show as is."""
    slug, version = ballot.definition.slug, ballot.version
    return [
        ("/", "Chaque définition est rédigée en versions numérotées", ["Open System Definition"]),
        (ballot.definition.get_absolute_url(), "Groupes de travail", ["Open System Definition", "Weights"]),
        (version.get_absolute_url(), "Composants", [TEXT, "Training code", "Training data"]),
        (ballot.get_absolute_url(), "Comment voter", ["Component vote on 0.0.9", "Required", "Not necessary"]),
        (reverse("analysis:results", args=[slug, ballot.key]), "Comparaison des scénarios", ["Training code"]),
        (group.get_absolute_url(), "Historique des adhésions", ["Weights", "@alice"]),
        (reverse("account_login"), "Mot de passe", []),  # allauth's own page, in allauth's French
    ]


def assert_french(page: Page, address: str, french: str, written: list[str]) -> None:
    page.goto(address)
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("body")).to_contain_text(french)
    for text in written:
        expect(page.locator("main")).to_contain_text(text)
    expect(page.locator("footer")).to_contain_text("Langue")


def test_the_footer_switcher_turns_every_main_page_french_on_a_phone(page: Page, ballot, group):
    page.set_viewport_size(PHONE)
    page.goto(ballot.version.get_absolute_url())
    expect(page.locator("html")).to_have_attribute("lang", "en")
    switcher = page.locator("form.language-switcher")
    switcher.scroll_into_view_if_needed()
    for control in (switcher.get_by_label("Language"), switcher.get_by_role("button", name="Change language")):
        box = control.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], "the switcher fits a phone"

    switcher.get_by_label("Language").select_option("fr")
    switcher.get_by_role("button", name="Change language").click()

    expect(page.get_by_role("heading", name="Composants")).to_be_visible()  # back on the same page, in French
    assert page.url.endswith(ballot.version.get_absolute_url())
    expect(page.locator("main")).to_contain_text(TEXT)
    for address, french, written in pages(ballot, group):
        assert_french(page, address, french, written)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "nothing wider than the phone"


def test_the_switcher_works_without_javascript(browser: Browser, live_server, ballot):
    page = new_person(browser, live_server, java_script_enabled=False)
    page.goto(ballot.get_absolute_url())

    page.locator("#language-choice").select_option("fr")
    page.get_by_role("button", name="Change language").click()

    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", name="Comment voter")).to_be_visible()
    expect(page.locator("#language-choice")).to_have_value("fr")
    page.context.close()


def test_a_browser_that_asks_for_french_gets_french_and_one_that_asks_for_english_gets_english(
    browser: Browser, live_server, ballot, group
):
    french = new_person(browser, live_server, locale="fr-FR")  # Playwright sends Accept-Language: fr-FR
    for address, text, written in pages(ballot, group):
        assert_french(french, address, text, written)
    french.context.close()

    plain = new_person(browser, live_server, locale="en-GB")
    plain.goto(ballot.get_absolute_url())
    expect(plain.locator("html")).to_have_attribute("lang", "en")
    expect(plain.get_by_role("heading", name="How to vote")).to_be_visible()
    plain.context.close()
