"""Joining a working group: asking to join, invitations by e-mail and adding many members at once."""

from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from config.http import AuthenticatedHttpRequest

from .. import services
from ..forms import BulkMembersForm, InvitationForm, JoinDecisionForm, JoinRequestForm
from .groups import get_group, require_roster_manager


def _errors(form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def site_url(request: HttpRequest) -> str:
    """The scheme and host the invitation links point to: those the inviter is using."""
    return request.build_absolute_uri("/").rstrip("/")


@login_required
@require_POST
def join_request(request: AuthenticatedHttpRequest, slug: str, key: str) -> HttpResponse:
    group = get_group(slug, key)
    form = JoinRequestForm(request.POST)
    if form.is_valid():
        try:
            services.request_to_join(group=group, user=request.user, note=form.cleaned_data["note"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("You asked to join %(name)s. Its chairs or organizers will answer here.") % {"name": group.name},
            )
    else:
        messages.error(request, _errors(form))
    return redirect(group)


@login_required
@require_POST
def join_decide(request: AuthenticatedHttpRequest, slug: str, key: str, pk: int) -> HttpResponse:
    group = get_group(slug, key)
    join_request = get_object_or_404(group.join_requests.select_related("user"), pk=pk)
    require_roster_manager(group, request.user)
    form = JoinDecisionForm(request.POST)
    if form.is_valid():
        accept = form.cleaned_data["decision"] == "accept"
        try:
            services.decide_join_request(
                join_request=join_request, accept=accept, reason=form.cleaned_data["reason"], acting_user=request.user
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            handle = join_request.user.get_username()
            messages.success(request, f"@{handle} joined {group.name}." if accept else f"@{handle}'s request declined.")
    else:
        messages.error(request, _errors(form))
    return redirect(group)


@login_required
@require_POST
def invitation_create(request: AuthenticatedHttpRequest, slug: str, key: str) -> HttpResponse:
    group = get_group(slug, key)
    require_roster_manager(group, request.user)
    form = InvitationForm(request.POST)
    if form.is_valid():
        email = form.cleaned_data["email"]
        try:
            services.invite_member(
                group=group,
                email=email,
                role=form.cleaned_data["role"],
                site_url=site_url(request),
                acting_user=request.user,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Invitation sent to %(value)s.") % {"value": services.normalize_email(email)})
    else:
        messages.error(request, _errors(form))
    return redirect(group)


@login_required
@require_POST
def invitation_revoke(request: AuthenticatedHttpRequest, slug: str, key: str, pk: int) -> HttpResponse:
    group = get_group(slug, key)
    invitation = get_object_or_404(group.invitations, pk=pk)
    try:
        services.revoke_invitation(invitation=invitation, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("The invitation of %(email)s is revoked; its link no longer works.") % {"email": invitation.email},
        )
    return redirect(group)


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The link of an invitation's e-mail: signed out, sign up or sign in and come back; signed in, join."""
    found = services.find_invitation(token)
    if found is None:
        raise Http404("No invitation has this link.")
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            membership = services.accept_invitation(invitation=found, user=request.user)
        except ValidationError as exc:  # used, revoked or expired meanwhile; another account's address is a 403
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("You joined %(name)s as %(role)s.") % {"name": membership.group.name, "role": membership.role},
            )
            return redirect(membership.group)
    elif not request.user.is_authenticated and found.state == "open":
        # Following the link proves the address: a sign-up with it needs no confirmation mail (allauth's hook).
        get_adapter().stash_verified_email(request, found.email)
    return render(request, "deliberation/invitation.html", {"invitation": found, "group": found.group})


@login_required
@require_http_methods(["GET", "POST"])
def members_bulk(request: AuthenticatedHttpRequest, slug: str, key: str) -> HttpResponse:
    group = get_group(slug, key)
    require_roster_manager(group, request.user)
    form = BulkMembersForm(request.POST if request.method == "POST" else None)
    results = None
    if form.is_valid():
        try:
            results = services.add_members(
                group=group,
                text=form.cleaned_data["lines"],
                role=form.cleaned_data["role"],
                site_url=site_url(request),
                acting_user=request.user,
            )
        except ValidationError as exc:
            form.add_error("lines", exc)
        else:
            form = BulkMembersForm()
    return render(
        request,
        "deliberation/members_bulk.html",
        {"definition": group.definition, "group": group, "form": form, "results": results},
    )
