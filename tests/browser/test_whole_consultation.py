"""A whole consultation in a real browser, with no admin and no typed address but the home page's:

a new account signs up and confirms its address, starts a definition, writes and publishes a first draft with two
components, creates two working groups and invites three people by e-mail (each follows the mail's link, signs up
and joins); a fourth signs up, asks to join and is accepted. The organizer schedules a ballot a few seconds ahead;
it opens by itself, the members vote (one on a 390-px phone), it closes by itself, the results are published and
the tally bundle downloaded from the results page verifies offline.

Nobody runs a scheduler here: reading the ballot's pages is what opens and closes it (the embedded default).
"""

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from playwright.sync_api import Browser, Page, expect

from audit.models import AuditEvent
from votes.models import Ballot, Vote

from .conftest import PASSPHRASE, fill_sign_up, link_in, new_person, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def sign_up_and_confirm(page: Page, handle: str, email: str) -> None:
    page.goto("/")
    page.locator(".account-nav").get_by_role("link", name="Sign up").click()
    fill_sign_up(page, handle, email)
    confirmation = mail.outbox[-1]
    assert confirmation.to == [email]
    page.goto(link_in(confirmation))  # following the mail's link
    page.get_by_role("button", name="Confirm").click()
    if not page.locator(".account-nav").get_by_text("Signed in as").count():
        sign_in(page, handle, PASSPHRASE)


def invite(page: Page, email: str) -> str:
    """On a group's page: invite `email`; the link of the mail it sends."""
    form = page.get_by_role("form", name="Invite by e-mail")
    form.get_by_label("E-mail address").fill(email)
    form.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".messages")).to_contain_text(f"Invitation sent to {email}.")
    [sent] = [m for m in mail.outbox if m.to == [email]]
    return link_in(sent)


def accept_invitation(browser: Browser, live_server, link: str, handle: str, group: str, **options) -> Page:
    person = new_person(browser, live_server, **options)
    person.goto(link)  # following the mail's link
    person.locator("main").get_by_role("link", name="Sign up").click()
    fill_sign_up(person, handle)
    person.get_by_role("button", name=f"Join {group} as @{handle}").click()
    expect(person.locator(".messages")).to_contain_text(f"You joined {group} as member.")
    return person


def vote(person: Page, component: str, criterion: str, choice: str) -> None:
    """From the ballot's page: open the grid and vote on one cell, waiting until it is saved."""
    person.reload()  # the read that finds the ballot open
    expect(person.locator("#ballot-status")).to_have_text("Open")
    person.get_by_role("link", name="Cast your votes").click()
    cell = f"#cell-{component}-{criterion}"
    person.locator(f"{cell}-choice").select_option(choice)
    person.locator(f"{cell}-save").click()
    expect(person.locator(f"{cell} .current")).not_to_be_empty()


