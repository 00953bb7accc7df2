"""Starting a consultation and filling its groups, in a real browser, with no admin and no typed address:
an account starts a definition and a group, invites someone by e-mail (the invitee follows the mail's link,
signs up and is a member), and a newcomer signs up, asks to join, and is accepted by the chair."""

import pytest
from django.core import mail
from playwright.sync_api import expect

from deliberation.models import Definition, Membership
from tests.factories import UserFactory

from .conftest import PASSPHRASE, fill_sign_up, link_in, new_person, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_definition_gets_a_group_an_invited_member_and_an_accepted_request(page, browser, live_server):
    UserFactory(username="founder", first_name="Fran", last_name="Founder")  # with a verified address
    sign_in(page, "founder")

    # The founder starts a definition from the list and is its organizer.
    page.get_by_role("link", name="New definition").click()
    page.get_by_label("Title").fill("Open Data Definition")
    page.get_by_label("Short name").fill("odd")
    page.get_by_label("Summary").fill("What makes a data set open.")
    page.get_by_role("button", name="Start the definition").click()
    expect(page.locator("h1")).to_have_text("Open Data Definition")
    expect(page.locator("[aria-labelledby=organizers-heading]")).to_contain_text("@founder")

    # A working group, then an invitation by e-mail.
    page.get_by_role("link", name="New working group").click()
    page.get_by_label("Key").fill("curators")
    page.get_by_label("Name").fill("Curators")
    page.get_by_role("button", name="Create group").click()
    expect(page.locator("h1")).to_have_text("Curators")
    invite = page.get_by_role("form", name="Invite by e-mail")
    invite.get_by_label("E-mail address").fill("ivy@example.org")
    invite.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".messages")).to_contain_text("Invitation sent to ivy@example.org.")
    [invitation] = mail.outbox
    assert invitation.to == ["ivy@example.org"]

    # Ivy follows the mail's link, signs up with the invited address (no confirmation needed) and joins.
    ivy = new_person(browser, live_server)
    ivy.goto(link_in(invitation))
    expect(ivy.locator("h1")).to_have_text("Join Curators")
    ivy.locator("main").get_by_role("link", name="Sign up").click()
    expect(ivy.locator("input[name=email]")).to_have_value("ivy@example.org")
    fill_sign_up(ivy, "ivy")
    ivy.get_by_role("button", name="Join Curators as @ivy").click()
    expect(ivy.locator(".messages")).to_contain_text("You joined Curators as member.")
    expect(ivy.locator("#roster-heading + form + table")).to_contain_text("@ivy")
    assert len(mail.outbox) == 1

    # Noor signs up on her own, confirms her address, finds the group and asks to join.
    noor = new_person(browser, live_server)
    noor.goto("/")
    noor.locator(".account-nav").get_by_role("link", name="Sign up").click()
    fill_sign_up(noor, "noor", "noor@example.org")
    confirmation = mail.outbox[-1]
    assert confirmation.to == ["noor@example.org"]
    noor.goto(link_in(confirmation))
    noor.get_by_role("button", name="Confirm").click()
    if not noor.locator(".account-nav").get_by_text("Signed in as").count():
        sign_in(noor, "noor", PASSPHRASE)
    noor.goto("/")
    noor.get_by_role("link", name="Open Data Definition").click()
    noor.get_by_role("link", name="Curators").click()
    noor.get_by_label("Note to the chairs (optional)").fill("I curate city data sets.")
    noor.get_by_role("button", name="Ask to join Curators").click()
    expect(noor.locator("#my-request")).to_contain_text("have not answered yet")

    # The founder accepts her; Noor sees that she is in.
    page.reload()
    expect(page.locator(".join-request")).to_contain_text("I curate city data sets.")
    page.get_by_role("button", name="Accept @noor").click()
    expect(page.locator(".messages")).to_contain_text("@noor joined Curators.")
    noor.reload()
    expect(noor.locator("#my-request")).to_contain_text("accepted by @founder")

    group = Definition.objects.get(slug="odd").working_groups.get()
    assert set(Membership.objects.current().filter(group=group).values_list("user__username", flat=True)) == {
        "ivy",
        "noor",
    }
