"""Ballots open and close by themselves at their times, and the clock decides whatever ran.

`scheduled` is the ballot `components`, not yet open (weights: alice, bob; corpora: dave), organized by olga.
No scheduler runs in these tests: a page read, the `apply_schedules` command or its Celery task moves a ballot
on; a vote after `closes_at` (or before `opens_at`) is refused even when nothing has.
"""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from analysis.auditing import verify_records
from audit.models import AuditEvent
from tests.client import page_messages, text
from tests.votes.pages import actions, ballot_url, url
from votes import services, tasks
from votes.models import Ballot

pytestmark = pytest.mark.django_db(transaction=False)


def set_window(ballot: Ballot, *, opens: timedelta | None = None, closes: timedelta | None = None) -> Ballot:
    """Move the ballot's window relative to now, behind the log's back: what time passing does."""
    now = timezone.now()
    Ballot.objects.filter(pk=ballot.pk).update(
        opens_at=now + opens if opens is not None else None, closes_at=now + closes if closes is not None else None
    )
    return Ballot.objects.get(pk=ballot.pk)


def cast(ballot, voter, choice="required"):
    return services.cast_vote(
        ballot=ballot,
        voter=voter,
        component=ballot.version.components.get(key="code"),
        criterion=ballot.criteria.get(key="use"),
        choice=ballot.choices.get(key=choice),
    )


# By the clock, whatever ran ------------------------------------------------------------------


def test_a_vote_after_closes_at_is_refused_with_no_scheduler_running(ballot, bob, nothing_written):
    ballot = set_window(ballot, closes=timedelta(seconds=-1))
    assert ballot.status == Ballot.Status.OPEN  # nothing has closed it

    with nothing_written(), pytest.raises(ValidationError, match="Voting on this ballot has closed."):
        cast(ballot, bob)


def test_a_withdrawal_after_closes_at_is_refused_with_no_scheduler_running(ballot, bob, nothing_written):
    vote = cast(ballot, bob)
    ballot = set_window(ballot, closes=timedelta(seconds=-1))

    with nothing_written(), pytest.raises(ValidationError, match="has closed"):
        services.withdraw_vote(ballot=ballot, voter=bob, component=vote.component, criterion=vote.criterion)


def test_a_vote_before_opens_at_is_refused(scheduled, ballot, bob, nothing_written):
    ballot = set_window(ballot, opens=timedelta(hours=1))  # open, but its window starts later

    with nothing_written(), pytest.raises(ValidationError, match="has not opened yet"):
        cast(ballot, bob)


def test_a_vote_on_a_ballot_whose_opening_time_has_not_come_is_refused(scheduled, bob, nothing_written):
    scheduled = set_window(scheduled, opens=timedelta(hours=1))

    with nothing_written(), pytest.raises(ValidationError, match="has not opened yet"):
        cast(scheduled, bob)


# Opening and closing by themselves ----------------------------------------------------------


def test_reading_the_ballot_page_opens_it_at_its_opening_time(client, scheduled, bob):
    scheduled = set_window(scheduled, opens=timedelta(seconds=-5), closes=timedelta(hours=1))

    page = text(client.get(ballot_url("ballot")))

    ballot = Ballot.objects.get(pk=scheduled.pk)
    assert ballot.status == Ballot.Status.OPEN
    assert "Open" in page
    event = AuditEvent.objects.get(action="ballot.opened")
    assert event.actor is None
    assert event.payload["scheduled_at"] == scheduled.opens_at.isoformat()
    assert cast(ballot, bob).voter == bob


def test_reading_any_page_of_the_ballot_closes_it_at_its_closing_time_as_the_button_does(client, ballot, bob):
    cast(ballot, bob)
    ballot = set_window(ballot, closes=timedelta(seconds=-5))

    assert client.get(ballot_url("roll-call")).status_code == 200

    closed = Ballot.objects.get(pk=ballot.pk)
    assert (closed.status, closed.roster_at_close) == (Ballot.Status.CLOSED, services.roster(closed))
    event = AuditEvent.objects.filter(action="ballot.closed").get()
    assert event.actor is None
    assert event.payload == {"votes": 1, "roster": closed.roster_at_close, "scheduled_at": ballot.closes_at.isoformat()}
    assert "Closed" in text(client.get(ballot_url("ballot")))
    assert verify_records(stream=closed.audit_stream)


def test_a_sealed_ballot_publishes_its_votes_when_it_closes_by_itself(client, olga, published, group, bob):
    ballot = services.create_ballot(
        version=published, key="secret", title="Secret", groups=[group], criteria=[("use", "Use")],
        choices=[{"key": "required", "label": "Required", "value": 1}], results_visibility="after_close",
        acting_user=olga,
    )  # fmt: skip
    ballot = services.open_ballot(ballot=ballot, acting_user=olga)
    cast(ballot, bob)
    set_window(ballot, closes=timedelta(seconds=-1))
    assert client.get(ballot_url("roll-call", key="secret")).status_code == 200  # the read closed it

    assert Ballot.objects.get(pk=ballot.pk).results_public
    assert "bob" in text(client.get(ballot_url("roll-call", key="secret")))


