"""Declared conflicts of interest: `declare_conflict` and `withdraw_conflict`, the public register page, and the
mark on a vote cast over a standing declaration (roll call, the voter's own grid, the API).

Each change writes exactly one event, to the ballot's own stream (`audited`); a refused call raises and leaves
every row as it was (`nothing_written`). Who may see and post each address is also in tests/config/permission_table.py.
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from votes import services
from votes.models import STATEMENT_MAX_LENGTH, ConflictDeclaration, Vote

from .conftest import assert_event, audited, the
from .pages import table_rows


def url(name: str, *args) -> str:
    return reverse(f"votes:{name}", args=["osd", "components", *args])


def declare(ballot, member, component: str | None = None, statement: str = "I consult for a model vendor."):
    return services.declare_conflict(
        ballot=ballot,
        member=member,
        component=the(ballot, component=component) if component else None,
        statement=statement,
    )


# The services ----------------------------------------------------------------------------------


def test_a_voter_declares_a_conflict_in_one_component_on_the_record(ballot, bob):
    declaration, event = audited(lambda: declare(ballot, bob, "code", "  I maintain a training framework.  "))

    assert (declaration.member, declaration.component.key, declaration.statement) == (
        bob,
        "code",
        "I maintain a training framework.",
    )
    assert declaration.withdrawn_at is None
    assert_event(event, ballot=ballot, action="conflict.declared", actor="bob", subject=declaration)
    assert event.payload == {
        "member": "bob",
        "component": "code",
        "statement": "I maintain a training framework.",
        "declared_at": declaration.declared_at.isoformat(),
        "withdrawn_at": None,
    }


def test_a_conflict_in_the_whole_ballot_is_declared_before_voting_opens(scheduled, dave):
    declaration, event = audited(lambda: declare(scheduled, dave))

    assert declaration.component is None
    assert declaration.scope == "the whole ballot"
    assert event.payload["component"] is None


def test_the_declarer_withdraws_it_and_it_stays_on_the_register(ballot, bob):
    declaration = declare(ballot, bob, "code")

    withdrawn, event = audited(
        lambda: services.withdraw_conflict(declaration=declaration, acting_user=bob, reason=" I left that job. ")
    )

    assert withdrawn.withdrawn_at is not None
    assert withdrawn.withdrawn_reason == "I left that job."
    assert_event(event, ballot=ballot, action="conflict.withdrawn", actor="bob", subject=declaration)
    assert event.payload == withdrawn.as_data() | {"reason": "I left that job."}
    assert event.payload["withdrawn_at"] == withdrawn.withdrawn_at.isoformat()
    assert list(ballot.conflicts.all()) == [declaration]
    assert not ballot.conflicts.standing().exists()


def test_once_withdrawn_the_same_scope_can_be_declared_again(ballot, bob):
    services.withdraw_conflict(declaration=declare(ballot, bob, "code"), acting_user=bob)

    again = declare(ballot, bob, "code", "A new contract.")

    assert list(ballot.conflicts.standing()) == [again]


def _refused(change, error, match):
    with pytest.raises(error, match=match):
        change()


@pytest.mark.parametrize(
    "who, component, statement, error, match",
    [
        ("carol", None, "Mine.", PermissionDenied, "Only members who vote on this ballot"),
        ("olga", None, "Mine.", PermissionDenied, "Only members who vote on this ballot"),
        ("bob", None, "   ", ValidationError, "Say what your interest is"),
        ("bob", None, "x" * (STATEMENT_MAX_LENGTH + 1), ValidationError, f"at most {STATEMENT_MAX_LENGTH}"),
        ("bob", "all-data", "Mine.", ValidationError, "is an aggregate and is not voted on"),
    ],
    ids=["outsider", "organizer", "no statement", "too long", "aggregate"],
)
def test_declare_conflict_refuses_with_the_reason_and_writes_nothing(
    request, ballot, who, component, statement, error, match, nothing_written
):
    member = request.getfixturevalue(who)
    with nothing_written():
        _refused(lambda: declare(ballot, member, component, statement), error, match)


def test_a_second_standing_declaration_on_the_same_scope_is_refused(ballot, bob, nothing_written):
    declare(ballot, bob, "code")
    declare(ballot, bob)  # the whole ballot is another scope
    declare(ballot, bob, "data")

    with nothing_written():
        _refused(lambda: declare(ballot, bob, "code"), ValidationError, "already declared .* in Training code")
        _refused(lambda: declare(ballot, bob), ValidationError, "already declared .* in the whole ballot")


def test_a_component_of_another_version_is_refused(ballot, bob, draft, nothing_written):
    other = draft.components.get(key="code")
    with nothing_written():
        _refused(
            lambda: services.declare_conflict(ballot=ballot, member=bob, component=other, statement="Mine."),
            ValidationError,
            "not part of the version",
        )


def test_only_the_declarer_withdraws(ballot, bob, alice, olga, nothing_written):
    declaration = declare(ballot, bob, "code")
    with nothing_written():
        for other in (alice, olga):
            _refused(
                lambda other=other: services.withdraw_conflict(declaration=declaration, acting_user=other),
                PermissionDenied,
                "Only the member who declared",
            )


def test_a_withdrawn_declaration_is_not_withdrawn_twice(ballot, bob, nothing_written):
    declaration = services.withdraw_conflict(declaration=declare(ballot, bob), acting_user=bob)
    with nothing_written():
        _refused(
            lambda: services.withdraw_conflict(declaration=declaration, acting_user=bob),
            ValidationError,
            "already withdrawn",
        )


def test_once_the_ballot_closes_the_register_no_longer_changes(ballot, bob, olga, nothing_written):
    declaration = declare(ballot, bob, "code")
    services.close_ballot(ballot=ballot, acting_user=olga, reason="Done.")
    with nothing_written():
        _refused(lambda: declare(ballot, bob, "data"), ValidationError, "has closed")
        _refused(
            lambda: services.withdraw_conflict(declaration=declaration, acting_user=bob), ValidationError, "has closed"
        )


def test_votes_are_conflicted_while_a_declaration_covering_them_stands(ballot, cast, bob, alice):
    cast(bob, "code", "use")
    cast(bob, "data", "use")
    cast(alice, "code", "use")
    declaration = declare(ballot, bob, "code")

    assert {(v.voter.username, v.component.key) for v in Vote.objects.conflicted()} == {("bob", "code")}
    whole = declare(ballot, bob)
    assert {(v.voter.username, v.component.key) for v in Vote.objects.conflicted()} == {
        ("bob", "code"),
        ("bob", "data"),
    }
    services.withdraw_conflict(declaration=whole, acting_user=bob)
    services.withdraw_conflict(declaration=declaration, acting_user=bob)
    assert not Vote.objects.conflicted().exists()
    assert not any(v.is_conflicted for v in Vote.objects.with_flags())


# The register page ---------------------------------------------------------------------------


def test_the_register_is_public_and_lists_who_what_when_and_withdrawals(client, ballot, bob, dave):
    declare(ballot, bob, "code", "I maintain a training framework.")
    services.withdraw_conflict(
        declaration=declare(ballot, dave, None, "My employer sells data."), acting_user=dave, reason="Left."
    )

    response = client.get(url("conflicts"))

    assert response.status_code == 200
    rows = table_rows(response, "conflicts")
    assert [row[:3] for row in rows] == [
        ["@bob", "Training code", "I maintain a training framework."],
        ["@dave", "the whole ballot", "My employer sells data."],
    ]
    assert rows[0][4].startswith("standing")
    assert rows[1][4].startswith("withdrawn") and rows[1][4].endswith(": Left.")
    assert b"Sign in</a> as a member who votes on this ballot" in response.content
    assert b"Withdraw the declaration" not in response.content


def test_the_ballot_nav_links_to_the_register(client, ballot):
    response = client.get(reverse("votes:ballot", args=["osd", "components"]))

    assert f'href="{url("conflicts")}"'.encode() in response.content


def test_a_voter_declares_on_the_page_without_javascript(client, ballot, bob):
    client.force_login(bob)
    code = the(ballot, component="code")

    response = client.post(url("conflicts"), {"component": code.pk, "statement": "I maintain a framework."})

    declaration = ConflictDeclaration.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{url('conflicts')}#conflict-{declaration.pk}"
    assert (declaration.member, declaration.component) == (bob, code)
    page = client.get(url("conflicts"))
    assert b"Withdraw the declaration" in page.content
    assert "Your conflict of interest in Training code is on the register." in page.content.decode()


def test_the_whole_ballot_is_the_default_scope_on_the_page(client, ballot, dave):
    client.force_login(dave)

    client.post(url("conflicts"), {"component": "", "statement": "My employer."})

    assert ConflictDeclaration.objects.get().component is None


def test_a_refused_declaration_is_shown_again_with_the_reason(client, ballot, bob):
    declare(ballot, bob)
    client.force_login(bob)

    response = client.post(url("conflicts"), {"component": "", "statement": "Again."})

    assert response.status_code == 200
    assert "already declared a conflict of interest in the whole ballot" in response.content.decode()
    assert ConflictDeclaration.objects.count() == 1


def test_someone_who_does_not_vote_is_refused_and_offered_no_form(client, ballot, carol):
    client.force_login(carol)

    assert b"Members who vote on this ballot declare" in client.get(url("conflicts")).content
    assert client.post(url("conflicts"), {"statement": "Mine."}).status_code == 403
    assert not ConflictDeclaration.objects.exists()


def test_the_declarer_withdraws_on_the_page(client, ballot, bob):
    declaration = declare(ballot, bob, "code")
    client.force_login(bob)

    response = client.post(url("conflict-withdraw", declaration.pk), {"reason": "Contract ended."})

    assert response.status_code == 302
    declaration.refresh_from_db()
    assert (declaration.withdrawn_at is not None, declaration.withdrawn_reason) == (True, "Contract ended.")


def test_another_member_cannot_withdraw_it(client, ballot, bob, alice):
    declaration = declare(ballot, bob, "code")
    client.force_login(alice)

    assert client.post(url("conflict-withdraw", declaration.pk)).status_code == 403
    declaration.refresh_from_db()
    assert declaration.withdrawn_at is None


# The mark on a conflicted vote ---------------------------------------------------------------


def test_the_roll_call_marks_a_vote_cast_over_a_declared_conflict_in_words(client, ballot, cast, bob, alice):
    cast(bob, "code", "use")
    cast(alice, "code", "use")
    declare(ballot, bob, "code")

    rows = table_rows(client.get(url("roll-call")), "roll-call")

    marked = {row[2]: "⚑ conflict declared" in row[4] for row in rows}
    assert marked == {"@alice": False, "@bob": True}
    only = table_rows(client.get(url("roll-call"), {"flag": "conflicted"}), "roll-call")
    assert [row[2] for row in only] == ["@bob"]


def test_the_voters_own_grid_marks_the_conflicted_cell(client, ballot, cast, bob):
    cast(bob, "code", "use")
    cast(bob, "data", "use")
    declare(ballot, bob, "data")
    client.force_login(bob)

    page = client.get(url("vote-grid")).content.decode()

    code_cell = page.split('id="cell-code-use"')[1].split("</td>")[0]
    data_cell = page.split('id="cell-data-use"')[1].split("</td>")[0]
    assert "conflict declared" not in code_cell
    assert "⚑ conflict declared" in data_cell
    assert "You have declared a conflict of interest that covers the votes marked" in page


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_vote_saved_over_a_declared_conflict_comes_back_marked(client, ballot, bob, htmx):
    declare(ballot, bob, "code")
    client.force_login(bob)
    headers = {"HX-Request": "true"} if htmx else {}

    response = client.post(
        url("vote-grid"), {"component": "code", "criterion": "use", "choice": "required"}, headers=headers, follow=True
    )

    assert response.status_code == 200
    cell = response.content.decode().split('id="cell-code-use"')[1].split("</td>")[0]
    assert "⚑ conflict declared" in cell


def test_the_api_says_which_votes_are_conflicted(client, ballot, cast, bob, alice):
    cast(bob, "code", "use")
    cast(alice, "code", "use")
    declare(ballot, bob)

    votes = client.get("/api/definitions/osd/ballots/components/votes").json()["items"]

    assert {v["voter"]: v["conflicted"] for v in votes} == {"alice": False, "bob": True}
