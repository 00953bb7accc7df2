"""The vote grid: components by criteria, one small form per cell, saved cell by cell with htmx."""

import logging
from functools import cached_property
from itertools import groupby
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_htmx.http import trigger_client_event

from config import ratelimits
from config.http import AuthenticatedHttpRequest
from config.middleware import NOT_SAVED

from .. import services
from ..access import VotingRights, check_on_behalf, get_ballot
from ..forms import CellForm
from ..models import Ballot
from .ballots import ballot_context

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)


class Grid:
    """What one voter sees: their votes, and the choices open to them on each component (`VotingRights`)."""

    def __init__(self, ballot: Ballot, voter: "User", acting_user: "User", group_key: str | None = None) -> None:
        self.ballot, self.voter = ballot, voter
        self.rights = VotingRights(ballot, voter, acting_user)
        self.memberships = self.rights.memberships
        self.group = self.rights.choose_group(group_key)
        self.other_group = self.rights.other_group  # asked for a group the voter is not in
        self.criteria = list(ballot.criteria.all())
        self.choices = list(ballot.choices.all())

    @cached_property
    def votes(self) -> dict:
        """The voter's votes by (component, criterion): all of them, or only the cell `read_cell` read."""
        return self._votes(self.ballot.votes.filter(voter=self.voter))

    def read_cell(self, component, criterion) -> None:
        """Read this cell's vote alone: saving one cell answers with that cell, whatever else the voter cast."""
        self.votes = self._votes(self.ballot.votes.filter(voter=self.voter, component=component, criterion=criterion))

    @staticmethod
    def _votes(votes) -> dict:
        return {(v.component_id, v.criterion_id): v for v in votes.select_related("choice", "cast_by", "group")}

    def cell(self, component, criterion, error: str = "") -> dict:
        vote = self.votes.get((component.pk, criterion.pk))
        choices = self.rights.choices_for(self.choices, component)
        # A vote whose grant was revoked keeps its choice shown: saving the cell must not withdraw it unseen.
        kept = vote.choice if vote and vote.choice not in choices else None
        return {
            "id": f"cell-{component.key}-{criterion.key}",
            "component": component,
            "criterion": criterion,
            "vote": vote,
            "choices": sorted([*choices, kept], key=lambda c: c.position) if kept else choices,
            "kept": kept,
            "error": error,
        }

    def rows(self):
        components = self.ballot.version.components.order_by("category", "position", "key")
        for category, items in groupby(components, key=lambda c: c.category):
            yield category, [(c, [] if c.is_aggregate else [self.cell(c, k) for k in self.criteria]) for c in items]

    @property
    def voted(self) -> int:
        return len(self.votes)

    @property
    def restricted_choices(self) -> list:
        return self.rights.restricted_choices(self.choices)

    def refusal(self) -> str:
        """A vote for a group the voter is not in is refused, never cast for the voter's own group instead."""
        if self.other_group:
            return self.rights.not_voting_for(f"“{self.other_group}”")
        return ""


def _voter(request: AuthenticatedHttpRequest, ballot: Ballot, handle: str | None) -> "User":
    if handle is None or handle == request.user.get_username():
        return request.user
    check_on_behalf(ballot, request.user)
    return get_object_or_404(get_user_model(), username=handle)


def _over_the_vote_limit(request: HttpRequest) -> str:
    """Count this save against the author's VOTE_RATE_LIMIT; once it is spent, the sentence that says so."""
    return ratelimits.spent(request, group="votes.save", rate=settings.VOTE_RATE_LIMIT, what="vote saves")


def _save(request: AuthenticatedHttpRequest, grid: Grid, form: CellForm, component, criterion) -> str:
    """Cast or withdraw the cell's vote as the form says; the refusal, if any, in one sentence for the cell."""
    ballot, voter = grid.ballot, grid.voter
    cell = {"ballot": ballot, "voter": voter, "component": component, "criterion": criterion}
    try:
        if form.withdraws:
            services.withdraw_vote(**cell, acting_user=request.user)
            grid.votes.pop((component.pk, criterion.pk), None)
        else:
            grid.votes[(component.pk, criterion.pk)] = services.cast_vote(
                **cell,
                choice=form.chosen,
                rationale=form.cleaned_data["rationale"],
                group=grid.group,
                acting_user=request.user,
            )
    except ValidationError as exc:
        return " ".join(exc.messages)
    except PermissionDenied as exc:
        return str(exc)
    except DatabaseError:  # rolled back whole: say so in the cell, where htmx would not show an error page
        logger.exception("A vote on %s by @%s could not be saved", ballot, voter.get_username())
        return NOT_SAVED
    return ""


@login_required
@require_http_methods(["GET", "POST"])
def vote_grid(request: AuthenticatedHttpRequest, slug: str, key: str, handle: str | None = None) -> HttpResponse:
    ballot = get_ballot(slug, key)
    voter = _voter(request, ballot, handle)
    grid = Grid(ballot, voter, request.user, request.POST.get("group") or request.GET.get("group"))
    if grid.group is None:
        who = "You are" if voter == request.user else f"@{voter.get_username()} is"
        # a member added after a frozen roster's opening is told so (VotingRights.frozen_out), anyone else this
        raise PermissionDenied(
            grid.rights.frozen_out or f"{who} not a member of a working group enrolled in this ballot."
        )
    context = ballot_context(request, ballot) | {"grid": grid, "voter": voter, "handle": handle}
    if request.method == "GET":
        if voter != request.user and not request.htmx:
            services.read_sealed_votes(ballot=ballot, voter=voter, acting_user=request.user)
        return render(request, "votes/ballot_vote.html#progress" if request.htmx else "votes/ballot_vote.html", context)

    form = CellForm(request.POST, ballot=ballot, criteria=grid.criteria, choices=grid.choices)
    form.is_valid()  # the fields that are valid are read even when another is refused
    if (posted := form.cell()) is None:
        return HttpResponseBadRequest("That is not a cell of this ballot.")
    component, criterion = posted
    grid.read_cell(component, criterion)
    if too_many := _over_the_vote_limit(request):
        if not request.htmx:
            return render(request, "429.html", context | {"message": too_many}, status=429)
        cell = grid.cell(component, criterion, too_many)
        return render(request, "votes/ballot_vote.html#cell", context | {"cell": cell}, status=429)
    # A rationale too long, a choice not on the scale, another group's cell: said in the cell, nothing is saved.
    error = grid.refusal() or form.refusal() or _save(request, grid, form, component, criterion)

    if not request.htmx:
        if error:
            messages.error(request, f"{component.title}, {criterion.label}: {error} Nothing was changed.")
        if grid.other_group:
            return render(request, "votes/ballot_vote.html", context, status=400)
        name, args = ("votes:vote-grid-on-behalf", [slug, key, handle]) if handle else ("votes:vote-grid", [slug, key])
        return redirect(f"{reverse(name, args=args)}?group={grid.group.key}#cell-{component.key}-{criterion.key}")
    # The grid as read before, with this cell as stored (or unchanged, when nothing was saved).
    cell = grid.cell(component, criterion, error)
    response = render(request, "votes/ballot_vote.html#cell", context | {"cell": cell})
    if not error:
        trigger_client_event(response, "vote-changed")
    return response
