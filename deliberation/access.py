"""Who may see what of a definition: the gates that views, the API and services all go through.

Nothing here writes; the services may import this module, never the reverse.
"""

from typing import TYPE_CHECKING

from allauth.account.models import EmailAddress
from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from .models import Comment, Definition, DraftVersion

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


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


START_DEFINITION_REFUSED = "Your account may not start a definition here; the site's administrators can allow it."


def may_start_definition(user: "User | AnonymousUser") -> bool:
    """Whom the site's DEFINITION_CREATORS setting lets start a definition (README, "Configuration").

    "allowed": those an admin gave the permission deliberation.add_definition (superusers have every permission);
    "verified": those too, and every account with a verified e-mail address.
    """
    if not user.is_authenticated or not user.is_active:
        return False
    if settings.DEFINITION_CREATORS == "verified" and EmailAddress.objects.filter(user=user, verified=True).exists():
        return True
    return user.has_perm("deliberation.add_definition")
