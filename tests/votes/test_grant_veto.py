"""`grant_veto` and `revoke_grant`: who may hold a restricted choice, what each grant records, and what is refused.

The grants page is tested in test_grants.py. Each change writes exactly one event, to the ballot's own
stream (`audited`). A refused call raises and leaves every votes and audit row as it was (`nothing_written`).
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.factories import WorkingGroupFactory
from votes import services
from votes.models import VetoGrant, Vote

from .conftest import assert_event, audited, new_ballot, the


def test_organizer_grants_a_restricted_choice_to_a_group(ballot, olga, group, not_necessary):
    grant, event = audited(
        lambda: services.grant_veto(
            ballot=ballot, choice=not_necessary, group=group, reason="  Charter §3.  ", acting_user=olga
        )
    )

    assert (grant.group, grant.member, grant.category, grant.reason) == (group, None, "", "Charter §3.")
    assert (grant.granted_by, grant.revoked_at) == (olga, None)
    assert_event(event, ballot=ballot, action="grant.made", actor="olga", subject=grant)
    assert event.payload == {
        "choice": "not-necessary",
        "holder": "weights",
        "holder_kind": "group",
        "category": None,
        "reason": "Charter §3.",
        "granted_at": grant.granted_at.isoformat(),
        "revoked_at": None,
    }


def test_organizer_grants_a_restricted_choice_to_one_member_for_one_category(ballot, olga, dave, not_necessary):
    grant, event = audited(
        lambda: services.grant_veto(
            ballot=ballot, choice=not_necessary, member=dave, category="Data", reason="Data steward", acting_user=olga
        )
    )

    assert (grant.group, grant.member, grant.category) == (None, dave, "Data")
    assert event.payload == {
        "choice": "not-necessary",
        "holder": "@dave",
        "holder_kind": "member",
        "category": "Data",
        "reason": "Data steward",
        "granted_at": grant.granted_at.isoformat(),
        "revoked_at": None,
    }


@pytest.mark.parametrize("persona", ["alice", "bob", "carol"])
def test_only_organizers_grant_vetoes(persona, request, ballot, group, not_necessary, nothing_written):
    request.getfixturevalue(persona)  # the persona exists before nothing_written looks
    with nothing_written(), pytest.raises(PermissionDenied, match="organizers"):
        services.grant_veto(
            ballot=ballot,
            choice=not_necessary,
            group=group,
            reason="I'd like one",
            acting_user=request.getfixturevalue(persona),
        )


def test_grant_veto_refuses_what_it_cannot_grant(ballot, olga, group, other_group, dave, carol, nothing_written):
    not_necessary = the(ballot, choice="not-necessary")
    outsiders = WorkingGroupFactory(definition=ballot.definition, key="outsiders", name="Outsiders")
    other_ballot = new_ballot(ballot.version, olga, [group])
    refusals = [
        ({"choice": the(ballot, choice="required"), "group": group}, "restricted choices only"),
        ({"choice": the(other_ballot, choice="not-necessary"), "group": group}, "restricted choices only"),
        ({"choice": not_necessary}, "to one working group or to one member"),
        ({"choice": not_necessary, "group": group, "member": dave}, "to one working group or to one member"),
        ({"choice": not_necessary, "group": outsiders}, "Outsiders is not enrolled in this ballot"),
        ({"choice": not_necessary, "member": carol}, "@carol is not a member of a group enrolled"),
        ({"choice": not_necessary, "group": group, "category": "Weights"}, "no component in category Weights"),
        ({"choice": not_necessary, "group": group, "reason": "  "}, "needs a reason"),
    ]

    for fields, message in refusals:
        with nothing_written(), pytest.raises(ValidationError, match=message):
            services.grant_veto(ballot=ballot, acting_user=olga, **{"reason": "Because"} | fields)


def test_no_grant_is_made_on_a_closed_ballot(ballot, olga, group, not_necessary, nothing_written):
    services.close_ballot(ballot=ballot, acting_user=olga)

    with nothing_written(), pytest.raises(ValidationError, match="closed; grants can no longer change"):
        services.grant_veto(ballot=ballot, choice=not_necessary, group=group, reason="Late", acting_user=olga)


def test_organizer_revokes_a_grant_and_says_how_many_votes_used_it(ballot, olga, bob, group, not_necessary, cast):
    grant = services.grant_veto(ballot=ballot, choice=not_necessary, group=group, reason="Charter", acting_user=olga)
    cast(bob, choice="not-necessary")

    revoked, event = audited(lambda: services.revoke_grant(grant=grant, reason=" Charter lapsed ", acting_user=olga))

    grant.refresh_from_db()
    assert (grant.revoked_by, grant.revoke_reason) == (olga, "Charter lapsed")
    assert grant.revoked_at is not None
    assert not VetoGrant.objects.active().exists()
    assert_event(event, ballot=ballot, action="grant.revoked", actor="olga", subject=grant)
    assert event.payload == {
        "choice": "not-necessary",
        "holder": "weights",
        "holder_kind": "group",
        "category": None,
        "reason": "Charter",
        "granted_at": grant.granted_at.isoformat(),
        "revoked_at": grant.revoked_at.isoformat(),
        "revoke_reason": "Charter lapsed",
        "used_by_votes": 1,
    }
    assert Vote.objects.get().grant == grant  # votes already cast stand; disputing them is a separate step


def test_revoke_grant_refuses_to_revoke_twice_without_a_reason_or_by_others(
    ballot, olga, alice, group, not_necessary, nothing_written
):
    grant = services.grant_veto(ballot=ballot, choice=not_necessary, group=group, reason="Charter", acting_user=olga)

    with nothing_written():
        with pytest.raises(PermissionDenied, match="organizers"):
            services.revoke_grant(grant=grant, reason="Mine", acting_user=alice)
        with pytest.raises(ValidationError, match="Say why"):
            services.revoke_grant(grant=grant, reason=" ", acting_user=olga)
    services.revoke_grant(grant=grant, reason="Lapsed", acting_user=olga)
    with nothing_written(), pytest.raises(ValidationError, match="already revoked"):
        services.revoke_grant(grant=grant, reason="Again", acting_user=olga)


def test_no_grant_is_revoked_on_a_closed_ballot(ballot, olga, group, not_necessary, nothing_written):
    grant = services.grant_veto(ballot=ballot, choice=not_necessary, group=group, reason="Charter", acting_user=olga)
    services.close_ballot(ballot=ballot, acting_user=olga)

    with nothing_written(), pytest.raises(ValidationError, match="closed; grants can no longer change"):
        services.revoke_grant(grant=grant, reason="Too late", acting_user=olga)
