"""Suggested changes to an open draft: making one, supporting it, deciding it, and consolidating the accepted."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from config.http import AuthenticatedHttpRequest

from .. import services
from ..access import get_suggestion, get_version
from ..diff import inline, text_diff
from ..forms import CommentForm, DecideSuggestionForm, SuggestionForm
from ..models import Comment, DraftVersion


def _open_draft(request: HttpRequest, slug: str, label: str) -> DraftVersion:
    version = get_version(request, slug, label)
    if version.is_published:
        raise PermissionDenied(
            _("Version %(label)s is published; suggest changes to the draft that follows it.")
            % {"label": version.label}
        )
    return version


@login_required
@require_http_methods(["GET", "POST"])
def suggestion_create(request: AuthenticatedHttpRequest, slug: str, label: str) -> HttpResponse:
    """The form of a suggested change, its lines given by the line link that opened it (`from`, `to`)."""
    version = _open_draft(request, slug, label)
    initial = {"line_from": request.GET.get("from", ""), "line_to": request.GET.get("to", request.GET.get("from", ""))}
    form = SuggestionForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_valid():
        try:
            suggestion = services.suggest_change(version=version, author=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request, _("Suggestion %(pk)s made; organizers will accept or decline it.") % {"pk": suggestion.pk}
            )
            return redirect(suggestion)
    first, last = form["line_from"].value(), form["line_to"].value()
    numbered = version.numbered_lines()
    if all(str(n).isdecimal() and len(str(n)) <= 6 for n in (first, last)):  # a line number, not a megabyte of 9s
        shown = [(no, text) for no, text in numbered if int(first) <= no <= int(last)]
    else:
        shown = []
    return render(
        request,
        "deliberation/suggestion_form.html",
        {"definition": version.definition, "version": version, "form": form, "passage": shown},
    )


def suggestion(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A suggestion with its passage and replacement, who supports it, its discussion and the forms to act on it."""
    suggestion = get_suggestion(request, slug, pk)
    version = suggestion.version
    rows = text_diff(suggestion.original, suggestion.replacement)
    is_organizer = version.definition.is_organizer(request.user)
    supporters = [s.user for s in suggestion.supports.select_related("user")]
    return render(
        request,
        "deliberation/suggestion.html",
        {
            "definition": version.definition,
            "version": version,
            "suggestion": suggestion,
            "rows": rows,
            "lines": inline(rows),
            "supporters": supporters,
            "supported": any(u.pk == request.user.pk for u in supporters),
            "rivals": version.suggestions.listed().overlapping(suggestion).pending(),
            "is_organizer": is_organizer,
            "decide_form": DecideSuggestionForm() if is_organizer and suggestion.is_pending else None,
            "threads": Comment.objects.filter(suggestion=suggestion).threads(),
            "comment_form": CommentForm(version=version),
            "can_moderate": is_organizer,
        },
    )


@login_required
@require_POST
def suggestion_support(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    suggestion = get_suggestion(request, slug, pk)
    try:
        services.support_suggestion(suggestion=suggestion, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("You support suggestion %(pk)s.") % {"pk": suggestion.pk})
    return redirect(suggestion)


@login_required
@require_POST
def suggestion_decide(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    suggestion = get_suggestion(request, slug, pk)
    if not suggestion.version.definition.is_organizer(request.user):
        raise PermissionDenied(_("Only the definition's organizers decide suggestions."))
    form = DecideSuggestionForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(suggestion)
    accept = form.cleaned_data["decision"] == "accept"
    try:
        services.decide_suggestion(
            suggestion=suggestion, accept=accept, reason=form.cleaned_data["reason"], acting_user=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            (_("Suggestion %(pk)s accepted.") if accept else _("Suggestion %(pk)s declined.")) % {"pk": suggestion.pk},
        )
    return redirect(suggestion)


@login_required
@require_POST
def consolidate(request: AuthenticatedHttpRequest, slug: str, label: str) -> HttpResponse:
    """Apply every accepted suggestion to the draft in one save."""
    version = _open_draft(request, slug, label)
    if not version.definition.is_organizer(request.user):
        raise PermissionDenied(_("Only the definition's organizers consolidate a draft."))
    try:
        applied = services.consolidate_suggestions(version=version, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        numbers = ", ".join(str(s.pk) for s in applied)
        messages.success(
            request,
            ngettext(
                "Draft %(label)s consolidated: suggestion %(numbers)s.",
                "Draft %(label)s consolidated: suggestions %(numbers)s.",
                len(applied),
            )
            % {"label": version.label, "numbers": numbers},
        )
    return redirect(f"{version.get_absolute_url()}?view=lines")
