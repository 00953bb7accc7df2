"""The decisions page of a ballot: the decisions on the record, the objections and their answers, and their forms.

Thin: `analysis.decisions` decides who may write what; these views translate between forms and it.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from config.http import AuthenticatedHttpRequest
from votes.access import get_ballot
from votes.models import Ballot
from votes.views.ballots import ballot_context

from . import decisions
from .forms import WHOLE_BALLOT, AnswerForm, DecisionForm, ObjectionForm
from .models import Decision, Objection, OutcomeRun


@require_http_methods(["GET", "POST"])
def decision_list(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    ballot = get_ballot(slug, key)
    components = list(ballot.version.components.order_by("category", "position", "key"))
    can_decide = decisions.may_decide(ballot, request.user)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not can_decide:
            raise PermissionDenied(_("Only the definition's organizers record decisions."))
    run = _citable_run(ballot) if can_decide and ballot.status == Ballot.Status.CLOSED else None
    form = None
    if can_decide:
        chosen = request.GET.get("component", "")
        component = next((c for c in components if c.key == chosen), None)
        initial = {"component": chosen if component else WHOLE_BALLOT, "run": run.pk if run else None}
        if run is not None:
            initial["outcome"] = decisions.outcome_in(run, component)
        form = DecisionForm(request.POST if request.method == "POST" else None, components=components, initial=initial)
    if request.method == "POST":
        assert form is not None  # made for organizers
        if form.is_valid():
            data = form.cleaned_data
            try:
                decision = decisions.record_decision(
                    ballot=ballot,
                    component=next((c for c in components if c.key == data["component"]), None),
                    outcome=data["outcome"],
                    statement=data["statement"],
                    run=_posted_run(data["run"]),
                    acting_user=request.user,  # type: ignore[arg-type]  # signed in: checked above
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    _("Decision %(number)s recorded: %(outcome)s.")
                    % {"number": decision.number, "outcome": decision.outcome},
                )
                return redirect(f"{request.path}#decision-{decision.number}")
    latest = OutcomeRun.objects.latest_for(ballot)
    return render(
        request,
        "analysis/decision_list.html",
        ballot_context(request, ballot)
        | {
            "decisions": ballot.decisions.with_people(),
            "standing": _standing(ballot, components),
            "latest_digest": latest.input_digest if latest else None,
            "run": run,
            "form": form,
            "can_decide": can_decide,
            "can_object": decisions.may_object(ballot, request.user),
            "objection_form": ObjectionForm(),
            "answer_form": AnswerForm(),
        },
    )


def _standing(ballot: Ballot, components: list) -> list[tuple]:
    """The whole ballot, then each component, with the decision that stands on it (or None)."""
    standing = {d.component_id: d for d in ballot.decisions.current()}
    return [(None, standing.get(None))] + [(c, standing.get(c.pk)) for c in components]


def _citable_run(ballot: Ballot) -> OutcomeRun | None:
    """The run the organizer's form cites: brought up to date first, as the results page does."""
    OutcomeRun.objects.current_for(ballot)
    return decisions.citable_run(ballot)


def _posted_run(pk: int | None) -> OutcomeRun | None:
    if pk is None:
        return None
    run = OutcomeRun.objects.filter(pk=pk).first()
    if run is None:
        raise ValidationError(_("That outcome run does not exist; cite the latest run."))
    return run


@login_required
@require_POST
def objection_lodge(request: AuthenticatedHttpRequest, slug: str, key: str, number: int) -> HttpResponse:
    ballot = get_ballot(slug, key)
    decision = get_object_or_404(Decision, ballot=ballot, number=number)
    if not decisions.may_object(ballot, request.user):
        raise PermissionDenied(_("Only members of the definition's working groups lodge objections."))
    form = ObjectionForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(" ".join(str(m) for errors in form.errors.values() for m in errors))
        decisions.lodge_objection(decision=decision, member=request.user, reasoning=form.cleaned_data["reasoning"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("Your objection to decision %(number)s is on the record.") % {"number": decision.number}
        )
    return redirect(f"{_page(ballot)}#decision-{decision.number}")


@login_required
@require_POST
def objection_answer(request: AuthenticatedHttpRequest, slug: str, key: str, pk: int) -> HttpResponse:
    ballot = get_ballot(slug, key)
    objection = get_object_or_404(Objection.objects.select_related("decision"), pk=pk, decision__ballot=ballot)
    if not decisions.may_decide(ballot, request.user):
        raise PermissionDenied(_("Only the definition's organizers answer objections."))
    form = AnswerForm(request.POST)
    anchor = objection.decision.number
    try:
        if not form.is_valid():
            raise ValidationError(_("Choose upheld or overruled, and give the reasons."))
        data = form.cleaned_data
        _answered, revised = decisions.answer_objection(
            objection=objection,
            answer=data["answer"],
            reason=data["reason"],
            outcome=data["outcome"],
            acting_user=request.user,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if revised is None:
            messages.success(request, _("Objection overruled, on the record."))
        else:
            anchor = revised.number
            messages.success(
                request, _("Objection upheld: decision %(number)s revises the decision.") % {"number": revised.number}
            )
    return redirect(f"{_page(ballot)}#decision-{anchor}")


def _page(ballot: Ballot) -> str:
    return reverse("analysis:decision-list", args=[ballot.definition.slug, ballot.key])
