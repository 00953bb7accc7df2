"""Definitions, their numbered drafts, the components voted on, working groups and comments."""

import hashlib
import secrets

from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.core.validators import MaxLengthValidator, RegexValidator
from django.db import models
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from plenary_tally.vocabulary import definition_stream

from .diff import ComponentSpec

label_validator = RegexValidator(
    r"^[0-9A-Za-z][0-9A-Za-z.+\-]*$",
    "Use letters, digits, dots, plus and hyphens, such as 0.0.9 or 1.0-rc1.",
)

# How long a text a person writes may be, with room to spare: a definition's text about ten times the length of
# the OSAID 1.0 text, a comment of a few pages. Longer is refused whole, never cut, by the services that save
# them (so every page, command and import obeys them); the Markdown of what is saved is rendered once, there.
# Documented in docs/security.md ("Limits on what one person can write").
DRAFT_BODY_MAX_LENGTH = 100_000
RELEASE_NOTES_MAX_LENGTH = 20_000
COMMENT_MAX_LENGTH = 10_000

draft_body_length = MaxLengthValidator(
    DRAFT_BODY_MAX_LENGTH, "A draft's text can be at most %(limit_value)s characters long; this one has %(show_value)s."
)
release_notes_length = MaxLengthValidator(
    RELEASE_NOTES_MAX_LENGTH, "Release notes can be at most %(limit_value)s characters long; these have %(show_value)s."
)
# The newest entries a feed gives (the releases, the discussion, the ballots of a definition): a reader polls it
# often and keeps what it has seen, so a feed is a window on what is new, not the archive.
FEED_MAX_ENTRIES = 50

comment_length = MaxLengthValidator(
    COMMENT_MAX_LENGTH, "A comment can be at most %(limit_value)s characters long; this one has %(show_value)s."
)


class DefinitionQuerySet(models.QuerySet):
    def organized_by(self, user) -> "DefinitionQuerySet":
        return self.filter(organizers=user) if user.is_authenticated else self.none()


