"""Personal access tokens: a person's key to the JSON API, and the writes it may make in their name.

A token is `plenary_<key>_<secret>`. The key (12 hex digits) is kept as it is, to find the token and to show it
in lists; of the secret only the SHA-256 digest of the whole token is kept, so a copy of the table lets nobody in.
SHA-256, not a password hasher: the secret is 256 random bits, which no dictionary or brute force reaches, and a
password hasher's deliberate slowness would be paid on every API request.
"""

import hashlib
import re

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone

TOKEN_NAME_MAX_LENGTH = 100
TOKENS_PER_PERSON_MAX = 20  # usable ones: revoked and expired tokens do not count
TOKEN_LIFETIME_MAX_DAYS = 366
TOKEN_MAX_LENGTH = 80  # an Authorization header longer than any token is refused before it is parsed
TOKEN_PATTERN = re.compile(r"plenary_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")

token_name_length = MaxLengthValidator(
    TOKEN_NAME_MAX_LENGTH, "A token's name can be at most %(limit_value)s characters long; this one has %(show_value)s."
)


class Scope(models.TextChoices):
    """What a token may write, beyond reading what its person reads (which every token may)."""

    VOTE = "vote", "Vote: cast, change and withdraw votes"
    COMMENT = "comment", "Comment: post comments and replies"
    DISPUTE = "dispute", "Dispute: raise disputes on votes"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccessTokenQuerySet(models.QuerySet):
    def usable(self) -> "AccessTokenQuerySet":
        """Neither revoked nor expired."""
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=timezone.now())
        )


class AccessToken(models.Model):
    """One personal access token: its name, what it may write (`scopes`), until when, and when it was last used."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="access_tokens")
    name = models.CharField(max_length=TOKEN_NAME_MAX_LENGTH, validators=[token_name_length])
    key = models.CharField(max_length=12, unique=True, editable=False)
    digest = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list, blank=True, help_text="Write scopes (Scope); empty: read-only.")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = AccessTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.display})"

    @property
    def display(self) -> str:
        """How the token is shown once its secret is gone: its key, enough to tell it from the others."""
        return f"plenary_{self.key}_…"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def is_read_only(self) -> bool:
        return not self.scopes

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes

    def scope_labels(self) -> list[str]:
        return [Scope(s).label for s in self.scopes]
