"""“Save all changed”: several cells in one post, each saved through `cast_vote` with its own audit event, each
accepted or refused with its reason; each counts once against VOTE_RATE_LIMIT, as its own Save would.

See tests/votes/conftest.py for `ballot` (bob votes for weights; components code, data and the aggregate all-data).
"""

import pytest

from tests.client import HTMX, page_messages, text
from tests.votes.pages import actions, ballot_url, more_votes
from votes.models import Vote


def batch(*cells, **fields) -> dict:
    """The form's fields for these (component, criterion, choice, rationale) cells, as vote_grid.js fills it."""
    data = {"save-all": "1", **fields}
    for name, i in (("component", 0), ("criterion", 1), ("choice", 2), ("rationale", 3)):
        data[name] = [c[i] for c in cells]
    return data


def stored(voter) -> dict:
    return {(v.component.key, v.criterion.key): (v.choice.key, v.rationale) for v in Vote.objects.filter(voter=voter)}


CELLS = [
    ("code", "use", "required", ""),
    ("code", "study", "object", ""),  # refused: needs a rationale
    ("data", "use", "abstain", "Unsure."),
]


def test_a_plain_save_all_saves_each_cell_with_its_own_event_and_says_which_were_refused(client, bob, ballot):
    client.force_login(bob)
    before = len(actions())

    response = client.post(ballot_url("vote-grid"), batch(*CELLS, group="weights"))

    assert response.status_code == 302
    assert response.url == ballot_url("vote-grid") + "?group=weights"
    assert stored(bob) == {("code", "use"): ("required", ""), ("data", "use"): ("abstain", "Unsure.")}
    assert actions(before) == ["vote.cast", "vote.cast"]
    page = client.get(response.url)
    assert page_messages(page) == [
        "2 cells saved, 1 refused.",
        "Training code, Study: A vote “Object” needs a rationale. Nothing was changed.",
    ]
    assert "2 of 8 cells voted." in text(page)


def test_an_htmx_save_all_answers_with_each_cell_and_the_progress_out_of_band(client, bob, ballot):
    client.force_login(bob)

    response = client.post(ballot_url("vote-grid"), batch(*CELLS), headers=HTMX)

    content = response.content.decode()
    assert response.status_code == 200 and "<html" not in content
    assert content.startswith("2 cells saved, 1 refused.")  # into the form's status region
    for component, criterion, *_ in CELLS:
        assert f'<td id="cell-{component}-{criterion}" ' in content
    assert content.count('hx-swap-oob="outerHTML"') == 3
    assert '<p class="errors" role="alert">A vote “Object” needs a rationale.</p>' in content
    assert '<p id="progress" class="meta" role="status" hx-swap-oob="innerHTML">' in content
    assert "2 of 8 cells voted." in text(response)
    assert "vote-changed" in response.headers["HX-Trigger"]


def test_save_all_never_withdraws_a_vote_unasked(client, bob, ballot, cast, nothing_written):
    cast(bob, "code", "use", "required")
    client.force_login(bob)

    with nothing_written():
        response = client.post(ballot_url("vote-grid"), batch(("code", "use", "", "")), headers=HTMX)

    assert "A withdrawal is confirmed on its own" in text(response)
    assert stored(bob) == {("code", "use"): ("required", "")}


def test_save_all_refuses_a_vote_for_another_group_in_every_cell(client, bob, ballot, nothing_written):
    client.force_login(bob)

    with nothing_written():
        response = client.post(ballot_url("vote-grid"), batch(*CELLS, group="corpora"), follow=True)

    assert response.status_code == 400
    assert "@bob does not vote for “corpora” in this ballot." in text(response)


@pytest.mark.parametrize(
    "data",
    [
        {"save-all": "1", "component": ["code", "data"], "criterion": ["use"], "choice": ["required"]},
        {"save-all": "1"},
        batch(*[("code", "use", "required", "")] * 9),  # more cells than the ballot has
    ],
    ids=["lists of different lengths", "no cell", "too many cells"],
)
def test_a_malformed_save_all_is_refused_whole_and_writes_nothing(data, client, bob, ballot, nothing_written):
    client.force_login(bob)

    with nothing_written():
        response = client.post(ballot_url("vote-grid"), data)

    assert response.status_code == 400


def test_a_cell_listed_twice_is_saved_once_as_first_listed(client, bob, ballot):
    client.force_login(bob)
    before = len(actions())

    client.post(ballot_url("vote-grid"), batch(("code", "use", "required", ""), ("code", "use", "abstain", "")))

    assert stored(bob) == {("code", "use"): ("required", "")}
    assert actions(before) == ["vote.cast"]


def test_each_cell_counts_once_against_the_rate_limit(settings, client, bob, ballot):
    settings.VOTE_RATE_LIMIT = "2/d"
    client.force_login(bob)

    response = client.post(
        ballot_url("vote-grid"),
        batch(*[c for c in CELLS if c[2] != "object"], ("data", "study", "required", "")),
        headers=HTMX,
    )

    assert set(stored(bob)) == {("code", "use"), ("data", "use")}
    assert "Plenary takes at most 2 vote saves from one person in a short time." in text(response)
    assert text(response).startswith("2 cells saved, 1 refused.")


def test_save_all_needs_the_same_queries_however_many_votes_the_ballot_holds(
    client, alice, voted, group, django_assert_max_num_queries
):
    client.force_login(alice)
    counted = []

    def save(criteria: list[str]) -> None:
        cells = [("data", k, "required", "") for k in criteria] + [("code", k, "abstain", "") for k in criteria]
        with django_assert_max_num_queries(80) as queries:
            assert client.post(ballot_url("vote-grid"), batch(*cells), headers=HTMX).status_code == 200
        counted.append(len(queries))

    save(["modify"])
    more_votes(voted, group, 4)
    save(["share"])
    assert counted[0] == counted[1], counted
