"""The vote grid: components by criteria, one small form per cell, saved cell by cell with htmx."""

import logging
from functools import cached_property
from itertools import groupby

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_htmx.http import trigger_client_event

from config import ratelimits
from config.middleware import NOT_SAVED

from .. import services
from ..forms import CellForm
from ..models import Ballot
from .ballots import ballot_context, get_ballot

logger = logging.getLogger(__name__)


class Grid:
    """What one voter sees: their votes, and the choices open to them on each component."""

    def __init__(self, ballot: Ballot, voter, group_key: str | None = None):
        self.ballot, self.voter = ballot, voter
        self.memberships = list(services.voting_memberships(ballot, voter))
        chosen = [m for m in self.memberships if m.group.key == group_key]
        self.other_group = group_key if group_key and not chosen else ""  # asked for a group the voter is not in
        self.group = (chosen or self.memberships or [None])[0]
        self.group = self.group.group if self.group else None
        self.criteria = list(ballot.criteria.all())
        self.choices = list(ballot.choices.all())
        grants = ballot.grants.active().filter(Q(member=voter) | Q(group=self.group)) if self.group else []
        self.granted = {(g.choice_id, g.category) for g in grants}

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

    def choices_for(self, category: str) -> list:
        return [
            c
            for c in self.choices
            if not c.requires_grant or (c.pk, "") in self.granted or (c.pk, category) in self.granted
        ]

    def cell(self, component, criterion, error: str = "") -> dict:
        vote = self.votes.get((component.pk, criterion.pk))
        choices = self.choices_for(component.category)
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
        return [c for c in self.choices if c.requires_grant and any(c.pk == pk for pk, _ in self.granted)]


def _voter(request: HttpRequest, ballot: Ballot, handle: str | None):
    if handle is None or handle == request.user.get_username():
        return request.user
    if not ballot.definition.is_organizer(request.user):
        raise PermissionDenied("Only organizers vote on another member's behalf.")
    return get_object_or_404(get_user_model(), username=handle)


def _over_the_vote_limit(request: HttpRequest) -> str:
    """Count this save against the author's VOTE_RATE_LIMIT; once it is spent, the sentence that says so."""
    return ratelimits.spent(request, group="votes.save", rate=settings.VOTE_RATE_LIMIT, what="vote saves")


@login_required
@require_http_methods(["GET", "POST"])
def vote_grid(request: HttpRequest, slug: str, key: str, handle: str | None = None) -> HttpResponse:
    ballot = get_ballot(slug, key)
    voter = _voter(request, ballot, handle)
    grid = Grid(ballot, voter, request.POST.get("group") or request.GET.get("group"))
    if grid.group is None:
        who = "You are" if voter == request.user else f"@{voter.get_username()} is"
        raise PermissionDenied(f"{who} not a member of a working group enrolled in this ballot.")
    context = ballot_context(request, ballot) | {"grid": grid, "voter": voter, "handle": handle}
    if request.method == "GET":
        if voter != request.user and not request.htmx:
            services.read_sealed_votes(ballot=ballot, voter=voter, acting_user=request.user)
        return render(request, "votes/ballot_vote.html#progress" if request.htmx else "votes/ballot_vote.html", context)

    form = CellForm(request.POST)
    form.is_valid()
    data = form.cleaned_data  # the fields that are valid
    if "component" not in data or "criterion" not in data:
        return HttpResponseBadRequest("That is not a cell of this ballot.")
    component = get_object_or_404(ballot.version.components, key=data["component"])
    criterion = next((k for k in grid.criteria if k.key == data["criterion"]), None)  # the grid has read them
    if criterion is None:
        raise Http404("No such criterion on this ballot.")
    choice = next((c for c in grid.choices if c.key == data["choice"]), None) if data.get("choice") else None
    grid.read_cell(component, criterion)
    if too_many := _over_the_vote_limit(request):
        if not request.htmx:
            return render(request, "429.html", context | {"message": too_many}, status=429)
        cell = grid.cell(component, criterion, too_many)
        return render(request, "votes/ballot_vote.html#cell", context | {"cell": cell}, status=429)
    # A rationale too long, a choice not on the scale: said in the cell, and nothing is saved.
    error = " ".join(f"{name.capitalize()}: {e}" for name, errors in form.errors.items() for e in errors)
    if data.get("choice") and choice is None and "choice" not in form.errors:
        error = "That choice is not on this ballot's scale."
    if grid.other_group:  # never the voter's own group instead
        error = f"@{voter.get_username()} does not vote for “{grid.other_group}” in this ballot."
    try:
        if error:
            pass  # nothing to save
        elif data["withdraw"] or choice is None:
            services.withdraw_vote(
                ballot=ballot, voter=voter, component=component, criterion=criterion, acting_user=request.user
            )
            grid.votes.pop((component.pk, criterion.pk), None)
        else:
            grid.votes[(component.pk, criterion.pk)] = services.cast_vote(
                ballot=ballot,
                voter=voter,
                component=component,
                criterion=criterion,
                choice=choice,
                rationale=data["rationale"],
                group=grid.group,
                acting_user=request.user,
            )
    except (ValidationError, PermissionDenied) as exc:
        error = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    except DatabaseError:  # rolled back whole: say so in the cell, where htmx would not show an error page
        logger.exception("A vote on %s by @%s could not be saved", ballot, voter.get_username())
        error = NOT_SAVED

    if not request.htmx:
        if error:
            messages.error(request, f"{component.title}, {criterion.label}: {error} Nothing was changed.")
        if grid.other_group:
            return render(request, "votes/ballot_vote.html", context, status=400)
        url = (
            reverse("votes:vote-grid-on-behalf", args=[slug, key, handle])
            if handle
            else reverse("votes:vote-grid", args=[slug, key])
        )
        return redirect(f"{url}?group={grid.group.key}#cell-{component.key}-{criterion.key}")
    # The grid as read before, with this cell as stored (or unchanged, when nothing was saved).
    response = render(
        request, "votes/ballot_vote.html#cell", context | {"grid": grid, "cell": grid.cell(component, criterion, error)}
    )
    if not error:
        trigger_client_event(response, "vote-changed")
    return response
