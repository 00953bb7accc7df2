"""Who may see what of a definition: the gates that views, the API and services all go through.

Nothing here writes; the services may import this module, never the reverse.
"""

from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from .models import Comment, Definition, DraftVersion


def get_definition(slug: str) -> Definition:
    """Definitions are public: 404 only for what does not exist."""
    return get_object_or_404(Definition.objects.prefetch_related("organizers"), slug=slug)


def get_version(request: HttpRequest, slug: str, label: str) -> DraftVersion:
    """The access gate for a version and everything on it: 404 for what the user may not see."""
    return get_object_or_404(
        DraftVersion.objects.visible_to(request.user).select_related("definition", "published_by"),
        definition__slug=slug,
        label=label,
    )


def get_comment(request: HttpRequest, pk: int) -> Comment:
    """A comment is visible wherever its version is."""
    return get_object_or_404(
        Comment.objects.select_related("version__definition", "component", "author").filter(
            version__in=DraftVersion.objects.visible_to(request.user)
        ),
        pk=pk,
    )
