"""The vote grid: components by criteria, one small form per cell, saved cell by cell with htmx."""

import logging
from functools import cached_property
from itertools import groupby
from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError
from django.db.models import Q
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe
from django_htmx.http import trigger_client_event

from config import ratelimits
from config.http import AuthenticatedHttpRequest
from config.middleware import NOT_SAVED

from .. import services
from ..access import CHOOSE_GROUP, VotingRights, get_ballot, get_voter
from ..forms import CellForm
from ..models import Ballot, Vote
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
        self.other_group = self.rights.other_group  # asked for a group the voter does not vote for
        self.voted_for = self.rights.voted_for  # the group their votes count for, once a member of several voted
        # ordered on their own columns: their default ordering joins the ballot and its definition
        self.criteria = list(ballot.criteria.order_by("position", "pk"))
        self.choices = list(ballot.choices.order_by("position", "pk"))
        self.one_cell = False
        self.cells_read: list = []

    @property
    def must_choose(self) -> bool:
        """A member of several enrolled groups who has not voted yet is asked for their group before any cell."""
        return self.group is None and self.rights.must_choose

    @cached_property
    def votes(self) -> dict:
        """The voter's votes by (component, criterion): all of them, or only the cells named to `read_cells`."""
        votes = self.ballot.votes.filter(voter=self.voter)
        if self.one_cell:
            query = Q(pk__in=[])
            for component, criterion in self.cells_read:
                query |= Q(component=component, criterion=criterion)
            votes = votes.filter(query)
        return self._votes(votes)

    def read_cells(self, cells) -> None:
        """Read these cells' votes alone, once needed: a save answers with its cells, whatever else the voter cast."""
        self.cells_read, self.one_cell = list(cells), True

    def saved(self, component, criterion, vote: Vote | None) -> None:
        """The cell as a save left it. A save of one cell answers with that cell alone: it need not be read before."""
        if self.cells_read == [(component, criterion)] and "votes" not in self.__dict__:
            self.votes = {}
        if vote is None:
            self.votes.pop((component.pk, criterion.pk), None)
        else:
            self.votes[(component.pk, criterion.pk)] = vote

    @property
    def conflicted(self) -> bool:
        """Whether a vote read is cast over one of the voter's standing declared conflicts of interest."""
        return any(v.is_conflicted for v in self.votes.values())

    @staticmethod
    def _votes(votes) -> dict:
        # no ORDER BY: Vote's ordering would join the ballot and its definition for a dict
        votes = votes.with_conflict_flag().select_related("choice", "cast_by", "group").order_by()
        return {(v.component_id, v.criterion_id): v for v in votes}

    def cell(self, component, criterion, error: str = "", confirm_withdraw: bool = False) -> dict:
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
            "confirm_withdraw": confirm_withdraw and vote is not None,
            "conflicted": vote is not None and vote.is_conflicted,
        }

    @cached_property
    def components(self) -> list:
        return list(self.ballot.version.components.order_by("category", "position", "key"))

    def rows(self):
        for category, items in groupby(self.components, key=lambda c: c.category):
            yield category, [(c, [] if c.is_aggregate else [self.cell(c, k) for k in self.criteria]) for c in items]

    @cached_property
    def progress(self) -> tuple[int, int]:
        """(cells voted, cells to vote on): from the votes and components read, or two counts after a save."""
        if self.one_cell:
            voted = self.ballot.votes.filter(voter=self.voter).count()
            leaves = self.ballot.version.components.leaves().count()
        else:
            voted, leaves = len(self.votes), sum(1 for c in self.components if not c.is_aggregate)
        return voted, leaves * len(self.criteria)

    @property
    def voted(self) -> int:
        return self.progress[0]

    @property
    def cells(self) -> int:
        return self.progress[1]

    @property
    def restricted_choices(self) -> list:
        return self.rights.restricted_choices(self.choices)

    def refusal(self) -> str:
        """A vote for a group the voter does not vote for is refused, never cast for another group instead."""
        if self.group is None and not self.other_group and self.memberships:
            return CHOOSE_GROUP
        return self.rights.refusal()


def _save(request: AuthenticatedHttpRequest, grid: Grid, form: CellForm, component, criterion) -> str:
    """Cast or withdraw the cell's vote as the form says; the refusal, if any, in one sentence for the cell."""
    ballot, voter = grid.ballot, grid.voter
    cell = {"ballot": ballot, "voter": voter, "component": component, "criterion": criterion}
    try:
        if form.withdraws:
            services.withdraw_vote(**cell, acting_user=request.user)
            grid.saved(component, criterion, None)
        else:
            vote = services.cast_vote(
                **cell,
                choice=form.chosen,
                rationale=form.cleaned_data["rationale"],
                group=grid.group,
                acting_user=request.user,
                memberships=grid.memberships,  # as the grid read them: cast_vote reads them at this point too
            )
            vote.is_conflicted = ballot.conflicts.standing().covering(vote).exists()  # type: ignore[attr-defined]  # as `Grid._votes` annotates it
            grid.saved(component, criterion, vote)
    except ValidationError as exc:
        return " ".join(exc.messages)
    except PermissionDenied as exc:
        return str(exc)
    except DatabaseError:  # rolled back whole: say so in the cell, where htmx would not show an error page
        logger.exception("A vote on %s by @%s could not be saved", ballot, voter.get_username())
        return NOT_SAVED
    return ""


