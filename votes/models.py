"""Ballots on a published version: criteria, the choice scale, veto grants, votes and disputes."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator
from django.db import models
from django.db.models import BooleanField, Case, Count, Exists, Max, OuterRef, Q, Subquery, When
from django.db.models.functions import Cast, Coalesce, Greatest
from django.db.models.lookups import IsNull
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEvent
from deliberation.models import Component, Definition, DraftVersion, Membership, WorkingGroup
from plenary_tally import majority, rules
from plenary_tally.ballot import SELECTORS
from plenary_tally.vocabulary import Action, ballot_stream

OSAID_BANDS: dict[str, Any] = {
    "rule": "mean-bands",
    "bands": [
        {"min": 2.0, "label": "Yes"},
        {"min": 1.5, "label": "Lean yes"},
        {"min": 1.0, "label": "Maybe"},
        {"min": 0.5, "label": "Lean no"},
    ],
    "otherwise": "No",
}


def default_methodology() -> dict:
    return {**OSAID_BANDS, "bands": [dict(b) for b in OSAID_BANDS["bands"]]}


def default_clustering() -> dict:
    return dict(rules.DEFAULT_CLUSTERING)


# A reason for closing early or moving the window: a sentence or a paragraph, refused whole beyond this.
REASON_MAX_LENGTH = 2_000


def signed(value: int) -> str:
    """+1, 0, −1: a choice's value as people write it."""
    return f"{value:+d}".replace("-", "−") if value else "0"


