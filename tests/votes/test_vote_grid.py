"""The vote grid: casting, changing and withdrawing, the restricted choice, voting on a member's behalf.

olga organizes the definition `osd`; alice chairs its group `weights`, where bob is a member; dave is
a member of `corpora`; carol is signed in but belongs to nothing; oscar organizes another
definition; an anonymous observer is not signed in. `ballot` is the open ballot `components` on
version 0.0.9 (components code, data and the aggregate all-data) for weights and corpora.
Ballots are public, so outsiders get 403 — never 404 — for what they may see but not do.
The personas, their groups and `scheduled` are built once per module (`_world_once`); `ballot` opens it in each
test that asks for it, and each test rolls back what it wrote.
"""

import html
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from tests.client import HTMX, page_messages, sign_in, table_rows, text
from tests.conftest import from_world, make_definition, make_group, make_other_group, make_persona, make_published
from tests.factories import MembershipFactory, UserFactory, WorkingGroupFactory
from tests.votes.conftest import make_scheduled
from tests.votes.pages import (
    MEMBERS,
    NOT_MEMBERS,
    actions,
    assert_same_queries_when_the_data_grows,
    ballot_url,
    cell,
    grid_options,
    more_votes,
)
from votes import services
from votes.models import Ballot, Vote

# The world, built once per module ------------------------------------------------------------------


@pytest.fixture(scope="module")
def _world_once(django_db_setup, django_db_blocker) -> Iterator[SimpleNamespace]:
    """The personas, `published`, its groups and `scheduled`, as tests/conftest.py and tests/votes/conftest.py
    build them, once per module in a transaction that each test's own nests in and rolls back to (as Django's
    TestCase.setUpTestData does); rolled back after the module's last test."""
    with django_db_blocker.unblock(), transaction.atomic():
        w = SimpleNamespace(**{name: make_persona(name) for name in ("olga", "alice", "bob", "carol", "dave")})
        w.published = make_published(make_definition(w.olga))
        w.group = make_group(w.published.definition, w.alice, w.bob)
        w.other_group = make_other_group(w.published.definition, w.dave)
        w.scheduled = make_scheduled(w.olga, w.published, w.group, w.other_group)
        yield w
        transaction.set_rollback(True)


olga, alice, bob, carol, dave, published, group, other_group, scheduled = from_world(
    "olga", "alice", "bob", "carol", "dave", "published", "group", "other_group", "scheduled"
)


@pytest.fixture
def definition(_world):
    return _world.published.definition


# The vote grid -------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", MEMBERS)
def test_members_of_an_enrolled_group_open_their_grid(persona, request, client, ballot):
    sign_in(client, request, persona)

    response = client.get(ballot_url("vote-grid"))

    assert response.status_code == 200
    expected_group = "Corpora" if persona == "dave" else "Weights"
    assert f"Voting for {expected_group}." in text(response)
    assert set(grid_options(response)) == {
        f"cell-{c}-{k}" for c in ("code", "data") for k in ("use", "study", "modify", "share")
    }


@pytest.mark.parametrize("persona", NOT_MEMBERS)
def test_the_grid_is_403_with_a_clear_message_for_those_not_in_an_enrolled_group(
    persona, request, client, oscar, ballot, nothing_written
):
    sign_in(client, request, persona)

    with nothing_written():
        shown = client.get(ballot_url("vote-grid"))
        posted = client.post(ballot_url("vote-grid"), cell())
        posted_htmx = client.post(ballot_url("vote-grid"), cell(), headers=HTMX)

    for response in (shown, posted, posted_htmx):
        assert response.status_code == 403
        assert "You are not a member of a working group enrolled in this ballot." in text(response)


