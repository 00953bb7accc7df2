"""The votes pages and the audit log through their real URLs, for each persona.

olga organizes the definition `osd`; alice chairs its group `weights`, where bob is a member; dave is
a member of `corpora`; carol is signed in but belongs to nothing; oscar organizes another
definition; an anonymous observer is not signed in. `ballot` is the open ballot `components` on
version 0.0.9 (components code, data and the aggregate all-data) for weights and corpora.
Ballots are public, so outsiders get 403 — never 404 — for what they may see but not do.
"""

import html
import json
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent, head, record
from tests.factories import ComponentFactory, DefinitionFactory, MembershipFactory, UserFactory, WorkingGroupFactory
from votes import rollcall, services
from votes.models import Ballot, Dispute, VetoGrant, Vote

HTMX = {"HX-Request": "true"}
PERSONAS = [None, "carol", "dave", "bob", "alice", "oscar", "olga"]
MEMBERS = ["dave", "bob", "alice"]  # of a group enrolled in the ballot
NOT_ORGANIZERS = ["carol", "dave", "bob", "alice", "oscar"]
NOT_MEMBERS = ["carol", "oscar", "olga"]


def url(name: str, *args) -> str:
    return reverse(f"votes:{name}", args=args)


def ballot_url(name: str, *args, key: str = "components") -> str:
    return url(name, "osd", key, *args)


def sign_in(client, request, persona: str | None) -> None:
    if persona is not None:
        client.force_login(request.getfixturevalue(persona))


def assert_sent_to_login(response, path: str) -> None:
    assert response.status_code == 302
    target = urlsplit(response.url)
    assert target.path == reverse("account_login")
    assert parse_qs(target.query)["next"] == [path]


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def text(response) -> str:
    """The page as a reader sees it: tags removed, entities decoded, whitespace collapsed."""
    words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())
    return re.sub(r" ([.,;:])", r"\1", words)


