"""The public record of a ballot: roll call, veto grants, disputes and declared conflicts of interest."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from config.http import AuthenticatedHttpRequest
from plenary_tally.ballot import SELECTORS

from .. import rollcall, services
from ..access import get_ballot, may_dispute
from ..forms import (
    ConflictForm,
    DisputeForm,
    GrantForm,
    ResolveDisputeForm,
    RevokeGrantForm,
    WithdrawConflictForm,
)
from ..models import ConflictDeclaration, Dispute
from .ballots import ballot_context


def roll_call(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    ballot = get_ballot(slug, key)
    context = ballot_context(request, ballot)
    if not ballot.results_public:
        return render(request, "votes/roll_call.html", context | {"hidden": True})
    leaves = rollcall.components(ballot)
    votes = ballot.votes.with_flags().select_related(
        "voter", "group", "component__version__definition", "criterion", "choice", "cast_by"
    )
    options = {  # what each filter of rollcall.FILTERS offers
        "group": ballot.groups.order_by("key").values_list("key", "name"),
        "voter": None,
        "component": [(c.key, c.title) for c in sorted(leaves, key=lambda c: (c.position, c.key))],
        "choice": ballot.choices.values_list("key", "label"),
    }
    applied = {name: request.GET[name] for name in rollcall.FILTERS if request.GET.get(name)}
    page = rollcall.page(
        rollcall.filtered(ballot, votes, flag=request.GET.get("flag", ""), **applied),
        rollcall.cells(ballot, [c for c in leaves if applied.get("component", c.key) == c.key]),
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
    )
    query = request.GET.copy()
    for cursor in ("page", "after", "before"):
        query.pop(cursor, None)
    return render(
        request,
        "votes/roll_call.html",
        context
        | {
            "page": page,
            "filters": options,
            "applied": applied,
            "flag": request.GET.get("flag", ""),
            "query": query.urlencode(),
            "page_size": rollcall.PAGE,
        },
    )


@require_http_methods(["GET", "POST"])
def grants(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    ballot = get_ballot(slug, key)
    is_organizer = ballot.definition.is_organizer(request.user)
    form = GrantForm(request.POST if request.method == "POST" else None, ballot=ballot) if is_organizer else None
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_organizer:
            raise PermissionDenied(_("Only the definition's organizers grant veto powers."))
        assert form is not None  # made for organizers
        if form.is_valid():
            data = form.cleaned_data
            try:
                grant = services.grant_veto(
                    ballot=ballot,
                    choice=data["choice"],
                    group=data["group"],
                    member=data["member"],
                    category=data["category"],
                    reason=data["reason"],
                    acting_user=request.user,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    _("Granted “%(label)s” to %(holder_label)s.")
                    % {"label": grant.choice.label, "holder_label": grant.holder_label},
                )
                return redirect("votes:grants", slug=slug, key=key)
    rows = (
        ballot.grants.select_related("choice", "group", "member", "granted_by", "revoked_by")
        .annotate(uses=Count("votes"))
        .order_by("granted_at", "pk")
    )
    return render(
        request,
        "votes/grants.html",
        ballot_context(request, ballot) | {"grants": rows, "form": form},
    )


@login_required
@require_POST
def grant_revoke(request: AuthenticatedHttpRequest, slug: str, key: str, pk: int) -> HttpResponse:
    ballot = get_ballot(slug, key)
    grant = get_object_or_404(ballot.grants, pk=pk)
    form = RevokeGrantForm(request.POST)
    if not ballot.definition.is_organizer(request.user):
        raise PermissionDenied(_("Only the definition's organizers revoke veto powers."))
    try:
        if not form.is_valid():
            raise ValidationError(_("Say why the grant is revoked; the reason is shown publicly."))
        services.revoke_grant(grant=grant, reason=form.cleaned_data["reason"], acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("Revoked “%(label)s” from %(holder_label)s.")
            % {"label": grant.choice.label, "holder_label": grant.holder_label},
        )
    return redirect("votes:grants", slug=slug, key=key)


@require_http_methods(["GET", "POST"])
def disputes(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    ballot = get_ballot(slug, key)
    initial = {name: request.GET.get(name) for name in SELECTORS}
    form = DisputeForm(
        request.POST if request.method == "POST" else None, ballot=ballot, initial=_initial_selection(ballot, initial)
    )
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if form.is_valid():
            data = form.cleaned_data
            try:
                dispute = services.raise_dispute(
                    ballot=ballot,
                    raised_by=request.user,
                    reason=data["reason"],
                    **{selector: data[selector] for selector in SELECTORS},
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request, _("Dispute #%(pk)s raised; the organizers will resolve it in public.") % {"pk": dispute.pk}
                )
                return redirect(f"{request.path}#dispute-{dispute.pk}")
    rows = ballot.disputes.with_people()
    return render(
        request,
        "votes/disputes.html",
        ballot_context(request, ballot)
        | {
            "disputes": rows,
            "form": form,
            "resolve_form": ResolveDisputeForm(),
            "can_dispute": may_dispute(ballot, request.user) and ballot.results_public,
        },
    )


def _initial_selection(ballot, values: dict) -> dict:
    """Prefill the dispute form from a roll-call link (?voter=…&component=…&criterion=…)."""
    lookups = {
        "group": ballot.groups.all(),
        "choice": ballot.choices.all(),
        "component": ballot.version.components.all(),
        "criterion": ballot.criteria.all(),
    }
    initial = {"voter": values.get("voter") or ""}
    for name, queryset in lookups.items():
        if values.get(name):
            initial[name] = queryset.filter(key=values[name]).first()
    return initial


@login_required
@require_POST
def dispute_resolve(request: AuthenticatedHttpRequest, slug: str, key: str, pk: int) -> HttpResponse:
    ballot = get_ballot(slug, key)
    dispute = get_object_or_404(ballot.disputes, pk=pk)
    if not ballot.definition.is_organizer(request.user):
        raise PermissionDenied(_("Only the definition's organizers resolve disputes."))
    form = ResolveDisputeForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Choose uphold or dismiss, and explain the resolution."))
        services.resolve_dispute(
            dispute=dispute,
            status=form.cleaned_data["status"],
            resolution=form.cleaned_data["resolution"],
            acting_user=request.user,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            (
                _("Dispute #%(pk)s upheld.")
                if form.cleaned_data["status"] == Dispute.Status.UPHELD
                else _("Dispute #%(pk)s dismissed.")
            )
            % {"pk": dispute.pk},
        )
    return redirect(f"{ballot.get_absolute_url()}disputes/#dispute-{dispute.pk}")


@require_http_methods(["GET", "POST"])
def conflicts(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    """The ballot's public register of declared conflicts of interest, and the form a voter declares one with."""
    ballot = get_ballot(slug, key)
    context = ballot_context(request, ballot)
    form = ConflictForm(request.POST if request.method == "POST" else None, ballot=ballot)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if form.is_valid():
            try:
                declaration = services.declare_conflict(
                    ballot=ballot,
                    member=request.user,
                    component=form.cleaned_data["component"],
                    statement=form.cleaned_data["statement"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    _("Your conflict of interest in %(scope)s is on the register.") % {"scope": declaration.scope},
                )
                return redirect(f"{request.path}#conflict-{declaration.pk}")
    return render(
        request,
        "votes/conflicts.html",
        context
        | {
            "conflicts": ballot.conflicts.with_people(),
            "form": form,
            "withdraw_form": WithdrawConflictForm(),
            "register_open": ballot.status != ballot.Status.CLOSED,
        },
    )


@login_required
@require_POST
def conflict_withdraw(request: AuthenticatedHttpRequest, slug: str, key: str, pk: int) -> HttpResponse:
    ballot = get_ballot(slug, key)
    declaration: ConflictDeclaration = get_object_or_404(ballot.conflicts, pk=pk)
    form = WithdrawConflictForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.withdraw_conflict(declaration=declaration, acting_user=request.user, reason=reason)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("Your conflict of interest in %(scope)s is withdrawn.") % {"scope": declaration.scope}
        )
    return redirect(f"{ballot.get_absolute_url()}conflicts/#conflict-{declaration.pk}")