def _grid_url(grid: Grid, handle: str | None, cell_id: str = "") -> str:
    slug, key = grid.ballot.definition.slug, grid.ballot.key
    name, args = ("votes:vote-grid-on-behalf", [slug, key, handle]) if handle else ("votes:vote-grid", [slug, key])
    group = f"?group={grid.group.key}" if grid.group else ""
    return f"{reverse(name, args=args)}{group}{'#' + cell_id if cell_id else ''}"


def _open_grid(request: AuthenticatedHttpRequest, slug: str, key: str, handle: str | None) -> Grid:
    ballot = get_ballot(slug, key)
    voter = get_voter(ballot, request.user, handle)
    grid = Grid(ballot, voter, request.user, request.POST.get("group") or request.GET.get("group"))
    if not grid.memberships:
        who = "You are" if voter == request.user else f"@{voter.get_username()} is"
        # a member added after a frozen roster's opening is told so (VotingRights.frozen_out), anyone else this
        raise PermissionDenied(
            grid.rights.frozen_out
            or grid.rights.identity_missing  # a provider account their group requires, not linked
            or f"{who} not a member of a working group enrolled in this ballot."
        )
    return grid


def _context(request: AuthenticatedHttpRequest, grid: Grid, handle: str | None) -> dict:
    """What the grid's templates read: the grid, for its htmx parts (cells, progress); the ballot's too, for a page."""
    context = {"ballot": grid.ballot, "grid": grid, "voter": grid.voter, "handle": handle}
    return context if request.htmx else ballot_context(request, grid.ballot) | context


@login_required
@require_http_methods(["GET", "POST"])
def vote_grid(request: AuthenticatedHttpRequest, slug: str, key: str, handle: str | None = None) -> HttpResponse:
    grid = _open_grid(request, slug, key, handle)
    ballot, voter = grid.ballot, grid.voter
    if request.method == "GET":
        if voter != request.user and not request.htmx and not grid.must_choose:
            services.read_sealed_votes(ballot=ballot, voter=voter, acting_user=request.user)
        template = "votes/ballot_vote.html#progress" if request.htmx else "votes/ballot_vote.html"
        return render(request, template, _context(request, grid, handle))
    if "save-all" in request.POST:
        return _save_all(request, grid, handle)

    form = CellForm(request.POST, ballot=ballot, criteria=grid.criteria, choices=grid.choices)
    form.is_valid()  # the fields that are valid are read even when another is refused
    if (posted := form.cell()) is None:
        return HttpResponseBadRequest("That is not a cell of this ballot.")
    component, criterion = posted
    grid.read_cells([posted])
    cell_id = f"cell-{component.key}-{criterion.key}"
    # Choosing “— no vote —” on a voted cell asks first: on its own page, or in the cell with htmx.
    asks = form.chosen is None and not form.cleaned_data.get("withdraw") and ballot.accepts_votes()
    if asks and not form.refusal() and not grid.refusal():
        if grid.votes.get((component.pk, criterion.pk)) is not None:
            if not request.htmx:
                return redirect(_withdraw_url(grid, handle, component, criterion))
            cell = grid.cell(component, criterion, confirm_withdraw=True)
            return render(request, "votes/ballot_vote.html#cell", _context(request, grid, handle) | {"cell": cell})
    if too_many := ratelimits.vote_saves(request):
        if not request.htmx:
            return render(request, "429.html", _context(request, grid, handle) | {"message": too_many}, status=429)
        cell = grid.cell(component, criterion, too_many)
        return render(
            request, "votes/ballot_vote.html#cell", _context(request, grid, handle) | {"cell": cell}, status=429
        )
    # A rationale too long, a choice not on the scale, another group's cell: said in the cell, nothing is saved.
    error = grid.refusal() or form.refusal() or _save(request, grid, form, component, criterion)

    context = _context(request, grid, handle)
    if not request.htmx:
        if error:
            messages.error(
                request,
                _("%(title)s, %(label)s: %(error)s Nothing was changed.")
                % {"title": component.title, "label": criterion.label, "error": error},
            )
        if grid.group is None or grid.other_group:
            return render(request, "votes/ballot_vote.html", context, status=400)
        return redirect(_grid_url(grid, handle, cell_id))
    # The grid as read before, with this cell as stored (or unchanged, when nothing was saved), and the progress.
    cell = grid.cell(component, criterion, error)
    response = render(request, "votes/ballot_vote.html#cell-saved", context | {"cells": [cell]})
    if not error:
        trigger_client_event(response, "vote-changed")
    return response


