"""Voting through a real browser: the grid saves cell by cell with htmx, and observers read the record.

`ballot` is an open ballot on 0.0.9 (components code and data, the aggregate all-data) for the
groups weights (alice, bob) and corpora (dave), criteria Use and Study. "Without a reload" is
proved by a marker set on `window` before the first save: a full page load would wipe it.
"""

import pytest
from playwright.sync_api import Browser, Page, expect

from audit.models import AuditEvent
from votes import services
from votes.models import Vote

from .conftest import TIMEOUT_MS, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHOICES = [
    {"key": "required", "label": "Required", "value": 1},
    {"key": "abstain", "label": "Abstain", "value": 0},
    {"key": "not-necessary", "label": "Not necessary", "value": -1, "requires_grant": True},
    {"key": "object", "label": "Object", "value": -1, "requires_rationale": True},
]


@pytest.fixture
def ballot(olga, published, group, other_group):
    ballot = services.create_ballot(
        version=published,
        key="components",
        title="Component vote on 0.0.9",
        groups=[group, other_group],
        criteria=[("use", "Use"), ("study", "Study")],
        choices=CHOICES,
        acting_user=olga,
    )
    return services.open_ballot(ballot=ballot, acting_user=olga)


def cast(ballot, voter, component: str, criterion: str, choice: str, rationale: str = "") -> Vote:
    return services.cast_vote(
        ballot=ballot,
        voter=voter,
        component=ballot.version.components.get(key=component),
        criterion=ballot.criteria.get(key=criterion),
        choice=ballot.choices.get(key=choice),
        rationale=rationale,
    )