def table_rows(response, css_class: str) -> list[list[str]]:
    """The body rows of `<table class="…">`, each a list of its cells' text."""
    table = re.search(rf'<table class="{css_class}">.*?<tbody>(.*?)</tbody>', response.content.decode(), re.S)
    assert table, f"no table.{css_class}"
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1), re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        rows.append([" ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split()) for cell in cells])
    return rows


def grid_options(response) -> dict[str, list[str]]:
    """Each cell of the vote grid by id, with the choice keys its select offers ("" is “no vote”)."""
    cells = re.findall(r'<td id="(cell-[\w-]+)"(.*?)</td>', response.content.decode(), re.S)
    return {cell_id: re.findall(r'<option value="([^"]*)"', body) for cell_id, body in cells}


def cell(component: str = "code", criterion: str = "use", choice: str = "required", **fields) -> dict:
    return {"component": component, "criterion": criterion, "choice": choice, **fields}


def actions(after: int = 0) -> list[str]:
    """The audit log's actions in order, or only those after the first `after` events."""
    return list(AuditEvent.objects.order_by("pk").values_list("action", flat=True)[after:])


@pytest.fixture
def oscar(db):
    """An organizer of another definition: no power over `osd`."""
    user = UserFactory(username="oscar", first_name="Oscar", last_name="Elsewhere")
    DefinitionFactory(slug="other", title="Another Definition").organizers.add(user)
    return user


@pytest.fixture
def choice(ballot):
    return lambda key: ballot.choices.get(key=key)


@pytest.fixture
def grant(ballot, olga, group, choice):
    """weights holds the veto power “Not necessary” on every component."""
    return services.grant_veto(
        ballot=ballot,
        choice=choice("not-necessary"),
        group=group,
        reason="Charter §3: model builders speak for the weights.",
        acting_user=olga,
    )


@pytest.fixture
def voted(ballot, grant, cast, alice, bob, dave):
    """A few votes: alice's undocumented veto on data/use among them."""
    cast(bob, "code", "use", "required", rationale="Nobody can study a model without its code.")
    cast(alice, "code", "use", "object", rationale="Too strict for small labs.")
    cast(alice, "data", "use", "not-necessary")
    cast(dave, "code", "use", "abstain")
    cast(dave, "data", "study", "required", rationale="Data is how you study a model.")
    return ballot


@pytest.fixture
def dispute(voted, bob, other_group, choice):
    """bob disputes corpora's abstentions."""
    return services.raise_dispute(
        ballot=voted,
        raised_by=bob,
        reason="Abstaining on code is a veto in disguise.",
        group=other_group,
        choice=choice("abstain"),
    )


# Who gets what -------------------------------------------------------------------------------

LOGIN = "login"  # a redirect to the sign-in page, with `next` pointing back
ANYONE = (200,) * 7
OLGA_ONLY = (LOGIN, 403, 403, 403, 403, 403, 200)
MEMBERS_ONLY = (LOGIN, 403, 200, 200, 200, 403, 403)
POST_ONLY = (LOGIN, 405, 405, 405, 405, 405, 405)

# Each endpoint: its path, what each of PERSONAS gets on GET, and on POST of the data (302 = done).
ENDPOINTS = {
    "ballot-list": (lambda: url("ballot-list", "osd"), ANYONE, None),
    "ballot": (lambda: ballot_url("ballot"), ANYONE, None),
    "roll-call": (lambda: ballot_url("roll-call"), ANYONE, None),
    "audit-log": (lambda: reverse("audit:log"), ANYONE, None),
    "ballot-create": (lambda: url("ballot-create", "osd"), OLGA_ONLY, (LOGIN, 403, 403, 403, 403, 403, 302)),
    "ballot-open": (lambda: ballot_url("ballot-open"), POST_ONLY, (LOGIN, 403, 403, 403, 403, 403, 302)),
    "ballot-close": (lambda: ballot_url("ballot-close"), POST_ONLY, (LOGIN, 403, 403, 403, 403, 403, 302)),
    "vote-grid": (lambda: ballot_url("vote-grid"), MEMBERS_ONLY, (LOGIN, 403, 302, 302, 302, 403, 403)),
    # bob's own handle in the on-behalf address is simply his own grid
    "vote-grid-on-behalf": (
        lambda: ballot_url("vote-grid-on-behalf", "bob"),
        (LOGIN, 403, 403, 200, 403, 403, 200),
        (LOGIN, 403, 403, 302, 403, 403, 302),
    ),
    "grants": (lambda: ballot_url("grants"), ANYONE, (LOGIN, 403, 403, 403, 403, 403, 302)),
    "grant-revoke": (
        lambda: ballot_url("grant-revoke", VetoGrant.objects.get().pk),
        POST_ONLY,
        (LOGIN, 403, 403, 403, 403, 403, 302),
    ),
    "disputes": (lambda: ballot_url("disputes"), ANYONE, (LOGIN, 403, 302, 302, 302, 403, 302)),
    "dispute-resolve": (
        lambda: ballot_url("dispute-resolve", Dispute.objects.get().pk),
        POST_ONLY,
        (LOGIN, 403, 403, 403, 403, 403, 302),
    ),
}


def valid_post(name: str, ballot: Ballot) -> dict:
    """What each endpoint accepts from someone allowed to use it."""
    return {
        "ballot-create": {
            "title": "Another look",
            "key": "another-look",
            "version": ballot.version_id,
            "groups": list(ballot.groups.values_list("pk", flat=True)),
            "criteria": "use Use",
            "choices": "yes | Yes | 1",
            "results_visibility": "live",
            "rule": "mean-bands",
            "bands": "1 Maybe",
            "otherwise": "No",
            "k": "2",
            "seed": "1",
        },
        "vote-grid": cell("code", "share", "required"),
        "vote-grid-on-behalf": cell("code", "share", "required"),
        "grants": {"choice": ballot.choices.get(key="not-necessary").pk, "member": "dave", "reason": "Expert."},
        "grant-revoke": {"reason": "No longer needed."},
        "disputes": {"voter": "bob", "reason": "Cast by mistake."},
        "dispute-resolve": {"status": "dismissed", "resolution": "Nothing wrong."},
    }.get(name, {})


def assert_gets(response, expected, path: str) -> None:
    if expected == LOGIN:
        assert_sent_to_login(response, path)
    else:
        assert response.status_code == expected
    if expected == 403:  # says why, not just "no"
        assert "You may see this, but not do that." not in text(response)


@pytest.mark.parametrize("name", ENDPOINTS.keys())
@pytest.mark.parametrize("persona", PERSONAS)
def test_who_gets_what_on_get(name, persona, request, client, oscar, dispute, nothing_written):
    path, expected, _ = ENDPOINTS[name]
    sign_in(client, request, persona)

    with nothing_written():
        response = client.get(path())

    assert_gets(response, expected[PERSONAS.index(persona)], path())


@pytest.mark.parametrize("name", [name for name, (_, _, post) in ENDPOINTS.items() if post])
@pytest.mark.parametrize("persona", PERSONAS)
def test_who_gets_what_on_post(name, persona, request, client, oscar, dispute, nothing_written):
    path, _, expected = ENDPOINTS[name]
    expected = expected[PERSONAS.index(persona)]
    sign_in(client, request, persona)
    data = valid_post(name, dispute.ballot)

    if expected == 302:
        events = AuditEvent.objects.count()
        response = client.post(path(), data)
        assert AuditEvent.objects.count() == events + (0 if name == "ballot-open" else 1)  # it is already open
    else:
        with nothing_written():
            response = client.post(path(), data)

    assert_gets(response, expected, path())


@pytest.mark.parametrize("persona", [None, "carol", "olga"])
def test_an_unknown_ballot_grant_or_dispute_is_404(persona, request, client, dispute):
    sign_in(client, request, persona)

    for path in [
        url("ballot-list", "nope"),
        url("ballot", "osd", "nope"),
        url("roll-call", "nope", "components"),
        url("grants", "osd", "nope"),
        url("disputes", "osd", "nope"),
    ]:
        assert client.get(path).status_code == 404, path
    if persona == "olga":
        assert client.post(ballot_url("grant-revoke", 999), {"reason": "x"}).status_code == 404
        assert (
            client.post(ballot_url("dispute-resolve", 999), {"status": "upheld", "resolution": "x"}).status_code == 404
        )
        assert client.post(ballot_url("vote-grid-on-behalf", "nobody"), cell()).status_code == 404


@pytest.mark.parametrize("name", ["ballot-create", "vote-grid", "vote-grid-on-behalf", "grants", "disputes"])
def test_form_pages_answer_only_get_and_post(name, client, olga, dispute):
    client.force_login(olga)
    path = ENDPOINTS[name][0]()

    assert client.put(path).status_code == 405
    assert client.delete(path).status_code == 405


@pytest.mark.parametrize("persona", NOT_ORGANIZERS)
def test_only_organizers_see_the_organizer_controls(persona, request, client, oscar, dispute):
    sign_in(client, request, persona)

    overview = client.get(ballot_url("ballot")).content.decode()
    grants = client.get(ballot_url("grants")).content.decode()
    disputes = client.get(ballot_url("disputes")).content.decode()

    assert "Close voting" not in overview and "Grant a veto power" not in overview
    assert "Revoke" not in grants and "Grant a veto power" not in grants
    assert "Resolve dispute" not in disputes
    assert "New ballot" not in client.get(url("ballot-list", "osd")).content.decode()


def test_the_organizer_sees_the_organizer_controls(client, olga, dispute):
    client.force_login(olga)

    assert "Close voting and freeze the rosters" in text(client.get(ballot_url("ballot")))
    assert "Revoke" in text(client.get(ballot_url("grants")))
    assert f"Resolve dispute #{dispute.pk}" in text(client.get(ballot_url("disputes")))
    assert "New ballot" in text(client.get(url("ballot-list", "osd")))


# Opening and closing -------------------------------------------------------------------------


def test_the_organizer_opens_and_closes_the_ballot(client, olga, scheduled):
    client.force_login(olga)

    response = client.post(ballot_url("ballot-open"), follow=True)
    assert response.redirect_chain == [(ballot_url("ballot"), 302)]
    assert "Voting is open." in page_messages(response)
    assert "Close voting and freeze the rosters" in text(response)

    response = client.post(ballot_url("ballot-close"), follow=True)
    assert "Voting is closed; each group's roster is frozen with the ballot." in page_messages(response)
    assert "@alice (chair), @bob" in text(response)  # the roster at close

    scheduled.refresh_from_db()
    assert scheduled.status == Ballot.Status.CLOSED
    assert actions() == ["ballot.created", "ballot.opened", "ballot.closed"]


def test_opening_an_open_ballot_says_why_not_and_writes_nothing(client, olga, ballot, nothing_written):
    client.force_login(olga)

    with nothing_written():
        response = client.post(ballot_url("ballot-open"), follow=True)

    assert page_messages(response) == ["Only a scheduled ballot can open; this one is open."]


def test_closing_a_scheduled_ballot_says_why_not_and_writes_nothing(client, olga, scheduled, nothing_written):
    client.force_login(olga)

    with nothing_written():
        response = client.post(ballot_url("ballot-close"), follow=True)

    assert "Only an open ballot can close; this one is scheduled." in page_messages(response)


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
    assert "1 vote cast." in text(page)


def test_an_htmx_post_returns_only_the_cell_and_announces_the_change(client, bob, ballot):
    client.force_login(bob)

    response = client.post(ballot_url("vote-grid"), cell("code", "modify", "abstain"), headers=HTMX)

    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content
    assert content.strip().startswith('<td id="cell-code-modify"')
    assert content.strip().endswith("</td>")
    assert '<span class="badge choice ">Abstain</span>' in content
    assert '<option value="abstain" selected>' in content
    assert json.loads(response.headers["HX-Trigger"]) == {"vote-changed": {}}
    assert Vote.objects.get().choice.key == "abstain"


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


def test_the_progress_line_reloads_itself_after_a_change(client, bob, ballot, cast):
    cast(bob, "code", "use", "required")
    cast(bob, "data", "use", "required")
    client.force_login(bob)

    response = client.get(ballot_url("vote-grid") + "?group=weights", headers=HTMX)

    content = response.content.decode().strip()
    assert content.startswith('<p id="progress"') and "<html" not in content
    assert 'hx-trigger="vote-changed from:body"' in content
    assert "2 votes cast." in text(response)


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_choosing_no_vote_withdraws_it(headers, client, bob, ballot, cast):
    cast(bob, "code", "use", "required")
    client.force_login(bob)

    response = client.post(ballot_url("vote-grid"), cell(choice=""), headers=headers)

    assert response.status_code == (200 if headers else 302)
    assert not Vote.objects.exists()
    assert actions()[-1] == "vote.withdrawn"
    if headers:
        assert 'class="current"' not in response.content.decode()
        assert "vote-changed" in response.headers["HX-Trigger"]


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

    with nothing_written():
        plain = client.post(ballot_url("vote-grid"), cell(choice="abstain"), follow=True)
        htmx = client.post(ballot_url("vote-grid"), cell(choice="abstain"), headers=HTMX)
        withdrawn = client.post(ballot_url("vote-grid"), cell(choice=""), headers=HTMX)

    assert page_messages(plain) == [f"Training code, Use: {message} Nothing was changed."]
    assert message in text(htmx)
    assert message in text(withdrawn)
    assert "the grid is read-only." in text(plain)
    assert "<select" not in plain.content.decode()
    if phase == "past its closing time":
        assert "The organizers close the ballot to freeze the rosters." in text(client.get(ballot_url("ballot")))


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
    withdrawn = client.post(ballot_url("vote-grid"), cell(choice=""), headers=headers)  # only when asked
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


# The roll call -------------------------------------------------------------------------------


def roll_call(client, **query) -> list[tuple[str, str, str, str]]:
    """(voter, component/criterion, group, choice) of each row the roll call shows for the query."""
    response = client.get(ballot_url("roll-call"), query)
    assert response.status_code == 200
    rows = table_rows(response, "roll-call")
    if rows == [["No vote matches."]]:
        return []
    return [(row[2], f"{row[0]}/{row[1]}", row[3], row[4]) for row in rows]


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
    assert "roll-call" not in re.sub(r'href="[^"]*"', "", content)  # no table of votes


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
    client.get(ballot_url("vote-grid-on-behalf", "bob", key="secret"), headers={"HX-Request": "true"})
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


# Veto powers ---------------------------------------------------------------------------------


def test_the_grants_page_lists_holder_choice_scope_granter_reason_and_use(client, olga, alice, voted, choice):
    services.grant_veto(
        ballot=voted,
        choice=choice("not-necessary"),
        member=alice,
        category="Data",
        reason="alice curates the data sets.",
        acting_user=olga,
    )

    rows = table_rows(client.get(ballot_url("grants")), "grants")

    assert [[re.sub(r"\d+ \w+ \d{4}, \d\d:\d\d", "DATE", cell) for cell in row] for row in rows] == [
        [
            "Weights (every member)",
            "Not necessary −1",
            "every component",
            "by @olga DATE",
            "Charter §3: model builders speak for the weights.",
            "1 vote",
            "active",
        ],
        ["@alice", "Not necessary −1", "Data", "by @olga DATE", "alice curates the data sets.", "0 votes", "active"],
    ]


def test_the_usage_count_links_to_the_votes_cast_with_the_grant(client, voted):
    content = client.get(ballot_url("grants")).content.decode()

    link = html.unescape(re.search(r'href="([^"]*roll-call/\?[^"]*)"', content).group(1))
    assert [row[:2] for row in roll_call(client, **dict(parse_qs(urlsplit(link).query)))] == [
        ("@alice", "Training data/Use")
    ]


def test_the_organizer_grants_a_veto_power(client, olga, ballot, other_group, choice):
    client.force_login(olga)

    response = client.post(
        ballot_url("grants"),
        {
            "choice": choice("not-necessary").pk,
            "group": other_group.pk,
            "category": "Code",
            "reason": "Corpora says so.",
        },
        follow=True,
    )

    assert response.redirect_chain == [(ballot_url("grants"), 302)]
    assert page_messages(response) == ["Granted “Not necessary” to group corpora."]
    grant = VetoGrant.objects.get()
    assert (grant.group, grant.member, grant.category, grant.reason, grant.granted_by) == (
        other_group,
        None,
        "Code",
        "Corpora says so.",
        olga,
    )
    assert AuditEvent.objects.filter(action__startswith="grant.").count() == 1


def test_the_organizer_grants_to_one_member_by_handle(client, olga, bob, ballot, choice):
    client.force_login(olga)

    client.post(ballot_url("grants"), {"choice": choice("not-necessary").pk, "member": "@bob", "reason": "Expert."})

    assert VetoGrant.objects.get().member == bob


@pytest.mark.parametrize(
    "data, message",
    [
        ({}, "Grant the choice to one working group or to one member."),
        ({"member": "nobody"}, "No account has the handle nobody."),
        ({"member": "carol"}, "@carol is not a member of a group enrolled in this ballot."),
        ({"group": "weights", "member": "bob"}, "Grant the choice to one working group or to one member."),
    ],
    ids=["no holder", "unknown handle", "outsider", "two holders"],
)
def test_a_malformed_grant_says_why_and_writes_nothing(
    data, message, client, olga, carol, ballot, group, choice, nothing_written
):
    client.force_login(olga)
    data = {"choice": choice("not-necessary").pk, "reason": "Why not."} | data
    if data.get("group") == "weights":
        data["group"] = group.pk

    with nothing_written():
        response = client.post(ballot_url("grants"), data)

    assert response.status_code == 200
    assert message in text(response)


def test_the_organizer_revokes_a_grant_with_a_reason(client, olga, grant):
    client.force_login(olga)

    response = client.post(ballot_url("grant-revoke", grant.pk), {"reason": "The charter changed."}, follow=True)

    assert page_messages(response) == ["Revoked “Not necessary” from group weights."]
    assert "revoked by @olga" in text(response)
    assert "The charter changed." in text(response)
    grant.refresh_from_db()
    assert (grant.revoked_by, grant.revoke_reason) == (olga, "The charter changed.")
    assert actions()[-1] == "grant.revoked"


def test_revoking_without_a_reason_writes_nothing(client, olga, grant, nothing_written):
    client.force_login(olga)

    with nothing_written():
        response = client.post(ballot_url("grant-revoke", grant.pk), {"reason": ""}, follow=True)

    assert page_messages(response) == ["Say why the grant is revoked; the reason is shown publicly."]


# Disputes ------------------------------------------------------------------------------------


def test_a_member_disputes_a_groups_choice(client, bob, voted, other_group, choice):
    client.force_login(bob)
    before = AuditEvent.objects.count()

    response = client.post(
        ballot_url("disputes"),
        {"group": other_group.pk, "choice": choice("abstain").pk, "reason": "Abstention hides a veto."},
        follow=True,
    )

    dispute = Dispute.objects.get()
    assert response.redirect_chain == [(ballot_url("disputes") + f"#dispute-{dispute.pk}", 302)]
    assert page_messages(response) == [f"Dispute #{dispute.pk} raised; the organizers will resolve it in public."]
    assert f"#{dispute.pk}: votes for group corpora choosing Abstain Open" in text(response)
    assert (dispute.raised_by, dispute.group, dispute.choice.key, dispute.voter) == (bob, other_group, "abstain", None)
    assert actions(after=before) == ["dispute.raised"]
    event = AuditEvent.objects.get(action="dispute.raised")
    assert (event.actor_handle, event.stream, event.payload["votes"]) == ("bob", voted.audit_stream, 1)


def test_a_member_disputes_one_vote_from_the_roll_call(client, alice, dave, voted):
    client.force_login(alice)
    roll = client.get(ballot_url("roll-call")).content.decode()
    link = html.unescape(re.search(r'href="([^"]*disputes/\?voter=dave&amp;component=code[^"]*)"', roll).group(1))

    form = client.get(link)

    assert form.status_code == 200
    content = form.content.decode()
    code, use = voted.version.components.get(key="code"), voted.criteria.get(key="use")
    assert 'name="voter" value="dave"' in content
    assert f'<option value="{code.pk}" selected>' in content
    assert f'<option value="{use.pk}" selected>' in content
    before = AuditEvent.objects.count()

    response = client.post(
        ballot_url("disputes"),
        {"voter": "dave", "component": code.pk, "criterion": use.pk, "reason": "Cast after the deadline."},
    )

    assert response.status_code == 302
    dispute = Dispute.objects.get()
    assert (dispute.voter, dispute.component, dispute.criterion, dispute.group) == (dave, code, use, None)
    assert dispute.selection == "votes by @dave on code for Use"
    assert actions(after=before) == ["dispute.raised"]
    assert [row[0] for row in roll_call(client, flag="disputed")] == ["@dave"]


@pytest.mark.parametrize("persona", ["carol", "oscar"])
def test_outsiders_cannot_raise_disputes(persona, request, client, oscar, voted, choice, nothing_written):
    sign_in(client, request, persona)

    with nothing_written():
        response = client.post(ballot_url("disputes"), {"choice": choice("abstain").pk, "reason": "Hmm."})

    assert response.status_code == 403
    assert "Only members of the definition's working groups can raise a dispute." in text(response)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"reason": "Something is off."}, "Say which votes you dispute"),
        ({"voter": "carol", "reason": "Hmm."}, "No current vote matches that selection"),
        ({"voter": "nobody", "reason": "Hmm."}, "No account has the handle nobody."),
        ({"voter": "dave", "reason": ""}, "This field is required."),
    ],
    ids=["no selection", "no matching vote", "unknown handle", "no reason"],
)
def test_a_dispute_that_selects_nothing_says_why_and_writes_nothing(
    data, message, client, bob, carol, voted, nothing_written
):
    client.force_login(bob)

    with nothing_written():
        response = client.post(ballot_url("disputes"), data)

    assert response.status_code == 200
    assert message in text(response)