class BallotQuerySet(models.QuerySet):
    def with_counts(self) -> "BallotQuerySet":
        return self.annotate(vote_count=models.Count("votes", distinct=True))

    def open_enrolling(self, user) -> "BallotQuerySet":
        """Open ballots that enroll a group `user` is a member of now: where they may have a vote
        (`votes.access.voting_progress` asks `eligible_memberships` which give one)."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(
            status=Ballot.Status.OPEN, groups__memberships__user=user, groups__memberships__left_at__isnull=True
        ).distinct()

    def due(self, at=None) -> "BallotQuerySet":
        """Ballots whose opening or closing time has come and that have not moved on yet (`Ballot.transition_due`)."""
        at = at or timezone.now()
        return self.filter(
            Q(status=Ballot.Status.SCHEDULED, opens_at__lte=at) | Q(status=Ballot.Status.OPEN, closes_at__lte=at)
        )

    def followed_by(self, user) -> "BallotQuerySet":
        """What a person's calendar holds: the ballots enrolling a group they are in now, and every ballot of the
        definitions they organize."""
        groups = Membership.objects.current().filter(user=user).values("group")
        definitions = Definition.objects.organized_by(user).values("pk")
        return self.filter(Q(groups__in=groups) | Q(definition__in=definitions)).distinct()

    def on_calendar(self) -> "BallotQuerySet":
        """Ballots with a time to put in a calendar (`Ballot.window`): planned to open, or opened."""
        return self.filter(Q(opens_at__isnull=False) | Q(opened_at__isnull=False))

    def with_revisions(self) -> "BallotQuerySet":
        """Each ballot with how often its window or settings changed since it was created (`revisions`) and when
        it last did (`revised_at`, its creation if never): read from the audit log, which records each change."""
        events = (
            AuditEvent.objects.filter(
                subject_type=self.model._meta.label_lower,
                subject_id=Cast(OuterRef("pk"), models.CharField()),
                action__in=REVISIONS,
            )
            .order_by()
            .values("subject_id")
        )
        return self.annotate(
            revisions=Coalesce(Subquery(events.annotate(n=Count("pk")).values("n")), 0),
            revised_at=Coalesce(Subquery(events.annotate(last=Max("at")).values("last")), "created_at"),
        )

    def by_latest_activity(self) -> "BallotQuerySet":
        """Newest first by the latest of its creation, opening and closing."""
        latest = Greatest(
            "created_at", Coalesce("opened_at", "created_at"), Coalesce("closed_at", "created_at")
        )  # Greatest with a NULL is NULL on SQLite
        return self.annotate(latest_activity=latest).order_by("-latest_activity", "-pk")


# What changes a ballot's entry in a calendar: its settings, its window, and its opening and closing.
REVISIONS = (Action.BALLOT_UPDATED, Action.BALLOT_RESCHEDULED, Action.BALLOT_OPENED, Action.BALLOT_CLOSED)


DESCRIPTION_MAX_LENGTH = 20_000
description_length = MaxLengthValidator(
    DESCRIPTION_MAX_LENGTH,
    "A ballot's description can be at most %(limit_value)s characters long; this one has %(show_value)s.",
)
REMIND_BEFORE_MAX_HOURS = 720  # 30 days: the earliest a reminder that a ballot closes can come
remind_before_limit = MaxValueValidator(
    REMIND_BEFORE_MAX_HOURS, "A reminder comes at most %(limit_value)s hours (30 days) before the ballot closes."
)


class Ballot(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    class Visibility(models.TextChoices):
        LIVE = "live", _("Live: the roll call and results are public while voting")
        AFTER_CLOSE = "after_close", _("After close: the roll call and results are published when voting ends")

    class CarryRule(models.TextChoices):
        """Which votes of the ballot it carries from (`carried_from`) it starts with (`services.carry_votes`)."""

        NONE = "none", _("Carry nothing: every member votes afresh")
        UNCHANGED = "unchanged", _("Carry a vote where the component's text is unchanged")
        MARK_OUTDATED = "mark_outdated", _("Carry every vote, marking those on changed components outdated")

    class Eligibility(models.TextChoices):
        """Who may vote: decided by `votes.access.voting_memberships`, checked offline by the verifier's Replay."""

        FROZEN = "frozen", _("Frozen: the members of the enrolled groups when voting opens, and no one added later")
        LIVE = "live", _("Live: whoever is a member of an enrolled group at the time of the vote")

    definition = models.ForeignKey(Definition, models.PROTECT, related_name="ballots")
    version = models.ForeignKey(DraftVersion, models.PROTECT, related_name="ballots")
    key = models.SlugField(max_length=64, help_text=_("Part of the ballot's address; never changes."))
    title = models.CharField(max_length=200)
    description = models.TextField(
        blank=True, validators=[description_length], help_text=_("Markdown: what is being decided, and how.")
    )
    description_html = models.TextField(blank=True, editable=False, help_text=_("The description rendered when saved."))
    groups = models.ManyToManyField(WorkingGroup, related_name="ballots", help_text=_("The groups whose members vote."))
    status = models.CharField(max_length=16, choices=Status, default=Status.SCHEDULED)
    opens_at = models.DateTimeField(null=True, blank=True, help_text=_("When voting is planned to open."))
    closes_at = models.DateTimeField(null=True, blank=True, help_text=_("No vote is accepted after this time."))
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    results_visibility = models.CharField(max_length=16, choices=Visibility, default=Visibility.LIVE)
    eligibility = models.CharField(
        max_length=16, choices=Eligibility, default=Eligibility.FROZEN, help_text=_("Whose membership counts.")
    )
    methodology = models.JSONField(default=default_methodology)
    carried_from = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="carried_to",
        help_text=_("The ballot on an earlier version of the definition whose votes this one starts with."),
    )
    carry_rule = models.CharField(max_length=16, choices=CarryRule, default=CarryRule.NONE)
    carry_mapping = models.JSONField(
        default=dict,
        blank=True,
        help_text=_(
            "{new component key: [old component keys]} for components renamed, merged or split; "
            "a component not listed maps to the one of the same key."
        ),
    )
    clustering = models.JSONField(default=default_clustering)
    close_reason = models.TextField(blank=True, help_text=_("Why an organizer closed voting before its closing time."))
    roster_at_close = models.JSONField(null=True, blank=True, help_text=_("Each group's members when voting closed."))
    remind_before_hours = models.PositiveSmallIntegerField(
        default=24,
        validators=[remind_before_limit],
        help_text=_("Hours before voting closes when members with cells left without a vote are reminded; 0 for none."),
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = BallotQuerySet.as_manager()

    # Read with BallotQuerySet.with_revisions(), for the calendars.
    revisions: int
    revised_at: datetime

    class Meta:
        ordering = ["definition", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["definition", "key"], name="one_ballot_key_per_definition"),
            models.CheckConstraint(condition=~Q(status="closed") | Q(closed_at__isnull=False), name="closed_has_date"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("votes:ballot", args=[self.definition.slug, self.key])

    def as_announced(self) -> dict:
        """The ballot as a webhook tells of it (docs/webhooks.md): what its public page says of its phase, never a
        vote, a tally or a rationale (of a sealed ballot, nothing of its votes is public until it closes)."""
        site = settings.SITE_URL.rstrip("/")

        def when(at: datetime | None) -> str | None:
            return at.isoformat() if at is not None else None

        return {
            "key": self.key,
            "title": self.title,
            "url": site + self.get_absolute_url(),
            "version": {"label": self.version.label, "url": site + self.version.get_absolute_url()},
            "status": self.status,
            "results_visibility": self.results_visibility,
            "opens_at": when(self.opens_at),
            "closes_at": when(self.closes_at),
            "opened_at": when(self.opened_at),
            "closed_at": when(self.closed_at),
        }

    @property
    def audit_stream(self) -> str:
        """Every vote, grant, dispute and phase change of this ballot forms one chain."""
        return ballot_stream(self.definition.slug, self.key)

    def accepts_votes(self, at=None) -> bool:
        """Open, and within its window by the clock, whatever a scheduler has done or not done yet."""
        at = at or timezone.now()
        return (
            self.status == self.Status.OPEN
            and (self.opens_at is None or self.opens_at <= at)
            and (self.closes_at is None or at < self.closes_at)
        )

    def transition_due(self, at=None) -> Status | None:
        """The status its window says it should have moved to by `at` (now), if it has not yet: a pure check."""
        at = at or timezone.now()
        if self.status == self.Status.SCHEDULED and self.opens_at and self.opens_at <= at:
            return self.Status.CLOSED if self.closes_at and self.closes_at <= at else self.Status.OPEN
        if self.status == self.Status.OPEN and self.closes_at and self.closes_at <= at:
            return self.Status.CLOSED
        return None

    @property
    def window(self) -> tuple[datetime | None, datetime | None]:
        """When voting opens and closes, as a calendar shows it: the planned times, an early close when it came.

        Opening early moves `opens_at` to then (`services.open_ballot`); a ballot opened by hand without a planned
        time starts when it opened. A scheduled opening or closing noticed late keeps its planned time. The end is
        None while it closes only when an organizer closes it.
        """
        start = self.opens_at or self.opened_at
        ends = [t for t in (self.closes_at, self.closed_at if self.status == self.Status.CLOSED else None) if t]
        return start, min(ends) if ends else None

    def phases(self) -> list[tuple[str, datetime]]:
        """What has happened to the ballot, oldest first: created, then opened and closed (`window`'s times)."""
        start, end = self.window
        happened = [("created", self.created_at)]
        if self.opened_at is not None:
            happened.append(("opened", start or self.opened_at))
        if self.closed_at is not None:
            happened.append(("closed", end or self.closed_at))
        return happened

    @property
    def reminder_at(self) -> datetime | None:
        """When members who have cells without a vote are reminded that it closes (`services.remind_closing`)."""
        if not self.remind_before_hours or self.closes_at is None:
            return None
        return self.closes_at - timedelta(hours=self.remind_before_hours)

    @property
    def roster_frozen_at(self) -> datetime | None:
        """When its roster froze (voting opened, under a frozen roster): who joined later does not vote. Or None."""
        return self.opened_at if self.eligibility == self.Eligibility.FROZEN else None

    @property
    def status_label(self) -> str:
        """The status as a person reads it: an open ballot past its closing time reads "Voting ended"."""
        if self.status == self.Status.OPEN and not self.accepts_votes():
            ended = self.closes_at and self.closes_at <= timezone.now()
            return str(_("Voting ended")) if ended else str(_("Opening"))
        return self.get_status_display()

    @property
    def results_public(self) -> bool:
        return self.results_visibility == self.Visibility.LIVE or self.status == self.Status.CLOSED

    @property
    def rule_in_words(self) -> str:
        """A majority methodology as its pages state it (`plenary_tally.majority.in_words`); '' for mean-bands."""
        if self.methodology.get("rule") != "majority":
            return ""
        choices = list(self.choices.all())
        return majority.in_words(
            self.methodology,
            {c.key: c.label for c in choices},
            [c.key for c in choices if c.blocking],
            dict(self.groups.values_list("key", "name")),
        )


class Criterion(models.Model):
    """What each component is voted on, such as Use, Study, Modify or Share."""

    ballot = models.ForeignKey(Ballot, models.CASCADE, related_name="criteria")
    key = models.SlugField(max_length=32)
    label = models.CharField(max_length=64)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["ballot", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["ballot", "key"], name="one_criterion_key_per_ballot")]

    def __str__(self) -> str:
        return self.label


# What a choice may count for: a 32-bit integer, what every engine stores (SQLite would store more, PostgreSQL not).
# The ballot form and create_ballot, whoever calls it (import_tally too), refuse any other value by this rule.
CHOICE_VALUES = range(-(2**31), 2**31)


def choice_value(key: str, value: object) -> None:
    """Refuse a value a choice may not count for, naming the choice."""
    if isinstance(value, int) and not isinstance(value, bool) and value in CHOICE_VALUES:
        return
    shown = key if len(key) <= 32 else f"{key[:31]}…"
    says = "has no value" if value is None else f"counts for {str(value)[:40]}"
    raise ValidationError(
        _("The choice %(shown)s %(says)s, but a choice's value is a whole number from %(lowest)s to %(highest)s.")
        % {"shown": shown, "says": says, "lowest": CHOICE_VALUES[0], "highest": CHOICE_VALUES[-1]}
    )


class Choice(models.Model):
    """One option of the ballot's scale. Its powers are flags, not code."""

    ballot = models.ForeignKey(Ballot, models.CASCADE, related_name="choices")
    key = models.SlugField(max_length=32)
    label = models.CharField(max_length=64)
    value = models.IntegerField(help_text=_("What the choice counts for, e.g. +1, 0 or −1."))
    requires_grant = models.BooleanField(default=False, help_text=_("Only holders of a veto grant may use it."))
    blocking = models.BooleanField(default=False, help_text=_("While it stands, the component cannot pass."))
    requires_rationale = models.BooleanField(default=False, help_text=_("A vote with it must say why."))
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["ballot", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["ballot", "key"], name="one_choice_key_per_ballot")]

    def __str__(self) -> str:
        return f"{self.label} ({signed(self.value)})"

    def as_data(self) -> dict:
        """The choice as `ballot.json` and the audit log record it."""
        return {
            "key": self.key,
            "label": self.label,
            "value": self.value,
            "requires_grant": self.requires_grant,
            "blocking": self.blocking,
            "requires_rationale": self.requires_rationale,
        }


