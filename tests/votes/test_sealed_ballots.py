"""Sealed ballots: what the roll call, the grid, the grants and the audit log show until voting closes.

olga organizes the definition `osd`; alice chairs its group `weights`, where bob is a member; dave is
a member of `corpora`; carol is signed in but belongs to nothing; oscar organizes another
definition; an anonymous observer is not signed in. `ballot` is the open ballot `components` on
version 0.0.9 (components code, data and the aggregate all-data) for weights and corpora.
Ballots are public, so outsiders get 403 — never 404 — for what they may see but not do.
"""

import re

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from tests.client import HTMX, sign_in, table_rows, text
from tests.votes.pages import ballot_url
from votes import services
from votes.models import Ballot

# Sealed ballots ------------------------------------------------------------------------------


@pytest.fixture
def secret(olga, published, group, other_group, bob, dave):
    """An open ballot whose roll call is published only when voting closes, with two votes cast."""
    from tests.votes.conftest import CHOICES, CRITERIA

    ballot = services.create_ballot(
        version=published,
        key="secret",
        title="Sealed vote",
        groups=[group, other_group],
        criteria=CRITERIA,
        choices=CHOICES,
        results_visibility=Ballot.Visibility.AFTER_CLOSE,
        acting_user=olga,
    )
    services.open_ballot(ballot=ballot, acting_user=olga)
    for voter, rationale in [(bob, "Sealed reason of bob."), (dave, "Sealed reason of dave.")]:
        services.cast_vote(
            ballot=ballot,
            voter=voter,
            component=published.components.get(key="code"),
            criterion=ballot.criteria.get(key="use"),
            choice=ballot.choices.get(key="required"),
            rationale=rationale,
        )
    return ballot


@pytest.mark.parametrize("persona", [None, "carol", "bob", "olga"])
@pytest.mark.parametrize(
    "query", [{}, {"voter": "bob"}, {"flag": "undocumented"}, {"page": "1"}], ids=["all", "voter", "flag", "page"]
)
def test_a_sealed_roll_call_shows_no_vote_until_voting_closes(persona, query, request, client, secret):
    sign_in(client, request, persona)

    response = client.get(ballot_url("roll-call", key="secret"), query)

    content = response.content.decode()
    assert response.status_code == 200
    assert "The roll call of this ballot is published when voting closes." in text(response)
    assert "Sealed reason" not in content
    assert "@dave" not in content
    assert "@bob" not in content
    assert "roll-call" not in re.sub(r'(href|value)="[^"]*"', "", content)  # no table of votes (addresses aside)


def test_a_sealed_roll_call_is_published_when_voting_closes(client, olga, secret):
    services.close_ballot(ballot=secret, acting_user=olga)

    response = client.get(ballot_url("roll-call", key="secret"))

    assert [(row[2], row[5]) for row in table_rows(response, "roll-call")] == [
        ("@bob", "Sealed reason of bob."),
        ("@dave", "Sealed reason of dave."),
    ]


def test_a_member_still_sees_their_own_sealed_votes_on_the_grid(client, bob, secret):
    client.force_login(bob)

    response = client.get(ballot_url("vote-grid", key="secret"))

    assert 'value="Sealed reason of bob."' in response.content.decode()
    assert "Sealed reason of dave." not in response.content.decode()


@pytest.mark.parametrize("query", [{}, {"stream": "ballot:osd/secret"}, {"actor": "bob"}, {"action": "vote."}], ids=str)
def test_the_audit_log_seals_the_votes_of_a_sealed_ballot_until_it_closes(query, client, secret):
    response = client.get(reverse("audit:log"), query)

    content = response.content.decode()
    assert response.status_code == 200
    assert "Sealed reason" not in content
    assert "@bob" not in content and "@dave" not in content
    if "actor" not in query and "action" not in query:  # the events are there, chained, only their details wait
        assert content.count("A vote, sealed") == 2


def test_the_log_s_action_filter_does_not_count_the_sealed_votes_cast_changed_or_withdrawn(client, bob, secret):
    """Counting vote.cast minus vote.withdrawn through the filter would give the number of votes the page hides."""
    cell = {"component": secret.version.components.get(key="code"), "criterion": secret.criteria.get(key="use")}
    services.withdraw_vote(ballot=secret, voter=bob, **cell)

    counts = {
        action: text(client.get(reverse("audit:log"), {"stream": "ballot:osd/secret", "action": action})).count(
            "A vote, sealed"
        )
        for action in ("vote.", "vote.cast", "vote.withdrawn")
    }

    assert counts == {"vote.": 0, "vote.cast": 0, "vote.withdrawn": 0}
    assert text(client.get(reverse("audit:log"), {"stream": "ballot:osd/secret"})).count("A vote, sealed") == 3


def test_the_audit_log_shows_the_votes_once_the_sealed_ballot_closes(client, olga, secret):
    services.close_ballot(ballot=secret, acting_user=olga)

    content = client.get(reverse("audit:log"), {"stream": "ballot:osd/secret", "actor": "bob"}).content.decode()

    assert "A vote, sealed" not in content
    assert "Sealed reason of bob." in content


def test_an_organizer_reading_a_member_s_sealed_votes_is_on_the_public_record(client, olga, bob, secret):
    """Organizers see a member's votes to vote on their behalf; while sealed, every such look is in the log."""
    client.force_login(olga)

    grid = client.get(ballot_url("vote-grid-on-behalf", "bob", key="secret"))

    assert 'value="Sealed reason of bob."' in grid.content.decode()
    assert "is recorded in the public audit log" in text(grid)
    event = AuditEvent.objects.filter(stream="ballot:osd/secret").latest("seq")
    assert (event.action, event.actor_handle, event.payload) == ("ballot.sealed_votes_read", "olga", {"voter": "bob"})
    client.logout()
    log = text(client.get(reverse("audit:log"), {"stream": "ballot:osd/secret", "action": "ballot.sealed_votes_read"}))
    assert "@olga" in log and "bob" in log


def test_only_a_sealed_member_s_grid_opened_by_someone_else_is_recorded_as_read(client, olga, bob, secret):
    before = AuditEvent.objects.count()
    client.force_login(bob)
    client.get(ballot_url("vote-grid", key="secret"))  # one's own votes
    client.force_login(olga)
    client.get(ballot_url("vote-grid-on-behalf", "bob", key="secret"), headers=HTMX)
    services.close_ballot(ballot=secret, acting_user=olga)
    after_close = AuditEvent.objects.count()
    client.get(ballot_url("vote-grid-on-behalf", "bob", key="secret"))  # nothing sealed any more

    assert after_close == before + 1  # the close, and nothing else
    assert AuditEvent.objects.count() == after_close


def test_votes_sealed_until_close_cannot_be_disputed_yet(client, bob, secret, nothing_written):
    client.force_login(bob)

    with nothing_written():
        response = client.post(ballot_url("disputes", key="secret"), {"voter": "dave", "reason": "Why?"})

    assert "sealed until it closes" in text(response)


def test_a_sealed_ballot_shows_neither_turnout_nor_the_use_of_veto_powers(client, olga, secret, group):
    services.grant_veto(
        ballot=secret,
        choice=secret.choices.get(key="not-necessary"),
        group=group,
        reason="Charter.",
        acting_user=olga,
    )

    overview = text(client.get(ballot_url("ballot", key="secret")))
    grants = text(client.get(ballot_url("grants", key="secret")))

    assert "sealed until the ballot closes" in overview
    assert not re.search(r"\d+ of \d+ voted", overview)
    assert "sealed until close" in grants
