"""Vote saves are limited per acting user (settings.VOTE_RATE_LIMIT): past the limit, 429 and the reason, and
nothing is written — on the plain form, in the htmx cell, and for an organizer voting on members' behalf.

The limit itself (400 in 10 minutes) is pinned in tests/config/test_rate_limits.py; here it is 3 a day, so
that a test casts little and django-ratelimit's fixed window cannot roll over while it runs.
"""

import re

import pytest
from django.urls import reverse

from tests.client import HTMX
from votes.models import Vote

LIMIT = 3
CELLS = [("code", "use"), ("code", "study"), ("data", "use"), ("data", "study")]


@pytest.fixture(autouse=True)
def three_a_day(settings):
    settings.VOTE_RATE_LIMIT = f"{LIMIT}/d"


def grid(handle: str | None = None) -> str:
    args = ["osd", "components"] + ([handle] if handle else [])
    return reverse("votes:vote-grid-on-behalf" if handle else "votes:vote-grid", args=args)


def save(client, component: str, criterion: str, choice: str = "required", handle: str | None = None, **headers):
    data = {"component": component, "criterion": criterion, "choice": choice}
    return client.post(grid(handle), data, headers=headers)


def spend_the_limit(client, handle: str | None = None) -> None:
    """Cast, change and withdraw: every kind of save counts."""
    for choice in ("required", "abstain", ""):
        withdraw = {"withdraw": "on"} if not choice else {}  # confirmed: asking first writes and counts nothing
        assert (
            client.post(
                grid(handle), {"component": "code", "criterion": "use", "choice": choice} | withdraw
            ).status_code
            == 302
        )


def test_a_plain_save_past_the_limit_gets_a_429_page_and_writes_nothing(client, bob, ballot, nothing_written):
    client.force_login(bob)
    spend_the_limit(client)

    with nothing_written():
        response = save(client, "data", "use")

    assert response.status_code == 429
    page = response.content.decode()
    assert "<h1>Too many requests</h1>" in page
    assert f"Plenary takes at most {LIMIT} vote saves from one person" in page
    assert "This one was not saved; try again in" in page


def test_an_htmx_save_past_the_limit_shows_why_in_the_cell_and_writes_nothing(client, bob, ballot, nothing_written):
    client.force_login(bob)
    spend_the_limit(client)

    with nothing_written():
        response = save(client, "data", "study", "abstain", **HTMX)

    assert response.status_code == 429
    content = response.content.decode().strip()
    assert content.startswith('<td id="cell-data-study"') and content.endswith("</td>")
    alert = re.search(r'<p class="errors" role="alert">(.*?)</p>', content)
    assert alert and f"Plenary takes at most {LIMIT} vote saves from one person" in alert.group(1)
    assert "<select" in content  # the cell stays usable for a later try
    assert "HX-Trigger" not in response.headers  # no vote changed, so nothing reloads


def test_every_save_counts_and_the_limit_is_not_a_quota_of_cells(client, bob, ballot):
    client.force_login(bob)

    statuses = [save(client, component, criterion, **HTMX).status_code for component, criterion in CELLS]

    assert statuses == [200] * LIMIT + [429] * (len(CELLS) - LIMIT)
    assert Vote.objects.count() == LIMIT


def test_the_limit_is_per_person_so_one_members_haste_does_not_stop_another(client, alice, bob, ballot):
    client.force_login(bob)
    spend_the_limit(client)
    assert save(client, "data", "use").status_code == 429

    client.force_login(alice)
    assert save(client, "data", "use").status_code == 302
    assert Vote.objects.get().voter == alice


def test_an_organizer_voting_on_behalf_spends_her_own_limit_not_the_members(client, olga, bob, ballot):
    client.force_login(olga)
    spend_the_limit(client, handle="bob")

    refused = save(client, "data", "use", handle="bob", **HTMX)
    assert refused.status_code == 429
    assert f"Plenary takes at most {LIMIT} vote saves from one person" in refused.content.decode()
    assert not Vote.objects.exists()

    client.force_login(bob)  # bob's own saves were not counted
    assert save(client, "data", "use").status_code == 302
    assert Vote.objects.get().cast_by == bob


def test_reading_the_grid_does_not_count(client, bob, ballot):
    client.force_login(bob)
    for _ in range(LIMIT + 1):
        assert client.get(grid()).status_code == 200
        assert client.get(grid() + "?group=weights", headers=HTMX).status_code == 200

    assert save(client, "code", "use").status_code == 302