class VetoGrantQuerySet(models.QuerySet):
    def active(self) -> "VetoGrantQuerySet":
        return self.filter(revoked_at__isnull=True)

    def held_by(self, user, group: WorkingGroup) -> "VetoGrantQuerySet":
        """Grants that `user` holds when voting for `group`: to them, or to the group."""
        return self.filter(Q(member=user) | Q(group=group))

    def covering(self, component: Component) -> "VetoGrantQuerySet":
        return self.filter(Q(category="") | Q(category=component.category))


class VetoGrant(models.Model):
    """An organizer's open grant of a restricted choice to a working group or one member."""

    ballot = models.ForeignKey(Ballot, models.CASCADE, related_name="grants")
    choice = models.ForeignKey(Choice, models.PROTECT, related_name="grants")
    group = models.ForeignKey(WorkingGroup, models.PROTECT, null=True, blank=True, related_name="grants")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    category = models.CharField(max_length=64, blank=True, help_text=_("Only for components of this category."))
    reason = models.TextField()
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    revoke_reason = models.TextField(blank=True)

    objects = VetoGrantQuerySet.as_manager()

    class Meta:
        ordering = ["ballot", "granted_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(group__isnull=False, member__isnull=True) | Q(group__isnull=True, member__isnull=False),
                name="grant_has_one_holder",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="grant_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.choice.label} for {self.holder_label}"

    @property
    def holder_kind(self) -> str:
        """Whom the grant is to: "group" or "member"."""
        return "group" if self.group_id else "member"

    @property
    def holder_key(self) -> str:
        """The holder as ballot.json names it: the group's key, or the member's handle."""
        if self.group is not None:
            return self.group.key
        assert self.member is not None  # grant_has_one_holder: a group or a member
        return self.member.get_username()

    @property
    def holder_label(self) -> str:
        """The holder in words: "group weights", "@dave"."""
        return f"group {self.holder_key}" if self.group_id else f"@{self.holder_key}"

    def holder_data(self) -> dict:
        """The holder as the API gives it: the group's key or the member's handle, the other None."""
        if self.group_id:
            return {"group": self.holder_key, "member": None}
        return {"group": None, "member": self.holder_key}

    def as_recorded(self) -> dict:
        """The grant as its audit events record it, a member holder written `@handle`; who granted it is the
        event's actor. Hashed into the ballot's chain: these bytes never change."""
        return {
            "choice": self.choice.key,
            "holder": self.holder_key if self.group_id else self.holder_label,
            "holder_kind": self.holder_kind,
            "category": self.category or None,
            "reason": self.reason,
            "granted_at": self.granted_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }

    def as_data(self) -> dict:
        """The grant as `ballot.json` holds it: as recorded, the holder by key or handle, and who granted it."""
        return self.as_recorded() | {"holder": self.holder_key, "granted_by": self.granted_by.get_username()}


@dataclass(frozen=True)
class Turnout:
    """How many votes, from how many voters, and how many voters voted for each group (by group id)."""

    votes: int = 0
    voters: int = 0
    voters_for: dict[int, int] = field(default_factory=dict)


class VoteQuerySet(models.QuerySet):
    def turnout(self) -> Turnout:
        """One pass over the votes, grouped by group and voter (never a join of votes with memberships)."""
        votes, voters = 0, set()
        voters_for: dict[int, int] = {}  # group id -> voters
        for group, voter, n in self.order_by().values_list("group", "voter").annotate(n=models.Count("pk")):
            votes += n
            voters.add(voter)
            voters_for[group] = voters_for.get(group, 0) + 1
        return Turnout(votes, len(voters), voters_for)

    def with_flags(self) -> "VoteQuerySet":
        """Each vote annotated with whether an open or upheld dispute covers it, and whether its voter has a
        standing declaration of a conflict of interest that covers it."""
        return self.annotate(is_disputed=Exists(Dispute.objects.standing().covering_vote())).with_conflict_flag()

    def with_conflict_flag(self) -> "VoteQuerySet":
        """Each vote annotated with whether its voter has a standing declared conflict of interest covering it."""
        return self.annotate(is_conflicted=Exists(ConflictDeclaration.objects.standing().covering_vote()))

    def disputed(self) -> "VoteQuerySet":
        return self.with_flags().filter(is_disputed=True)

    def covered_by(self, disputes: "DisputeQuerySet") -> "VoteQuerySet":
        """The votes these disputes select (each, every vote matching all its set selectors), as plain conditions
        on the votes' columns, which the database answers from its indexes: `disputed()` for a few disputes."""
        return self.filter(_covered(disputes))

    def with_flags_of(self, disputes: "DisputeQuerySet") -> "VoteQuerySet":
        """`with_flags()` from these disputes' selectors, read first: a condition per vote, not a subquery per vote."""
        covered = _covered(disputes)
        return self.annotate(is_disputed=Case(When(covered, then=True), default=False, output_field=BooleanField()))

    def conflicted(self) -> "VoteQuerySet":
        """Cast over a standing declared conflict of interest: its voter's, for the whole ballot or its component."""
        return self.filter(Exists(ConflictDeclaration.objects.standing().covering_vote()))

    def restricted(self) -> "VoteQuerySet":
        return self.filter(choice__requires_grant=True)

    def undocumented_vetoes(self) -> "VoteQuerySet":
        """Restricted choices used without a rationale."""
        return self.restricted().filter(rationale="")


def _covered(disputes: "DisputeQuerySet") -> Q:
    """The votes these disputes select, as conditions on the votes' own columns."""
    covered = Q(pk__in=[])
    for dispute in disputes.values("ballot_id", *(f"{s}_id" for s in SELECTORS)):
        covered |= Q(**{name: value for name, value in dispute.items() if value is not None})
    return covered


# A rationale says why in a paragraph or two; longer is refused whole by cast_vote, whoever calls it (the grid, an
# organizer on a member's behalf, import_tally). Documented in docs/security.md ("Limits on what one person can write").
RATIONALE_MAX_LENGTH = 4_000
rationale_length = MaxLengthValidator(
    RATIONALE_MAX_LENGTH, "A rationale can be at most %(limit_value)s characters long; this one has %(show_value)s."
)


class Vote(models.Model):
    """A voter's current choice on one component and criterion. Every change is in the audit log."""

    ballot = models.ForeignKey(Ballot, models.PROTECT, related_name="votes")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="votes")
    group = models.ForeignKey(WorkingGroup, models.PROTECT, related_name="votes", help_text=_("The group voted for."))
    component = models.ForeignKey(Component, models.PROTECT, related_name="votes")
    criterion = models.ForeignKey(Criterion, models.PROTECT, related_name="votes")
    choice = models.ForeignKey(Choice, models.PROTECT, related_name="votes")
    grant = models.ForeignKey(VetoGrant, models.PROTECT, null=True, blank=True, related_name="votes")
    rationale = models.TextField(blank=True, validators=[rationale_length])
    cast_at = models.DateTimeField(default=timezone.now)
    cast_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        related_name="+",
        help_text=_("Who clicked: the voter or an organizer."),
    )
    carried = models.BooleanField(
        default=False, help_text=_("Carried from the ballot on the previous version; not yet confirmed by its voter.")
    )
    outdated = models.BooleanField(default=False, help_text=_("Carried onto a component whose text changed since."))

    objects = VoteQuerySet.as_manager()

    class Meta:
        ordering = ["ballot", "component", "criterion", "voter"]
        constraints = [
            models.UniqueConstraint(
                fields=["ballot", "voter", "component", "criterion"], name="one_current_vote_per_cell"
            ),
        ]
        indexes = [models.Index(fields=["ballot", "component", "criterion"])]

    def __str__(self) -> str:
        return f"{self.voter} on {self.component.key}/{self.criterion.key}: {self.choice.key}"

    @property
    def is_undocumented_veto(self) -> bool:
        return self.choice.requires_grant and not self.rationale.strip()

    @property
    def on_behalf(self) -> bool:
        return self.cast_by_id != self.voter_id


