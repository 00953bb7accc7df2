"""What the votes app tells members: a ballot opened, and (before it closes) the cells they left without a vote.

`scheduled` is the ballot `components` on 0.0.9 (leaves code and data, the aggregate all-data: 2 × 4 = 8 cells)
for weights (alice, bob) and corpora (dave), organized by olga, who is no member. Mail goes over real SMTP.
"""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from deliberation.models import Membership
from notifications.models import Delivery, Kind, Notification
from tests.factories import MembershipFactory, UserFactory
from tests.mail import text_of
from tests.votes.conftest import edit_ballot
from votes import services, tasks
from votes.models import REMIND_BEFORE_MAX_HOURS, Ballot

CLOSES = datetime(2031, 3, 4, 17, 30, tzinfo=UTC)


@pytest.fixture
def immediate(django_capture_on_commit_callbacks):
    def run(change):
        with django_capture_on_commit_callbacks(execute=True):
            return change()

    return run


def sent_to(smtp_server) -> list[str]:
    return sorted(m["To"] for m in smtp_server.messages)


# Voting opened -------------------------------------------------------------------------------------


def test_opening_tells_every_member_who_may_vote_the_ballot_its_closing_time_and_their_cells(
    smtp_server, immediate, scheduled, olga
):
    scheduled = edit_ballot(scheduled, olga, closes_at=CLOSES)

    immediate(lambda: services.open_ballot(ballot=scheduled, acting_user=olga))

    assert sent_to(smtp_server) == ["alice@example.org", "bob@example.org", "dave@example.org"]  # not olga
    mail = smtp_server.to("bob@example.org")[0]
    assert mail["Subject"] == "[Plenary] Voting opened: Component vote on 0.0.9"
    body = " ".join(text_of(mail).split())
    assert (
        "Voting on “Component vote on 0.0.9” (Open System Definition 0.0.9) is open. "
        "It closes on 4 Mar 2031 at 17:30 UTC. You have 8 cells to vote on." in body
    )
    assert "/osd/" in body and scheduled.key in body
    assert set(Notification.objects.filter(kind=Kind.BALLOT_OPENED).values_list("key", "delivery")) == {
        (f"ballot-opened:{scheduled.pk}", Delivery.SENT)
    }


def test_a_scheduled_opening_tells_them_once_however_often_the_schedule_is_applied(
    smtp_server, immediate, scheduled, olga
):
    Ballot.objects.filter(pk=scheduled.pk).update(opens_at=timezone.now() - timedelta(seconds=1))

    immediate(lambda: call_command("apply_schedules", stdout=StringIO()))
    immediate(lambda: call_command("apply_schedules", stdout=StringIO()))

    assert sent_to(smtp_server) == ["alice@example.org", "bob@example.org", "dave@example.org"]
    assert "It has no closing time yet" in text_of(smtp_server.messages[0])


def test_a_sealed_ballot_s_opening_says_nothing_of_its_votes_and_a_former_member_hears_nothing(
    smtp_server, immediate, scheduled, olga, bob
):
    Ballot.objects.filter(pk=scheduled.pk).update(results_visibility=Ballot.Visibility.AFTER_CLOSE)
    Membership.objects.filter(user=bob).update(left_at=timezone.now())

    immediate(lambda: services.open_ballot(ballot=scheduled, acting_user=olga))

    assert sent_to(smtp_server) == ["alice@example.org", "dave@example.org"]
    body = text_of(smtp_server.messages[0]).lower()
    assert not any(word in body for word in ("result", "turnout", "voted", "roll call"))


def test_opening_to_many_members_costs_the_same_queries_as_to_a_few(scheduled, olga, group):
    """One bulk insert of the notifications, however many members: the organizer's request answers at once."""

    def opening_queries(ballot: Ballot) -> int:
        with CaptureQueriesContext(connection) as queries:
            services.open_ballot(ballot=ballot, acting_user=olga)
        return len(queries)

    few = opening_queries(scheduled)
    second = services.create_ballot(
        version=scheduled.version,
        key="second",
        title="Second",
        groups=[group],
        criteria=[("use", "Use")],
        choices=[{"key": "yes", "label": "Yes", "value": 1}],
        eligibility=Ballot.Eligibility.LIVE,
        acting_user=olga,
    )
    for n in range(60):
        MembershipFactory(group=group, user=UserFactory(username=f"member{n}"))

    assert opening_queries(second) == few
    assert Notification.objects.filter(key=f"ballot-opened:{second.pk}").count() == 62


