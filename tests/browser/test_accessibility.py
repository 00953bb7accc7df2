"""Every main page passes axe-core with no serious or critical violation, and the vote grid works by keyboard alone.

axe-core comes from our own installed files: the axe.min.js bundled in the PyPI package axe-playwright-python, a
test extra in pyproject.toml (only that file is used; its first lines name the axe-core version and its MPL-2.0
licence). We chose it over vendoring npm's axe-core dist file because pip installs it with the other test extras,
a fresh clone's `make test` has it, an upgrade is one line, and no 500 kB minified file lives in the repository.
Nothing is fetched from a CDN. It is injected with `page.evaluate(source)`, which runs through DevTools and is not
subject to the page's Content-Security-Policy, rather than with `page.add_script_tag` in a `bypass_csp=True`
context: so each page is checked exactly as it is served, under its real policy with no inline script allowed.

`world` holds a little of everything: two published versions and the next draft, a comment with a reply, an open
ballot with a veto grant, votes (one an undocumented veto), a dispute, and computed results.
"""

from importlib.resources import files

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from analysis import services as analysis
from audit.models import AuditEvent
from deliberation import services as deliberation
from tests.factories import PASSWORD
from votes import services
from votes.models import Vote

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE_SOURCE = (files("axe_playwright_python") / "axe.min.js").read_text()
BLOCKING = ("serious", "critical")


@pytest.fixture
def world(olga, alice, bob, dave, published, draft, group, other_group):
    draft = deliberation.update_draft(
        version=draft, label="0.0.10", body=published.body + "\nTraining data must be described.\n", acting_user=olga
    )
    deliberation.publish_version(version=draft, release_notes="Describes training data.", acting_user=olga)
    deliberation.start_draft(definition=published.definition, label="0.0.11", based_on=draft, acting_user=olga)
    comment = deliberation.post_comment(author=bob, version=published, body="Is *code* enough?")
    deliberation.post_comment(author=alice, version=published, body="Not without data.", parent=comment)
    ballot = services.create_ballot(
        version=published,
        key="components",
        title="Component vote on 0.0.9",
        groups=[group, other_group],
        criteria=[("use", "Use"), ("study", "Study")],
        choices=[
            {"key": "required", "label": "Required", "value": 1},
            {"key": "abstain", "label": "Abstain", "value": 0},
            {"key": "not-necessary", "label": "Not necessary", "value": -1, "requires_grant": True},
            {"key": "object", "label": "Object", "value": -1, "requires_rationale": True},
        ],
        acting_user=olga,
    )
    services.open_ballot(ballot=ballot, acting_user=olga)
    veto = ballot.choices.get(key="not-necessary")
    services.grant_veto(ballot=ballot, choice=veto, member=alice, reason="Data steward.", acting_user=olga)
    code, data = (published.components.get(key=k) for k in ("code", "data"))
    use = ballot.criteria.get(key="use")
    required = ballot.choices.get(key="required")
    for voter in (bob, dave):
        services.cast_vote(ballot=ballot, voter=voter, component=code, criterion=use, choice=required)
    services.cast_vote(ballot=ballot, voter=alice, component=data, criterion=use, choice=veto)
    services.raise_dispute(ballot=ballot, raised_by=bob, reason="A veto without a reason.", voter=alice, choice=veto)
    analysis.compute_run(ballot)
    return ballot


