"""The roll call: every vote with its flags, its filters and its pages.

olga organizes the definition `osd`; alice chairs its group `weights`, where bob is a member; dave is
a member of `corpora`; carol is signed in but belongs to nothing; oscar organizes another
definition; an anonymous observer is not signed in. `ballot` is the open ballot `components` on
version 0.0.9 (components code, data and the aggregate all-data) for weights and corpora.
Ballots are public, so outsiders get 403 — never 404 — for what they may see but not do.
`dispute` (on `voted`, on `ballot`) is built once per module (`_world_once`); each test rolls back what it wrote.
"""

import html
import re
from collections.abc import Iterator
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from django.db import transaction

from tests.client import sign_in, table_rows
from tests.conftest import from_world, make_definition, make_group, make_other_group, make_persona, make_published
from tests.votes.conftest import make_dispute, make_grant, make_scheduled, make_voted
from tests.votes.pages import assert_same_queries_when_the_data_grows, ballot_url, more_votes, roll_call
from votes import rollcall, services

# The world, built once per module ------------------------------------------------------------------


@pytest.fixture(scope="module")
def _world_once(django_db_setup, django_db_blocker) -> Iterator[SimpleNamespace]:
    """The personas, their groups and `dispute` (on `voted`, on `ballot`) as tests/conftest.py and
    tests/votes/conftest.py build them, once per module in a transaction that each test's own nests in and rolls
    back to (as Django's TestCase.setUpTestData does); rolled back after the module's last test."""
    with django_db_blocker.unblock(), transaction.atomic():
        w = SimpleNamespace(**{name: make_persona(name) for name in ("olga", "alice", "bob", "carol", "dave")})
        published = make_published(make_definition(w.olga))
        w.group = make_group(published.definition, w.alice, w.bob)
        other_group = make_other_group(published.definition, w.dave)
        ballot = services.open_ballot(
            ballot=make_scheduled(w.olga, published, w.group, other_group), acting_user=w.olga
        )
        make_grant(ballot, w.olga, w.group)
        w.dispute = make_dispute(make_voted(ballot, w.alice, w.bob, w.dave), w.bob, other_group)
        yield w
        transaction.set_rollback(True)


olga, alice, bob, carol, dave, group, dispute = from_world("olga", "alice", "bob", "carol", "dave", "group", "dispute")


# The roll call -------------------------------------------------------------------------------


def test_the_roll_call_shows_every_vote_with_its_flags(client, dispute):
    response = client.get(ballot_url("roll-call"))
    rows = table_rows(response, "roll-call")

    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("Training code", "Use", "@alice", "weights"),
        ("Training code", "Use", "@bob", "weights"),
        ("Training code", "Use", "@dave", "corpora"),
        ("Training data", "Use", "@alice", "weights"),
        ("Training data", "Study", "@dave", "corpora"),
    ]
    by_voter = {(r[0], r[2]): r for r in rows}
    assert by_voter["Training data", "@alice"][4] == "Not necessary −1 undocumented veto"
    assert by_voter["Training code", "@dave"][4] == "Abstain 0 disputed"
    assert by_voter["Training code", "@bob"][4] == "Required +1"
    assert by_voter["Training code", "@bob"][5] == "Nobody can study a model without its code."
    assert response.content.decode().count('<tr class="undocumented">') == 1


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"group": "corpora"}, [("@dave", "Training code/Use"), ("@dave", "Training data/Study")]),
        ({"voter": "@alice"}, [("@alice", "Training code/Use"), ("@alice", "Training data/Use")]),
        ({"voter": "alice"}, [("@alice", "Training code/Use"), ("@alice", "Training data/Use")]),
        ({"component": "data"}, [("@alice", "Training data/Use"), ("@dave", "Training data/Study")]),
        ({"choice": "required"}, [("@bob", "Training code/Use"), ("@dave", "Training data/Study")]),
        ({"flag": "undocumented"}, [("@alice", "Training data/Use")]),
        ({"flag": "disputed"}, [("@dave", "Training code/Use")]),
        ({"group": "weights", "component": "code"}, [("@alice", "Training code/Use"), ("@bob", "Training code/Use")]),
        ({"group": "corpora", "flag": "undocumented"}, []),
        ({"voter": "nobody"}, []),
    ],
    ids=lambda v: "&".join(f"{k}={x}" for k, x in v.items()) if isinstance(v, dict) else None,
)
def test_roll_call_filters_narrow_the_rows(query, expected, client, dispute):
    assert [row[:2] for row in roll_call(client, **query)] == expected


@pytest.mark.parametrize("query", [{}, {"group": "weights"}, {"choice": "required"}, {"component": "code"}])
def test_the_roll_call_pages_forward_and_back_through_every_vote_once(query, client, dispute, group, monkeypatch):
    more_votes(dispute.ballot, group, 2)
    everything = roll_call(client, **query)
    monkeypatch.setattr(rollcall, "PAGE", 2)

    def follow(response, rel: str) -> str:
        found = re.search(rf'href="([^"]*)" rel="{rel}"', response.content.decode())
        return ballot_url("roll-call") + html.unescape(found.group(1)) if found else ""

    pages, link = [], ballot_url("roll-call") + "?" + urlencode(query)
    while link:
        pages.append(client.get(link))
        link = follow(pages[-1], "next")
    forward = [table_rows(page, "roll-call") for page in pages]
    assert [(r[2], f"{r[0]}/{r[1]}", r[3], r[4]) for rows in forward for r in rows] == everything
    assert len(everything) > 2 and all(len(rows) == 2 for rows in forward[:-1])

    back, link = [], follow(pages[-1], "prev")
    while link:
        response = client.get(link)
        back.insert(0, table_rows(response, "roll-call"))
        link = follow(response, "prev")
    assert back == forward[:-1]


def test_a_roll_call_place_that_is_not_one_shows_the_first_page(client, dispute):
    first = table_rows(client.get(ballot_url("roll-call")), "roll-call")
    for place in ("nope", "code/nope/bob", "a/b", "code/use/"):
        assert table_rows(client.get(ballot_url("roll-call"), {"after": place}), "roll-call") == first, place
        assert table_rows(client.get(ballot_url("roll-call"), {"before": place}), "roll-call") == first, place


def test_a_dismissed_dispute_no_longer_flags_its_votes(client, olga, dispute):
    services.resolve_dispute(dispute=dispute, status="dismissed", resolution="Abstaining is allowed.", acting_user=olga)

    assert roll_call(client, flag="disputed") == []
    assert "disputed" not in table_rows(client.get(ballot_url("roll-call")), "roll-call")[2][4]


def test_an_upheld_dispute_keeps_flagging_its_votes(client, olga, dispute):
    services.resolve_dispute(dispute=dispute, status="upheld", resolution="Indeed.", acting_user=olga)

    assert [row[0] for row in roll_call(client, flag="disputed")] == ["@dave"]


# Query counts --------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", [None, "bob"])
def test_the_roll_call_needs_the_same_queries_for_many_votes(
    persona, request, client, dispute, group, django_assert_max_num_queries
):
    sign_in(client, request, persona)

    assert_same_queries_when_the_data_grows(
        client,
        ballot_url("roll-call"),
        lambda: more_votes(dispute.ballot, group, 4),
        django_assert_max_num_queries,
        limit=13,  # the page reads a cell, the next, then enough cells: four queries at most (votes/rollcall.py)
    )
