from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from audit import tlog
from audit.models import head
from config.http import AuthenticatedHttpRequest
from deliberation.models import Definition, Membership
from plenary_tally import presets

from .. import services
from ..access import VotingRights, eligible_memberships, get_ballot
from ..forms import BallotForm, CloseBallotForm, RescheduleForm, person_zone, zone_label
from ..models import Ballot, Dispute, Turnout


def ballot_context(request: HttpRequest, ballot: Ballot) -> dict:
    """What every page of a ballot needs; its tabs offer the grid only to those who can vote."""
    user = request.user
    rights = VotingRights(ballot, user)
    zone = _zone(request)
    return {
        "definition": ballot.definition,
        "ballot": ballot,
        "is_organizer": ballot.definition.is_organizer(user),
        "can_vote": rights.can_vote,
        "rights": rights,  # `rights.frozen_out`: why a member added after a frozen roster's opening cannot vote
        "zone": zone,
        "zone_label": zone_label(zone),
    }


def ballot_list(request: HttpRequest, slug: str) -> HttpResponse:
    definition = get_object_or_404(Definition, slug=slug)
    services.apply_schedules(definition.ballots.all())  # shown as they are: opened or closed if their time has come
    ballots = definition.ballots.select_related("version").with_counts()
    return render(
        request,
        "votes/ballot_list.html",
        {"definition": definition, "ballots": ballots, "is_organizer": definition.is_organizer(request.user)},
    )


def _zone(request: HttpRequest):
    """The person's time zone: the one their browser stated (static/js/timezone.js sets the cookie), else UTC."""
    return person_zone(request.COOKIES.get("tz"))


def _require_organizer(ballot_or_definition: Ballot | Definition, user, what: str) -> None:
    definition = ballot_or_definition.definition if isinstance(ballot_or_definition, Ballot) else ballot_or_definition
    if not definition.is_organizer(user):
        raise PermissionDenied(_("Only the definition's organizers can %(what)s.") % {"what": what})


