"""The request as the views see it, for the type checker: what the middleware adds at run time."""

from typing import TYPE_CHECKING

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class HtmxHttpRequest(HttpRequest):
    """Every request passes django-htmx's middleware, which sets `request.htmx` (django-htmx's typing recipe)."""

    htmx: HtmxDetails


class AuthenticatedHttpRequest(HtmxHttpRequest):
    """A request to a `login_required` view: its user is signed in (django-stubs' recipe for such views)."""

    user: "User"
