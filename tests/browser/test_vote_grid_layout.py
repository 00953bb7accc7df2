"""The vote grid as people use it: on a phone (390 px wide) and a desktop (1280 px), saved as cells change,
several cells at once, a withdrawal asked first, a warning before leaving unsaved cells.

`ballot` (tests/browser/test_voting.py) is open on 0.0.9: components code and data (and the aggregate all-data),
criteria Use and Study, for weights (alice, bob) and corpora (dave). Screenshots go to the directory
GRID_SCREENSHOTS names (the test's own temporary directory otherwise), to be looked at.
"""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from audit.models import AuditEvent
from tests.factories import MembershipFactory

from .conftest import sign_in
from .test_voting import ballot, cast, stored_votes  # noqa: F401 -- `ballot` is a fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 900}

# Every pair of controls in one cell whose boxes intersect, and how far the page scrolls sideways.
OVERLAPS = """() => {
    const found = [];
    for (const cell of document.querySelectorAll('td.cell')) {
        const boxes = [...cell.querySelectorAll('select, input:not([type=hidden]), button, a, .current, .errors')]
            .filter(e => e.offsetParent !== null).map(e => [e, e.getBoundingClientRect()]);
        for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
            const [a, p] = boxes[i], [b, q] = boxes[j];
            if (a.contains(b) || b.contains(a)) continue;
            if (p.left < q.right - 1 && q.left < p.right - 1 && p.top < q.bottom - 1 && q.top < p.bottom - 1)
                found.push(`${cell.id}: ${a.id || a.tagName} over ${b.id || b.tagName}`);
        }
        for (const [e, r] of boxes) {
            const c = cell.getBoundingClientRect();
            if (r.left < c.left - 1 || r.right > c.right + 1)
                found.push(`${cell.id}: ${e.id || e.tagName} outside its cell`);
        }
    }
    return {found, sideways: document.documentElement.scrollWidth - window.innerWidth};
}"""


def screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("GRID_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_grid(page: Page, ballot, size: dict) -> None:  # noqa: F811
    page.set_viewport_size(size)
    sign_in(page, "bob")
    page.goto(ballot.get_absolute_url() + "vote/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Your vote")


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["390px", "1280px"])
def test_no_control_of_the_grid_overlaps_another_or_leaves_the_screen(page, bob, ballot, size, tmp_path):  # noqa: F811
    cast(ballot, bob, "code", "use", "required", rationale="Nobody can study a model without its code.")
    open_grid(page, ballot, size)
    page.get_by_label("Training data, Use: choice").select_option("object")  # needs a rationale: not saved yet
    expect(page.locator("#cell-data-use .unsaved-note")).to_have_text("Not saved: say why, then save.")

    page.screenshot(path=str(screenshots(tmp_path) / f"vote-grid-{size['width']}.png"), full_page=True)
    layout = page.evaluate(OVERLAPS)

    assert layout["found"] == []
    assert layout["sideways"] <= 0, "the page scrolls sideways"
    if size == PHONE:  # one card per component, its criteria as rows, each labelled
        expect(page.locator("#cell-code-study .cell-criterion")).to_be_visible()
        expect(page.locator("#cell-code-study .cell-criterion")).to_have_text("Study")
        assert page.locator("#cell-code-study").bounding_box()["width"] > 300


def test_on_a_phone_a_cell_is_saved_when_its_choice_changes_and_a_withdrawal_is_asked_first(page, bob, ballot):  # noqa: F811
    open_grid(page, ballot, PHONE)
    page.evaluate("window.__marker = 1")

    page.locator("#cell-code-use-choice").select_option("required")  # no Save pressed

    expect(page.locator("#cell-code-use .current")).to_contain_text("Required")
    expect(page.locator("#progress")).to_contain_text("1 of 4 cells voted.")
    page.locator("#cell-code-use-choice").select_option("")
    expect(page.locator("#cell-code-use .confirm-withdraw")).to_contain_text("It will no longer count for Weights")
    assert stored_votes(ballot) == {("bob", "code", "use"): ("required", "")}
    page.locator("#cell-code-use-withdraw").click()
    expect(page.locator("#cell-code-use .current")).to_have_count(0)
    expect(page.locator("#progress")).to_contain_text("0 of 4 cells voted.")
    assert page.evaluate("window.__marker") == 1, "the page was reloaded"
    assert list(AuditEvent.objects.filter(action__startswith="vote.").values_list("action", flat=True)) == [
        "vote.cast",
        "vote.withdrawn",
    ]


def test_save_all_changed_saves_each_cell_and_says_which_were_refused(page, bob, ballot):  # noqa: F811
    open_grid(page, ballot, PHONE)
    page.locator("#cell-code-use-choice").select_option("object")
    page.locator("#cell-code-use-rationale").fill("Too strict for small labs.")
    page.locator("#cell-data-study-choice").select_option("object")  # no rationale: refused
    expect(page.locator("#save-all-button")).to_have_text("Save all changed (2)")

    page.locator("#save-all-button").click()

    expect(page.locator("#save-all-status")).to_have_text("1 cell saved, 1 refused.")
    expect(page.locator("#cell-code-use .current")).to_contain_text("Object")
    expect(page.locator("#cell-data-study [role=alert]")).to_have_text("A vote “Object” needs a rationale.")
    expect(page.locator("#progress")).to_contain_text("1 of 4 cells voted.")
    assert stored_votes(ballot) == {("bob", "code", "use"): ("object", "Too strict for small labs.")}


def test_leaving_with_a_cell_not_saved_asks_first(page, bob, ballot):  # noqa: F811
    # The page's own beforeunload handler, asked directly: closing a page with a live beforeunload dialog can take
    # the whole browser down on some Chromium builds, and every later test with it.
    open_grid(page, ballot, DESKTOP)
    assert not page.evaluate(ASKS_BEFORE_LEAVING), "nothing changed yet, so leaving must not ask"

    page.locator("#cell-data-use-choice").select_option("object")  # needs a rationale: not saved on its own

    expect(page.locator("#cell-data-use .unsaved-note")).to_contain_text("Not saved")
    assert page.evaluate(ASKS_BEFORE_LEAVING)


# Whether the page asks before it is left: a beforeunload event its handlers cancel makes the browser ask.
ASKS_BEFORE_LEAVING = """() => {
    const event = new Event('beforeunload', {cancelable: true});
    window.dispatchEvent(event);
    return event.defaultPrevented;
}"""


def test_a_member_of_two_groups_chooses_one_before_the_cells_are_shown(page, bob, other_group, ballot):  # noqa: F811
    # a member of both groups since before voting opened: the frozen roster counts both
    MembershipFactory(group=other_group, user=bob, joined_at=ballot.opened_at - timedelta(days=1))
    open_grid(page, ballot, PHONE)
    expect(page.locator("#choose-group")).to_contain_text("Which working group do you vote for on this ballot?")
    expect(page.locator("td.cell")).to_have_count(0)

    page.get_by_label("Corpora").check()
    page.get_by_role("button", name="Vote for this group").click()
    page.locator("#cell-code-use-choice").select_option("required")

    expect(page.locator("#cell-code-use .current")).to_contain_text("Required")
    assert voted_groups(ballot) == {"corpora"}


def voted_groups(on) -> set[str]:
    return {v.group.key for v in on.votes.select_related("group")}
