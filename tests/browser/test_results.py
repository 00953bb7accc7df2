"""An observer reads a contested ballot's results in a real browser and sees what flips."""

import pytest
from playwright.sync_api import Page, expect

from votes import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def contested(olga, published, group, other_group, alice, bob, dave):
    """Each call commits and (Celery eager) recomputes, as in the embedded default.

    code: three Required → 3; data: two Required and alice's undocumented veto → 1; μ = 2.
    Without the disputed veto μ = 2.5, so code falls from Lean yes (≥ 1.5μ) to Maybe.
    """
    ballot = services.create_ballot(
        version=published,
        key="components",
        title="Component vote on 0.0.9",
        groups=[group, other_group],
        criteria=[("use", "Use"), ("study", "Study")],
        choices=[
            {"key": "required", "label": "Required", "value": 1},
            {"key": "not-necessary", "label": "Not necessary", "value": -1, "requires_grant": True},
        ],
        acting_user=olga,
    )
    services.open_ballot(ballot=ballot, acting_user=olga)
    required, veto = ballot.choices.get(key="required"), ballot.choices.get(key="not-necessary")
    services.grant_veto(ballot=ballot, choice=veto, member=alice, reason="Data steward.", acting_user=olga)
    code, data = (published.components.get(key=k) for k in ("code", "data"))
    use, study = (ballot.criteria.get(key=k) for k in ("use", "study"))
    for voter in (alice, bob, dave):
        services.cast_vote(ballot=ballot, voter=voter, component=code, criterion=use, choice=required)
    for voter in (bob, dave):
        services.cast_vote(ballot=ballot, voter=voter, component=data, criterion=use, choice=required)
    services.cast_vote(ballot=ballot, voter=alice, component=data, criterion=study, choice=veto)
    services.raise_dispute(ballot=ballot, raised_by=bob, reason="A veto without a reason.", voter=alice, choice=veto)
    return ballot


def test_an_observer_opens_the_results_and_sees_the_flip_without_the_disputed_votes(page: Page, contested):
    page.goto(contested.get_absolute_url())
    page.get_by_role("navigation", name="Ballot").get_by_role("link", name="Results").click()

    expect(page.get_by_role("heading", name="What flips")).to_be_visible()
    flips = page.locator("ul.flips").first
    expect(flips).to_contain_text("Training code: Lean yes as cast → Maybe without-disputed")
    expect(page.locator("text=These results are stale")).to_have_count(0)

    table = page.locator("table.outcomes").first
    headers = table.locator("thead th").all_inner_texts()
    row = table.locator("tbody tr", has=page.get_by_role("rowheader", name="Training code"))
    cell = row.locator("td").nth(headers.index("without-disputed") - 1)
    expect(cell).to_have_class("flip")
    expect(cell).to_contain_text("Maybe")
    baseline = row.locator("td").nth(headers.index("without-disputed@baseline") - 1)
    expect(baseline).to_contain_text("Lean yes")  # with the thresholds of all votes, code holds
    expect(page.get_by_role("img", name="The components on the score axis, by k-means cluster")).to_be_visible()