def test_a_member_of_a_group_not_enrolled_gets_403(client, definition, ballot, nothing_written):
    outsider = UserFactory(username="erin")
    MembershipFactory(group=WorkingGroupFactory(definition=definition, key="docs"), user=outsider)
    client.force_login(outsider)

    with nothing_written():
        assert client.get(ballot_url("vote-grid")).status_code == 403
        assert client.post(ballot_url("vote-grid"), cell()).status_code == 403


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
@pytest.mark.parametrize("posted", ["corpora", "no-such-group"])
@pytest.mark.parametrize("path", ["vote-grid", "vote-grid-on-behalf"])
def test_a_vote_posted_for_a_group_one_is_not_in_is_refused_not_recorded_for_ones_own(
    path, posted, headers, client, olga, bob, ballot, nothing_written
):
    client.force_login(olga if path == "vote-grid-on-behalf" else bob)
    url = ballot_url(path, "bob") if path == "vote-grid-on-behalf" else ballot_url(path)

    with nothing_written():
        response = client.post(url, cell(group=posted), headers=headers)

    assert response.status_code == (200 if headers else 400)  # htmx shows a refusal in the cell, as every other
    assert f"@bob does not vote for “{posted}” in this ballot." in text(response)
    if headers:
        assert response.content.decode().strip().startswith('<td id="cell-code-use" class="cell refused"')


def test_a_plain_post_casts_and_redirects_to_the_cell(client, bob, ballot):
    client.force_login(bob)

    response = client.post(ballot_url("vote-grid"), cell("data", "study", "required", rationale=" Open data. "))

    assert response.status_code == 302
    assert response.url == ballot_url("vote-grid") + "?group=weights#cell-data-study"
    vote = Vote.objects.get()
    assert (vote.voter, vote.group.key, vote.component.key, vote.criterion.key, vote.choice.key) == (
        bob,
        "weights",
        "data",
        "study",
        "required",
    )
    assert (vote.rationale, vote.cast_by) == ("Open data.", bob)
    assert actions()[-1] == "vote.cast"

    page = client.get(response.url)
    assert 'id="cell-data-study" class="cell voted"' in page.content.decode()
    assert "1 of 8 cells voted." in text(page)


def test_an_htmx_post_returns_the_cell_and_the_progress_and_announces_the_change(client, bob, ballot, cast):
    cast(bob, "data", "use", "required")
    client.force_login(bob)

    response = client.post(ballot_url("vote-grid"), cell("code", "modify", "abstain"), headers=HTMX)

    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content
    assert content.strip().startswith('<td id="cell-code-modify"')
    the_cell, progress = content.split("</td>")
    assert '<span class="badge choice ">Abstain</span>' in the_cell
    assert '<option value="abstain" selected>' in the_cell
    # the progress line, swapped out of band into the page's status region
    assert progress.strip().startswith('<p id="progress" class="meta" role="status" hx-swap-oob="innerHTML">')
    assert "2 of 8 cells voted." in progress
    assert json.loads(response.headers["HX-Trigger"]) == {"vote-changed": {}}
    assert Vote.objects.filter(voter=bob).count() == 2


def test_changing_a_vote_through_htmx_records_a_change(client, bob, ballot, cast):
    cast(bob, "code", "use", "required")
    client.force_login(bob)

    response = client.post(
        ballot_url("vote-grid"), cell("code", "use", "object", rationale="Code alone is not enough."), headers=HTMX
    )

    assert "Object" in text(response)
    assert 'value="Code alone is not enough."' in response.content.decode()
    vote = Vote.objects.get()
    assert (vote.choice.key, vote.rationale) == ("object", "Code alone is not enough.")
    event = AuditEvent.objects.order_by("pk").last()
    assert event.action == "vote.changed"
    assert event.payload["previous"] == {"choice": "required", "rationale": ""}