@pytest.mark.parametrize("status, label", [("upheld", "Upheld"), ("dismissed", "Dismissed")])
def test_the_organizer_resolves_a_dispute(status, label, client, olga, dispute):
    client.force_login(olga)
    before = AuditEvent.objects.count()

    response = client.post(
        ballot_url("dispute-resolve", dispute.pk), {"status": status, "resolution": "Decided in the open."}, follow=True
    )

    assert response.redirect_chain == [(ballot_url("disputes") + f"#dispute-{dispute.pk}", 302)]
    assert page_messages(response) == [f"Dispute #{dispute.pk} {label.lower()}."]
    assert f"{label} by @olga" in text(response)
    assert "Decided in the open." in text(response)
    assert f"Resolve dispute #{dispute.pk}" not in text(response)
    dispute.refresh_from_db()
    assert (dispute.status, dispute.resolved_by, dispute.resolution) == (status, olga, "Decided in the open.")
    assert actions(after=before) == ["dispute.resolved"]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"status": "upheld", "resolution": ""}, "Choose uphold or dismiss, and explain the resolution."),
        ({"status": "open", "resolution": "x"}, "Choose uphold or dismiss, and explain the resolution."),
    ],
)
def test_a_resolution_needs_a_status_and_a_text(data, message, client, olga, dispute, nothing_written):
    client.force_login(olga)

    with nothing_written():
        response = client.post(ballot_url("dispute-resolve", dispute.pk), data, follow=True)

    assert page_messages(response) == [message]


