from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from config import ratelimits
from config.http import AuthenticatedHttpRequest

from .. import services
from ..access import get_comment, get_version
from ..forms import CommentEditForm, CommentForm, HideCommentForm
from .versions import comments_context


@login_required
@require_POST
def comment_create(request: AuthenticatedHttpRequest, slug: str, label: str, key: str | None = None) -> HttpResponse:
    version = get_version(request, slug, label)
    component = get_object_or_404(version.components, key=key) if key else None
    form = CommentForm(request.POST, version=version)
    comment = None
    if too_many := ratelimits.comment_saves(request):
        if not request.htmx:
            return render(request, "429.html", {"message": too_many}, status=429)
        form.is_valid()
        form.add_error(None, too_many)  # shown above what was typed, which stays for a later try
        context = comments_context(request, version, component) | {"comment_form": form}
        return render(request, "deliberation/_comments.html", context, status=429)
    if form.is_valid():
        try:
            comment = services.post_comment(
                author=request.user,
                version=version,
                component=component,
                parent=form.cleaned_data["parent"],
                body=form.cleaned_data["body"],
                lines=form.cleaned_data["lines"],
                suggestion=form.cleaned_data["suggestion"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
    if not request.htmx:
        if comment is not None:
            return redirect(comment.get_absolute_url())
        problems = " ".join(str(e) for errors in form.errors.values() for e in errors)
        messages.error(request, _("Your comment was not posted: %(problems)s") % {"problems": problems})
        return redirect(form.cleaned_data.get("suggestion") or component or version)
    context = comments_context(request, version, component)
    if comment is None:
        context["comment_form"] = form  # keeps what was typed, with the error
    response = render(
        request,
        "deliberation/_comments.html",
        context,
    )
    if comment is not None:
        trigger_client_event(response, "comment-posted", {"id": comment.pk})
    return response


@login_required
@require_http_methods(["GET", "POST"])
def comment_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    comment = get_comment(request, pk)
    if comment.author_id != request.user.pk:
        raise PermissionDenied(_("Only its author can edit a comment."))
    if comment.is_hidden:
        raise PermissionDenied(_("A hidden comment can no longer be edited."))
    form = CommentEditForm(request.POST if request.method == "POST" else None, initial={"body": comment.body})
    if request.method == "POST" and (too_many := ratelimits.comment_saves(request)):
        return render(request, "429.html", {"message": too_many}, status=429)
    if form.is_valid():
        try:
            services.edit_comment(comment=comment, body=form.cleaned_data["body"], acting_user=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Comment updated; the earlier text stays in its history."))
            return redirect(comment.get_absolute_url())
    return render(request, "deliberation/comment_edit.html", {"comment": comment, "form": form})


def comment_history(request: HttpRequest, pk: int) -> HttpResponse:
    comment = get_comment(request, pk)
    if comment.is_hidden:
        revisions = []
    else:
        revisions = list(comment.revisions.all())
    return render(request, "deliberation/comment_history.html", {"comment": comment, "revisions": revisions})


@login_required
@require_http_methods(["GET", "POST"])
def comment_hide(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    comment = get_comment(request, pk)
    if not comment.version.definition.is_organizer(request.user):
        raise PermissionDenied(_("Only the definition's organizers can hide comments."))
    form = HideCommentForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            services.hide_comment(comment=comment, reason=form.cleaned_data["reason"], acting_user=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Comment hidden; the reason is shown in its place."))
            return redirect(comment.get_absolute_url())
    return render(request, "deliberation/comment_hide.html", {"comment": comment, "form": form})