def test_a_ballot_whose_whole_window_has_passed_opens_then_closes(client, scheduled):
    set_window(scheduled, opens=timedelta(minutes=-10), closes=timedelta(minutes=-5))

    client.get(ballot_url("ballot"))

    assert actions()[-2:] == ["ballot.opened", "ballot.closed"]


def test_the_ballot_list_shows_a_ballot_past_its_closing_time_as_closed(client, ballot):
    set_window(ballot, closes=timedelta(seconds=-1))

    page = text(client.get(url("ballot-list", "osd")))

    assert "Component vote on 0.0.9 0.0.9 Closed" in page


def test_apply_schedules_opens_and_closes_what_is_due_and_its_dry_run_writes_nothing(scheduled, nothing_written):
    set_window(scheduled, opens=timedelta(seconds=-1))
    out = StringIO()
    with nothing_written():
        call_command("apply_schedules", "--dry-run", stdout=out)
    assert "due: ballot:osd/components (scheduled, open now)" in out.getvalue()

    call_command("apply_schedules", stdout=StringIO())
    call_command("apply_schedules", stdout=StringIO())  # idempotent

    assert Ballot.objects.get(pk=scheduled.pk).status == Ballot.Status.OPEN
    assert actions().count("ballot.opened") == 1


def test_the_periodic_task_closes_a_ballot_whose_time_has_come(ballot):
    set_window(ballot, closes=timedelta(seconds=-1))

    assert tasks.apply_schedules.delay().get() == 1

    assert Ballot.objects.get(pk=ballot.pk).status == Ballot.Status.CLOSED


def test_the_beat_schedule_runs_the_task():
    from config.celery import app

    assert app.conf.beat_schedule["apply-ballot-schedules"]["task"] == "votes.tasks.apply_schedules"


def test_nothing_moves_before_its_time(client, scheduled, nothing_written):
    set_window(scheduled, opens=timedelta(minutes=1), closes=timedelta(minutes=2))

    with nothing_written():
        client.get(ballot_url("ballot"))
        call_command("apply_schedules", stdout=StringIO())


# Opening and closing by hand, asked first ---------------------------------------------------


def test_opening_asks_first_with_its_consequences_and_writes_nothing(client, olga, scheduled, nothing_written):
    set_window(scheduled, opens=timedelta(days=1), closes=timedelta(days=2))
    client.force_login(olga)

    with nothing_written():
        page = text(client.get(ballot_url("ballot-open")))

    assert "3 members of 2 enrolled groups will be able to vote." in page
    assert "The roster is live" in page
    assert "opening now moves its opening time to now" in page


def test_opening_before_the_planned_time_moves_the_opening_time(client, olga, scheduled):
    planned = set_window(scheduled, opens=timedelta(days=1)).opens_at
    client.force_login(olga)

    response = client.post(ballot_url("ballot-open"), follow=True)

    assert page_messages(response) == ["Voting is open."]
    ballot = Ballot.objects.get(pk=scheduled.pk)
    assert ballot.opens_at <= timezone.now() and ballot.accepts_votes()
    assert AuditEvent.objects.get(action="ballot.opened").payload["planned_opens_at"] == planned.isoformat()


def test_closing_asks_first_saying_what_is_open_and_who_has_not_voted(client, olga, voted, dispute):
    client.force_login(olga)

    page = text(client.get(ballot_url("ballot-close")))

    assert "1 dispute is still open." in page
    assert "member who may vote has not voted." in page or "members who may vote have not voted." in page


def test_closing_a_sealed_ballot_does_not_count_who_has_voted(client, olga, published, group):
    services.create_ballot(
        version=published, key="secret", title="Secret", groups=[group], criteria=[("use", "Use")],
        choices=[{"key": "yes", "label": "Yes", "value": 1}], results_visibility="after_close", acting_user=olga,
    )  # fmt: skip
    services.open_ballot(ballot=Ballot.objects.get(key="secret"), acting_user=olga)
    client.force_login(olga)

    page = text(client.get(ballot_url("ballot-close", key="secret")))

    assert "have not voted" not in page and "has not voted" not in page
    assert "closing publishes every vote, the roll call and the results" in page


def test_closing_early_needs_a_reason_and_writes_nothing_without_one(client, olga, ballot, nothing_written):
    set_window(ballot, closes=timedelta(days=1))
    client.force_login(olga)

    with nothing_written():
        response = client.post(ballot_url("ballot-close"), {"reason": "  "})

    assert response.status_code == 200
    assert "Say why voting closes before its closing time" in text(response)


def test_closing_early_with_a_reason_records_it_and_shows_it(client, olga, ballot):
    set_window(ballot, closes=timedelta(days=1))
    client.force_login(olga)

    response = client.post(ballot_url("ballot-close"), {"reason": "The charter vote was moved."}, follow=True)

    assert "by an organizer: The charter vote was moved." in text(response)
    payload = AuditEvent.objects.get(action="ballot.closed").payload
    assert payload["reason"] == "The charter vote was moved."
    assert "planned_closes_at" in payload


def test_a_reason_too_long_is_refused(client, olga, ballot, nothing_written):
    client.force_login(olga)

    with nothing_written():
        response = client.post(ballot_url("ballot-close"), {"reason": "x" * 2001})

    assert "at most 2000 characters" in text(response)