def test_the_grid_says_how_many_of_its_cells_are_voted(client, bob, ballot, cast):
    cast(bob, "code", "use", "required")
    cast(bob, "data", "use", "required")
    client.force_login(bob)

    response = client.get(ballot_url("vote-grid"))

    assert "2 of 8 cells voted." in text(response)  # code and data by four criteria; the aggregate is not voted on
    progress = re.search(r'<p id="progress".*?</p>', response.content.decode(), re.S).group()
    assert 'role="status"' in progress and "hx-swap-oob" not in progress


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_choosing_no_vote_asks_first_and_withdraws_only_once_confirmed(
    headers, client, bob, ballot, cast, nothing_written
):
    cast(bob, "code", "use", "required")
    client.force_login(bob)

    with nothing_written():
        asked = client.post(ballot_url("vote-grid"), cell(choice=""), headers=headers)

    consequence = "Withdraw your vote “Required” on Training code, Use? It will no longer count for Weights"
    if headers:  # the cell asks, in place
        assert asked.status_code == 200 and "HX-Trigger" not in asked.headers
        assert asked.content.decode().strip().startswith('<td id="cell-code-use"')
        assert consequence in text(asked)
        assert 'name="withdraw" value="on"' in asked.content.decode()
    else:  # its own page asks
        assert asked.status_code == 302
        assert asked.url == ballot_url("vote-withdraw", "code", "use") + "?group=weights"
        page = client.get(asked.url)
        assert consequence in text(page)
        assert "The audit log keeps the vote and its withdrawal, publicly" in text(page)
    assert Vote.objects.exists()

    response = client.post(ballot_url("vote-grid"), cell(choice="", withdraw="on"), headers=headers)

    assert response.status_code == (200 if headers else 302)
    assert not Vote.objects.exists()
    assert actions()[-1] == "vote.withdrawn"
    if headers:
        assert 'class="current"' not in response.content.decode()
        assert "0 of 8 cells voted." in text(response)
        assert "vote-changed" in response.headers["HX-Trigger"]


def test_the_withdrawal_page_on_a_sealed_ballot_says_when_it_is_published(client, olga, bob, ballot, cast):
    Ballot.objects.filter(pk=ballot.pk).update(results_visibility=Ballot.Visibility.AFTER_CLOSE)
    cast(bob, "code", "use", "required")
    client.force_login(bob)

    page = client.get(ballot_url("vote-withdraw", "code", "use"))

    assert "like every vote on this sealed ballot, what it withdrew is published when the ballot closes" in text(page)
    assert 'id="withdraw-confirm"' in page.content.decode()


def test_the_withdrawal_page_without_a_vote_says_there_is_nothing_to_withdraw(client, bob, ballot, nothing_written):
    client.force_login(bob)

    with nothing_written():
        page = client.get(ballot_url("vote-withdraw", "code", "use"))

    assert page.status_code == 200
    assert "You have no vote on Training code, Use: there is nothing to withdraw." in text(page)
    assert client.get(ballot_url("vote-withdraw", "nope", "use")).status_code == 404


def test_the_organizer_is_asked_before_withdrawing_a_members_vote(client, olga, bob, ballot, cast):
    cast(bob, "code", "use", "required")
    client.force_login(olga)

    asked = client.post(ballot_url("vote-grid-on-behalf", "bob"), cell(choice=""))

    assert asked.url == ballot_url("vote-withdraw-on-behalf", "bob", "code", "use") + "?group=weights"
    assert "Withdraw @bob's vote “Required”" in text(client.get(asked.url))
    client.post(ballot_url("vote-grid-on-behalf", "bob"), cell(choice="", withdraw="on"))
    assert not Vote.objects.exists()


def test_withdrawing_where_there_is_no_vote_changes_nothing(client, bob, ballot, nothing_written):
    client.force_login(bob)

    with nothing_written():
        response = client.post(ballot_url("vote-grid"), cell(choice=""), headers=HTMX)

    assert response.status_code == 200


REFUSALS = {
    "restricted choice without a grant": (
        cell("code", "use", "not-necessary"),
        "“Not necessary” is restricted: only holders of a veto grant may use it here.",
    ),
    "rationale missing": (cell("code", "use", "object", rationale="  "), "A vote “Object” needs a rationale."),
    "aggregate component": (
        cell("all-data", "use", "required"),
        "All data is an aggregate: its score comes from its parts, not from votes.",
    ),
}


