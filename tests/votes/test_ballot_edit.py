"""Editing a ballot: every setting while it is scheduled, only its closing time once open, each change on record.

`scheduled` is the ballot `components` (weights and corpora), not yet open, organized by olga; `ballot` the same
ballot open. The edit page is the form of a new ballot, filled in with the ballot's settings.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from analysis import bundles
from analysis.auditing import verify_records
from audit.models import AuditEvent, record
from plenary_tally.verification import verify
from tests.client import text
from tests.votes.conftest import edit_ballot
from tests.votes.pages import ballot_rows, ballot_url, url
from votes import services
from votes.models import Ballot


def edit_form(client, **changes) -> dict:
    """The edit page's form as it comes, with `changes`: what an organizer posts."""
    form = client.get(ballot_url("ballot-edit")).context["form"]
    data = {
        name: form[name].value()
        for name in form.fields
        if form[name].value() is not None and name not in ("opens_at", "closes_at")
    }
    data["groups"] = [g.pk for g in form.initial["groups"]]
    rows = ballot_rows(
        [(f.initial["key"], f.initial["label"]) for f in form.criteria_rows.forms if f.initial],
        [f.initial for f in form.choice_rows.forms if f.initial],
    )
    return data | rows | changes


def test_the_organizer_edits_a_scheduled_ballot_and_each_change_is_recorded(client, olga, scheduled, group):
    client.force_login(olga)
    data = edit_form(client, title="A second title", eligibility="frozen", groups=[group.pk])
    data |= {"criteria-4-key": "reuse", "criteria-4-label": "Reuse", "criteria-TOTAL_FORMS": "5"}

    response = client.post(ballot_url("ballot-edit"), data)

    assert response.status_code == 302
    ballot = Ballot.objects.get(pk=scheduled.pk)
    assert (ballot.title, ballot.eligibility, list(ballot.groups.all())) == ("A second title", "frozen", [group])
    assert [c.key for c in ballot.criteria.all()] == ["use", "study", "modify", "share", "reuse"]
    event = AuditEvent.objects.get(action="ballot.updated")
    assert event.actor.username == "olga"
    assert set(event.payload["changed"]) == {"title", "eligibility", "groups", "group_names", "criteria"}
    assert event.payload["previous"]["title"] == "Component vote on 0.0.9"
    assert event.payload["roster"] == services.roster(ballot)


def test_saving_the_edit_form_unchanged_records_nothing(client, olga, scheduled):
    client.force_login(olga)
    data = edit_form(client)

    client.post(ballot_url("ballot-edit"), data)

    assert not AuditEvent.objects.filter(action="ballot.updated").exists()


def test_a_bundle_of_an_edited_ballot_verifies(scheduled, olga, group, bob, tmp_path):
    ballot = edit_ballot(
        scheduled, olga, title="Edited", groups=[group], criteria=[("use", "Use")], eligibility="frozen",
        choices=[{"key": "required", "label": "Needed", "value": 2}], clustering={"k": 2, "seed": 3},
    )  # fmt: skip
    ballot = services.open_ballot(ballot=ballot, acting_user=olga)
    ballot = services.reschedule_ballot(
        ballot=ballot, closes_at=timezone.now() + timedelta(days=3), reason="More time", acting_user=olga
    )
    services.cast_vote(
        ballot=ballot, voter=bob, component=ballot.version.components.get(key="code"),
        criterion=ballot.criteria.get(key="use"), choice=ballot.choices.get(key="required"),
    )  # fmt: skip
    ballot = services.close_ballot(ballot=ballot, acting_user=olga, reason="Done early")
    path = tmp_path / "tally.zip"
    bundles.export_bundle(ballot, path)

    assert verify(path).ok, verify(path).lines()
    assert verify_records(stream=ballot.audit_stream)


def test_a_log_that_edits_an_open_ballot_fails_to_verify(ballot, olga, tmp_path):
    with transaction.atomic():  # a server that edited the rules while voting was open
        Ballot.objects.filter(pk=ballot.pk).update(title="Changed while open")
        record(
            stream=ballot.audit_stream, actor=olga, action="ballot.updated", subject=ballot,
            payload={"changed": {"title": "Changed while open"}, "previous": {"title": ballot.title}},
        )  # fmt: skip
    path = tmp_path / "tally.zip"
    bundles.export_bundle(Ballot.objects.get(pk=ballot.pk), path)

    assert any("only a scheduled ballot is edited" in str(p) for p in verify(path).problems)


