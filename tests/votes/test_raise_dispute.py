"""`raise_dispute` and `resolve_dispute`: which votes a dispute selects, what it records, and what is refused.

The disputes page is tested in test_disputes.py. Each change writes exactly one event, to the ballot's own
stream (`audited`). A refused call raises and leaves every votes and audit row as it was (`nothing_written`).
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.factories import WorkingGroupFactory
from votes import services
from votes.models import Dispute

from .conftest import assert_event, audited, new_ballot, the


def test_a_member_disputes_a_set_of_votes(ballot, olga, alice, bob, dave, other_group, not_necessary, cast):
    services.grant_veto(ballot=ballot, choice=not_necessary, group=other_group, reason="Charter", acting_user=olga)
    cast(dave, "code", "use", "not-necessary")
    cast(dave, "data", "use", "not-necessary")
    cast(dave, "data", "study", "required")
    cast(bob, "code", "use", "required")

    dispute, event = audited(
        lambda: services.raise_dispute(
            ballot=ballot, raised_by=alice, reason=" No rationale given. ", group=other_group, choice=not_necessary
        )
    )

    assert (dispute.status, dispute.raised_by, dispute.reason) == (Dispute.Status.OPEN, alice, "No rationale given.")
    assert dispute.selection == "votes for group corpora choosing Not necessary"
    assert_event(event, ballot=ballot, action="dispute.raised", actor="alice", subject=dispute)
    assert event.payload == {
        "selection": {
            "voter": None,
            "group": "corpora",
            "choice": "not-necessary",
            "component": None,
            "criterion": None,
        },
        "reason": "No rationale given.",
        "status": "open",
        "resolution": "",
        "votes": 2,
    }


def test_an_organizer_disputes_a_single_vote(ballot, olga, bob, cast):
    cast(bob, "code", "use")
    cast(bob, "code", "study")

    dispute, event = audited(
        lambda: services.raise_dispute(
            ballot=ballot,
            raised_by=olga,
            reason="Cast after the deadline agreed in the meeting.",
            voter=bob,
            component=the(ballot, component="code"),
            criterion=the(ballot, criterion="study"),
        )
    )

    assert dispute.selection == "votes by @bob on code for Study"
    assert event.payload["selection"] == {
        "voter": "bob",
        "group": None,
        "choice": None,
        "component": "code",
        "criterion": "study",
    }
    assert event.payload["votes"] == 1


def test_raise_dispute_refuses_outsiders_and_vague_or_empty_selections(
    ballot, olga, bob, carol, group, draft, cast, nothing_written
):
    cast(bob)
    other = new_ballot(ballot.version, olga, [group])
    outsiders = WorkingGroupFactory(definition=ballot.definition, key="outsiders", name="Outsiders")
    refusals = [
        (ValidationError, {"reason": " "}, "Say why you dispute"),
        (ValidationError, {}, "Say which votes you dispute"),
        (ValidationError, {"group": outsiders}, "Outsiders is not enrolled"),
        (ValidationError, {"choice": the(other, choice="required")}, "choice or criterion is not part of this ballot"),
        (ValidationError, {"criterion": the(other, criterion="use")}, "choice or criterion is not part of this ballot"),
        (ValidationError, {"component": draft.components.get(key="code")}, "not part of the version"),
        (ValidationError, {"criterion": the(ballot, criterion="share")}, "No current vote matches"),
    ]

    with nothing_written():
        with pytest.raises(PermissionDenied, match="Only members of the definition's working groups"):
            services.raise_dispute(ballot=ballot, raised_by=carol, reason="I object", voter=bob)
        for exception, selection, message in refusals:
            with pytest.raises(exception, match=message):
                services.raise_dispute(ballot=ballot, raised_by=bob, **{"reason": "Because"} | selection)


@pytest.fixture
def dispute(ballot, alice, bob, cast):
    cast(bob)
    return services.raise_dispute(ballot=ballot, raised_by=alice, reason="Misclick?", voter=bob)


@pytest.mark.parametrize("status", [Dispute.Status.UPHELD, Dispute.Status.DISMISSED])
def test_organizer_resolves_a_dispute(status, ballot, dispute, olga):
    resolved, event = audited(
        lambda: services.resolve_dispute(
            dispute=dispute, status=status, resolution=" Asked bob on 3 May. ", acting_user=olga
        )
    )

    resolved.refresh_from_db()
    assert (resolved.status, resolved.resolution, resolved.resolved_by) == (status, "Asked bob on 3 May.", olga)
    assert resolved.resolved_at is not None
    assert_event(event, ballot=ballot, action="dispute.resolved", actor="olga", subject=dispute)
    assert event.payload == {
        "selection": {"voter": "bob", "group": None, "choice": None, "component": None, "criterion": None},
        "reason": "Misclick?",
        "status": status,
        "resolution": "Asked bob on 3 May.",
    }


def test_resolve_dispute_refuses_others_bad_statuses_blank_resolutions_and_second_resolutions(
    dispute, olga, alice, nothing_written
):
    with nothing_written():
        with pytest.raises(PermissionDenied, match="organizers"):
            services.resolve_dispute(dispute=dispute, status="upheld", resolution="Mine", acting_user=alice)
        for status in ("open", "maybe"):
            with pytest.raises(ValidationError, match="upheld or dismissed"):
                services.resolve_dispute(dispute=dispute, status=status, resolution="Hm", acting_user=olga)
        with pytest.raises(ValidationError, match="Explain the resolution"):
            services.resolve_dispute(dispute=dispute, status="upheld", resolution="  ", acting_user=olga)
    services.resolve_dispute(dispute=dispute, status="dismissed", resolution="Confirmed.", acting_user=olga)
    with nothing_written(), pytest.raises(ValidationError, match="already dismissed"):
        services.resolve_dispute(dispute=dispute, status="upheld", resolution="Changed my mind", acting_user=olga)
