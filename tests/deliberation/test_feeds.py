"""Calendars and feeds beside the releases feed: a definition's ballots as iCalendar and Atom, its discussion as
Atom, and each person's ballots as a calendar at a secret address they make, replace and revoke on /calendar/.

Calendars are read back with the icalendar library, feeds with ElementTree, as a subscriber's application reads
them. The ballots here: `window` opens and closes at planned times, `open_ended` has an opening and no closing
time, `by_hand` has neither (it opens when an organizer opens it), `corpora_only` enrolls dave's group only.
"""

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from icalendar import Calendar

from deliberation import services as deliberation
from deliberation.models import CalendarToken
from tests.deliberation.pages import url
from tests.factories import DefinitionFactory, DraftVersionFactory, WorkingGroupFactory
from tests.votes.conftest import CHOICES, CRITERIA, edit_ballot
from votes import services as votes
from votes.models import Ballot

ATOM = "{http://www.w3.org/2005/Atom}"
OPENS = datetime(2031, 3, 2, 9, 0, tzinfo=UTC)
CLOSES = datetime(2031, 3, 9, 17, 0, tzinfo=UTC)


def new_ballot(version, key: str, groups, olga, **kwargs) -> Ballot:
    return votes.create_ballot(
        version=version,
        key=key,
        title=kwargs.pop("title", f"Ballot {key}"),
        groups=groups,
        criteria=CRITERIA,
        choices=CHOICES,
        acting_user=olga,
        **kwargs,
    )


@pytest.fixture
def ballots(olga, published, group, other_group) -> dict[str, Ballot]:
    return {
        "window": new_ballot(
            published,
            "window",
            [group, other_group],
            olga,
            title="Components, round 1",
            opens_at=OPENS,
            closes_at=CLOSES,
        ),
        "open_ended": new_ballot(published, "open-ended", [group], olga, opens_at=OPENS),
        "by_hand": new_ballot(published, "by-hand", [group], olga),
        "corpora_only": new_ballot(published, "corpora-only", [other_group], olga, opens_at=OPENS, closes_at=CLOSES),
    }


def calendar_of(response) -> Calendar:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def events_of(response) -> dict[str, object]:
    """The calendar's events by UID, each there once."""
    events = calendar_of(response).walk("VEVENT")
    by_uid = {str(e["UID"]): e for e in events}
    assert len(by_uid) == len(events), "a ballot is in the calendar once"
    return by_uid


def uid(ballot: Ballot) -> str:
    return f"ballot-{ballot.pk}@testserver"


def feed_of(response) -> ET.Element:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    return feed


def entries(feed: ET.Element) -> list[tuple[str, str]]:
    """Each entry's title and the path its link points to."""
    return [
        (e.findtext(f"{ATOM}title"), e.find(f"{ATOM}link").get("href").removeprefix("http://testserver"))
        for e in feed.findall(f"{ATOM}entry")
    ]


# A definition's calendar of ballots ----------------------------------------------------------------


def test_the_ballot_calendar_has_an_event_for_each_ballot_with_a_time(client, ballots, oscar):
    other = DefinitionFactory(slug="elsewhere-def", title="Elsewhere")
    other.organizers.add(oscar)
    group = WorkingGroupFactory(definition=other, key="theirs")
    new_ballot(DraftVersionFactory(definition=other, label="1.0"), "theirs", [group], oscar, opens_at=OPENS)

    response = client.get(reverse("votes:ballot-calendar", args=["osd"]))

    calendar = calendar_of(response)
    assert str(calendar["X-WR-CALNAME"]) == "Open System Definition: ballots"
    events = events_of(response)
    assert set(events) == {uid(ballots["window"]), uid(ballots["open_ended"]), uid(ballots["corpora_only"])}
    window = events[uid(ballots["window"])]
    assert str(window["SUMMARY"]) == "Components, round 1"
    assert window.decoded("DTSTART") == OPENS
    assert window.decoded("DTEND") == CLOSES
    address = "http://testserver" + ballots["window"].get_absolute_url()
    assert str(window["URL"]) == address
    assert address in str(window["DESCRIPTION"])
    assert window.decoded("DTSTAMP") == ballots["window"].created_at.replace(microsecond=0)
    assert window["SEQUENCE"] == 0