def test_a_new_account_runs_a_whole_consultation_in_the_browser(browser: Browser, live_server, tmp_path):
    founder = new_person(browser, live_server)
    sign_up_and_confirm(founder, "fran", "fran@example.org")

    # A definition, started from the list.
    founder.goto("/")
    founder.get_by_role("link", name="New definition").click()
    founder.get_by_label("Title").fill("Open Data Definition")
    founder.get_by_label("Short name").fill("odd")
    founder.get_by_label("Summary").fill("What makes a data set open.")
    founder.get_by_role("button", name="Start the definition").click()
    expect(founder.locator("h1")).to_have_text("Open Data Definition")

    # Its first draft: text, two components, then published after the confirmation page.
    founder.get_by_role("button", name="Start the first draft").click()
    founder.get_by_label("Body").fill("# Open data\n\nData is open when anyone may use, study, change and share it.")
    founder.get_by_role("button", name="Save draft").click()
    for title, category in [("Training data", "Data"), ("Training code", "Code")]:
        founder.get_by_role("link", name="Add component").click()
        founder.get_by_label("Title").fill(title)
        founder.get_by_label("Or a new category").fill(category)
        founder.get_by_role("button", name="Save component").click()
        expect(founder.locator(f"#component-{title.lower().replace(' ', '-')}")).to_be_visible()
    founder.get_by_role("link", name="Publish…").click()
    expect(founder.locator(".consequences")).to_contain_text("2 components")
    founder.get_by_label("Release notes").fill("The first release.")
    founder.get_by_role("button", name="Publish 0.1").click()
    expect(founder.locator(".messages")).to_contain_text("Version 0.1 is published.")

    # Two working groups; three people invited by e-mail, each joining through the mail's link.
    links: dict[str, tuple[str, str]] = {}
    for key, name, invited in [("curators", "Curators", ["ivy", "jon"]), ("stewards", "Stewards", ["kim"])]:
        founder.locator(".breadcrumbs").get_by_role("link", name="Open Data Definition").click()
        founder.get_by_role("link", name="New working group").click()
        founder.get_by_label("Key").fill(key)
        founder.get_by_label("Name").fill(name)
        founder.get_by_role("button", name="Create group").click()
        expect(founder.locator("h1")).to_have_text(name)
        for handle in invited:
            links[handle] = (invite(founder, f"{handle}@example.org"), name)
    ivy = accept_invitation(browser, live_server, links["ivy"][0], "ivy", "Curators", **PHONE)
    jon = accept_invitation(browser, live_server, links["jon"][0], "jon", "Curators")
    kim = accept_invitation(browser, live_server, links["kim"][0], "kim", "Stewards")

    # Noor finds the definition herself, asks to join the stewards, and the organizer accepts.
    noor = new_person(browser, live_server)
    sign_up_and_confirm(noor, "noor", "noor@example.org")
    noor.goto("/")
    noor.get_by_role("link", name="Open Data Definition").click()
    noor.get_by_role("link", name="Stewards").click()
    noor.get_by_label("Note to the chairs (optional)").fill("I steward city data.")
    noor.get_by_role("button", name="Ask to join Stewards").click()
    founder.reload()  # on the stewards' page
    founder.get_by_role("button", name="Accept @noor").click()
    expect(founder.locator(".messages")).to_contain_text("@noor joined Stewards.")

    # A ballot scheduled a few seconds ahead, on both groups, with a frozen roster.
    founder.locator(".breadcrumbs").get_by_role("link", name="Open Data Definition").click()
    founder.get_by_role("link", name="New ballot").click()
    founder.fill("input[name=title]", "Is it required?")
    founder.fill("input[name=key]", "required")
    founder.get_by_label("Curators").check()
    founder.get_by_label("Stewards").check()
    founder.locator("select[name=time_zone]").select_option("UTC")
    now = datetime.now(UTC).replace(microsecond=0)
    opens, closes = now + timedelta(seconds=8), now + timedelta(seconds=60)
    founder.fill("input[name=opens_at]", opens.strftime("%Y-%m-%dT%H:%M:%S"))
    founder.fill("input[name=closes_at]", closes.strftime("%Y-%m-%dT%H:%M:%S"))
    founder.get_by_role("button", name="Create ballot").click()
    expect(founder.locator("#ballot-status")).to_have_text("Scheduled")
    ballot_page = founder.url

    # It opens by itself; the members vote, Ivy on her phone.
    time.sleep(max(0.0, (opens - datetime.now(UTC)).total_seconds()) + 0.5)
    for person, choice in [(ivy, "required"), (jon, "required"), (kim, "abstain"), (noor, "required")]:
        person.goto(ballot_page)  # the ballot's address, as the organizer would share it
        vote(person, "training-data", "use", choice)
    assert ivy.evaluate("document.documentElement.scrollWidth") <= 390  # the phone's grid never scrolls sideways
    assert Vote.objects.count() == 4

    # It closes by itself; the results are published and the bundle verifies offline.
    time.sleep(max(0.0, (closes - datetime.now(UTC)).total_seconds()) + 0.5)
    founder.reload()
    expect(founder.locator("#ballot-status")).to_have_text("Closed")
    ballot = Ballot.objects.get(key="required")
    assert ballot.status == Ballot.Status.CLOSED
    assert list(
        AuditEvent.objects.filter(stream=ballot.audit_stream, action__in=["ballot.opened", "ballot.closed"])
        .order_by("seq")
        .values_list("action", "actor_id")
    ) == [("ballot.opened", None), ("ballot.closed", None)]
    founder.locator("nav.tabs").get_by_role("link", name="Results").click()
    expect(founder.locator("main")).to_contain_text("Training data")
    with founder.expect_download() as download:
        founder.locator("#tally-download").click()
    bundle = tmp_path / "odd-required.zip"
    download.value.save_as(bundle)
    checked = subprocess.run(
        [sys.executable, "-m", "plenary_tally", str(bundle), "--verify"], capture_output=True, text=True, timeout=120
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for person in (founder, ivy, jon, kim, noor):
        person.context.close()
