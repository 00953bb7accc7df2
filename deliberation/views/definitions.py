from django.contrib.syndication.views import Feed
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.feedgenerator import Atom1Feed

from ..models import Definition, DraftVersion, Membership


def definition_list(request: HttpRequest) -> HttpResponse:
    definitions = Definition.objects.annotate(
        published_count=Count("versions", filter=Q(versions__status=DraftVersion.Status.PUBLISHED), distinct=True),
        group_count=Count("working_groups", distinct=True),
    )
    latest = {
        v.definition_id: v
        for v in DraftVersion.objects.published().select_related("definition").order_by("definition_id", "published_at")
    }
    return render(
        request,
        "deliberation/definition_list.html",
        {"definitions": [(d, latest.get(d.pk)) for d in definitions]},
    )


def definition(request: HttpRequest, slug: str) -> HttpResponse:
    definition = get_object_or_404(Definition.objects.prefetch_related("organizers"), slug=slug)
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
        },
    )


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
        return obj.versions.published().select_related("definition").order_by("-published_at")[:50]

    def item_title(self, item: DraftVersion) -> str:
        return f"{item.definition.title} {item.label}"

    def item_description(self, item: DraftVersion) -> str:
        return item.release_notes_html

    def item_pubdate(self, item: DraftVersion):
        return item.published_at

    def item_updateddate(self, item: DraftVersion):
        return item.published_at
