from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from audit.models import head
from config.http import AuthenticatedHttpRequest
from deliberation.models import Definition, Membership

from .. import services
from ..access import VotingRights, get_ballot
from ..forms import BallotForm
from ..models import Ballot, Turnout


def ballot_context(request: HttpRequest, ballot: Ballot) -> dict:
    """What every page of a ballot needs; its tabs offer the grid only to those who can vote."""
    user = request.user
    return {
        "definition": ballot.definition,
        "ballot": ballot,
        "is_organizer": ballot.definition.is_organizer(user),
        "can_vote": VotingRights(ballot, user).can_vote,
    }


def ballot_list(request: HttpRequest, slug: str) -> HttpResponse:
    definition = get_object_or_404(Definition, slug=slug)
    ballots = definition.ballots.select_related("version").with_counts()
    return render(
        request,
        "votes/ballot_list.html",
        {"definition": definition, "ballots": ballots, "is_organizer": definition.is_organizer(request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def ballot_create(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    definition = get_object_or_404(Definition, slug=slug)
    if not definition.is_organizer(request.user):
        raise PermissionDenied("Only the definition's organizers can create ballots.")
    form = BallotForm(request.POST if request.method == "POST" else None, definition=definition)
    if form.is_valid():
        data = form.cleaned_data
        try:
            ballot = services.create_ballot(
                version=data["version"],
                key=data["key"],
                title=data["title"],
                description=data["description"],
                groups=data["groups"],
                criteria=data["criteria"],
                choices=data["choices"],
                results_visibility=data["results_visibility"],
                methodology=form.methodology(),
                clustering=form.clustering(),
                opens_at=data["opens_at"],
                closes_at=data["closes_at"],
                acting_user=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Ballot “{ballot.title}” created. It opens when you open it.")
            return redirect(ballot)
    return render(request, "votes/ballot_form.html", {"definition": definition, "form": form})


def ballot(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    ballot = get_ballot(slug, key)
    context = ballot_context(request, ballot)
    groups = list(
        ballot.groups.select_related("definition").annotate(
            member_count=Count("memberships", filter=Q(memberships__left_at__isnull=True))
        )
    )
    turnout = ballot.votes.turnout() if ballot.results_public else Turnout()
    for group in groups:
        group.voter_count = turnout.voters_for.get(group.pk, 0)  # type: ignore[attr-defined]  # for the template
    voters = (
        Membership.objects.current().filter(group__in=ballot.groups.all()).select_related("user", "group")
        if context["is_organizer"] and ballot.accepts_votes()
        else []
    )
    return render(
        request,
        "votes/ballot.html",
        context
        | {
            "groups": groups,
            "criteria": ballot.criteria.all(),
            "choices": ballot.choices.all(),
            "vote_count": turnout.votes,
            "voter_count": turnout.voters,
            "grant_count": ballot.grants.active().count(),
            "open_disputes": ballot.disputes.filter(status="open").count(),
            "audit_head": head(ballot.audit_stream),
            "voters": voters,
        },
    )


@login_required
@require_POST
def ballot_open(request: AuthenticatedHttpRequest, slug: str, key: str) -> HttpResponse:
    ballot = get_ballot(slug, key)
    try:
        services.open_ballot(ballot=ballot, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Voting is open.")
    return redirect(ballot)


@login_required
@require_POST
def ballot_close(request: AuthenticatedHttpRequest, slug: str, key: str) -> HttpResponse:
    ballot = get_ballot(slug, key)
    try:
        services.close_ballot(ballot=ballot, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Voting is closed; each group's roster is frozen with the ballot.")
    return redirect(ballot)