def test_a_resolved_dispute_cannot_be_resolved_again(client, olga, dispute, nothing_written):
    services.resolve_dispute(dispute=dispute, status="upheld", resolution="Indeed.", acting_user=olga)
    client.force_login(olga)

    with nothing_written():
        response = client.post(
            ballot_url("dispute-resolve", dispute.pk),
            {"status": "dismissed", "resolution": "On second thought."},
            follow=True,
        )

    assert page_messages(response) == ["This dispute is already upheld."]


# Creating a ballot ---------------------------------------------------------------------------


@pytest.fixture
def ballot_form(published, group, other_group):
    """What an organizer fills in on the ballot form."""
    return {
        "title": "Second look at 0.0.9",
        "key": "second-look",
        "version": published.pk,
        "description": "Is each component *required*?",
        "groups": [group.pk, other_group.pk],
        "criteria": "use Use\n\nstudy   Study it\n",
        "choices": "yes | Yes | +1\nabstain | Abstain | 0\nno | Not necessary | −1 | grant, blocking, rationale",
        "results_visibility": "after_close",
        "rule": "mean-bands",
        "bands": "2 Yes\n1.5 Lean yes\n0.5 Maybe",
        "otherwise": "No",
        "threshold": "0.5",
        "k": "3",
        "seed": "7",
        "opens_at": "2030-01-02T09:00",
        "closes_at": "2030-01-09T17:00",
    }


