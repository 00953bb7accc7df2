"""Ballots as an iCalendar (RFC 5545) calendar: one event per ballot, its voting window.

The icalendar package writes the text (escaping, line folding, UTC times); this module decides what each event
says. What a ballot's window is (`Ballot.window`) and how often it changed (`BallotQuerySet.with_revisions`) are
the model's to say.

An event's UID never changes (`ballot-<id>@<host>`), so a calendar that already holds it updates it in place;
SEQUENCE counts the ballot's changes and DTSTAMP is when it last changed, so a calendar that compares them sees
which version is newer. A ballot that closes only when an organizer closes it is an event at its opening, with no
end (RFC 5545 §3.6.1: it ends when it starts) and a description that says so. A ballot with neither a planned
opening nor an opening yet is not in the calendar: it has no time to show.
"""

from collections.abc import Callable, Iterable
from datetime import timedelta

from icalendar import Calendar, Event

from .models import Ballot

# How many ballots one calendar lists, the newest first: years of a definition's ballots.
CALENDAR_MAX_EVENTS = 500
# How often a calendar application is asked to fetch it again (RFC 7986 REFRESH-INTERVAL, and Outlook's own).
REFRESH = timedelta(hours=1)


def ballot_calendar(ballots: Iterable[Ballot], *, name: str, host: str, absolute: Callable[[str], str]) -> bytes:
    """The calendar of `ballots`, read `on_calendar().with_revisions()` with their definition and version.

    `host` is the site's, for the events' UIDs; `absolute` makes a page's path a full address.
    """
    calendar = Calendar()
    calendar.add("prodid", "-//Plenary//Ballots//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", REFRESH)
    for ballot in ballots:
        calendar.add_component(ballot_event(ballot, host=host, url=absolute(ballot.get_absolute_url())))
    return calendar.to_ical()


def ballot_event(ballot: Ballot, *, host: str, url: str) -> Event:
    """One ballot's voting window as an event; its title and window only, never its votes or results."""
    start, end = ballot.window
    assert start is not None  # on_calendar(): planned to open, or opened
    event = Event()
    event.add("uid", f"ballot-{ballot.pk}@{host}")
    event.add("dtstamp", ballot.revised_at)  # with no METHOD, when the event last changed (RFC 5545 §3.8.7.2)
    event.add("created", ballot.created_at)
    event.add("last-modified", ballot.revised_at)
    event.add("sequence", ballot.revisions)
    event.add("summary", ballot.title)
    event.add("dtstart", start)
    if end is not None and end > start:
        event.add("dtend", end)
    event.add("status", "CONFIRMED")
    event.add("transp", "TRANSPARENT")  # a voting window does not make anyone busy
    event.add("url", url)
    closing = "" if end is not None else " Voting closes when an organizer closes it."
    event.add(
        "description",
        f"Voting on {ballot.definition.title} {ballot.version.label}: {ballot.title}.{closing}\n\nThe ballot: {url}",
    )
    return event