def test_a_ballot_without_a_closing_time_is_an_event_at_its_opening(client, ballots):
    events = events_of(client.get(reverse("votes:ballot-calendar", args=["osd"])))

    event = events[uid(ballots["open_ended"])]
    assert event.decoded("DTSTART") == OPENS
    assert "DTEND" not in event
    assert "closes when an organizer closes it" in str(event["DESCRIPTION"])


def test_moving_a_ballot_keeps_its_event_and_says_it_changed(client, ballots, olga):
    ballot = edit_ballot(ballots["window"], olga, closes_at=CLOSES + timedelta(days=2), title="Components, round 1b")
    ballot = votes.open_ballot(ballot=ballot, acting_user=olga)  # early: its opening moves to now

    event = events_of(client.get(reverse("votes:ballot-calendar", args=["osd"])))[uid(ballot)]

    assert str(event["SUMMARY"]) == "Components, round 1b"
    assert event.decoded("DTSTART") == ballot.opened_at.replace(microsecond=0)
    assert event.decoded("DTEND") == CLOSES + timedelta(days=2)
    assert event["SEQUENCE"] == 2  # edited, opened
    assert event.decoded("DTSTAMP") > ballot.created_at.replace(microsecond=0) - timedelta(seconds=1)

    closed = votes.close_ballot(ballot=ballot, acting_user=olga, reason="Everyone has voted.")
    event = events_of(client.get(reverse("votes:ballot-calendar", args=["osd"])))[uid(ballot)]

    assert event.decoded("DTEND") == closed.closed_at.replace(microsecond=0)
    assert event["SEQUENCE"] == 3


def test_the_calendar_of_no_definition_is_404(client, db):
    assert client.get(reverse("votes:ballot-calendar", args=["nope"])).status_code == 404


# A person's calendar --------------------------------------------------------------------------------


