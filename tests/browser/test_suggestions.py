"""Drafting in the open, in a real browser and without a script of ours: a member suggests a change to line 12
of a draft, another supports it, the organizer accepts it and declines another with a reason, consolidates and
publishes; the release's diff credits the change to the suggestion and its author, and a pending suggestion on
a passage that did not change reappears on the next draft."""

import pytest
from playwright.sync_api import expect

from deliberation import services

from .conftest import new_person, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = "\n".join(f"Line {n} of the definition." for n in range(1, 15))


@pytest.fixture
def open_draft(definition, draft, olga):
    services.update_definition(
        definition=definition, title=definition.title, summary="", organizers=[olga], drafts_open=True, acting_user=olga
    )
    return services.update_draft(version=draft, label=draft.label, body=TEXT, acting_user=olga)


def test_a_suggestion_goes_from_a_member_into_the_release_with_credit(
    page, browser, live_server, open_draft, olga, bob, dave, alice
):
    to_decline = services.suggest_change(
        version=open_draft, line_from=5, line_to=5, replacement="Line five.", reason="Shorter.", author=alice
    )
    stays = services.suggest_change(
        version=open_draft, line_from=2, line_to=2, replacement="Line two.", reason="Later.", author=dave
    )

    sign_in(page, "bob")
    page.goto(open_draft.get_absolute_url() + "?view=lines")
    page.locator("#L12").get_by_role("link", name="suggest").click()
    expect(page.locator("table.lines")).to_contain_text("Line 12 of the definition.")
    page.get_by_label("Replacement").fill("Line twelve, as the working group wrote it.")
    page.get_by_label("Why").fill("The group agreed on this wording.")
    page.get_by_role("button", name="Suggest the change").click()
    expect(page.locator(".messages")).to_contain_text("made; organizers will accept or decline it")
    suggestion_url = page.url
    number = open_draft.suggestions.get(author=bob).pk

    other = new_person(browser, live_server)
    sign_in(other, "dave")
    other.goto(suggestion_url)
    other.get_by_role("button", name="Support this suggestion").click()
    expect(other.locator("#support-heading + p")).to_have_text("Supported by @dave.")
    other.context.close()

    organizer = new_person(browser, live_server)
    sign_in(organizer, "olga")
    organizer.goto(suggestion_url)
    organizer.get_by_label("Accept").check()
    organizer.get_by_role("button", name="Record the decision").click()
    expect(organizer.locator(".decision")).to_contain_text("Accepted by @olga")
    organizer.goto(to_decline.get_absolute_url())
    organizer.get_by_label("Decline").check()
    organizer.get_by_label("Reason").fill("Line five stays as the charter has it.")
    organizer.get_by_role("button", name="Record the decision").click()
    expect(organizer.locator(".decision")).to_contain_text("Declined by @olga: Line five stays as the charter has it.")

    organizer.goto(open_draft.get_absolute_url())
    organizer.get_by_role("button", name="Consolidate 1 accepted suggestion").click()
    expect(organizer.locator("#L12")).to_contain_text("Line twelve, as the working group wrote it.")
    organizer.get_by_role("link", name="Publish…").click()
    organizer.get_by_label("Release notes").fill("The working group's wording.")
    organizer.get_by_role("button", name="Publish 0.0.10").click()
    expect(organizer.locator(".messages")).to_contain_text("Version 0.0.10 is published.")

    organizer.get_by_role("link", name="What changed since 0.0.9").click()
    expect(organizer.locator(f"a.mark[title='From suggestion {number}']")).to_have_text(f"S{number}")
    expect(organizer.locator(f"#suggestion-{number}")).to_contain_text(f"Suggestion {number} by @bob")

    organizer.goto(open_draft.get_absolute_url())
    organizer.get_by_label("Next draft").fill("0.0.11")
    organizer.get_by_role("button", name="Start the next draft from 0.0.10").click()
    organizer.goto(open_draft.definition.versions.get(label="0.0.11").get_absolute_url() + "?view=lines")
    expect(organizer.locator("#L2")).to_contain_text(f"Suggestion {stays.pk}")
    expect(organizer.locator(f"#suggestion-{to_decline.pk}")).to_have_count(0)
    organizer.context.close()
