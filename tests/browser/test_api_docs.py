"""The API's docs page in a real browser: Swagger UI draws every endpoint from our own static files, under the
site's Content-Security-Policy (no inline script, nothing from another host), and "Try it out" with a personal
access token casts a vote."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.votes.conftest import ballot, scheduled  # noqa: F401
from tokens import services as tokens
from votes.models import Vote

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_docs_page_lists_every_endpoint_with_nothing_refused_or_fetched_elsewhere(page: Page, live_server, db):
    refused, elsewhere = [], []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("request", lambda r: elsewhere.append(r.url) if not r.url.startswith(live_server.url) else None)

    page.goto(live_server.url + "/api/docs")

    expect(page.get_by_text("/api/definitions/{slug}/ballots/{key}/votes/withdraw")).to_be_visible()
    expect(page.locator(".opblock-post")).to_have_count(4)
    expect(page.get_by_role("button", name=re.compile("Authorize"))).to_be_visible()
    assert refused == [] and elsewhere == []


def test_try_it_out_with_a_token_casts_a_vote(page: Page, live_server, bob, ballot):  # noqa: F811
    secret = tokens.create_token(user=bob, name="docs", scopes=["vote"])[1]
    page.goto(live_server.url + "/api/docs")

    page.get_by_role("button", name=re.compile("Authorize")).first.click()
    dialog = page.locator(".dialog-ux")
    bearer = dialog.locator(".auth-container").filter(has_text="TokenAuth")
    bearer.locator("input").fill(secret)
    bearer.locator("button.authorize").click()
    dialog.locator("button.btn-done").first.click()
    cast = page.locator("#operations-votes-votes_api_cast_vote")
    cast.locator(".opblock-summary").click()
    cast.get_by_role("button", name="Try it out").click()
    cast.locator("input[placeholder='slug']").fill("osd")
    cast.locator("input[placeholder='key']").fill("components")
    cast.get_by_role("button", name="Execute").click()

    expect(cast.locator(".live-responses-table tbody .response-col_status")).to_have_text("200")
    vote = Vote.objects.get()
    assert (vote.voter, vote.component.key, vote.choice.key) == (bob, "code", "required")
