"""On a closed ballot, in a real browser: the organizer records the decision, a member objects, the organizer
answers; each step is on the page for everyone to read."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from votes import services

from .conftest import new_person, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def closed(olga, published, group, alice, bob):
    """Each call commits and (Celery eager) recomputes, as in the embedded default: code gets two Required."""
    ballot = services.create_ballot(
        version=published,
        key="components",
        title="Component vote on 0.0.9",
        groups=[group],
        criteria=[("use", "Use")],
        choices=[
            {"key": "required", "label": "Required", "value": 1},
            {"key": "abstain", "label": "Abstain", "value": 0},
        ],
        acting_user=olga,
    )
    services.open_ballot(ballot=ballot, acting_user=olga)
    code, use = published.components.get(key="code"), ballot.criteria.get(key="use")
    for voter in (alice, bob):
        services.cast_vote(ballot=ballot, voter=voter, component=code, criterion=use, choice=ballot.choices.first())
    return services.close_ballot(ballot=ballot, acting_user=olga)


def test_olga_records_a_decision_bob_objects_and_olga_answers(page: Page, browser, live_server, closed):
    sign_in(page, "olga")
    page.goto(closed.get_absolute_url())
    page.get_by_role("navigation", name="Ballot").get_by_role("link", name="Decisions").click()
    standing = page.locator("table.decisions tbody tr", has=page.get_by_role("rowheader", name="Training code"))
    standing.get_by_role("link", name="Record").click()

    expect(page.get_by_label("Decision on")).to_have_value("code")
    outcome = page.get_by_label("What was decided")
    expect(outcome).not_to_have_value("")  # the outcome of the cited run
    run_outcome = outcome.input_value()
    page.get_by_label("Statement").fill("Both members of Weights require the training code.")
    page.get_by_role("button", name="Record decision").click()

    decision = page.locator("#decision-1")
    expect(decision).to_contain_text(f"Decision 1 on Training code code: {run_outcome}")
    expect(decision).to_contain_text("Both members of Weights require the training code.")
    expect(decision).to_contain_text("Recorded by @olga")
    expect(decision).to_contain_text("Rests on the outcome run at audit position #")
    expect(decision.locator(".badge")).to_have_text("Standing")

    bob = new_person(browser, live_server)
    sign_in(bob, "bob")
    bob.goto(reverse("analysis:decision-list", args=[closed.definition.slug, closed.key]))
    bob.get_by_label("Lodge a formal objection to decision 1 (public)").fill("Code without the data is not enough.")
    bob.get_by_role("button", name="Lodge objection").click()
    objection = bob.locator("#decision-1 .objections li").first
    expect(objection).to_contain_text("@bob objected on")
    expect(objection).to_contain_text("Code without the data is not enough.")
    expect(objection).to_contain_text("Awaiting the organizers' answer.")

    page.reload()
    answer = page.locator("#decision-1 .objections li").first
    answer.get_by_label("Uphold, and revise the decision").check()
    answer.get_by_label("Reasons (public)").fill("Bob is right: the data decides it.")
    answer.get_by_label("Revised decision, when upheld").fill("Lean yes")
    answer.get_by_role("button", name="Answer objection").click()

    expect(page.locator("#decision-1 .answer")).to_contain_text("Upheld by @olga")
    expect(page.locator("#decision-1 .badge")).to_contain_text("Revised by decision 2")
    revised = page.locator("#decision-2")
    expect(revised).to_contain_text("Decision 2 on Training code code: Lean yes")
    expect(revised).to_contain_text("revising decision 1")

    bob.reload()  # and everyone reads it, bob too, and on the results page
    expect(bob.locator("#decision-1 .answer")).to_contain_text("Bob is right: the data decides it.")
    bob.get_by_role("navigation", name="Ballot").get_by_role("link", name="Results").click()
    expect(bob.locator("#decided")).to_contain_text("Training code: Lean yes")
    bob.context.close()
