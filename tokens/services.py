"""Every write of personal access tokens: making one, revoking one, and noting when one was used.

A token is a person's own setting, like their password, e-mail addresses and calendar address: it is not an event
of any definition or ballot, so none of this is written to the audit log, whose streams are definitions' and
ballots'. Publishing it would also tell everyone which members use scripts, and when. What a token does is on the
record: each vote, comment or dispute made with it is audited as its person's, through the same services as the
pages.
"""

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from .models import (
    TOKEN_LIFETIME_MAX_DAYS,
    TOKENS_PER_PERSON_MAX,
    AccessToken,
    Scope,
    token_digest,
    token_name_length,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

LAST_USED_PRECISION = timedelta(minutes=1)  # last use is written at most once a minute per token


@transaction.atomic
def create_token(
    *, user: "User | AnonymousUser", name: str, scopes: Iterable[str] = (), expires_at: datetime | None = None
) -> tuple[AccessToken, str]:
    """A new token for `user`, and its secret, for the page to show once: only its digest is kept."""
    if not user.is_authenticated:
        raise PermissionDenied("Sign in to make an API token.")
    name = name.strip()
    if not name:
        raise ValidationError("Name the token after what will use it, so that you know which to revoke.")
    token_name_length(name)
    scopes = list(dict.fromkeys(scopes))  # each once, in the order given
    if unknown := [s for s in scopes if s not in Scope.values]:
        raise ValidationError(f"There is no scope {unknown[0]!r}; the scopes are {', '.join(Scope.values)}.")
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise ValidationError("A token's expiry is in the future.")
    if expires_at is not None and expires_at > now + timedelta(days=TOKEN_LIFETIME_MAX_DAYS):
        raise ValidationError(f"A token expires within {TOKEN_LIFETIME_MAX_DAYS} days, or never.")
    # one person's tokens in line, so that two at once cannot both pass the count
    list(get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk"))
    if AccessToken.objects.filter(user=user).usable().count() >= TOKENS_PER_PERSON_MAX:
        raise ValidationError(f"You have {TOKENS_PER_PERSON_MAX} usable tokens, the most one person may: revoke one.")
    key = secrets.token_hex(6)
    secret = f"plenary_{key}_{secrets.token_urlsafe(32)}"
    token = AccessToken.objects.create(
        user=user,
        name=name,
        key=key,
        digest=token_digest(secret),
        scopes=sorted(scopes, key=Scope.values.index),
        created_at=now,
        expires_at=expires_at,
    )
    return token, secret


@transaction.atomic
def revoke_token(*, token: AccessToken, acting_user: "User") -> AccessToken:
    """The token stops working at once; it stays listed as revoked. Only its own person revokes it."""
    token = AccessToken.objects.select_for_update().get(pk=token.pk)
    if token.user_id != acting_user.pk:
        raise PermissionDenied("Only its own person revokes a token.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def note_use(token: AccessToken) -> None:
    """When the token was last used, to the minute: one UPDATE a minute at most, whatever the rate of requests."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        AccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
