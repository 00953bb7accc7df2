"""Who may see what of a definition: the gates that views, the API and services all go through.

Nothing here writes; the services may import this module, never the reverse.
"""

from typing import TYPE_CHECKING

from allauth.account.models import EmailAddress
from django.conf import settings
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from .models import CalendarToken, Comment, Definition, DraftVersion, Suggestion, token_digest

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
        Comment.objects.visible_to(request.user).select_related("version__definition", "component", "author"),
        pk=pk,
    )


def get_suggestion(request: HttpRequest, slug: str, pk: int) -> Suggestion:
    """A suggestion is visible wherever its version is, at an address of its own definition."""
    return get_object_or_404(
        Suggestion.objects.visible_to(request.user)
        .select_related("version__definition", "author", "decided_by")
        .filter(version__definition__slug=slug),
        pk=pk,
    )


def calendar_owner(token: str) -> "User":
    """Whose calendar a secret address opens: 404 for a token that opens none (never made, replaced, revoked)."""
    if len(token) > 100:  # a token is 43 characters: a longer one is not worth hashing
        raise Http404("No such calendar.")
    found = CalendarToken.objects.select_related("user").filter(token_digest=token_digest(token)).first()
    if found is None or not found.user.is_active:
        raise Http404("No such calendar.")
    return found.user


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