def test_the_organizer_creates_a_ballot_from_the_form(client, olga, group, other_group, ballot_form):
    client.force_login(olga)
    assert client.get(url("ballot-create", "osd")).status_code == 200

    response = client.post(url("ballot-create", "osd"), ballot_form, follow=True)

    assert response.redirect_chain == [(ballot_url("ballot", key="second-look"), 302)]
    assert page_messages(response) == ["Ballot “Second look at 0.0.9” created. It opens when you open it."]
    ballot = Ballot.objects.get()
    assert (ballot.title, ballot.status, ballot.results_visibility, ballot.created_by) == (
        "Second look at 0.0.9",
        "scheduled",
        "after_close",
        olga,
    )
    assert set(ballot.groups.all()) == {group, other_group}
    assert list(ballot.criteria.values_list("key", "label")) == [("use", "Use"), ("study", "Study it")]
    assert list(
        ballot.choices.values_list("key", "label", "value", "requires_grant", "blocking", "requires_rationale")
    ) == [
        ("yes", "Yes", 1, False, False, False),
        ("abstain", "Abstain", 0, False, False, False),
        ("no", "Not necessary", -1, True, True, True),
    ]
    assert ballot.methodology == {
        "rule": "mean-bands",
        "bands": [{"min": 2.0, "label": "Yes"}, {"min": 1.5, "label": "Lean yes"}, {"min": 0.5, "label": "Maybe"}],
        "otherwise": "No",
    }
    assert ballot.clustering == {"k": 3, "seed": 7}
    assert (ballot.opens_at.isoformat(), ballot.closes_at.isoformat()) == (
        "2030-01-02T09:00:00+00:00",
        "2030-01-09T17:00:00+00:00",
    )
    assert actions() == ["ballot.created"]
    assert "Yes ≥ 2.0μ, Lean yes ≥ 1.5μ, Maybe ≥ 0.5μ; otherwise No." in text(response)