class Definition(models.Model):
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    organizers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="organized_definitions")
    drafts_open = models.BooleanField(
        default=False,
        help_text=_(
            "Drafting in the open: everyone reads the draft in progress, and the signed in comment on it and "
            "suggest changes to it."
        ),
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = DefinitionQuerySet.as_manager()

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("deliberation:definition", args=[self.slug])

    @property
    def audit_stream(self) -> str:
        """The audit chain of everything that happens to this definition outside its ballots."""
        return definition_stream(self.slug)

    def is_organizer(self, user) -> bool:
        return user.is_authenticated and self.organizers.filter(pk=user.pk).exists()


class DraftVersionQuerySet(models.QuerySet):
    def published(self) -> "DraftVersionQuerySet":
        return self.filter(status=DraftVersion.Status.PUBLISHED)

    def visible_to(self, user) -> "DraftVersionQuerySet":
        """Published versions are public; a draft in progress is seen by its organizers only, or by everyone when
        its definition drafts in the open (`Definition.drafts_open`)."""
        public = Q(status=DraftVersion.Status.PUBLISHED) | Q(definition__drafts_open=True)
        if not user.is_authenticated:
            return self.filter(public)
        return self.filter(public | Q(definition__organizers=user)).distinct()


def new_digest_salt() -> str:
    return secrets.token_hex(16)


class DraftVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    definition = models.ForeignKey(Definition, models.CASCADE, related_name="versions")
    label = models.CharField(max_length=32, validators=[label_validator])
    body = models.TextField(blank=True, help_text=_("Markdown."), validators=[draft_body_length])
    body_html = models.TextField(blank=True, editable=False, help_text=_("The body rendered when it was saved."))
    release_notes = models.TextField(blank=True, help_text=_("Markdown."), validators=[release_notes_length])
    release_notes_html = models.TextField(blank=True, editable=False)
    status = models.CharField(max_length=16, choices=Status, default=Status.DRAFT)
    based_on = models.ForeignKey("self", models.SET_NULL, null=True, blank=True, related_name="+")
    digest_salt = models.CharField(
        max_length=32,
        default=new_digest_salt,
        editable=False,
        help_text=_("Salts the digests the draft's edits record: private while it is a draft, published with it."),
    )
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")

    objects = DraftVersionQuerySet.as_manager()

    class Meta:
        ordering = ["definition", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["definition", "label"], name="one_label_per_definition"),
            models.UniqueConstraint(
                fields=["definition"], condition=Q(status="draft"), name="one_open_draft_per_definition"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False), name="published_has_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.definition.title} {self.label}"

    def get_absolute_url(self) -> str:
        return reverse("deliberation:version", args=[self.definition.slug, self.label])

    def as_announced(self) -> dict:
        """A release as a webhook tells of it (docs/webhooks.md): published only, so nothing of a draft in progress."""
        assert self.is_published and self.published_at is not None, "only a release is told of"
        return {
            "label": self.label,
            "url": settings.SITE_URL.rstrip("/") + self.get_absolute_url(),
            "published_at": self.published_at.isoformat(),
            "published_by": self.published_by.get_username() if self.published_by else None,
            "release_notes": self.release_notes,
            "components": self.components.count(),
        }

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def numbered_lines(self) -> list[tuple[int, str]]:
        """The text's Markdown source, line by line, numbered from 1: what passages and suggestions refer to."""
        return list(enumerate(self.body.splitlines(), start=1))

    def current_revision(self) -> "DraftRevision | None":
        """The latest save of the text; None only for a version made outside the services, never saved."""
        return self.revisions.select_related("author").order_by("-number").first()


class DraftRevisionQuerySet(models.QuerySet):
    def listed(self) -> "DraftRevisionQuerySet":
        """Newest first, with who saved each and without the texts: what a list of revisions shows."""
        return self.select_related("author").defer("body").order_by("-number")


class DraftRevision(models.Model):
    """One save of a draft's text, kept whole: who saved it, when, and the text (and label) as saved.

    Revisions are numbered 1, 2, 3… per version. The first is the text a draft started with (or, for versions
    that existed before revisions were kept, their text when they began to be kept, with no author).
    """

    version = models.ForeignKey(DraftVersion, models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    label = models.CharField(max_length=32)
    body = models.TextField(blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    saved_at = models.DateTimeField(default=timezone.now)

    objects = DraftRevisionQuerySet.as_manager()

    class Meta:
        ordering = ["version", "number"]
        constraints = [
            models.UniqueConstraint(fields=["version", "number"], name="one_revision_number_per_version"),
        ]

    def __str__(self) -> str:
        return f"{self.version} revision {self.number}"

    def get_absolute_url(self) -> str:
        return reverse("deliberation:revision", args=[self.version.definition.slug, self.version.label, self.number])


def category_key(name: str) -> str:
    """What makes two category names the same one: case, spacing, hyphens and underscores aside."""
    return " ".join(name.replace("-", " ").replace("_", " ").split()).casefold()


def tidy_category(name: str) -> str:
    """A category name as it is stored: trimmed, with single spaces."""
    return " ".join(name.split())


class ComponentQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ComponentQuerySet":
        """A component is visible wherever its version is."""
        return self.filter(version__in=DraftVersion.objects.visible_to(user))

    def categories(self) -> list[str]:
        """The distinct categories of these components, sorted without regard to case."""
        names = self.order_by().values_list("category", flat=True).distinct()
        return sorted({n for n in names if n}, key=lambda n: (category_key(n), n))

    def leaves(self) -> "ComponentQuerySet":
        return self.filter(aggregate_rule="")

    def specs(self) -> list[ComponentSpec]:
        """Plain descriptions of the components, as the diff compares them."""
        return [
            ComponentSpec(
                key=c.key,
                title=c.title,
                category=c.category,
                description=c.description,
                aggregate=(c.aggregate_rule, tuple(sorted(p.key for p in c.parts.all()))) if c.aggregate_rule else None,
            )
            for c in self.prefetch_related("parts")
        ]

    def as_data(self) -> list[dict]:
        """The components as `ballot.json` and a ballot's `ballot.created` event record them.

        By category, position and key, sorted in Python (not by the database's collation); an
        aggregate with its rule and its parts' keys, sorted.
        """
        rows = []
        for c in sorted(self.prefetch_related("parts"), key=lambda c: (c.category, c.position, c.key)):
            row: dict = {"key": c.key, "title": c.title, "category": c.category}
            if c.aggregate_rule:
                row["aggregate"] = {"rule": c.aggregate_rule, "of": sorted(p.key for p in c.parts.all())}
            rows.append(row)
        return rows


class Component(models.Model):
    class Rule(models.TextChoices):
        SUM = "sum", _("Sum")
        MEAN = "mean", _("Mean")

    version = models.ForeignKey(DraftVersion, models.CASCADE, related_name="components")
    key = models.SlugField(max_length=64, help_text=_("Stays the same across versions."))
    title = models.CharField(max_length=200)
    category = models.CharField(max_length=64, help_text=_("Such as Code, Data, Model or Documentation."))
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    aggregate_rule = models.CharField(
        max_length=8, choices=Rule, blank=True, help_text=_("Set for an aggregate of other components.")
    )
    parts = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="aggregates")

    objects = ComponentQuerySet.as_manager()

    class Meta:
        ordering = ["version", "position", "key"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="one_key_per_version"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("deliberation:component", args=[self.version.definition.slug, self.version.label, self.key])

    @property
    def is_aggregate(self) -> bool:
        return bool(self.aggregate_rule)


PROVIDER_ID_MAX_LENGTH = 30  # a provider's id (allauth's `SocialAccount.provider`): github, gitlab, an OIDC id


class WorkingGroup(models.Model):
    definition = models.ForeignKey(Definition, models.CASCADE, related_name="working_groups")
    key = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The sign-in provider its members vote with (docs/sign-in.md): a member votes in its ballots only with an
    # account of that provider linked to theirs (`MembershipQuerySet.identified`). "" for none: any account votes.
    required_provider = models.CharField(max_length=PROVIDER_ID_MAX_LENGTH, blank=True)

    class Meta:
        ordering = ["definition", "name"]
        constraints = [
            models.UniqueConstraint(fields=["definition", "key"], name="one_group_key_per_definition"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("deliberation:group", args=[self.definition.slug, self.key])

    def can_manage_roster(self, user) -> bool:
        return self.definition.is_organizer(user) or self.is_chair(user)

    def is_chair(self, user) -> bool:
        return (
            user.is_authenticated and self.memberships.current().filter(user=user, role=Membership.Role.CHAIR).exists()
        )


class MembershipQuerySet(models.QuerySet):
    def current(self) -> "MembershipQuerySet":
        return self.filter(left_at__isnull=True)

    def at(self, moment) -> "MembershipQuerySet":
        """The roster as it stood at `moment`."""
        return self.filter(Q(joined_at__lte=moment), Q(left_at__isnull=True) | Q(left_at__gt=moment))

    def annotate_identified(self) -> "MembershipQuerySet":
        """Each membership with `identified`: whether its member has linked an account of the sign-in provider their
        group requires (docs/sign-in.md), True where it requires none."""
        linked = SocialAccount.objects.filter(user=OuterRef("user"), provider=OuterRef("group__required_provider"))
        return self.annotate(
            identified=ExpressionWrapper(Q(group__required_provider="") | Exists(linked), BooleanField())
        )


class Membership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", _("Member")
        CHAIR = "chair", _("Chair")

    group = models.ForeignKey(WorkingGroup, models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=8, choices=Role, default=Role.MEMBER)
    joined_at = models.DateTimeField(default=timezone.now)
    left_at = models.DateTimeField(null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["group", "role", "user__username"]  # chairs first
        constraints = [
            models.UniqueConstraint(
                fields=["group", "user"], condition=Q(left_at__isnull=True), name="one_current_membership"
            ),
            models.CheckConstraint(
                condition=Q(left_at__isnull=True) | Q(left_at__gte=models.F("joined_at")),
                name="leaves_after_joining",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.group} ({self.role})"

    def votes_on_open_ballots(self) -> list[tuple]:
        """Each ballot not yet closed that enrolls the group, with how many votes the member cast in it for the
        group; None where the ballot's votes are sealed until it closes (how many is not said either)."""
        ballots = self.group.ballots.exclude(status="closed").order_by("title")  # a ballot's status, by value
        counts = dict(
            self.group.votes.filter(voter=self.user, ballot__in=ballots)
            .order_by()
            .values_list("ballot")
            .annotate(n=models.Count("pk"))
        )
        return [(b, counts.get(b.pk, 0) if b.results_public else None) for b in ballots]


class CommentQuerySet(models.QuerySet):
    def visible_to(self, user) -> "CommentQuerySet":
        """A comment is visible wherever its version is (hidden or not: a hidden one shows its reason)."""
        return self.filter(version__in=DraftVersion.objects.visible_to(user))

    def shown(self) -> "CommentQuerySet":
        """Not hidden: those whose text the pages show."""
        return self.filter(hidden_at__isnull=True)

    def public(self) -> "CommentQuerySet":
        """What anyone may read, body and all: comments on published versions that were not hidden."""
        return self.filter(version__status=DraftVersion.Status.PUBLISHED, hidden_at__isnull=True)

    def threads(self) -> "CommentQuerySet":
        """Top-level comments with their replies and authors, ready to render."""
        return (
            self.filter(parent__isnull=True)
            .select_related("author", "hidden_by")
            .prefetch_related(
                models.Prefetch(
                    "replies",
                    queryset=Comment.objects.select_related("author", "hidden_by").order_by("created_at"),
                )
            )
            .order_by("created_at")
        )


class Comment(models.Model):
    version = models.ForeignKey(DraftVersion, models.CASCADE, related_name="comments")
    component = models.ForeignKey(Component, models.CASCADE, null=True, blank=True, related_name="comments")
    suggestion = models.ForeignKey("Suggestion", models.CASCADE, null=True, blank=True, related_name="comments")
    line_from = models.PositiveIntegerField(null=True, blank=True, help_text=_("The passage commented on, if any."))
    line_to = models.PositiveIntegerField(null=True, blank=True)
    passage = models.TextField(blank=True, help_text=_("The passage's lines as they read when the comment was posted."))
    parent = models.ForeignKey("self", models.CASCADE, null=True, blank=True, related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="comments")
    body = models.TextField(help_text=_("Markdown."), validators=[comment_length])
    body_html = models.TextField(blank=True, editable=False, help_text=_("The body rendered when it was saved."))
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    hidden_reason = models.TextField(blank=True)

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(hidden_at__isnull=True) | ~Q(hidden_reason=""), name="hidden_with_reason"
            ),
            models.CheckConstraint(
                condition=Q(line_from__isnull=True, line_to__isnull=True)
                | Q(line_from__gte=1, line_to__gte=models.F("line_from")),
                name="comment_passage_is_a_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Comment by {self.author} on {self.version}"

    def get_absolute_url(self) -> str:
        """The comment in its discussion: on its suggestion's or its component's page, or on its version's."""
        target = self.suggestion or self.component or self.version
        return f"{target.get_absolute_url()}#comment-{self.pk}"

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class CommentRevision(models.Model):
    """A comment's text before one of its edits; the edit history."""

    comment = models.ForeignKey(Comment, models.CASCADE, related_name="revisions")
    body = models.TextField()
    written_at = models.DateTimeField()

    class Meta:
        ordering = ["comment", "written_at"]

    def __str__(self) -> str:
        return f"Revision of comment {self.comment_id} from {self.written_at:%Y-%m-%d %H:%M}"


# Joining a group ---------------------------------------------------------------------------------

JOIN_NOTE_MAX_LENGTH = 1_000  # a few sentences on who one is and why one asks
DECISION_REASON_MAX_LENGTH = 1_000
INVITATION_LIFETIME_DAYS = 14
BULK_LINES_MAX = 100  # handles or addresses pasted at once

join_note_length = MaxLengthValidator(
    JOIN_NOTE_MAX_LENGTH, "A note can be at most %(limit_value)s characters long; this one has %(show_value)s."
)
decision_reason_length = MaxLengthValidator(
    DECISION_REASON_MAX_LENGTH, "A reason can be at most %(limit_value)s characters long; this one has %(show_value)s."
)


class JoinRequestQuerySet(models.QuerySet):
    def pending(self) -> "JoinRequestQuerySet":
        return self.filter(status=JoinRequest.Status.PENDING)

    def decided_by(self, user) -> "JoinRequestQuerySet":
        """Those `user` may decide (`WorkingGroup.can_manage_roster`): their group's as its chair, or any group's
        of a definition they organize."""
        if not user.is_authenticated:
            return self.none()
        chairs = Membership.objects.current().filter(user=user, role=Membership.Role.CHAIR).values("group")
        return self.filter(Q(group__in=chairs) | Q(group__definition__organizers=user)).distinct()


class JoinRequest(models.Model):
    """A signed-in person's request to join a working group, which its chairs or the organizers decide."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    group = models.ForeignKey(WorkingGroup, models.CASCADE, related_name="join_requests")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="join_requests")
    note = models.TextField(blank=True, validators=[join_note_length])
    status = models.CharField(max_length=8, choices=Status, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    reason = models.TextField(blank=True, validators=[decision_reason_length])

    objects = JoinRequestQuerySet.as_manager()

    class Meta:
        ordering = ["group", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "user"], condition=Q(status="pending"), name="one_pending_request_per_group"
            ),
            models.CheckConstraint(condition=~Q(status="declined") | ~Q(reason=""), name="declined_with_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.user} asks to join {self.group} ({self.status})"


def token_digest(token: str) -> str:
    """What is stored of a secret link's token (an invitation's, a calendar's): its link works, a copy of the table
    does not. Looked up by this digest, a token is never compared character by character with one that is kept."""
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet):
    def usable(self) -> "InvitationQuerySet":
        """Neither used, revoked nor expired."""
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())


class Invitation(models.Model):
    """An invitation by e-mail to join a working group: its link signs up or signs in, then joins, once."""

    group = models.ForeignKey(WorkingGroup, models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=8, choices=Membership.Role, default=Membership.Role.MEMBER)
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["group", "-created_at", "pk"]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.group}"

    @property
    def state(self) -> str:
        """What became of it, in a word a page can show."""
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        return "expired" if self.expires_at <= timezone.now() else "open"


# A person's calendar ------------------------------------------------------------------------------


class CalendarToken(models.Model):
    """A person's secret calendar address: whoever holds its link reads the calendar of their ballots, unsigned.

    One per person. Only the token's digest is kept (`token_digest`), so the address is shown once, when it is
    made; making a new one replaces it, and the old link then finds nothing.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="calendar_token")
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Calendar address of {self.user}"


# Suggested changes -----------------------------------------------------------------------------

SUGGESTION_MAX_LENGTH = 20_000  # the replacement text of one passage
SUGGESTION_REASON_MAX_LENGTH = 2_000
PASSAGE_MAX_LINES = 200  # lines one passage may span

suggestion_length = MaxLengthValidator(
    SUGGESTION_MAX_LENGTH,
    "A replacement can be at most %(limit_value)s characters long; this one has %(show_value)s.",
)
suggestion_reason_length = MaxLengthValidator(
    SUGGESTION_REASON_MAX_LENGTH,
    "A reason can be at most %(limit_value)s characters long; this one has %(show_value)s.",
)


class SuggestionQuerySet(models.QuerySet):
    def visible_to(self, user) -> "SuggestionQuerySet":
        """A suggestion is visible wherever its version is."""
        return self.filter(version__in=DraftVersion.objects.visible_to(user))

    def pending(self) -> "SuggestionQuerySet":
        return self.filter(status=Suggestion.Status.PENDING)

    def to_consolidate(self) -> "SuggestionQuerySet":
        """Accepted and not yet applied to the text."""
        return self.filter(status=Suggestion.Status.ACCEPTED, applied_at__isnull=True)

    def consolidated(self) -> "SuggestionQuerySet":
        return self.filter(applied_at__isnull=False)

    def overlapping(self, suggestion: "Suggestion") -> "SuggestionQuerySet":
        """The others on the same version whose passage shares a line with `suggestion`'s."""
        return self.filter(
            version=suggestion.version_id, line_from__lte=suggestion.line_to, line_to__gte=suggestion.line_from
        ).exclude(pk=suggestion.pk)

    def listed(self) -> "SuggestionQuerySet":
        """By passage, with who made and decided each and how many support it: what a list shows."""
        return (
            self.select_related("author", "decided_by", "version__definition")
            .annotate(support_count=models.Count("supports"))
            .order_by("line_from", "line_to", "pk")
        )


class Suggestion(models.Model):
    """A proposed replacement of lines `line_from`..`line_to` of a draft's text, with its reason.

    Organizers accept or decline it; consolidating the draft applies every accepted one at once. A pending
    suggestion on a version that is published moves to the next draft where its passage still reads the same
    (`original`), and is outdated where it does not.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        OUTDATED = "outdated", _("Outdated")

    version = models.ForeignKey(DraftVersion, models.CASCADE, related_name="suggestions")
    line_from = models.PositiveIntegerField()
    line_to = models.PositiveIntegerField()
    original = models.TextField(help_text=_("The passage's lines as they read when the change was suggested."))
    replacement = models.TextField(blank=True, validators=[suggestion_length], help_text=_("Empty removes the lines."))
    reason = models.TextField(validators=[suggestion_reason_length])
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="suggestions")
    status = models.CharField(max_length=8, choices=Status, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    decision_reason = models.TextField(blank=True, validators=[decision_reason_length])
    applied_at = models.DateTimeField(null=True, blank=True, help_text=_("When consolidating applied it to the text."))
    applied_from = models.PositiveIntegerField(null=True, blank=True, help_text=_("Its lines in the text it made."))
    applied_to = models.PositiveIntegerField(null=True, blank=True)

    objects = SuggestionQuerySet.as_manager()

    class Meta:
        ordering = ["version", "line_from", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(line_from__gte=1, line_to__gte=models.F("line_from")), name="suggestion_is_a_range"
            ),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decision_reason=""), name="suggestion_declined_with_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"Suggestion {self.pk} on {self.version} lines {self.line_from}–{self.line_to}"

    def get_absolute_url(self) -> str:
        return reverse("deliberation:suggestion", args=[self.version.definition.slug, self.pk])

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


class Support(models.Model):
    """One person's support of a suggestion: once each."""

    suggestion = models.ForeignKey(Suggestion, models.CASCADE, related_name="supports")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["suggestion", "created_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["suggestion", "user"], name="one_support_per_person")]

    def __str__(self) -> str:
        return f"{self.user} supports suggestion {self.suggestion_id}"
