from datetime import datetime, time

from allauth.socialaccount.models import SocialAccount
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from config.http import AuthenticatedHttpRequest

from .. import providers, services
from ..forms import (
    AddMemberForm,
    InvitationForm,
    JoinDecisionForm,
    JoinRequestForm,
    RequiredProviderForm,
    WorkingGroupForm,
)
from ..models import Definition, WorkingGroup


def get_group(slug: str, key: str) -> WorkingGroup:
    return get_object_or_404(WorkingGroup.objects.select_related("definition"), definition__slug=slug, key=key)


def require_roster_manager(group: WorkingGroup, user) -> None:
    if not group.can_manage_roster(user):
        raise PermissionDenied(_("Only the group's chairs and the organizers can change its roster."))


def group(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    group = get_group(slug, key)
    memberships = group.memberships.select_related("user")
    as_of = None
    if request.GET.get("at"):
        try:
            day = parse_date(request.GET["at"])
        except ValueError:  # well formed but no such day, such as 2024-02-30
            day = None
        if day is None:
            messages.error(request, _("Give the date as YYYY-MM-DD."))
        else:
            as_of = timezone.make_aware(datetime.combine(day, time.max))
    roster = memberships.at(as_of) if as_of else memberships.current()
    can_manage = group.can_manage_roster(request.user)
    is_organizer = group.definition.is_organizer(request.user)
    user = request.user
    is_member = user.is_authenticated and group.memberships.current().filter(user=user).exists()
    my_request = (
        group.join_requests.filter(user=user).order_by("-created_at", "-pk").first() if user.is_authenticated else None
    )
    may_ask = user.is_authenticated and not is_member and not (my_request and my_request.status == "pending")
    offered = providers.configured()
    provider_form = None
    if is_organizer and (offered or group.required_provider):
        provider_form = RequiredProviderForm(initial={"provider": group.required_provider}, offered=offered)
    return render(
        request,
        "deliberation/group.html",
        {
            "definition": group.definition,
            "group": group,
            "roster": roster,
            "as_of": as_of,
            "history": memberships.order_by("joined_at", "pk"),
            "can_manage": can_manage,
            "is_organizer": is_organizer,
            "is_member": is_member,
            "my_request": my_request,
            "join_form": JoinRequestForm() if may_ask else None,
            "form": AddMemberForm() if can_manage else None,
            "invitation_form": InvitationForm() if can_manage else None,
            "decision_form": JoinDecisionForm() if can_manage else None,
            "pending": group.join_requests.pending().select_related("user") if can_manage else [],
            "invitations": group.invitations.select_related("invited_by")[:50] if can_manage else [],
            "required_provider": offered.get(group.required_provider, group.required_provider),
            "provider_offered": group.required_provider in offered,
            "provider_linked": is_member
            and group.required_provider
            and SocialAccount.objects.filter(user=user, provider=group.required_provider).exists(),
            "provider_form": provider_form,
        },
    )


@login_required
@require_POST
def group_provider(request: AuthenticatedHttpRequest, slug: str, key: str) -> HttpResponse:
    """An organizer sets the sign-in provider the group's members vote with (or none)."""
    group = get_group(slug, key)
    if not group.definition.is_organizer(request.user):
        raise PermissionDenied("Only the definition's organizers choose how a group's members sign in to vote.")
    form = RequiredProviderForm(request.POST, offered=providers.configured())
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(group)
    try:
        group = services.require_provider(group=group, provider=form.cleaned_data["provider"], acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if group.required_provider:
            name = providers.name(group.required_provider)
            messages.success(request, f"Members of {group.name} now vote with a linked {name} account.")
        else:
            messages.success(request, f"Members of {group.name} now vote with any account.")
    return redirect(group)


@login_required
@require_http_methods(["GET", "POST"])
def group_create(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    definition = get_object_or_404(Definition, slug=slug)
    if not definition.is_organizer(request.user):
        raise PermissionDenied(_("Only the definition's organizers can create working groups."))
    form = WorkingGroupForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            group = services.create_group(definition=definition, acting_user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Working group %(name)s created.") % {"name": group.name})
            return redirect(group)
    return render(request, "deliberation/group_form.html", {"definition": definition, "form": form})


@login_required
@require_POST
def member_add(request: AuthenticatedHttpRequest, slug: str, key: str) -> HttpResponse:
    group = get_group(slug, key)
    require_roster_manager(group, request.user)
    form = AddMemberForm(request.POST)
    if form.is_valid():
        user = form.cleaned_data["username"]
        try:
            services.add_member(group=group, user=user, role=form.cleaned_data["role"], acting_user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, _("%(handle)s joined %(name)s.") % {"handle": user.get_username(), "name": group.name}
            )
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(group)


@login_required
@require_http_methods(["GET", "POST"])
def member_remove(request: AuthenticatedHttpRequest, slug: str, key: str, pk: int) -> HttpResponse:
    """GET asks for confirmation, saying what becomes of the member's votes; POST removes them."""
    group = get_group(slug, key)
    membership = get_object_or_404(group.memberships.current().select_related("user", "group"), pk=pk)
    require_roster_manager(group, request.user)
    if request.method == "POST":
        try:
            services.remove_member(membership=membership, acting_user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, _("%(handle)s left %(name)s.") % {"handle": membership.user.get_username(), "name": group.name}
            )
        return redirect(group)
    if membership.role == "chair" and not group.definition.is_organizer(request.user):
        raise PermissionDenied(_("Only organizers remove a chair."))
    return render(
        request,
        "deliberation/member_remove.html",
        {
            "definition": group.definition,
            "group": group,
            "membership": membership,
            "ballots": membership.votes_on_open_ballots(),
        },
    )
