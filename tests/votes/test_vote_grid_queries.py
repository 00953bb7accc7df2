"""A save of one cell stays lean: the reads it needs, once each, around the vote's own transaction.

alice chairs `weights`, which holds the veto “Not necessary” (`voted`); she changes one cell with htmx, as
the grid does on every change. The queries inside `cast_vote`'s transaction are the vote's own (the ballot's
place in line, the vote, its audit event); the rest are counted here, one by one.
"""

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.client import HTMX
from tests.votes.pages import ballot_url, cell

# Outside the vote's transaction: the session, the user, the ballot with its definition and version, the voter's
# memberships (read once, for the grid and for cast_vote), the criteria, the choices, the component posted;
# after the save, the conflict flag of the vote, the grants (for the choices the cell offers) and the progress.
REQUEST_READS = 11
CELL_TABLES = ("votes_criterion", "votes_choice", "votes_vote", "deliberation_membership", "votes_vetogrant")


def _save(client, **fields):
    with CaptureQueriesContext(connection) as queries:
        response = client.post(ballot_url("vote-grid"), cell(**fields), headers=HTMX)
    assert response.status_code == 200, response.content.decode()[:500]
    return response, [q["sql"] for q in queries.captured_queries]


def _outside_the_vote(queries: list[str]) -> list[str]:
    """The queries before the vote's transaction opens and after it commits (a savepoint inside the test's)."""
    opened = next(i for i, sql in enumerate(queries) if sql.startswith("SAVEPOINT"))
    committed = max(i for i, sql in enumerate(queries) if sql.startswith("RELEASE SAVEPOINT"))
    return queries[:opened] + queries[committed + 1 :]


@pytest.mark.parametrize("change", ["cast", "change", "veto"])
def test_an_htmx_save_of_one_cell_reads_what_it_needs_once(change, client, alice, voted, cast):
    client.force_login(alice)
    if change == "change":
        cast(alice, "code", "study", "abstain")
    choice = {"cast": "required", "change": "required", "veto": "not-necessary"}[change]

    response, queries = _save(client, component="code", criterion="study", choice=choice, rationale="Why.")

    assert 'id="cell-code-study"' in response.content.decode()
    outside = _outside_the_vote(queries)
    assert len(outside) == REQUEST_READS, "\n\n".join(outside)


def test_no_read_of_a_cell_orders_by_a_join_through_the_ballot(client, alice, voted, cast):
    """Vote's, Criterion's, Choice's and Membership's default orderings join the ballot, its definition, the user."""
    client.force_login(alice)
    cast(alice, "code", "study", "abstain")

    _, saved = _save(client, component="code", criterion="study", choice="required")
    refused, queries = _save(client, component="code", criterion="study", choice="no-such-choice")

    assert "That choice is not on this ballot's scale." in html.unescape(refused.content.decode())  # read as stored
    reads = [sql for sql in saved + queries if re.search(rf'FROM "({"|".join(CELL_TABLES)})"', sql)]
    assert any('FROM "votes_vote"' in sql for sql in queries)
    for sql in reads:
        assert '"deliberation_definition"' not in sql, sql
        ordering = sql.partition(" ORDER BY ")[2]
        assert not re.search(r'"(votes_ballot|deliberation_definition|auth_user)"', ordering), sql


def _cell(html: str, cell_id: str) -> str:
    """The cell's markup, with the CSRF token (masked afresh in each response) left out."""
    found = re.search(rf'<td id="{cell_id}".*?</td>', html, re.S)
    assert found, html[:500]
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", found.group(0))


def test_the_cell_an_htmx_save_answers_with_is_the_cell_the_grid_shows(client, alice, voted):
    client.force_login(alice)

    response, _ = _save(client, component="data", criterion="study", choice="not-necessary", rationale="Public.")
    page = client.get(ballot_url("vote-grid"))

    assert _cell(response.content.decode(), "cell-data-study") == _cell(page.content.decode(), "cell-data-study")
    assert "1 of" not in response.content.decode()  # the progress counts alice's votes: three now
    assert "3 of 8 cells voted." in response.content.decode()