def test_a_majority_ballot_records_its_threshold(client, olga, ballot_form):
    client.force_login(olga)

    client.post(url("ballot-create", "osd"), ballot_form | {"rule": "majority", "threshold": "0.667", "bands": ""})

    assert Ballot.objects.get().methodology == {"rule": "majority", "threshold": 0.667}


MALFORMED_LINES = {
    "criteria key": ("criteria", "use Use\n\nb@d Bad", "Line 3: “b@d” is not a valid key (letters, digits, hyphens)."),
    "criteria long key": (
        "criteria",
        "use Use\n" + "u" * 33 + " Long",
        f"Line 2: the key “{'u' * 33}” is longer than 32 characters.",
    ),
    "criteria no label": ("criteria", "use Use\nstudy", "Line 2: give a label after the key."),
    "criteria long label": ("criteria", "use " + "U" * 65, "Line 1: the label is longer than 64 characters."),
    "choices cells": ("choices", "yes | Yes", "Line 1: write key | label | value, and optionally | flags."),
    "choices key": ("choices", "y s | Yes | 1", "Line 1: “y s” is not a valid key (letters, digits, hyphens)."),
    "choices no label": ("choices", "yes |  | 1", "Line 1: give a label after the key."),
    "choices long label": ("choices", "yes | " + "Y" * 65 + " | 1", "Line 1: the label is longer than 64 characters."),
    "choices value": (
        "choices",
        "yes | Yes | 1\nno | No | minus one",
        "Line 2: the value “minus one” is not a whole number.",
    ),
    "choices fraction": ("choices", "yes | Yes | 1\nno | No | 0.5", "Line 2: the value “0.5” is not a whole number."),
    "choices huge": (
        "choices",
        "yes | Yes | 1\nno | No | 99999999999",
        "Line 2: The choice no counts for 99999999999, but a choice's value is a whole number"
        " from -2147483648 to 2147483647.",
    ),
    "choices flag": ("choices", "no | No | -1 | veto", "Line 1: unknown flag veto; use grant, blocking, rationale."),
    "bands word": ("bands", "2 Yes\nhigh Maybe", "Line 2: start with a number, such as 1.5."),
    "bands nan": ("bands", "2 Yes\nnan Maybe", "Line 2: A band needs a finite number as its minimum, not nan."),
    "bands inf": ("bands", "inf Yes", "Line 1: A band needs a finite number as its minimum, not inf."),
    "bands no label": ("bands", "2 Yes\n1.5", "Line 2: A band needs a label, the name of its outcome (such as Yes)."),
    "bands huge": (
        "bands",
        "1e308 Yes",
        "Line 1: The minimum of a band is a multiple of the mean score μ, from -1000000 to 1000000; "
        "1e+308 is beyond that.",
    ),
    "bands ascending": (
        "bands",
        "1 Maybe\n\n2 Yes",
        "Bands go from the highest minimum to the lowest, each minimum once.",
    ),
}


