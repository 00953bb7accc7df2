"""Scheduling a ballot in a real browser, with no scheduler running: the embedded default.

olga fills in the new-ballot form with an opening time a few seconds ahead and a closing time a few seconds
later, in her browser's time zone (the form's select is set to it by static/js/timezone.js); reading the ballot's
page after each time is what opens it, then closes it.
"""

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, expect

from audit.models import AuditEvent
from votes.models import Ballot

from .conftest import TIMEOUT_MS, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ZONE = "Australia/Adelaide"  # UTC+10:30 or +09:30: an offset no rounding hides


def test_a_ballot_scheduled_a_few_seconds_ahead_opens_and_closes_by_itself(
    browser: Browser, live_server, olga, published, group
):
    context = browser.new_context(base_url=live_server.url, timezone_id=ZONE)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    sign_in(page, "olga")
    page.goto("/d/osd/ballots/new/")
    expect(page.locator("select[name=time_zone]")).to_have_value(ZONE)
    expect(page.locator("[data-zone-label]")).to_contain_text(ZONE)

    now = datetime.now(ZoneInfo(ZONE)).replace(microsecond=0)
    opens, closes = now + timedelta(seconds=4), now + timedelta(seconds=9)
    page.fill("input[name=title]", "Quick check")
    page.fill("input[name=key]", "quick")
    page.fill("input[name=criteria-0-label]", "Use it")  # a row changed; the other default rows stay
    page.fill("input[name=choices-3-key]", "object")
    page.fill("input[name=choices-3-label]", "Object")
    page.fill("input[name=choices-3-value]", "-1")
    page.fill("input[name=opens_at]", opens.strftime("%Y-%m-%dT%H:%M:%S"))
    page.fill("input[name=closes_at]", closes.strftime("%Y-%m-%dT%H:%M:%S"))
    page.get_by_role("button", name="Create ballot").click()

    expect(page.locator("#ballot-status")).to_have_text("Scheduled")
    ballot = Ballot.objects.get(key="quick")
    assert ballot.opens_at == opens  # entered in Adelaide time, stored as the same instant
    assert [c.key for c in ballot.choices.all()] == ["required", "abstain", "not-necessary", "object"]

    time.sleep(max(0.0, (opens - datetime.now(ZoneInfo(ZONE))).total_seconds()) + 0.5)
    page.reload()
    expect(page.locator("#ballot-status")).to_have_text("Open")

    time.sleep(max(0.0, (closes - datetime.now(ZoneInfo(ZONE))).total_seconds()) + 0.5)
    page.reload()
    expect(page.locator("#ballot-status")).to_have_text("Closed")
    assert [e.actor_id for e in AuditEvent.objects.filter(action__in=["ballot.opened", "ballot.closed"])] == [
        None,
        None,
    ]
    context.close()
