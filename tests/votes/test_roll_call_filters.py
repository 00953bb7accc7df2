"""The roll call's filters are one implementation (`rollcall.filtered`): the page and the API leave the same votes.

One table of filters, each run through the roll-call page and through `GET …/votes`, which must
list the same votes in the same order.
"""

import html
import re

import pytest
from django.urls import reverse

from votes import services


@pytest.fixture
def voted(ballot, olga, group, other_group, alice, bob, dave, cast):
    """Five votes, alice's undocumented veto among them; corpora's abstentions disputed, a dismissed dispute on bob."""
    not_necessary = ballot.choices.get(key="not-necessary")
    services.grant_veto(ballot=ballot, choice=not_necessary, group=group, reason="Charter", acting_user=olga)
    cast(bob, "code", "use", "required", rationale="Code is how you study it.")
    cast(alice, "code", "use", "object", rationale="Too strict.")
    cast(alice, "data", "use", "not-necessary")
    cast(dave, "code", "use", "abstain")
    cast(dave, "data", "study", "required")
    services.raise_dispute(
        ballot=ballot,
        raised_by=bob,
        reason="A veto in disguise",
        group=other_group,
        choice=ballot.choices.get(key="abstain"),
    )
    dismissed = services.raise_dispute(ballot=ballot, raised_by=dave, reason="Late", voter=bob)
    services.resolve_dispute(dispute=dismissed, status="dismissed", resolution="It was on time", acting_user=olga)
    return ballot


def on_the_page(client, ballot, query: dict) -> list[tuple[str, str, str]]:
    """(handle, component title, criterion label) of each row of the roll-call page."""
    response = client.get(reverse("votes:roll-call", args=["osd", ballot.key]), query)
    assert response.status_code == 200
    body = re.search(r'<table class="roll-call">.*?<tbody>(.*?)</tbody>', response.content.decode(), re.S).group(1)
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = [
            " ".join(html.unescape(re.sub(r"<[^>]+>", " ", c)).split())
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        if cells != ["No vote matches."]:
            rows.append((cells[2].removeprefix("@"), cells[0], cells[1]))
    return rows


def in_the_api(client, ballot, query: dict) -> list[tuple[str, str, str]]:
    response = client.get(f"/api/definitions/osd/ballots/{ballot.key}/votes", query)
    assert response.status_code == 200
    titles = dict(ballot.version.components.values_list("key", "title"))
    labels = dict(ballot.criteria.values_list("key", "label"))
    return [(v["voter"], titles[v["component"]], labels[v["criterion"]]) for v in response.json()["items"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, [("alice", "code", "use"), ("bob", "code", "use"), ("dave", "code", "use"), ("alice", "data", "use"),
              ("dave", "data", "study")]),
        ({"group": "corpora"}, [("dave", "code", "use"), ("dave", "data", "study")]),
        ({"voter": "bob"}, [("bob", "code", "use")]),
        ({"voter": "@alice"}, [("alice", "code", "use"), ("alice", "data", "use")]),
        ({"component": "data"}, [("alice", "data", "use"), ("dave", "data", "study")]),
        ({"choice": "not-necessary"}, [("alice", "data", "use")]),
        ({"flag": "undocumented"}, [("alice", "data", "use")]),
        ({"flag": "disputed"}, [("dave", "code", "use")]),
        ({"group": "weights", "flag": "disputed"}, []),
        ({"group": "corpora", "component": "data"}, [("dave", "data", "study")]),
        ({"voter": "nobody"}, []),
    ],
    ids=str,
)  # fmt: skip
def test_the_page_and_the_api_filter_the_roll_call_alike(client, voted, query, expected):
    titles = {"code": "Training code", "data": "Training data"}
    labels = {"use": "Use", "study": "Study"}
    expected = [(voter, titles[component], labels[criterion]) for voter, component, criterion in expected]

    assert on_the_page(client, voted, query) == expected
    assert in_the_api(client, voted, query) == expected
