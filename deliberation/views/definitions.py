from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.syndication.views import Feed
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from config.http import AuthenticatedHttpRequest
from notifications import services as notifications

from .. import access, services
from ..forms import DefinitionForm, OrganizerForm
from ..models import FEED_MAX_ENTRIES, Comment, Definition, DraftVersion, Membership


def definition_list(request: HttpRequest) -> HttpResponse:
    return render(request, "deliberation/definition_list.html", definitions_context(request))


def definitions_context(request: HttpRequest) -> dict:
    """Every definition with its latest release, as the list shows them (here and on the home page)."""
    definitions = Definition.objects.annotate(
        published_count=Count("versions", filter=Q(versions__status=DraftVersion.Status.PUBLISHED), distinct=True),
        group_count=Count("working_groups", distinct=True),
    )
    latest = {
        v.definition_id: v
        for v in DraftVersion.objects.published().select_related("definition").order_by("definition_id", "published_at")
    }
    return {
        "definitions": [(d, latest.get(d.pk)) for d in definitions],
        "may_start": access.may_start_definition(request.user),
    }


@login_required
@require_http_methods(["GET", "POST"])
def definition_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Start a definition; its creator becomes its first organizer."""
    if not access.may_start_definition(request.user):
        raise PermissionDenied(access.START_DEFINITION_REFUSED)
    form = DefinitionForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            definition = services.create_definition(
                **form.cleaned_data, organizers=[request.user], acting_user=request.user
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("%(title)s started; you are its organizer. Start its first draft here.")
                % {"title": definition.title},
            )
            return redirect(definition)
    return render(request, "deliberation/definition_form.html", {"form": form})


@login_required
@require_POST
def organizer_add(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    definition = access.get_definition(slug)
    if not definition.is_organizer(request.user):
        raise PermissionDenied(_("Only the definition's organizers can add organizers."))
    form = OrganizerForm(request.POST)
    if form.is_valid():
        user = form.cleaned_data["username"]
        try:
            services.add_organizer(definition=definition, user=user, acting_user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("@%(handle)s now organizes %(title)s.") % {"handle": user.get_username(), "title": definition.title},
            )
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(definition)


@login_required
@require_POST
def organizer_remove(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    definition = access.get_definition(slug)
    user = get_object_or_404(get_user_model().objects.filter(organized_definitions=definition), pk=pk)
    try:
        services.remove_organizer(definition=definition, user=user, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("@%(handle)s no longer organizes %(title)s.")
            % {"handle": user.get_username(), "title": definition.title},
        )
    return redirect(definition)


def definition(request: HttpRequest, slug: str) -> HttpResponse:
    definition = access.get_definition(slug)
    versions = list(definition.versions.visible_to(request.user).order_by("-created_at", "-pk"))
    groups = definition.working_groups.annotate(
        member_count=Count("memberships", filter=Q(memberships__left_at__isnull=True))
    )
    is_organizer = definition.is_organizer(request.user)
    my_groups = (
        Membership.objects.current().filter(user=request.user, group__definition=definition).select_related("group")
        if request.user.is_authenticated
        else []
    )
    return render(
        request,
        "deliberation/definition.html",
        {
            "definition": definition,
            "versions": versions,
            "pairs": list(zip(versions[1:], versions[:-1], strict=False)),
            "groups": groups,
            "is_organizer": is_organizer,
            "has_draft": any(not v.is_published for v in versions),
            "my_groups": my_groups,
            "organizer_form": OrganizerForm() if is_organizer else None,
            "following": notifications.is_following(request.user, definition),
        },
    )


@login_required
@require_POST
def follow(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    definition = access.get_definition(slug)
    notifications.follow(user=request.user, definition=definition)
    messages.success(
        request, _("You follow %(title)s: its releases and new ballots reach your inbox.") % {"title": definition.title}
    )
    return redirect(definition)


@login_required
@require_POST
def unfollow(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    definition = access.get_definition(slug)
    notifications.unfollow(user=request.user, definition=definition)
    messages.success(request, _("You no longer follow %(title)s.") % {"title": definition.title})
    return redirect(definition)


class ReleaseFeed(Feed):
    """An Atom feed of a definition's published releases, newest first."""

    feed_type = Atom1Feed

    def get_object(self, request: HttpRequest, slug: str) -> Definition:
        return get_object_or_404(Definition, slug=slug)

    def title(self, obj: Definition) -> str:
        return f"{obj.title}: releases"

    def link(self, obj: Definition) -> str:
        return obj.get_absolute_url()

    def subtitle(self, obj: Definition) -> str:
        return obj.summary

    def items(self, obj: Definition):
        return obj.versions.published().select_related("definition").order_by("-published_at")[:FEED_MAX_ENTRIES]

    def item_title(self, item: DraftVersion) -> str:
        return f"{item.definition.title} {item.label}"

    def item_description(self, item: DraftVersion) -> str:
        return item.release_notes_html

    def item_pubdate(self, item: DraftVersion):
        return item.published_at

    def item_updateddate(self, item: DraftVersion):
        return item.published_at


class DiscussionFeed(Feed):
    """An Atom feed of the latest comments on a definition's releases, newest first: what anyone reads there.

    A hidden comment is left out, body and all, and so is the discussion of a draft in progress.
    """

    feed_type = Atom1Feed

    def get_object(self, request: HttpRequest, slug: str) -> Definition:
        return get_object_or_404(Definition, slug=slug)

    def title(self, obj: Definition) -> str:
        return f"{obj.title}: discussion"

    def link(self, obj: Definition) -> str:
        return obj.get_absolute_url()

    def subtitle(self, obj: Definition) -> str:
        return f"The latest comments on the releases of {obj.title}."

    def items(self, obj: Definition):
        return (
            Comment.objects.public()
            .filter(version__definition=obj)
            .select_related(
                "version__definition", "component__version__definition", "suggestion__version__definition", "author"
            )
            .order_by("-created_at", "-pk")[:FEED_MAX_ENTRIES]
        )

    def item_title(self, item: Comment) -> str:
        on = f"{item.version.label}, {item.component.title}" if item.component else item.version.label
        return f"@{item.author.get_username()} on {item.version.definition.title} {on}"

    def item_description(self, item: Comment) -> str:
        return item.body_html

    def item_author_name(self, item: Comment) -> str:
        return f"@{item.author.get_username()}"  # the handle the discussion shows, never the person's name

    def item_pubdate(self, item: Comment):
        return item.created_at

    def item_updateddate(self, item: Comment):
        return item.edited_at or item.created_at