@pytest.mark.parametrize("field, value, message", MALFORMED_LINES.values(), ids=MALFORMED_LINES.keys())
def test_a_malformed_line_is_named_and_nothing_is_written(
    field, value, message, client, olga, ballot_form, nothing_written
):
    client.force_login(olga)

    with nothing_written():
        response = client.post(url("ballot-create", "osd"), ballot_form | {field: value})

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert message in text(response)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"criteria": "use Use\nuse Again"}, "Each criterion key may appear once."),
        ({"bands": "1 Maybe\n2 Yes"}, "Bands go from the highest minimum to the lowest, each minimum once."),
        ({"bands": ""}, "mean-bands needs bands"),
        ({"otherwise": ""}, "mean-bands needs an `otherwise` label"),
        ({"closes_at": "2030-01-01T09:00"}, "A ballot closes after it opens."),
        ({"key": "components"}, "This definition already has a ballot with key components."),
    ],
)
def test_an_inconsistent_ballot_says_why_and_writes_nothing(
    changes, message, client, olga, scheduled, ballot_form, nothing_written
):
    client.force_login(olga)

    with nothing_written():
        response = client.post(url("ballot-create", "osd"), ballot_form | changes)

    assert response.status_code == 200
    assert message in text(response)


# The audit log -------------------------------------------------------------------------------


