"""How the JSON API knows who asks: a personal access token (`Authorization: Bearer …`), else the browser's session.

django-ninja's `HttpBearer` reads the header; `token_for` decides. A token that is unknown, revoked or expired is a
401 with the reason, never a quiet fall back to the public's view. A token is its person for the request
(`request.user`), so the access gates, services and per-person rate limits treat it exactly as that person signed
in. Each token's requests are also counted on its own (API_TOKEN_RATE_LIMIT).

Reads accept a token of any scope, a session, or nobody (`READ`). A write (`write(scope)`) needs a token holding
its scope, or a signed-in session, which ninja's `SessionAuth` checks for the CSRF token as Django's forms are: a
token comes in a header no other site can make a browser send, so a request carrying one needs no CSRF token.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import AuthenticationError, AuthorizationError, HttpError
from ninja.security import HttpBearer, SessionAuth

from config import ratelimits

from . import services
from .access import TokenRefused, token_for
from .models import AccessToken, Scope

SIGN_IN = "Sign in, or send a personal access token: Authorization: Bearer plenary_…"
NOT_BEARER = "Plenary reads a personal access token from Authorization: Bearer plenary_…, and no other kind."


def missing_scope(scope: Scope) -> str:
    return f"This token does not have the scope {scope.value!r} ({scope.label}). Make a token with it to do this."


class TokenAuth(HttpBearer):
    """A personal access token in `Authorization: Bearer …`; with `scope`, one that holds it."""

    def __init__(self, scope: Scope | None = None) -> None:
        self.scope = scope
        super().__init__()

    def __call__(self, request: HttpRequest):
        """An Authorization header of another kind (`Token …`, `Basic …`) is refused too, not read as no header."""
        header = request.headers.get(self.header, "")
        if header and header.split(" ", 1)[0].lower() != self.openapi_scheme:
            raise AuthenticationError(message=NOT_BEARER)
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, token: str) -> AccessToken:
        try:
            found = token_for(token.strip())
        except TokenRefused as exc:
            raise AuthenticationError(message=str(exc)) from exc
        if too_many := ratelimits.spent_by_token(request, token_key=found.key, rate=settings.API_TOKEN_RATE_LIMIT):
            raise HttpError(429, too_many)
        if self.scope is not None and not found.allows(self.scope):
            raise AuthorizationError(message=missing_scope(self.scope))
        services.note_use(found)
        request.user = found.user
        return found


def anyone(request: HttpRequest):
    """No token: the browser's session, or the public. Always lets the request in, as whoever it is."""
    return request.user


READ: list[Callable] = [TokenAuth(), anyone]


def write(scope: Scope) -> list[Callable]:
    """A write's ways in: a token holding `scope`, or a signed-in session that sent its CSRF token."""
    return [TokenAuth(scope), SessionAuth()]