class DisputeQuerySet(models.QuerySet):
    def standing(self) -> "DisputeQuerySet":
        """Open or upheld: the disputes whose votes the `without-disputed` scenario leaves out."""
        return self.filter(status__in=[Dispute.Status.OPEN, Dispute.Status.UPHELD])

    def with_people(self) -> "DisputeQuerySet":
        """With the rows every page, file and event shows of a dispute: its selectors, its raiser and resolver."""
        return self.select_related("raised_by", "resolved_by", *SELECTORS)

    def over_votes_of(self, user) -> "DisputeQuerySet":
        """Disputes whose selection includes a current vote of `user`: `covering_vote` seen from the dispute."""
        votes = Vote.objects.filter(voter=user, ballot=OuterRef("ballot")).filter(
            *(Q(IsNull(OuterRef(s), True)) | Q(**{s: OuterRef(s)}) for s in SELECTORS)
        )
        return self.filter(Exists(votes))

    def covering_vote(self) -> "DisputeQuerySet":
        """For use in Exists(): disputes whose selection includes the outer vote."""
        return self.filter(
            Q(ballot=OuterRef("ballot")), *(Q(**{f"{s}__isnull": True}) | Q(**{s: OuterRef(s)}) for s in SELECTORS)
        )


class Dispute(models.Model):
    """A challenge to one vote or a set of votes: every vote matching all the given selectors.

    The selectors are named once, in `plenary_tally.ballot.SELECTORS` (voter, group, choice, component, criterion):
    a field each here, a key each in the log and in ballot.json.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        UPHELD = "upheld", _("Upheld")
        DISMISSED = "dismissed", _("Dismissed")

    ballot = models.ForeignKey(Ballot, models.CASCADE, related_name="disputes")
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField()
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    group = models.ForeignKey(WorkingGroup, models.PROTECT, null=True, blank=True, related_name="+")
    choice = models.ForeignKey(Choice, models.PROTECT, null=True, blank=True, related_name="+")
    component = models.ForeignKey(Component, models.PROTECT, null=True, blank=True, related_name="+")
    criterion = models.ForeignKey(Criterion, models.PROTECT, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=16, choices=Status, default=Status.OPEN)
    resolution = models.TextField(blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = DisputeQuerySet.as_manager()

    class Meta:
        ordering = ["ballot", "-raised_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(voter__isnull=False)
                | Q(group__isnull=False)
                | Q(choice__isnull=False)
                | Q(component__isnull=False)
                | Q(criterion__isnull=False),
                name="dispute_selects_votes",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="dispute_has_reason"),
            models.CheckConstraint(
                condition=Q(status="open") | (Q(resolved_at__isnull=False) & ~Q(resolution="")),
                name="resolution_has_text",
            ),
        ]

    def __str__(self) -> str:
        return f"Dispute #{self.pk} on {self.ballot}: {self.selection}"

    @property
    def selection(self) -> str:
        """The votes disputed, in words."""
        parts = []
        if self.voter is not None:
            parts.append(f"by @{self.voter.get_username()}")
        if self.group is not None:
            parts.append(f"for group {self.group.key}")
        if self.choice is not None:
            parts.append(f"choosing {self.choice.label}")
        if self.component is not None:
            parts.append(f"on {self.component.key}")
        if self.criterion is not None:
            parts.append(f"for {self.criterion.label}")
        return "votes " + " ".join(parts)

    def selectors(self) -> dict[str, Any]:
        """The selectors that are set, by name: the rows they stand for."""
        return {s: getattr(self, s) for s in SELECTORS if getattr(self, f"{s}_id") is not None}

    def selection_data(self) -> dict:
        """The votes disputed, as selectors (a handle or key each, or None): the log, ballot.json and the API's."""
        named = {s: row.get_username() if s == "voter" else row.key for s, row in self.selectors().items()}
        return {s: named.get(s) for s in SELECTORS}

    def as_recorded(self) -> dict:
        """The dispute as its audit events record it. Hashed into the ballot's chain: these bytes never change."""
        return {
            "selection": self.selection_data(),
            "reason": self.reason,
            "status": self.status,
            "resolution": self.resolution,
        }

    def as_data(self) -> dict:
        """The dispute as `ballot.json` holds it: as recorded, and who raised it."""
        return self.as_recorded() | {"raised_by": self.raised_by.get_username()}


