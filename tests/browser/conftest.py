"""Real-browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live_server.

Playwright's sync API keeps an event loop in the test thread, which makes Django refuse ORM calls
there ("cannot call this from an async context"). The tests and the live server never touch the
database at the same moment, so the check is switched off for this process.

A missing /usr/bin/chromium skips these tests on a workstation and fails them in CI (CI is set),
where a skipped browser test would hide a broken page. Playwright's own browser downloads are
never used: `playwright install` is not part of the setup.
"""

import os
import re
from pathlib import Path

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import pytest  # noqa: E402
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

from tests.factories import PASSWORD  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000  # generous for a loaded CI machine; waits end as soon as the condition holds

expect.set_options(timeout=TIMEOUT_MS)
HERE = Path(__file__).parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Every test of this folder is a browser test, marked so whether or not its module says it (before `-m`
    deselects): the fast lane leaves them all out."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def playwright_chromium():
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set, so a skipped browser test counts as a failure)")
        pytest.skip(message)
    with sync_playwright() as playwright:
        yield playwright.chromium


@pytest.fixture(scope="session")
def _browsers(playwright_chromium):
    """The browser the tests share, launched again if an earlier test left it dead (one crash fails one test)."""
    shared: dict[str, Browser] = {}

    def current() -> Browser:
        if "browser" not in shared or not shared["browser"].is_connected():
            shared["browser"] = playwright_chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
        return shared["browser"]

    yield current
    if "browser" in shared and shared["browser"].is_connected():
        shared["browser"].close()


@pytest.fixture
def browser(_browsers) -> Browser:
    return _browsers()


@pytest.fixture
def page(browser: Browser, live_server) -> Page:
    """A fresh browser profile (no cookies) pointed at the live server."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


PASSPHRASE = "a long and unusual passphrase"  # for accounts a test signs up through the page


def link_in(message) -> str:
    """The first address an e-mail carries: the link its reader follows."""
    found = re.search(r"https?://\S+", message.body)
    assert found, f"no link in the mail {message.subject!r}"
    return found.group(0)


def new_person(browser: Browser, live_server, **options) -> Page:
    """Someone else, in a browser profile of their own (no cookies), pointed at the live server."""
    context = browser.new_context(base_url=live_server.url, **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


def fill_sign_up(page: Page, username: str, email: str | None = None) -> None:
    """allauth's sign-up form, with PASSPHRASE; the address left as the page filled it when `email` is None."""
    if email is not None:
        page.fill("input[name=email]", email)
    page.fill("input[name=username]", username)
    page.fill("input[name=password1]", PASSPHRASE)
    page.fill("input[name=password2]", PASSPHRASE)
    page.get_by_role("button", name="Sign Up").click()


def sign_in(page: Page, login: str, password: str = PASSWORD) -> None:
    """Sign in through allauth's real login form and wait until the header says so."""
    page.goto("/accounts/login/")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="Sign In").click()
    expect(page.locator(".account-nav")).to_contain_text(f"Signed in as {login}")