def another_page(browser: Browser, live_server) -> Page:
    """A second person's browser, with its own cookies."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


def set_reload_marker(page: Page) -> None:
    page.evaluate("window.__marker = 1")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__marker") == 1, "the page was reloaded"


def stored_votes(ballot) -> dict[tuple[str, str, str], tuple[str, str]]:
    return {
        (v.voter.username, v.component.key, v.criterion.key): (v.choice.key, v.rationale)
        for v in ballot.votes.select_related("voter", "component", "criterion", "choice")
    }


def test_member_casts_and_changes_votes_cell_by_cell_without_a_page_reload(page, bob, ballot):
    cast(ballot, bob, "data", "study", "abstain")
    sign_in(page, "bob")
    page.goto(ballot.get_absolute_url())
    page.get_by_role("link", name="Cast your votes").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Your vote")
    expect(page.locator("#progress")).to_contain_text("1 of 4 cells voted.")
    set_reload_marker(page)

    code_use = page.locator("#cell-code-use")
    code_use.get_by_label("Training code, Use: choice").select_option("required")
    code_use.get_by_role("button", name="Save Training code, Use").click()
    expect(page.locator("#cell-code-use .current")).to_contain_text("Required")
    expect(page.locator("#progress")).to_contain_text("2 of 4 cells voted.")  # swapped in with the saved cell

    data_study = page.locator("#cell-data-study")
    expect(data_study.locator(".current")).to_contain_text("Abstain")
    data_study.get_by_label("Training data, Study: choice").select_option("object")
    data_study.get_by_label("Training data, Study: rationale").fill("Without the data nobody can study the model.")
    data_study.get_by_role("button", name="Save Training data, Study").click()
    expect(page.locator("#cell-data-study .current")).to_contain_text("Object")
    expect(page.get_by_label("Training data, Study: choice")).to_have_value("object")
    expect(page.get_by_label("Training code, Use: choice")).to_have_value("required")
    expect(page.locator("#progress")).to_contain_text("2 of 4 cells voted.")
    assert_not_reloaded(page)

    assert stored_votes(ballot) == {
        ("bob", "code", "use"): ("required", ""),
        ("bob", "data", "study"): ("object", "Without the data nobody can study the model."),
    }
    assert list(
        AuditEvent.objects.filter(action__startswith="vote.").order_by("seq").values_list("action", flat=True)
    ) == ["vote.cast", "vote.cast", "vote.changed"]

    page.reload()  # what was saved is what the grid shows afterwards
    expect(page.locator("td.cell.voted")).to_have_count(2)


def test_a_refused_vote_shows_why_in_the_cell_and_changes_nothing(page, bob, ballot):
    sign_in(page, "bob")
    page.goto(ballot.get_absolute_url() + "vote/")
    set_reload_marker(page)

    cell = page.locator("#cell-code-use")
    cell.get_by_label("Training code, Use: choice").select_option("object")
    cell.get_by_role("button", name="Save Training code, Use").click()

    expect(page.locator("#cell-code-use [role=alert]")).to_have_text("A vote “Object” needs a rationale.")
    expect(page.locator("#progress")).to_contain_text("0 of 4 cells voted.")
    assert_not_reloaded(page)
    assert not Vote.objects.exists()


def test_only_members_of_the_group_holding_a_grant_see_and_use_the_restricted_choice(
    page, browser, live_server, olga, bob, dave, ballot, other_group
):
    services.grant_veto(
        ballot=ballot,
        choice=ballot.choices.get(key="not-necessary"),
        group=other_group,
        reason="Corpora's charter lets it declare data not necessary.",
        acting_user=olga,
    )

    sign_in(page, "dave")
    page.goto(ballot.get_absolute_url() + "vote/")
    expect(page.locator(".notice")).to_contain_text("You hold a veto grant: Not necessary.")
    expect(page.locator("td.cell option[value=not-necessary]")).to_have_count(4)  # every cell, Use and Study
    cell = page.locator("#cell-data-use")
    cell.get_by_label("Training data, Use: choice").select_option(label="Not necessary (−1)")
    cell.get_by_label("Training data, Use: rationale").fill("Data sets cannot always be shared.")
    cell.get_by_role("button", name="Save Training data, Use").click()
    expect(page.locator("#cell-data-use .current .badge.restricted")).to_have_text("Not necessary")

    other = another_page(browser, live_server)
    try:
        sign_in(other, "bob")
        other.goto(ballot.get_absolute_url() + "vote/")
        expect(other.locator("td.cell select")).to_have_count(4)
        expect(other.locator("option[value=not-necessary]")).to_have_count(0)
        expect(other.locator("main")).not_to_contain_text("Not necessary")
        expect(other.locator("main")).not_to_contain_text("veto grant")
    finally:
        other.context.close()

    vote = Vote.objects.get()
    assert (vote.voter, vote.choice.key, vote.grant.group) == (dave, "not-necessary", other_group)


def test_an_observer_reads_the_roll_call_the_audit_log_and_the_audit_head(
    page, olga, alice, bob, ballot, group, published
):
    services.grant_veto(
        ballot=ballot,
        choice=ballot.choices.get(key="not-necessary"),
        group=group,
        reason="Charter §3.",
        acting_user=olga,
    )
    cast(ballot, bob, "code", "use", "required", rationale="Code is how you study a model.")
    cast(ballot, alice, "data", "use", "not-necessary")  # no rationale: an undocumented veto

    page.goto(ballot.get_absolute_url())
    expect(page.locator(".account-nav")).to_contain_text("Sign in")
    page.get_by_role("navigation", name="Ballot").get_by_role("link", name="Roll call").click()
    rows = page.locator("table.roll-call tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="@bob")).to_contain_text("Required +1")
    expect(rows.filter(has_text="@bob")).to_contain_text("Code is how you study a model.")
    veto = rows.filter(has_text="@alice")
    expect(veto).to_contain_text("Not necessary −1")
    expect(veto.locator(".badge.warn")).to_have_text("undocumented veto")

    page.get_by_label("Only").select_option("undocumented")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("@alice")

    page.get_by_role("navigation", name="Ballot").get_by_role("link", name="Audit log").click()
    events = page.locator("table.audit tbody tr")
    expect(events).to_have_count(5)  # created, opened, grant, two votes
    expect(events.filter(has_text="vote.cast")).to_have_count(2)
    expect(events.first).to_contain_text("@alice")
    expect(events.first).to_contain_text("vote.cast")
    events.first.locator("summary").click()
    expect(events.first.locator("pre.payload")).to_contain_text("'choice': 'not-necessary'")

    last = AuditEvent.objects.filter(stream=ballot.audit_stream).order_by("-seq").first()
    expect(page.locator("main")).to_contain_text(f"Head of {ballot.audit_stream}: {last.hash}")
    expect(events.first.locator("code.hash")).to_have_attribute("title", f"{last.hash}; previous {last.prev_hash}")

    page.goto(ballot.get_absolute_url())
    expect(page.locator("#audit-head")).to_have_text(last.hash)


def test_a_save_past_the_rate_limit_shows_why_in_the_cell_and_keeps_it_usable(page, settings, bob, ballot):
    settings.VOTE_RATE_LIMIT = "1/d"  # the live server runs in this process, so it reads the same settings
    sign_in(page, "bob")
    page.goto(ballot.get_absolute_url() + "vote/")
    set_reload_marker(page)
    page.get_by_label("Training code, Use: choice").select_option("required")
    page.get_by_role("button", name="Save Training code, Use").click()
    expect(page.locator("#cell-code-use .current")).to_contain_text("Required")

    page.get_by_label("Training data, Use: choice").select_option("abstain")
    page.get_by_role("button", name="Save Training data, Use").click()

    expect(page.locator("#cell-data-use [role=alert]")).to_contain_text(
        "Plenary takes at most 1 vote saves from one person in a short time. This one was not saved"
    )
    expect(page.locator("#cell-data-use select")).to_be_enabled()
    expect(page.locator("#progress")).to_contain_text("1 of 4 cells voted.")
    assert_not_reloaded(page)
    assert stored_votes(ballot) == {("bob", "code", "use"): ("required", "")}