# A statement of a conflict of interest says what the interest is in a sentence or a paragraph, as a reason does.
STATEMENT_MAX_LENGTH = 2_000
statement_length = MaxLengthValidator(
    STATEMENT_MAX_LENGTH, "A statement can be at most %(limit_value)s characters long; this one has %(show_value)s."
)


class ConflictDeclarationQuerySet(models.QuerySet):
    def standing(self) -> "ConflictDeclarationQuerySet":
        """Not withdrawn: the declarations whose votes are conflicted, left out of the `without-conflicts` scenario."""
        return self.filter(withdrawn_at__isnull=True)

    def with_people(self) -> "ConflictDeclarationQuerySet":
        """With the rows every page, file and event shows of a declaration: its member and its component."""
        return self.select_related("member", "component")

    def covering(self, vote: Vote) -> "ConflictDeclarationQuerySet":
        """Declarations by the vote's voter on its ballot, for the whole ballot or for its component."""
        return self.filter(Q(component__isnull=True) | Q(component=vote.component_id), member=vote.voter_id)

    def covering_vote(self) -> "ConflictDeclarationQuerySet":
        """For use in Exists(): declarations by the outer vote's voter on its ballot, for the whole ballot or
        for its component."""
        return self.filter(
            Q(component__isnull=True) | Q(component=OuterRef("component")),
            ballot=OuterRef("ballot"),
            member=OuterRef("voter"),
        )