# Voting closes soon --------------------------------------------------------------------------------


def closing_in(ballot: Ballot, hours: float) -> Ballot:
    Ballot.objects.filter(pk=ballot.pk).update(closes_at=timezone.now() + timedelta(hours=hours))
    return Ballot.objects.get(pk=ballot.pk)


def test_members_with_cells_without_a_vote_are_reminded_once_how_many(smtp_server, immediate, ballot, cast, alice, bob):
    for component in ("code", "data"):
        for criterion in ("use", "study", "modify", "share"):
            cast(alice, component, criterion, "required")  # every cell
    for criterion in ("use", "study", "modify"):
        cast(bob, "code", criterion, "abstain")
    closing_in(ballot, 23)
    Ballot.objects.filter(pk=ballot.pk).update(opened_at=timezone.now() - timedelta(days=2))

    assert immediate(lambda: tasks.remind_closing.delay().get()) == 2
    assert immediate(services.remind_closing) == 0  # once per ballot and member

    assert sent_to(smtp_server) == ["bob@example.org", "dave@example.org"]  # alice voted on every cell
    to_bob = smtp_server.to("bob@example.org")[0]
    assert to_bob["Subject"] == "[Plenary] Voting closes within 24 hours: Component vote on 0.0.9"
    assert "You have 5 cells without a vote." in " ".join(text_of(to_bob).split())
    assert "You have 8 cells without a vote." in " ".join(text_of(smtp_server.to("dave@example.org")[0]).split())
    assert set(Notification.objects.filter(kind=Kind.BALLOT_CLOSING).values_list("key", flat=True)) == {
        f"ballot-closing:{ballot.pk}"
    }


def test_no_reminder_before_its_time_nor_when_turned_off_nor_for_a_ballot_opened_within_it(ballot):
    Ballot.objects.filter(pk=ballot.pk).update(opened_at=timezone.now() - timedelta(days=3))
    closing_in(ballot, 25)
    assert services.remind_closing() == 0  # not yet
    closing_in(ballot, 2)
    Ballot.objects.filter(pk=ballot.pk).update(remind_before_hours=0)
    assert services.remind_closing() == 0  # turned off
    Ballot.objects.filter(pk=ballot.pk).update(remind_before_hours=3, opened_at=timezone.now())
    assert services.remind_closing() == 0  # opened 2 h before closing, within the 3 h: its opening said when
    Ballot.objects.filter(pk=ballot.pk).update(opened_at=timezone.now() - timedelta(days=3))
    assert services.remind_closing() == 3
    assert not Notification.objects.filter(kind=Kind.BALLOT_CLOSING, recipient__username="olga").exists()


def test_make_run_s_schedule_command_sends_the_reminders_too(ballot):
    Ballot.objects.filter(pk=ballot.pk).update(opened_at=timezone.now() - timedelta(days=3))
    closing_in(ballot, 1)
    out = StringIO()
    call_command("apply_schedules", stdout=out)
    assert "3 reminders that a ballot closes soon" in out.getvalue()


def test_beat_runs_the_reminders():
    from config.celery import app

    assert app.conf.beat_schedule["remind-ballots-closing"]["task"] == "votes.tasks.remind_closing"


def test_the_organizer_sets_the_reminder_on_the_form_within_its_limit(client, olga, scheduled):
    client.force_login(olga)
    page = client.get(reverse("votes:ballot-edit", args=["osd", scheduled.key]))
    assert 'name="remind_before_hours" value="24"' in page.content.decode()

    from votes.forms import BallotForm

    form = BallotForm(
        {"remind_before_hours": str(REMIND_BEFORE_MAX_HOURS + 1)}, definition=scheduled.definition, ballot=scheduled
    )
    assert not form.is_valid() and "remind_before_hours" in form.errors

    edited = services.update_ballot(
        ballot=scheduled,
        acting_user=olga,
        **{
            "title": scheduled.title,
            "description": scheduled.description,
            "groups": list(scheduled.groups.all()),
            "criteria": [(c.key, c.label) for c in scheduled.criteria.all()],
            "choices": [c.as_data() for c in scheduled.choices.all()],
            "methodology": scheduled.methodology,
            "clustering": scheduled.clustering,
            "eligibility": scheduled.eligibility,
            "opens_at": None,
            "closes_at": None,
        },
        remind_before_hours=48,
    )
    assert Ballot.objects.get(pk=edited.pk).remind_before_hours == 48