def violations(page: Page) -> list[dict]:
    """axe-core's violations on the page as it stands, after any htmx swap."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    return page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")


def blocking(where: str, page: Page) -> list[str]:
    """The serious and critical violations, one line each: page, rule, impact, what it asks, the elements."""
    return [
        f"{where}: {v['id']} ({v['impact']}) {v['help']} — {', '.join(' '.join(n['target']) for n in v['nodes'])}"
        for v in violations(page)
        if v["impact"] in BLOCKING
    ]


def assert_accessible(page: Page, pages: dict[str, str]) -> None:
    found = []
    for where, path in pages.items():
        response = page.goto(path)
        assert response is not None and response.status == 200, (
            f"{where}: {path} answered {response and response.status}"
        )
        found += blocking(where, page)
    assert not found, "serious or critical accessibility violations:\n" + "\n".join(found)


def ballot_url(name: str, *args) -> str:
    return reverse(f"votes:{name}", args=["osd", "components", *args])


def version_url(label: str, name: str = "version") -> str:
    return reverse(f"deliberation:{name}", args=["osd", label])


def test_what_observers_read_has_no_serious_accessibility_violation(page, world):
    diff = reverse("deliberation:diff", args=["osd"])
    assert_accessible(
        page,
        {
            "definitions": reverse("deliberation:definition-list"),
            "definition": reverse("deliberation:definition", args=["osd"]),
            "version": version_url("0.0.9"),
            "component": reverse("deliberation:component", args=["osd", "0.0.9", "data"]),
            "diff": diff + "?from=0.0.9&to=0.0.10",
            "diff, inline": diff + "?from=0.0.9&to=0.0.10&view=inline",
            "diff, with a message": diff + "?from=9.9.9",
            "group": reverse("deliberation:group", args=["osd", "weights"]),
            "ballot": ballot_url("ballot"),
            "roll call": ballot_url("roll-call"),
            "grants": ballot_url("grants"),
            "disputes": ballot_url("disputes"),
            "results": reverse("analysis:results", args=["osd", "components"]),
            "audit log": reverse("audit:log"),
            "signed checkpoints": reverse("audit:checkpoints"),
            "sign in": reverse("account_login"),
            "sign up": reverse("account_signup"),
            "search": reverse("search:search"),
            "search results": reverse("search:search") + "?q=training",
            "search refused": reverse("search:search") + "?q=" + "x" * 201,
        },
    )


def test_what_members_use_has_no_serious_accessibility_violation_even_after_saves(page, world):
    sign_in(page, "bob")
    assert_accessible(page, {"version, to comment": version_url("0.0.9"), "disputes, to raise": ballot_url("disputes")})

    page.goto(ballot_url("vote-grid"))
    page.get_by_label("Training data, Study: choice").select_option("abstain")
    page.get_by_role("button", name="Save Training data, Study").click()
    expect(page.locator("#cell-data-study .current")).to_contain_text("Abstain")
    page.get_by_label("Training data, Use: choice").select_option("object")
    page.get_by_role("button", name="Save Training data, Use").click()
    expect(page.locator("#cell-data-use [role=alert]")).to_be_visible()

    assert not blocking("vote grid, after a save and a refusal", page)


def test_what_organizers_use_has_no_serious_accessibility_violation(page, world):
    sign_in(page, "olga")
    assert_accessible(
        page,
        {
            "ballot, with its controls": ballot_url("ballot"),
            "grants, to grant": ballot_url("grants"),
            "disputes, to resolve": ballot_url("disputes"),
            "vote grid, on a member's behalf": ballot_url("vote-grid-on-behalf", "bob"),
            "draft": version_url("0.0.11"),
            "draft, to edit": version_url("0.0.11", "draft-edit"),
            "component, to add": version_url("0.0.11", "component-create"),
            "release, its revisions compared": version_url("0.0.10", "revisions"),
            "draft, to publish": version_url("0.0.11", "publish"),
            "ballot, to create": reverse("votes:ballot-create", args=["osd"]),
        },
    )


# The keyboard alone --------------------------------------------------------------------------------------------

FOCUSED = """() => {
    const e = document.activeElement;
    return e ? {id: e.id, name: e.getAttribute('name'), label: e.getAttribute('aria-label'), text: e.innerText} : {};
}"""

# The focused element's outline against the background behind it, as WCAG 2.2 measures a focus indicator.
FOCUS_RING = """() => {
    const e = document.activeElement, style = getComputedStyle(e);
    let behind = e.parentElement, background = 'rgba(0, 0, 0, 0)';
    while (behind && (background = getComputedStyle(behind).backgroundColor) === 'rgba(0, 0, 0, 0)') {
        behind = behind.parentElement;
    }
    return {style: style.outlineStyle, width: parseFloat(style.outlineWidth), color: style.outlineColor,
            background: behind ? background : 'rgb(255, 255, 255)'};
}"""


def luminance(css_rgb: str) -> float:
    channels = [int(c) / 255 for c in css_rgb[css_rgb.index("(") + 1 : css_rgb.index(")")].split(",")[:3]]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def assert_focus_is_visible(page: Page) -> None:
    ring = page.evaluate(FOCUS_RING)
    lighter, darker = sorted((luminance(ring["color"]), luminance(ring["background"])), reverse=True)
    contrast = (lighter + 0.05) / (darker + 0.05)
    assert ring["style"] != "none" and ring["width"] >= 2, ring
    assert contrast >= 3, f"the focus ring has a contrast of {contrast:.2f} against its background: {ring}"


def tab_to(page: Page, is_it, key: str = "Tab", limit: int = 60) -> None:
    """Press Tab (or Shift+Tab) until the focused element is the one wanted."""
    for _ in range(limit):
        page.keyboard.press(key)
        if is_it(page.evaluate(FOCUSED)):
            return
    pytest.fail(f"{key} never reached it; focus is on {page.evaluate(FOCUSED)}")


def labelled(label: str):
    return lambda focused: focused.get("label") == label


def save_and_stay(page: Page, key: str, cell: str) -> None:
    """Press Enter or Space on the cell's Save button; after the save the focus is on that button still."""
    assert page.evaluate(FOCUSED)["id"] == f"{cell}-save"
    page.keyboard.press(key)
    expect(page.locator(f"#{cell}")).not_to_have_attribute("data-before-save", "")  # the cell was swapped
    expect(page.locator(f"#{cell}-save")).to_be_focused()


