"""A definition's ballots as a calendar and an Atom feed, and a person's ballots as a calendar at their secret address.

All of them say what the ballot list says to anyone: titles and voting windows, never votes, roll calls or
results, so a ballot whose results are sealed until it closes shows nothing more here than there.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from deliberation.access import calendar_owner
from deliberation.models import FEED_MAX_ENTRIES, Definition

from .. import calendars, services
from ..models import Ballot, BallotQuerySet


def ballot_calendar(request: HttpRequest, slug: str) -> HttpResponse:
    """The definition's ballots, public like its ballot list."""
    definition = get_object_or_404(Definition, slug=slug)
    response = _calendar(request, definition.ballots.all(), name=f"{definition.title}: ballots")
    response["Content-Disposition"] = f'inline; filename="{definition.slug}-ballots.ics"'
    return response


def personal_calendar(request: HttpRequest, token: str) -> HttpResponse:
    """The ballots of a person's groups and definitions, for whoever holds their secret address (no sign-in)."""
    owner = calendar_owner(token)
    response = _calendar(request, Ballot.objects.followed_by(owner), name=f"My ballots · {settings.SITE_NAME}")
    response["Cache-Control"] = "private"  # the address is the secret: no shared cache keeps the answer
    response["X-Robots-Tag"] = "noindex"
    return response


def _calendar(request: HttpRequest, ballots: BallotQuerySet, *, name: str) -> HttpResponse:
    ballots = (
        ballots.on_calendar()
        .with_revisions()
        .select_related("definition", "version")
        .order_by("-created_at", "-pk")[: calendars.CALENDAR_MAX_EVENTS]
    )
    body = calendars.ballot_calendar(ballots, name=name, host=request.get_host(), absolute=request.build_absolute_uri)
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")


@dataclass(frozen=True)
class Phase:
    """One entry of the ballots feed: a ballot created, opened or closed, and when."""

    ballot: Ballot
    what: str  # a name of `Ballot.phases`
    at: datetime

    def get_absolute_url(self) -> str:
        """The ballot's page; the fragment makes each entry's address, which is its Atom id, its own."""
        return f"{self.ballot.get_absolute_url()}#{self.what}"


TITLES = {"created": "New ballot: {}", "opened": "Voting opened: {}", "closed": "Voting closed: {}"}
ORDER = list(TITLES)  # of one ballot's phases at the same time, the later comes first in the feed


def _when(moment: datetime) -> str:
    return moment.strftime("%-d %b %Y, %H:%M UTC")


def window_in_words(ballot: Ballot) -> str:
    """The ballot's voting window as it stands, in a sentence: the times only."""
    start, end = ballot.window
    if ballot.status == Ballot.Status.SCHEDULED:
        opens = f"Voting opens on {_when(start)}" if start else "Voting opens when an organizer opens it"
    else:
        opens = f"Voting opened on {_when(start)}" if start else "Voting opened"
    if ballot.status == Ballot.Status.CLOSED:
        closes = f"closed on {_when(end)}" if end else "closed"
    else:
        closes = f"closes on {_when(end)}" if end else "closes when an organizer closes it"
    return f"{opens} and {closes}."


class BallotFeed(Feed):
    """An Atom feed of a definition's ballots being created, opened and closed, newest first."""

    feed_type = Atom1Feed

    def get_object(self, request: HttpRequest, slug: str) -> Definition:
        definition = get_object_or_404(Definition, slug=slug)
        services.apply_schedules(definition.ballots.all())  # as the ballot list: opened or closed on time
        return definition

    def title(self, obj: Definition) -> str:
        return f"{obj.title}: ballots"

    def link(self, obj: Definition) -> str:
        return reverse("votes:ballot-list", args=[obj.slug])

    def subtitle(self, obj: Definition) -> str:
        return f"Ballots on {obj.title} as they are created, open and close."

    def items(self, obj: Definition) -> list[Phase]:
        # The newest entries come from the ballots most recently active: no more ballots than entries are read.
        ballots = obj.ballots.select_related("definition").by_latest_activity()[:FEED_MAX_ENTRIES]
        phases = [Phase(ballot, what, at) for ballot in ballots for what, at in ballot.phases()]
        phases.sort(key=lambda p: (p.at, ORDER.index(p.what)), reverse=True)
        return phases[:FEED_MAX_ENTRIES]

    def item_title(self, item: Phase) -> str:
        return TITLES[item.what].format(item.ballot.title)

    def item_description(self, item: Phase) -> str:
        return window_in_words(item.ballot)

    def item_pubdate(self, item: Phase) -> datetime:
        return item.at

    def item_updateddate(self, item: Phase) -> datetime:
        return item.at
