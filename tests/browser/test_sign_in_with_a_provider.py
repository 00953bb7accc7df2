"""Signing up through a real OpenID Connect provider in Chromium, as someone new would, on a phone's width.

The provider (tests/sso/provider/) is its own server; the browser goes from Plenary's button to its sign-in page
and back, so the content security policy's form-action (which must admit the provider) is exercised for real.
"""

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.sso.idp import PROVIDER_ID
from tests.sso.provider.serve import PASSWORD

pytestmark = pytest.mark.browser


def test_mara_signs_up_with_the_provider_from_a_phone_and_lands_signed_in(browser, live_server, sso):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto("/accounts/signup/")
    button = page.get_by_role("button", name="Sign up with Test IdP")
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390  # whole, at 390 px
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # and the page does not scroll sideways
    button.click()

    expect(page.get_by_role("heading", name="Sign in to the test provider")).to_be_visible()
    assert page.url.startswith(sso.url)
    page.get_by_label("Username").fill("mara")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in to the provider").click()

    expect(page.locator(".account-nav")).to_contain_text("Signed in as mara")
    assert page.url.rstrip("/") == live_server.url
    assert SocialAccount.objects.get(provider=PROVIDER_ID).user == get_user_model().objects.get(username="mara")
    context.close()