@login_required
@require_http_methods(["GET", "POST"])
def ballot_create(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    definition = get_object_or_404(Definition, slug=slug)
    _require_organizer(definition, request.user, "create ballots")
    form = BallotForm(
        request.POST if request.method == "POST" else None,
        definition=definition,
        zone=_zone(request),
        preset=request.GET.get("preset"),
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            ballot = services.create_ballot(
                version=data["version"],
                key=data["key"],
                title=data["title"],
                description=data["description"],
                groups=data["groups"],
                criteria=form.criteria,
                choices=form.choices,
                results_visibility=data["results_visibility"],
                eligibility=data["eligibility"],
                methodology=form.methodology(),
                clustering=form.clustering(),
                opens_at=data["opens_at"],
                closes_at=data["closes_at"],
                remind_before_hours=data["remind_before_hours"],
                carried_from=data["carried_from"],
                carry_rule=data["carry_rule"],
                carry_mapping=data["carry_mapping"],
                acting_user=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            opens = "It opens by itself at its opening time." if ballot.opens_at else "It opens when you open it."
            messages.success(
                request, _("Ballot “%(title)s” created. %(opens)s") % {"title": ballot.title, "opens": opens}
            )
            return redirect(ballot)
    context = {"definition": definition, "form": form, "presets": presets.PRESETS, "preset": request.GET.get("preset")}
    return render(request, "votes/ballot_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def ballot_edit(request: AuthenticatedHttpRequest, slug: str, key: str) -> HttpResponse:
    """A scheduled ballot's settings; an open one's closing time, with a reason; nothing once closed."""
    ballot = get_ballot(slug, key)
    _require_organizer(ballot, request.user, "edit a ballot")
    data = request.POST if request.method == "POST" else None
    form: BallotForm | RescheduleForm | None = None
    if ballot.status == Ballot.Status.SCHEDULED:
        form = BallotForm(data, definition=ballot.definition, ballot=ballot, zone=_zone(request))
    elif ballot.status == Ballot.Status.OPEN:
        form = RescheduleForm(data, ballot=ballot, zone=_zone(request))
    if form is not None and form.is_valid():
        try:
            if isinstance(form, BallotForm):
                services.update_ballot(
                    ballot=ballot,
                    acting_user=request.user,
                    title=form.cleaned_data["title"],
                    description=form.cleaned_data["description"],
                    groups=form.cleaned_data["groups"],
                    criteria=form.criteria,
                    choices=form.choices,
                    methodology=form.methodology(),
                    clustering=form.clustering(),
                    eligibility=form.cleaned_data["eligibility"],
                    opens_at=form.cleaned_data["opens_at"],
                    closes_at=form.cleaned_data["closes_at"],
                    remind_before_hours=form.cleaned_data["remind_before_hours"],
                )
                messages.success(request, _("The ballot's settings are saved; each change is in its audit log."))
            else:
                services.reschedule_ballot(
                    ballot=ballot,
                    acting_user=request.user,
                    closes_at=form.cleaned_data["closes_at"],
                    reason=form.cleaned_data["reason"],
                )
                messages.success(request, _("The closing time has moved; the change and its reason are on record."))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect(ballot)
    return render(request, "votes/ballot_edit.html", ballot_context(request, ballot) | {"form": form})


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
            "log_key": tlog.log_key(),
            "has_receipts": request.user.is_authenticated
            and tlog.has_vote_events(ballot.audit_stream, request.user.get_username()),
            "voters": voters,
        },
    )


def _still_to_vote(ballot: Ballot) -> int:
    """How many of those who may vote have cast no vote yet."""
    voters = ballot.votes.values("voter")
    return eligible_memberships(ballot).exclude(user__in=voters).values("user").distinct().count()


@login_required
@require_http_methods(["GET", "POST"])
def ballot_open(request: AuthenticatedHttpRequest, slug: str, key: str) -> HttpResponse:
    """What opening does, asked first (GET); opening (POST)."""
    ballot = get_ballot(slug, key)
    _require_organizer(ballot, request.user, "open voting")
    if request.method == "POST":
        try:
            services.open_ballot(ballot=ballot, acting_user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Voting is open."))
        return redirect(ballot)
    members = Membership.objects.current().filter(group__in=ballot.groups.all())
    context = {
        "phase": "open",
        "member_count": members.values("user").distinct().count(),
        "group_count": ballot.groups.count(),
        "grant_count": ballot.grants.active().count(),
        "early": bool(ballot.opens_at and ballot.opens_at > timezone.now()),
    }
    return render(request, "votes/ballot_phase.html", ballot_context(request, ballot) | context)


@login_required
@require_http_methods(["GET", "POST"])
def ballot_close(request: AuthenticatedHttpRequest, slug: str, key: str) -> HttpResponse:
    """What closing does, asked first with the reason to give (GET); closing (POST)."""
    ballot = get_ballot(slug, key)
    _require_organizer(ballot, request.user, "close voting")
    form = CloseBallotForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            services.close_ballot(ballot=ballot, acting_user=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            if ballot.status != Ballot.Status.OPEN:  # nothing to ask again: said on the ballot's page
                messages.error(request, " ".join(exc.messages))
                return redirect(ballot)
            form.add_error(None, exc)
        else:
            messages.success(request, _("Voting is closed; each group's roster is frozen with the ballot."))
            return redirect(ballot)
    context = {
        "phase": "close",
        "form": form,
        "open_disputes": ballot.disputes.filter(status=Dispute.Status.OPEN).count(),
        # who has voted is sealed with the votes: counted only where the roll call is public
        "still_to_vote": _still_to_vote(ballot) if ballot.results_public else None,
        "early": bool(ballot.closes_at is None or ballot.closes_at > timezone.now()),
    }
    return render(request, "votes/ballot_phase.html", ballot_context(request, ballot) | context)
