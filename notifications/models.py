"""What Plenary tells people: each notification once per recipient, in the app and (as they choose) by e-mail.

A notification is written in the transaction of the change that causes it (the outbox), then e-mailed by a
worker after the commit (`tasks.deliver`). Its `delivery` says where that stands, and the recipient sees it.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

SUBJECT_MAX_LENGTH = 200
BODY_MAX_LENGTH = 5_000
KEY_MAX_LENGTH = 200


class Kind(models.TextChoices):
    """Each kind a person can receive, with what the settings page calls it."""

    BALLOT_OPENED = "ballot.opened", _("A ballot of your group opens")
    BALLOT_CLOSING = "ballot.closing", _("A ballot closes soon and you have cells without a vote")
    BALLOT_CLOSED = "ballot.closed", _("A ballot you voted in closes: your receipts")
    REPLY = "comment.reply", _("A reply to your comment")
    MENTION = "comment.mention", _("A mention of you (@handle)")
    DISPUTE = "dispute", _("A dispute raised or resolved over your votes")
    MEMBERSHIP = "membership", _("Your membership, chair role or join request changed")
    JOIN_REQUEST = "join.request", _("A join request waiting for you (chairs and organizers)")
    FOLLOWED = "followed", _("A release or a ballot on a definition you follow")
    INVITATION = "invitation", _("An invitation to join a group")
    DIGEST = "digest", _("Your daily digest")


class Mode(models.TextChoices):
    """How a person wants a kind by e-mail; in the app, every notification is shown."""

    IMMEDIATELY = "immediately", _("E-mail me at once")
    DAILY = "daily", _("In a daily digest")
    OFF = "off", _("Not by e-mail")


# What a person gets by e-mail until they say otherwise: what needs them at once, what they follow once a day.
DEFAULT_MODES = {kind: Mode.IMMEDIATELY for kind in Kind.values} | {Kind.FOLLOWED: Mode.DAILY}
# Kinds a person cannot turn off: an invitation goes to an address with no account yet; the digest is the setting.
FIXED = {Kind.INVITATION, Kind.DIGEST}


class Delivery(models.TextChoices):
    PENDING = "pending", _("Waiting to be e-mailed")
    SENDING = "sending", _("Being e-mailed")
    SENT = "sent", _("E-mailed")
    IN_DIGEST = "in_digest", _("Waiting for your daily digest")
    DIGESTED = "digested", _("E-mailed in your daily digest")
    NOT_EMAILED = "not_emailed", _("Not e-mailed (your settings)")
    NO_ADDRESS = "no_address", _("Not e-mailed: no verified address")


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user) -> "NotificationQuerySet":
        return self.filter(recipient=user).exclude(kind=Kind.DIGEST)

    def unread(self) -> "NotificationQuerySet":
        return self.filter(read_at__isnull=True)

    def about_comments(self) -> "NotificationQuerySet":
        """Replies to the person and mentions of them."""
        return self.filter(kind__in=[Kind.REPLY, Kind.MENTION])

    def to_send(self, *, older_than=None) -> "NotificationQuerySet":
        """Waiting for a worker: pending, or being sent by a worker whose lease ran out (it was killed)."""
        now = timezone.now()
        lease = now - timedelta(seconds=settings.NOTIFICATION_LEASE_SECONDS)
        pending = Q(delivery=Delivery.PENDING)
        if older_than is not None:
            pending &= Q(created_at__lte=now - older_than)
        return self.filter(pending | Q(delivery=Delivery.SENDING, sending_since__lte=lease))


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    address = models.EmailField(blank=True, help_text=_("Where it is e-mailed when it has no recipient account."))
    kind = models.CharField(max_length=32, choices=Kind.choices)
    key = models.CharField(
        max_length=KEY_MAX_LENGTH, help_text=_("What it is about, e.g. ballot:12: one notification per recipient.")
    )
    subject = models.CharField(max_length=SUBJECT_MAX_LENGTH)
    body = models.TextField(max_length=BODY_MAX_LENGTH)
    path = models.CharField(max_length=500, help_text=_("The page it concerns, on this site."))
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    delivery = models.CharField(max_length=16, choices=Delivery.choices, default=Delivery.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    sending_since = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    digest = models.ForeignKey("self", models.SET_NULL, null=True, blank=True, related_name="items")

    objects = NotificationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "key"], condition=Q(recipient__isnull=False), name="once_per_recipient"
            ),
            models.UniqueConstraint(
                fields=["address", "kind", "key"], condition=Q(recipient__isnull=True), name="once_per_address"
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            models.Index(fields=["delivery", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient or self.address}: {self.subject}"


class AnnouncementQuerySet(models.QuerySet):
    def waiting(self) -> "AnnouncementQuerySet":
        return self.filter(expanded_at__isnull=True)


class Announcement(models.Model):
    """One message to many, written in the change's transaction: the worker writes each recipient's notification.

    So that a ballot opening to thousands answers its organizer at once: one row here, not thousands
    (`services.announce`, `services.expand`). Each recipient is still told once (the notification's key).
    """

    kind = models.CharField(max_length=32, choices=Kind.choices)
    key = models.CharField(max_length=KEY_MAX_LENGTH)
    subject = models.CharField(max_length=SUBJECT_MAX_LENGTH)
    body = models.TextField(max_length=BODY_MAX_LENGTH)
    path = models.CharField(max_length=500)
    recipients = models.JSONField(help_text=_("The ids of the accounts told, as they stood at the change."))
    created_at = models.DateTimeField(default=timezone.now)
    expanded_at = models.DateTimeField(null=True, blank=True)

    objects = AnnouncementQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.kind} to {len(self.recipients)}: {self.subject}"


class Preference(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="notification_preferences")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    mode = models.CharField(max_length=16, choices=Mode.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="one_preference_per_kind")]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind} {self.mode}"


def modes_of(user) -> dict[str, str]:
    """Each kind's mode for the person: theirs where they set one, else the default."""
    return DEFAULT_MODES | dict(Preference.objects.filter(user=user).values_list("kind", "mode"))


class Follow(models.Model):
    """A person's own word on following a definition: `following`, or not (turning the default off).

    Who follows a definition (`followers`): with no row, the members of its working groups and its organizers do,
    and nobody else. A row, either way, is the person's choice and stands whatever the roster does. So joining a
    group or becoming an organizer writes nothing here, leaving ends the default, and nothing needs back-filling.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="follows")
    definition = models.ForeignKey("deliberation.Definition", models.CASCADE, related_name="follows")
    following = models.BooleanField(default=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "definition"], name="one_follow_per_definition")]

    def __str__(self) -> str:
        return f"{self.user} {'follows' if self.following else 'does not follow'} {self.definition}"


def followers(definition) -> models.QuerySet:
    """The active accounts that follow `definition`: who said so, and its members and organizers but who said not."""
    said = Follow.objects.filter(definition=definition)
    by_default = Q(memberships__group__definition=definition, memberships__left_at__isnull=True) | Q(
        organized_definitions=definition
    )
    chosen = Q(pk__in=said.filter(following=True).values("user"))
    declined = Q(pk__in=said.filter(following=False).values("user"))
    return get_user_model().objects.filter(chosen | (by_default & ~declined), is_active=True).distinct()