def _save_all(request: AuthenticatedHttpRequest, grid: Grid, handle: str | None) -> HttpResponse:
    """Save every cell the “Save all changed” form lists, one after another, each as its own Save would.

    Each cell goes through `cast_vote` and writes its own audit event; each is accepted or refused on its own,
    with its reason. Each cell counts once against VOTE_RATE_LIMIT, as its own Save would: a batch is no way
    around the limit, and the cells after it is spent are refused with its sentence. Withdrawals are not
    saved here: each asks for confirmation on its own (choose “— no vote —” and the cell's Save).
    """
    posted = [request.POST.getlist(name) for name in ("component", "criterion", "choice", "rationale")]
    if len({len(values) for values in posted}) != 1 or not posted[0]:
        return HttpResponseBadRequest("List each cell with its component, criterion, choice and rationale.")
    if len(posted[0]) > len(grid.criteria) * sum(not c.is_aggregate for c in grid.components):
        return HttpResponseBadRequest("More cells than this ballot has.")
    forms, seen = [], set()
    for component, criterion, choice, rationale in zip(*posted, strict=True):
        data = {"component": component, "criterion": criterion, "choice": choice, "rationale": rationale}
        form = CellForm(data, ballot=grid.ballot, criteria=grid.criteria, choices=grid.choices)
        form.is_valid()
        if (cell := form.cell()) is None:
            return HttpResponseBadRequest("That is not a cell of this ballot.")
        if cell not in seen:  # a cell listed twice is saved once, as first listed
            seen.add(cell)
            forms.append((form, *cell))
    grid.read_cells([(component, criterion) for _form, component, criterion in forms])
    cells, saved, refused = [], 0, []
    for form, component, criterion in forms:
        if form.chosen is None and not form.refusal():
            error = WITHDRAW_ON_ITS_OWN
        else:
            error = ratelimits.vote_saves(request) or grid.refusal() or form.refusal()
            error = error or _save(request, grid, form, component, criterion)
        if error:
            refused.append(f"{component.title}, {criterion.label}: {error} Nothing was changed.")
        saved += not error
        cells.append(grid.cell(component, criterion, error))
    summary = f"{saved} cell{'s' if saved != 1 else ''} saved" + (f", {len(refused)} refused." if refused else ".")
    context = _context(request, grid, handle)
    if not request.htmx:
        if saved:
            messages.success(request, summary)
        for refusal in refused:
            messages.error(request, refusal)
        if grid.group is None or grid.other_group:
            return render(request, "votes/ballot_vote.html", context, status=400)
        return redirect(_grid_url(grid, handle))
    response = render(
        request, "votes/ballot_vote.html#cell-saved", context | {"cells": cells, "oob": True, "summary": summary}
    )
    if saved:
        trigger_client_event(response, "vote-changed")
    return response


WITHDRAW_ON_ITS_OWN = "A withdrawal is confirmed on its own: choose “— no vote —” and press this cell's Save."


def _withdraw_url(grid: Grid, handle: str | None, component, criterion) -> str:
    slug, key = grid.ballot.definition.slug, grid.ballot.key
    cell = [component.key, criterion.key]
    if handle:
        url = reverse("votes:vote-withdraw-on-behalf", args=[slug, key, handle, *cell])
    else:
        url = reverse("votes:vote-withdraw", args=[slug, key, *cell])
    return f"{url}?group={grid.group.key}" if grid.group else url


@login_required
@require_safe
def vote_withdraw(
    request: AuthenticatedHttpRequest, slug: str, key: str, component: str, criterion: str, handle: str | None = None
) -> HttpResponse:
    """Asks before a vote is withdrawn, saying what follows; its form posts the withdrawal to the grid."""
    grid = _open_grid(request, slug, key, handle)
    posted = CellForm(
        {"component": component, "criterion": criterion}, ballot=grid.ballot, criteria=grid.criteria, choices=[]
    )
    posted.is_valid()
    cell = posted.cell()
    assert cell is not None  # the address holds both keys
    grid.read_cells([cell])
    if grid.voter != request.user:
        services.read_sealed_votes(ballot=grid.ballot, voter=grid.voter, acting_user=request.user)
    back = _grid_url(grid, handle, f"cell-{component}-{criterion}")
    return render(
        request, "votes/vote_withdraw.html", _context(request, grid, handle) | {"cell": grid.cell(*cell), "back": back}
    )