def test_an_open_ballot_only_moves_its_closing_time_with_a_reason(client, olga, ballot):
    client.force_login(olga)
    page = client.get(ballot_url("ballot-edit"))
    assert "only the closing time can move" in text(page)

    response = client.post(
        ballot_url("ballot-edit"),
        {"time_zone": "UTC", "closes_at": "2031-05-01T12:00", "reason": "Members asked for more time."},
    )

    assert response.status_code == 302
    assert Ballot.objects.get(pk=ballot.pk).closes_at == datetime(2031, 5, 1, 12, tzinfo=UTC)
    event = AuditEvent.objects.get(action="ballot.rescheduled")
    assert event.payload == {
        "changed": {"closes_at": "2031-05-01T12:00:00+00:00"},
        "previous": {"closes_at": None},
        "reason": "Members asked for more time.",
    }


def test_moving_the_closing_time_without_a_reason_or_into_the_past_writes_nothing(
    client, olga, ballot, nothing_written
):
    client.force_login(olga)

    with nothing_written():
        no_reason = client.post(ballot_url("ballot-edit"), {"time_zone": "UTC", "closes_at": "2031-05-01T12:00"})
        past = client.post(
            ballot_url("ballot-edit"), {"time_zone": "UTC", "closes_at": "2001-05-01T12:00", "reason": "x"}
        )

    assert "This field is required." in text(no_reason)
    assert "The new closing time has passed already" in text(past)


def test_only_a_scheduled_ballot_is_edited(ballot, olga, nothing_written):
    with nothing_written(), pytest.raises(ValidationError, match="Only a scheduled ballot can be edited"):
        edit_ballot(ballot, olga, title="Too late")


def test_only_organizers_edit(scheduled, alice, nothing_written):
    with nothing_written(), pytest.raises(PermissionDenied):
        edit_ballot(scheduled, alice, title="Not mine")


def test_a_choice_with_a_veto_grant_stays_on_the_scale(scheduled, olga, group, nothing_written):
    services.grant_veto(
        ballot=scheduled, choice=scheduled.choices.get(key="not-necessary"), group=group, reason="Charter",
        acting_user=olga,
    )  # fmt: skip
    with nothing_written(), pytest.raises(ValidationError, match="Choice not-necessary has veto grants"):
        edit_ballot(scheduled, olga, choices=[{"key": "required", "label": "Required", "value": 1}])


def test_a_closed_ballot_offers_no_form(client, olga, ballot):
    services.close_ballot(ballot=ballot, acting_user=olga)
    client.force_login(olga)

    assert "This ballot has closed" in text(client.get(ballot_url("ballot-edit")))


# Times in the person's zone -------------------------------------------------------------------


def test_times_are_entered_in_the_zone_the_form_states(client, olga, published, group):
    client.force_login(olga)
    client.cookies["tz"] = "Europe/Paris"
    page = text(client.get(url("ballot-create", "osd")))
    assert "Times are in Europe/Paris (UTC+01:00)." in page or "Times are in Europe/Paris (UTC+02:00)." in page

    client.post(
        url("ballot-create", "osd"),
        {
            "title": "Zoned", "key": "zoned", "version": published.pk, "groups": [group.pk], "eligibility": "frozen",
            "results_visibility": "live", "rule": "majority", "threshold": "0.5", "k": "2", "seed": "1",
            "time_zone": "Europe/Paris", "opens_at": "2030-01-02T09:00", "closes_at": "2030-07-02T09:00",
            **ballot_rows([("use", "Use")], [{"key": "yes", "label": "Yes", "value": "1"}]),
        },
    )  # fmt: skip

    ballot = Ballot.objects.get(key="zoned")
    assert ballot.opens_at == datetime(2030, 1, 2, 8, tzinfo=UTC)  # UTC+01:00 in winter
    assert ballot.closes_at == datetime(2030, 7, 2, 7, tzinfo=UTC)  # UTC+02:00 in summer
    page = text(client.get(ballot_url("ballot", key="zoned")))
    assert "opens by itself 2 Jan 2030, 09:00" in page
    assert "times in Europe/Paris" in page


def test_without_a_zone_times_are_utc(client, olga, scheduled):
    client.force_login(olga)

    assert "Times are in UTC (UTC+00:00)." in text(client.get(ballot_url("ballot-edit")))


def test_an_unknown_time_zone_is_refused_by_name(client, olga, scheduled, nothing_written):
    client.force_login(olga)
    data = edit_form(client, title="Changed", time_zone="Mars/Olympus")

    with nothing_written():
        response = client.post(ballot_url("ballot-edit"), data)

    assert "Select a valid choice. Mars/Olympus is not one of the available choices." in text(response)


def test_an_edited_description_is_shown_rendered_as_written(client, olga, scheduled):
    edit_ballot(scheduled, olga, description="Decide *one* thing. <script>alert(1)</script>")

    page = client.get(scheduled.get_absolute_url()).content.decode()

    assert "Decide <em>one</em> thing." in page
    assert "<script>alert(1)" not in page
