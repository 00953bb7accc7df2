"""What Plenary tells people: each notification once per recipient, in the app and (as they choose) by e-mail.

A notification is written in the transaction of the change that causes it (the outbox), then e-mailed by a
worker after the commit (`tasks.deliver`). Its `delivery` says where that stands, and the recipient sees it.
"""

from datetime import timedelta
from urllib.parse import urlsplit

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


# Webhooks: what Plenary tells other systems ------------------------------------------------------------------------

WEBHOOK_URL_MAX_LENGTH = 500
WEBHOOKS_PER_DEFINITION = 10
WEBHOOK_RESPONSE_KEPT = 2_000  # characters of a receiver's answer kept in the delivery log
# After the first attempt fails, the next attempts wait this long after the one before; then the delivery has failed.
WEBHOOK_RETRY_AFTER = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
WEBHOOK_ATTEMPTS = 1 + len(WEBHOOK_RETRY_AFTER)


class Event(models.TextChoices):
    """What a webhook can be told of: only what is public on the site the moment it happens."""

    BALLOT_OPENED = "ballot.opened", "A ballot opens"
    BALLOT_CLOSED = "ballot.closed", "A ballot closes (its votes are public from then)"
    RELEASE_PUBLISHED = "release.published", "A release is published"
    DECISION_RECORDED = "decision.recorded", "A decision is recorded on a closed ballot"


class WebhookQuerySet(models.QuerySet):
    def active(self) -> "WebhookQuerySet":
        return self.filter(active=True)


class Webhook(models.Model):
    """An address a definition's organizers want told of some of its events, by a signed POST.

    The secret signs each delivery (docs/webhooks.md); the page shows it once, when it is made. It is kept as it is,
    not as a digest like the calendar's token, because signing needs it; no page, log or file shows it again.
    """

    definition = models.ForeignKey("deliberation.Definition", models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=WEBHOOK_URL_MAX_LENGTH, help_text="Where each event is POSTed (http or https).")
    events = models.JSONField(help_text="The events wanted, as a list of `Event` values.")
    active = models.BooleanField(default=True)
    secret = models.CharField(max_length=100, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)

    objects = WebhookQuerySet.as_manager()

    class Meta:
        ordering = ["definition", "pk"]

    def __str__(self) -> str:
        return f"Webhook {self.pk} of {self.definition_id} to {self.host}"

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    def wants(self, event: str) -> bool:
        return self.active and event in self.events

    def as_recorded(self) -> dict:
        """The webhook as the public audit log records it: its host, not its address, whose path or query may
        carry a receiver's own token (as chat services' incoming-webhook addresses do), and never the secret."""
        return {"webhook": self.pk, "host": self.host, "events": sorted(self.events), "active": self.active}


class WebhookDeliveryQuerySet(models.QuerySet):
    def due(self, now=None) -> "WebhookDeliveryQuerySet":
        """Waiting, and its time has come: new, a retry whose wait is over, or one a killed worker left."""
        return self.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now or timezone.now())


class WebhookDelivery(models.Model):
    """One event for one webhook: the body as it is sent (the same on every attempt), and where it stands."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed: no more attempts"

    webhook = models.ForeignKey(Webhook, models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=32, choices=Event.choices)
    event_id = models.UUIDField(help_text="The event's id, sent as Plenary-Event-Id: the same on a redelivery.")
    delivery_id = models.UUIDField(unique=True, help_text="Sent as Plenary-Delivery: the same on every retry.")
    body = models.TextField(help_text="The JSON sent, exactly.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="When a worker may try it (again).")
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    redelivery_of = models.ForeignKey("self", models.SET_NULL, null=True, blank=True, related_name="redeliveries")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", help_text="Who redelivered."
    )

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event} to webhook {self.webhook_id}: {self.status}"

    @property
    def last_attempt(self) -> "WebhookAttempt | None":
        """The latest attempt, from the prefetched log when there is one (the delivery log lists many)."""
        attempts = list(self.attempt_log.all())
        return attempts[-1] if attempts else None


class WebhookAttempt(models.Model):
    """One POST of a delivery, as the receiver answered it (or why it could not be sent)."""

    delivery = models.ForeignKey(WebhookDelivery, models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    response = models.TextField(blank=True, help_text=f"The start of the answer, at most {WEBHOOK_RESPONSE_KEPT}.")

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="one_attempt_per_number")]

    def __str__(self) -> str:
        return f"Attempt {self.number} of {self.delivery_id}: {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