class ConflictDeclaration(models.Model):
    """A member's public statement that they have an interest in the whole ballot or in one component.

    Declared before or while voting, and withdrawn by the member only. While it stands, the member's votes it
    covers are *conflicted*: marked as such, and left out of the `without-conflicts` scenario.
    """

    ballot = models.ForeignKey(Ballot, models.CASCADE, related_name="conflicts")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    component = models.ForeignKey(
        Component, models.PROTECT, null=True, blank=True, related_name="+", help_text=_("Empty: the whole ballot.")
    )
    statement = models.TextField(validators=[statement_length], help_text=_("Public. What the interest is."))
    declared_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True, validators=[statement_length])

    objects = ConflictDeclarationQuerySet.as_manager()

    class Meta:
        ordering = ["ballot", "declared_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(statement=""), name="conflict_has_statement"),
            models.UniqueConstraint(
                fields=["ballot", "member", "component"],
                condition=Q(withdrawn_at__isnull=True, component__isnull=False),
                name="one_standing_conflict_per_component",
            ),
            models.UniqueConstraint(
                fields=["ballot", "member"],
                condition=Q(withdrawn_at__isnull=True, component__isnull=True),
                name="one_standing_conflict_per_ballot",
            ),
        ]

    def __str__(self) -> str:
        return f"@{self.member.get_username()}'s conflict on {self.scope}"

    @property
    def scope(self) -> str:
        """What the declaration covers, in words."""
        return self.component.title if self.component is not None else "the whole ballot"

    def as_data(self) -> dict:
        """The declaration as ballot.json and its audit events record it. Hashed into the ballot's chain: these
        bytes never change."""
        return {
            "member": self.member.get_username(),
            "component": self.component.key if self.component is not None else None,
            "statement": self.statement,
            "declared_at": self.declared_at.isoformat(),
            "withdrawn_at": self.withdrawn_at.isoformat() if self.withdrawn_at else None,
        }
