"""An observer reads a contested ballot's results in a real browser and sees what flips."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
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

    summary = page.locator("#summary")
    expect(summary.get_by_role("heading", name="Summary")).to_be_visible()
    expect(summary.locator("#outcome-code")).to_have_text(
        "Training code: Lean yes (3 votes) — 1 vote changed would change its band; Maybe without the 1 disputed vote;"
        " Maybe without the 1 restricted (grant-only) vote"  # alice's veto is both
    )
    expect(page.locator("text=These results are stale")).to_have_count(0)

    table = page.locator("table.outcomes").first
    headers = table.locator("thead th").all_inner_texts()
    row = table.locator("tbody tr", has=page.get_by_role("rowheader", name="Training code"))
    cell = row.locator("td").nth(headers.index("Without the disputed votes") - 1)
    expect(cell).to_have_class("flip")
    expect(cell).to_contain_text("Maybe")
    baseline = row.locator("td").nth(headers.index("Without the disputed votes, with the thresholds as cast") - 1)
    expect(baseline).to_contain_text("Lean yes")  # with the thresholds of all votes, code holds
    expect(page.get_by_role("img", name="The components on the score axis, by k-means cluster")).to_be_visible()


PHONE = {"width": 390, "height": 844}


def test_on_a_phone_the_summary_comes_first_and_nothing_is_wider_than_the_screen(page: Page, contested):
    page.set_viewport_size(PHONE)
    page.goto(reverse("analysis:results", args=[contested.definition.slug, contested.key]))

    heading = page.get_by_role("heading", name="Summary")
    expect(heading).to_be_in_viewport()
    assert page.locator("#results h2").first.inner_text() == "Summary"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # the scenario table is wider than the phone: it scrolls inside its box, which says so
    scroller = page.locator(".scroll", has=page.locator("table.outcomes")).first
    assert scroller.evaluate("el => el.scrollWidth > el.clientWidth")
    expect(page.locator(".scroll-hint").first).to_be_visible()


def boxes(page: Page, svg: str) -> list[dict]:
    return page.locator(f"{svg} text").evaluate_all(
        "els => els.map(el => { const b = el.getBBox();"
        " return {text: el.textContent, x: b.x, y: b.y, w: b.width, h: b.height}; })"
    )


def assert_apart(drawn: list[dict], svg: str) -> None:
    for i, a in enumerate(drawn):
        for b in drawn[i + 1 :]:
            apart = a["x"] + a["w"] <= b["x"] or b["x"] + b["w"] <= a["x"]
            apart = apart or a["y"] + a["h"] <= b["y"] or b["y"] + b["h"] <= a["y"]
            assert apart, (svg, a, b)


def test_no_two_labels_of_a_chart_overlap_as_the_browser_draws_them(page: Page, contested):
    page.goto(reverse("analysis:results", args=[contested.definition.slug, contested.key]))

    for svg in ("#score-strip", "#counts-chart"):
        assert_apart(boxes(page, svg), svg)


def test_printed_results_hide_the_navigation_and_show_every_table_whole(page: Page, contested):
    page.goto(reverse("analysis:results", args=[contested.definition.slug, contested.key]))
    page.emulate_media(media="print")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")

    expect(page.get_by_role("navigation", name="Ballot")).to_be_hidden()
    expect(page.locator("#downloads-heading")).to_be_hidden()
    expect(page.get_by_role("heading", name="Summary")).to_be_visible()
    expect(page.get_by_role("heading", name="Without one group")).to_be_visible()  # its closed details opened
    assert page.locator(".scroll").first.evaluate("el => getComputedStyle(el).overflowX") == "visible"
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")


@pytest.mark.slow
def test_the_demo_results_fit_a_phone_and_no_chart_label_overlaps_another(page: Page):
    """The demo's 17 components bunch up on the score axis: as the browser draws them, their labels never touch."""
    call_command("seed_demo", stdout=StringIO())
    page.set_viewport_size(PHONE)
    page.goto(reverse("analysis:results", args=["open-model", "components-0-0-9"]))

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(page.locator("#outcome-validation-data")).to_contain_text("without the 50 disputed votes")
    for svg in ("#score-strip", "#counts-chart", "svg.chart.small"):
        drawn = boxes(page, svg)
        assert len(drawn) >= 10
        assert_apart(drawn, svg)