def address_made(client, user) -> str:
    """Make `user` a calendar address on their page, as they would, and return its path."""
    client.force_login(user)
    response = client.post(url("calendar-create"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    prefix = "http://testserver/calendar/"
    start = response.content.decode().index(prefix)
    address = response.content.decode()[start:].split('"')[0]
    client.logout()
    return address.removeprefix("http://testserver")


def test_a_persons_calendar_lists_the_ballots_of_their_groups_without_sign_in(client, ballots, bob, dave, olga):
    bobs, daves, olgas = address_made(client, bob), address_made(client, dave), address_made(client, olga)

    assert set(events_of(client.get(bobs))) == {uid(ballots["window"]), uid(ballots["open_ended"])}
    assert set(events_of(client.get(daves))) == {uid(ballots["window"]), uid(ballots["corpora_only"])}
    everything = {uid(ballots[key]) for key in ("window", "open_ended", "corpora_only")}
    assert set(events_of(client.get(olgas))) == everything  # she organizes the definition
    response = client.get(bobs)
    assert response["Cache-Control"] == "private"
    assert b"bob" not in response.content.lower()  # the calendar never says whose it is


def test_a_calendar_follows_the_persons_memberships(client, ballots, bob, carol, olga, group):
    bobs, carols = address_made(client, bob), address_made(client, carol)
    assert events_of(client.get(carols)) == {}

    deliberation.remove_member(membership=group.memberships.current().get(user=bob), acting_user=olga)

    assert events_of(client.get(bobs)) == {}


def test_a_new_address_replaces_the_old_and_a_revoked_one_is_404(client, ballots, bob):
    first = address_made(client, bob)
    second = address_made(client, bob)

    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    assert CalendarToken.objects.filter(user=bob).count() == 1

    client.force_login(bob)
    assert client.post(url("calendar-revoke")).status_code == 302
    client.logout()

    assert client.get(second).status_code == 404
    assert not CalendarToken.objects.filter(user=bob).exists()


def test_a_wrong_or_overlong_token_is_404(client, ballots, bob):
    address = address_made(client, bob)
    token = address.removeprefix("/calendar/").removesuffix(".ics")

    assert len(token) >= 43
    assert client.get(reverse("votes:personal-calendar", args=[token[:-1] + "x"])).status_code == 404
    assert client.get(reverse("votes:personal-calendar", args=[token.upper()])).status_code == 404
    assert client.get(reverse("votes:personal-calendar", args=["x" * 5000])).status_code == 404


def test_the_calendar_of_a_deactivated_account_is_404(client, ballots, bob):
    address = address_made(client, bob)
    bob.is_active = False
    bob.save()

    assert client.get(address).status_code == 404


def test_the_calendar_page_shows_the_address_once_and_keeps_only_its_digest(client, bob):
    address = address_made(client, bob)
    token = address.removeprefix("/calendar/").removesuffix(".ics")

    client.force_login(bob)
    page = client.get(url("calendar")).content.decode()

    assert token not in page
    assert "Make a new address" in page and "Revoke my calendar address" in page
    assert token not in CalendarToken.objects.get(user=bob).token_digest


def test_the_calendar_page_is_for_the_signed_in(client, db):
    for response in (client.get(url("calendar")), client.post(url("calendar-create"))):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    assert not CalendarToken.objects.exists()


# A definition's feed of ballots -------------------------------------------------------------------


def test_the_ballot_feed_lists_ballots_created_opened_and_closed_newest_first(client, ballots, olga, group):
    window = votes.open_ballot(ballot=ballots["window"], acting_user=olga)
    votes.close_ballot(ballot=window, acting_user=olga, reason="Done early.")
    later = new_ballot(ballots["window"].version, "later", [group], olga, title="Later")

    feed = feed_of(client.get(reverse("votes:ballot-feed", args=["osd"])))

    assert feed.findtext(f"{ATOM}title") == "Open System Definition: ballots"
    listed = entries(feed)
    assert listed[:3] == [
        ("New ballot: Later", later.get_absolute_url() + "#created"),
        ("Voting closed: Components, round 1", window.get_absolute_url() + "#closed"),
        ("Voting opened: Components, round 1", window.get_absolute_url() + "#opened"),
    ]
    assert ("New ballot: Components, round 1", window.get_absolute_url() + "#created") in listed
    assert len(listed) == 7  # five ballots created, one of them opened and closed
    ids = [e.findtext(f"{ATOM}id") for e in feed.findall(f"{ATOM}entry")]
    assert len(set(ids)) == len(ids)


def test_the_ballot_feed_gives_times_only_never_sealed_votes(client, published, group, olga, bob):
    sealed = new_ballot(published, "sealed", [group], olga, results_visibility=Ballot.Visibility.AFTER_CLOSE)
    sealed = votes.open_ballot(ballot=sealed, acting_user=olga)
    votes.cast_vote(
        ballot=sealed,
        voter=bob,
        component=published.components.get(key="code"),
        criterion=sealed.criteria.get(key="use"),
        choice=sealed.choices.get(key="required"),
        rationale="My sealed reasons",
    )

    for response in (
        client.get(reverse("votes:ballot-feed", args=["osd"])),
        client.get(reverse("votes:ballot-calendar", args=["osd"])),
    ):
        assert response.status_code == 200
        assert b"My sealed reasons" not in response.content
        assert b"bob" not in response.content.lower()
        assert b"Required" not in response.content


def test_the_ballot_feed_opens_and_closes_ballots_whose_time_has_come(client, ballots, olga):
    Ballot.objects.filter(pk=ballots["window"].pk).update(opens_at=datetime.now(UTC) - timedelta(hours=1))

    listed = entries(feed_of(client.get(reverse("votes:ballot-feed", args=["osd"]))))

    assert ("Voting opened: Components, round 1", ballots["window"].get_absolute_url() + "#opened") in listed
    assert Ballot.objects.get(pk=ballots["window"].pk).status == Ballot.Status.OPEN


# A definition's discussion feed -------------------------------------------------------------------


def test_the_discussion_feed_lists_public_comments_and_never_hidden_or_draft_ones(
    client, published, draft, component, bob, olga
):
    first = deliberation.post_comment(author=bob, version=published, body="The *code* matters.")
    on_component = deliberation.post_comment(author=bob, version=published, component=component, body="Share it.")
    hidden = deliberation.post_comment(author=bob, version=published, body="An off-topic remark")
    deliberation.hide_comment(comment=hidden, reason="Off topic.", acting_user=olga)
    deliberation.post_comment(author=olga, version=draft, body="A note on the draft")

    response = client.get(url("discussion-feed", "osd"))

    feed = feed_of(response)
    assert feed.findtext(f"{ATOM}title") == "Open System Definition: discussion"
    assert entries(feed) == [
        ("@bob on Open System Definition 0.0.9, Training code", on_component.get_absolute_url()),
        ("@bob on Open System Definition 0.0.9", first.get_absolute_url()),
    ]
    assert first.get_absolute_url().endswith(f"/v/0.0.9/#comment-{first.pk}")
    assert "<em>code</em>" in feed.findall(f"{ATOM}entry")[1].findtext(f"{ATOM}summary")
    assert feed.find(f"{ATOM}entry/{ATOM}author/{ATOM}name").text == "@bob"
    assert b"An off-topic remark" not in response.content
    assert b"A note on the draft" not in response.content
    assert b"Member" not in response.content  # bob's name; the discussion shows his handle only


def test_the_discussion_feed_gives_the_latest_comments_only(client, published, bob, monkeypatch):
    monkeypatch.setattr("deliberation.views.definitions.FEED_MAX_ENTRIES", 3)
    posted = [deliberation.post_comment(author=bob, version=published, body=f"Comment {n}") for n in range(5)]

    listed = entries(feed_of(client.get(url("discussion-feed", "osd"))))

    assert [path for _, path in listed] == [c.get_absolute_url() for c in reversed(posted[2:])]


# On the definition's page -------------------------------------------------------------------------


def test_the_definition_page_links_every_feed_in_its_head_and_its_text(client, definition, bob):
    page = client.get(url("definition", "osd")).content.decode()
    head = page[: page.index("</head>")]

    for route, kind in (
        ("deliberation:release-feed", "application/atom+xml"),
        ("deliberation:discussion-feed", "application/atom+xml"),
        ("votes:ballot-feed", "application/atom+xml"),
        ("votes:ballot-calendar", "text/calendar"),
    ):
        address = reverse(route, args=["osd"])
        assert f'rel="alternate" type="{kind}"' in head and f'href="{address}"' in head, route
        assert page.count(f'href="{address}"') == 2, route  # in the head, and visibly
    assert reverse("deliberation:calendar") not in page  # offered to the signed-in

    client.force_login(bob)
    assert reverse("deliberation:calendar") in client.get(url("definition", "osd")).content.decode()


# Query counts -------------------------------------------------------------------------------------


def more_ballots(published, groups, olga, n: int) -> None:
    for _ in range(n):
        key = f"more-{published.ballots.count()}"
        edit_ballot(new_ballot(published, key, groups, olga, opens_at=OPENS, closes_at=CLOSES), olga, title=key)


def more_comments(published, bob, n: int) -> None:
    for i in range(n):
        deliberation.post_comment(author=bob, version=published, body=f"More {i}")


def assert_same_queries_when_the_data_grows(client, path, grow, django_assert_max_num_queries, limit):
    with django_assert_max_num_queries(limit) as small:
        assert client.get(path).status_code == 200
    grow()
    with django_assert_max_num_queries(limit) as large:
        assert client.get(path).status_code == 200
    assert len(large) == len(small), "\n".join(q["sql"] for q in large.captured_queries)


def test_the_calendars_and_feeds_need_the_same_queries_for_many_ballots_and_comments(
    client, ballots, published, group, other_group, bob, olga, django_assert_max_num_queries
):
    bobs = address_made(client, bob)
    for path in (reverse("votes:ballot-calendar", args=["osd"]), bobs, reverse("votes:ballot-feed", args=["osd"])):
        assert_same_queries_when_the_data_grows(
            client,
            path,
            lambda: more_ballots(published, [group, other_group], olga, 2),
            django_assert_max_num_queries,
            4,
        )
    assert_same_queries_when_the_data_grows(
        client,
        url("discussion-feed", "osd"),
        lambda: more_comments(published, bob, 3),
        django_assert_max_num_queries,
        2,
    )
