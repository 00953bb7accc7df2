"""Which token a request presents, and whether it may be used: the one gate for a token, used by the API's auth.

Nothing here writes.
"""

import hmac
from typing import TYPE_CHECKING

from django.shortcuts import get_object_or_404

from .models import TOKEN_MAX_LENGTH, TOKEN_PATTERN, AccessToken, token_digest

if TYPE_CHECKING:
    from django.contrib.auth.models import User

UNKNOWN = "This is not a token Plenary made, or it was mistyped: make one on your API tokens page."


class TokenRefused(Exception):
    """A token that lets nobody in, with the sentence that says why."""


def token_for(secret: str) -> AccessToken:
    """The usable token whose secret this is; refused when it is unknown, revoked or expired, or its person inactive.

    Found by its key, then its digest compared in constant time (`hmac.compare_digest`), so the time an answer
    takes tells nothing of how much of a guessed secret was right.
    """
    match = TOKEN_PATTERN.fullmatch(secret) if len(secret) <= TOKEN_MAX_LENGTH else None
    if match is None:
        raise TokenRefused(UNKNOWN)
    token = AccessToken.objects.select_related("user").filter(key=match.group(1)).first()
    if token is None or not hmac.compare_digest(token.digest, token_digest(secret)):
        raise TokenRefused(UNKNOWN)
    if token.revoked_at is not None:
        raise TokenRefused(f"This token ({token.name}) was revoked on {token.revoked_at:%-d %b %Y, %H:%M} UTC.")
    if token.is_expired:
        assert token.expires_at is not None  # is_expired says so
        raise TokenRefused(f"This token ({token.name}) expired on {token.expires_at:%-d %b %Y, %H:%M} UTC.")
    if not token.user.is_active:
        raise TokenRefused("The account this token belongs to is deactivated.")
    return token


def get_own_token(user: "User", pk: int) -> AccessToken:
    """A person reaches their own tokens only: anyone else's id is a 404."""
    return get_object_or_404(AccessToken.objects.filter(user=user), pk=pk)