def mark_cells(page: Page) -> None:
    """Mark every cell, so that a cell swapped in by htmx (without the mark) can be told apart."""
    page.evaluate("document.querySelectorAll('td.cell').forEach(td => td.setAttribute('data-before-save', ''))")


def test_a_member_signs_in_reaches_the_grid_and_casts_changes_and_withdraws_votes_by_keyboard_alone(page, bob, world):
    """bob starts with one vote, Training code, Use: Required (from `world`)."""
    page.goto(reverse("account_login"))
    tab_to(page, lambda focused: focused.get("name") == "login")
    page.keyboard.type("bob")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator(".account-nav")).to_contain_text("Signed in as bob")

    page.goto(world.get_absolute_url())
    tab_to(page, lambda focused: focused.get("text") == "Vote")  # the ballot's Vote tab
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Your vote")
    expect(page.locator("#progress")).to_contain_text("1 of 4 cells voted.")
    page.evaluate("document.getElementById('progress').setAttribute('data-kept', '')")
    last_event = AuditEvent.objects.order_by("pk").last().pk

    # Cast: Training data, Study → Required, saved with Enter.
    tab_to(page, labelled("Training data, Study: choice"))
    assert_focus_is_visible(page)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")  # the rationale
    page.keyboard.press("Tab")  # Save
    assert_focus_is_visible(page)
    mark_cells(page)
    save_and_stay(page, "Enter", "cell-data-study")
    expect(page.locator("#cell-data-study .current")).to_contain_text("Required")
    expect(page.locator("#progress")).to_contain_text("2 of 4 cells voted.")

    # Cast: back with Shift+Tab to Training code, Study → Abstain, saved with Space.
    tab_to(page, labelled("Training code, Study: choice"), key="Shift+Tab")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    mark_cells(page)
    save_and_stay(page, "Space", "cell-code-study")
    expect(page.locator("#cell-code-study .current")).to_contain_text("Abstain")
    expect(page.locator("#progress")).to_contain_text("3 of 4 cells voted.")

    # Change: Training data, Study → Object, which needs a rationale.
    tab_to(page, labelled("Training data, Study: choice"))
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.type("Without the data nobody can study the model.")
    page.keyboard.press("Tab")
    mark_cells(page)
    save_and_stay(page, "Enter", "cell-data-study")
    expect(page.locator("#cell-data-study .current")).to_contain_text("Object")

    # Refused: Training data, Use → Object without a rationale; the cell says why and keeps the focus.
    tab_to(page, labelled("Training data, Use: choice"), key="Shift+Tab")
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    mark_cells(page)
    save_and_stay(page, "Enter", "cell-data-use")
    expect(page.locator("#cell-data-use [role=alert]")).to_have_text("A vote “Object” needs a rationale.")

    # Withdraw: Training code, Use → “— no vote —”.
    tab_to(page, labelled("Training code, Use: choice"), key="Shift+Tab")
    page.keyboard.press("ArrowUp")
    expect(page.get_by_label("Training code, Use: choice")).to_have_value("")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    mark_cells(page)
    page.keyboard.press("Enter")  # the cell asks first, and its Withdraw button takes the focus
    expect(page.locator("#cell-code-use .confirm-withdraw")).to_contain_text("Withdraw your vote “Required”")
    expect(page.locator("#cell-code-use-withdraw")).to_be_focused()
    assert_focus_is_visible(page)
    page.keyboard.press("Enter")
    expect(page.locator("#cell-code-use .current")).to_have_count(0)
    expect(page.locator("#cell-code-use-choice")).to_be_focused()  # back where the withdrawal began

    # The status line is one lasting live region whose words change, so screen readers announce them.
    expect(page.locator("#progress[role=status][data-kept]")).to_contain_text("2 of 4 cells voted.")
    assert {
        (v.component.key, v.criterion.key): (v.choice.key, v.rationale) for v in Vote.objects.filter(voter=bob)
    } == {
        ("code", "study"): ("abstain", ""),
        ("data", "study"): ("object", "Without the data nobody can study the model."),
    }
    events = AuditEvent.objects.filter(pk__gt=last_event).order_by("pk")
    assert list(events.values_list("action", flat=True)) == ["vote.cast", "vote.cast", "vote.changed", "vote.withdrawn"]