@pytest.mark.parametrize("data, message", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_refused_plain_vote_says_why_and_changes_nothing(data, message, client, bob, ballot, cast, nothing_written):
    cast(bob, data["component"] if data["component"] != "all-data" else "code", data["criterion"], "abstain")
    client.force_login(bob)

    with nothing_written():
        response = client.post(ballot_url("vote-grid"), data, follow=True)

    assert response.status_code == 200
    title = {"code": "Training code", "all-data": "All data"}[data["component"]]
    assert page_messages(response) == [f"{title}, Use: {message} Nothing was changed."]


@pytest.mark.parametrize("data, message", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_refused_htmx_vote_shows_the_reason_in_the_cell_and_changes_nothing(
    data, message, client, bob, ballot, nothing_written
):
    client.force_login(bob)

    with nothing_written():
        response = client.post(ballot_url("vote-grid"), data, headers=HTMX)

    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert f'<p class="errors" role="alert">{message}</p>' in response.content.decode()
    assert "HX-Trigger" not in response.headers


@pytest.mark.parametrize("phase", ["scheduled", "closed", "past its closing time"])
def test_votes_outside_the_voting_window_are_refused(phase, request, client, olga, bob, scheduled, nothing_written):
    if phase != "scheduled":
        request.getfixturevalue("cast")(bob, "code", "use", "required")  # `cast` opens the ballot first
    if phase == "closed":
        services.close_ballot(ballot=scheduled, acting_user=olga)
    if phase == "past its closing time":
        Ballot.objects.filter(pk=scheduled.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    client.force_login(bob)
    message = (
        "Voting on this ballot has not opened yet." if phase == "scheduled" else "Voting on this ballot has closed."
    )

    if phase == "past its closing time":  # the first read closes it, as the Close button would: no vote changes
        client.get(ballot_url("ballot"))
        assert Ballot.objects.get(pk=scheduled.pk).status == Ballot.Status.CLOSED
    with nothing_written():
        plain = client.post(ballot_url("vote-grid"), cell(choice="abstain"), follow=True)
        htmx = client.post(ballot_url("vote-grid"), cell(choice="abstain"), headers=HTMX)
        withdrawn = client.post(ballot_url("vote-grid"), cell(choice=""), headers=HTMX)

    assert page_messages(plain) == [f"Training code, Use: {message} Nothing was changed."]
    assert message in text(htmx)
    assert message in text(withdrawn)
    assert "the grid is read-only." in text(plain)
    assert "<select" not in plain.content.decode().split("</main>")[0]  # the footer's language switcher aside


def test_a_cell_that_is_not_on_the_ballot_is_refused(client, bob, ballot, nothing_written):
    client.force_login(bob)

    with nothing_written():
        assert client.post(ballot_url("vote-grid"), cell(component="nope")).status_code == 404
        assert client.post(ballot_url("vote-grid"), cell(criterion="nope")).status_code == 404
        assert client.post(ballot_url("vote-grid"), {"choice": "required"}).status_code == 400
        unknown = client.post(ballot_url("vote-grid"), cell(choice="nope"), follow=True)
        htmx = client.post(ballot_url("vote-grid"), cell(choice="nope"), headers=HTMX)

    message = "That choice is not on this ballot's scale."
    assert page_messages(unknown) == [f"Training code, Use: {message} Nothing was changed."]
    assert html.escape(message) in htmx.content.decode()


# Who sees the restricted choice --------------------------------------------------------------


def restricted_cells(response) -> set[str]:
    return {cell_id for cell_id, options in grid_options(response).items() if "not-necessary" in options}


ALL_CELLS = {f"cell-{c}-{k}" for c in ("code", "data") for k in ("use", "study", "modify", "share")}
DATA_CELLS = {c for c in ALL_CELLS if c.startswith("cell-data-")}


@pytest.mark.parametrize("persona", MEMBERS)
def test_without_a_grant_nobody_sees_the_restricted_choice(persona, request, client, ballot):
    sign_in(client, request, persona)

    response = client.get(ballot_url("vote-grid"))

    assert restricted_cells(response) == set()
    assert "Not necessary" not in text(response)
    assert all(options[:2] == ["", "required"] for options in grid_options(response).values())


@pytest.mark.parametrize("persona, expected", [("alice", ALL_CELLS), ("bob", ALL_CELLS), ("dave", set())])
def test_a_group_grant_shows_the_restricted_choice_to_that_group_only(persona, expected, request, client, grant):
    sign_in(client, request, persona)

    response = client.get(ballot_url("vote-grid"))

    assert restricted_cells(response) == expected
    assert ("You hold a veto grant: Not necessary." in text(response)) == bool(expected)


@pytest.mark.parametrize("persona, expected", [("alice", DATA_CELLS), ("bob", set()), ("dave", set())])
def test_a_member_grant_for_one_category_shows_only_in_that_categorys_rows(
    persona, expected, request, client, olga, alice, ballot, choice
):
    services.grant_veto(
        ballot=ballot,
        choice=choice("not-necessary"),
        member=alice,
        category="Data",
        reason="alice curates the data sets.",
        acting_user=olga,
    )
    sign_in(client, request, persona)

    assert restricted_cells(client.get(ballot_url("vote-grid"))) == expected


def test_a_category_grant_is_refused_outside_its_category(client, olga, bob, ballot, group, choice, nothing_written):
    services.grant_veto(
        ballot=ballot,
        choice=choice("not-necessary"),
        group=group,
        category="Data",
        reason="Data only.",
        acting_user=olga,
    )
    client.force_login(bob)

    with nothing_written():
        refused = client.post(ballot_url("vote-grid"), cell("code", "use", "not-necessary"), headers=HTMX)
    used = client.post(ballot_url("vote-grid"), cell("data", "use", "not-necessary"), headers=HTMX)

    assert "“Not necessary” is restricted" in text(refused)
    assert "Not necessary" in text(used) and "no rationale" in text(used)  # an undocumented veto, flagged at once
    assert Vote.objects.get().grant.category == "Data"


def test_a_revoked_grant_takes_the_choice_away(client, olga, bob, grant):
    services.revoke_grant(grant=grant, reason="The charter changed.", acting_user=olga)
    client.force_login(bob)

    assert restricted_cells(client.get(ballot_url("vote-grid"))) == set()


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_after_its_grant_is_revoked_a_veto_is_kept_shown_and_editing_its_rationale_is_refused_not_a_withdrawal(
    headers, client, olga, bob, grant, cast, nothing_written
):
    cast(bob, "code", "use", "not-necessary", rationale="The weights are enough.")
    services.revoke_grant(grant=grant, reason="The charter changed.", acting_user=olga)
    client.force_login(bob)
    revoked = "The veto grant for “Not necessary” was revoked"

    page = client.get(ballot_url("vote-grid"))
    assert restricted_cells(page) == {"cell-code-use"}  # kept where it stands, offered nowhere else
    code_use = re.search(r'<td id="cell-code-use".*?</td>', page.content.decode(), re.S).group()
    assert '<option value="not-necessary" selected>' in code_use
    assert revoked in text(page)

    with nothing_written():
        response = client.post(
            ballot_url("vote-grid"),
            cell(choice="not-necessary", rationale="The weights alone are enough."),
            headers=headers,
            follow=not headers,
        )

    assert revoked in text(response)
    assert "it can no longer be cast or edited" in text(response)
    withdrawn = client.post(ballot_url("vote-grid"), cell(choice="", withdraw="on"), headers=headers)  # when asked
    assert withdrawn.status_code == (200 if headers else 302)
    assert not Vote.objects.exists()


# Voting on a member's behalf -----------------------------------------------------------------


def test_the_organizer_votes_on_a_members_behalf(client, olga, bob, ballot):
    client.force_login(olga)
    path = ballot_url("vote-grid-on-behalf", "bob")
    assert f'href="{path}"' in client.get(ballot_url("ballot")).content.decode()  # offered on the overview

    page = client.get(path)
    assert "You are recording votes on behalf of @bob." in text(page)
    assert f'hx-post="{path}"' in page.content.decode()

    response = client.post(path, cell("code", "share", "required"))
    assert response.url == path + "?group=weights#cell-code-share"
    htmx = client.post(path, cell("data", "share", "abstain"), headers=HTMX)
    assert "by @olga" in text(htmx)

    assert {(v.voter, v.cast_by, v.component.key) for v in Vote.objects.all()} == {
        (bob, olga, "code"),
        (bob, olga, "data"),
    }
    events = AuditEvent.objects.filter(action="vote.cast_on_behalf")
    assert [(e.actor_handle, e.payload["voter"], e.payload["cast_by"]) for e in events] == [("olga", "bob", "olga")] * 2

    roll_call = client.get(ballot_url("roll-call"))
    assert [row[2] for row in table_rows(roll_call, "roll-call")] == ["@bob", "@bob"]
    assert all("recorded by @olga" in row[6] for row in table_rows(roll_call, "roll-call"))


@pytest.mark.parametrize("persona", ["carol", "dave", "bob", "oscar"])
def test_only_organizers_vote_on_a_members_behalf(persona, request, client, oscar, ballot, nothing_written):
    sign_in(client, request, persona)
    path = ballot_url("vote-grid-on-behalf", "alice")

    with nothing_written():
        assert client.get(path).status_code == 403
        response = client.post(path, cell())

    assert response.status_code == 403
    assert "Only organizers vote on another member's behalf." in text(response)


def test_the_organizer_cannot_vote_for_someone_outside_the_enrolled_groups(client, olga, carol, ballot):
    client.force_login(olga)

    response = client.get(ballot_url("vote-grid-on-behalf", "carol"))

    assert response.status_code == 403
    assert "@carol is not a member of a working group enrolled in this ballot." in text(response)


# Query counts --------------------------------------------------------------------------------


def test_the_vote_grid_needs_the_same_queries_for_many_components_and_votes(
    client, bob, voted, group, django_assert_max_num_queries
):
    client.force_login(bob)

    def grow():
        more_votes(voted, group, 4)
        for component in voted.version.components.filter(category="Model"):
            services.cast_vote(
                ballot=voted,
                voter=bob,
                component=component,
                criterion=voted.criteria.get(key="share"),
                choice=voted.choices.get(key="not-necessary"),
            )

    assert_same_queries_when_the_data_grows(
        client, ballot_url("vote-grid"), grow, django_assert_max_num_queries, limit=12
    )


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("change", ["cast", "change", "withdraw", "veto"])
def test_saving_a_vote_needs_the_same_queries_however_many_votes_the_ballot_holds(
    htmx, change, client, alice, voted, group, django_assert_max_num_queries
):
    """Casting, changing or withdrawing one vote (a veto among them) reads and writes that vote alone."""
    client.force_login(alice)
    headers = HTMX if htmx else {}
    criteria = ["modify", "share"]  # one cell per size, each voted the same way

    def save(n: int) -> None:
        cell = {"component": "data", "criterion": criteria[n]}
        if change in ("change", "withdraw"):
            services.cast_vote(
                ballot=voted,
                voter=alice,
                component=voted.version.components.get(key="data"),
                criterion=voted.criteria.get(key=criteria[n]),
                choice=voted.choices.get(key="abstain"),
            )
        choice = {"cast": "required", "change": "required", "withdraw": "", "veto": "not-necessary"}[change]
        confirmed = {"withdraw": "on"} if change == "withdraw" else {}
        with django_assert_max_num_queries(30) as queries:  # the session, the grid, the vote and its audit event
            response = client.post(ballot_url("vote-grid"), cell | {"choice": choice} | confirmed, headers=headers)
        assert response.status_code == (200 if htmx else 302), response.content.decode()[:500]
        counted.append(len(queries))

    counted: list[int] = []
    save(0)
    more_votes(voted, group, 4)
    save(1)
    assert counted[0] == counted[1], counted