def event_ids(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr id="event-(\d+)">', response.content.decode())]


def test_the_audit_log_filters_by_stream_action_and_actor(client, olga, published, voted, group):
    services.create_ballot(
        version=published,
        key="other",
        title="Other",
        groups=[group],
        criteria=[("use", "Use")],
        choices=[{"key": "yes", "label": "Yes", "value": 1}],
        acting_user=olga,
    )
    log = reverse("audit:log")
    events = AuditEvent.objects.order_by("-pk")

    assert event_ids(client.get(log)) == list(events.values_list("pk", flat=True))
    by_stream = client.get(log, {"stream": voted.audit_stream})
    assert event_ids(by_stream) == list(events.filter(stream=voted.audit_stream).values_list("pk", flat=True))
    assert "ballot:osd/other" in by_stream.content.decode()  # offered in the stream filter
    by_action = client.get(log, {"action": "vote."})
    assert event_ids(by_action) == list(events.filter(action__startswith="vote.").values_list("pk", flat=True))
    assert len(event_ids(by_action)) == 5
    by_actor = client.get(log, {"actor": "@dave"})
    assert {AuditEvent.objects.get(pk=pk).actor_handle for pk in event_ids(by_actor)} == {"dave"}
    assert len(event_ids(by_actor)) == 2
    both = client.get(log, {"action": "grant.", "actor": "olga", "stream": voted.audit_stream})
    assert [AuditEvent.objects.get(pk=pk).action for pk in event_ids(both)] == ["grant.made"]
    assert event_ids(client.get(log, {"actor": "nobody"})) == []
    assert "No event matches." in text(client.get(log, {"actor": "nobody"}))


def test_the_audit_log_shows_the_head_of_the_chosen_stream(client, voted):
    last = AuditEvent.objects.filter(stream=voted.audit_stream).order_by("-seq").first()

    response = client.get(reverse("audit:log"), {"stream": voted.audit_stream})

    assert f"Head of {voted.audit_stream}: {last.hash}" in text(response)
    assert head(voted.audit_stream) == last.hash
    assert last.hash in text(client.get(ballot_url("ballot")))
    assert "Head of" not in text(client.get(reverse("audit:log")))


def test_the_audit_log_paginates_and_keeps_the_filters(client, bob, ballot):
    with transaction.atomic():
        for n in range(60):
            record(stream="test:pages", actor=bob, action="test.ping", subject=ballot, payload={"n": n})
    log = reverse("audit:log")

    first = client.get(log, {"stream": "test:pages"})
    second = client.get(log, {"stream": "test:pages", "page": "2"})

    pings = list(AuditEvent.objects.filter(stream="test:pages").order_by("-pk").values_list("pk", flat=True))
    assert event_ids(first) == pings[:50]
    assert event_ids(second) == pings[50:]
    assert "Page 1 of 2 (60)" in text(first)
    assert 'href="?stream=test%3Apages&amp;page=2"' in first.content.decode()
    assert event_ids(client.get(log, {"stream": "test:pages", "page": "99"})) == pings[50:]


def test_the_audit_log_shows_each_events_details(client, voted):
    event = AuditEvent.objects.get(action="vote.cast", actor_handle="bob")

    response = client.get(reverse("audit:log"), {"actor": "bob"})

    row = re.search(rf'<tr id="event-{event.pk}">(.*?)</tr>', response.content.decode(), re.S).group(1)
    assert f"{voted.audit_stream}</code> #{event.seq}" in row
    assert f"votes.vote:{event.subject_id}" in row
    assert "Nobody can study a model without its code." in html.unescape(row)
    assert f'title="{event.hash}; previous {event.prev_hash}"' in row


# Query counts --------------------------------------------------------------------------------


def assert_same_queries_when_the_data_grows(client, path, grow, django_assert_max_num_queries, limit):
    with django_assert_max_num_queries(limit) as small:
        assert client.get(path).status_code == 200
    grow()
    with django_assert_max_num_queries(limit) as large:
        assert client.get(path).status_code == 200
    assert len(large) == len(small), "\n".join(q["sql"] for q in large.captured_queries)


def more_votes(ballot, group, n: int) -> None:
    """n more components, and n more members of `group` who vote on each of them for two criteria."""
    criteria = list(ballot.criteria.all()[:2])
    components = [ComponentFactory(version=ballot.version, category="Model") for _ in range(n)]
    voters = [MembershipFactory(group=group).user for _ in range(n)]
    for voter in voters:
        for component in components:
            for criterion in criteria:
                services.cast_vote(
                    ballot=ballot,
                    voter=voter,
                    component=component,
                    criterion=criterion,
                    choice=ballot.choices.get(key="required"),
                )


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
    headers = {"HX-Request": "true"} if htmx else {}
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
        with django_assert_max_num_queries(30) as queries:  # the session, the grid, the vote and its audit event
            response = client.post(ballot_url("vote-grid"), cell | {"choice": choice}, headers=headers)
        assert response.status_code == (200 if htmx else 302), response.content.decode()[:500]
        counted.append(len(queries))

    counted: list[int] = []
    save(0)
    more_votes(voted, group, 4)
    save(1)
    assert counted[0] == counted[1], counted


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


@pytest.mark.parametrize("persona", [None, "olga"])
def test_the_ballot_overview_needs_the_same_queries_for_many_votes_and_groups(
    persona, request, client, definition, voted, group, django_assert_max_num_queries
):
    sign_in(client, request, persona)

    def grow():
        more_votes(voted, group, 4)
        for _ in range(3):
            extra = WorkingGroupFactory(definition=definition)
            MembershipFactory(group=extra)
            voted.groups.add(extra)

    assert_same_queries_when_the_data_grows(client, ballot_url("ballot"), grow, django_assert_max_num_queries, limit=15)


def test_the_audit_log_needs_the_same_queries_for_many_events(client, voted, group, django_assert_max_num_queries):
    for path in (reverse("audit:log"), reverse("audit:log") + f"?stream={voted.audit_stream}&actor=bob"):
        assert_same_queries_when_the_data_grows(
            client, path, lambda: more_votes(voted, group, 2), django_assert_max_num_queries, limit=4
        )
