"""Stored recomputations of a ballot's outcomes."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutcomeRunQuerySet(models.QuerySet):
    def latest_for(self, ballot) -> "OutcomeRun | None":
        return self.filter(ballot=ballot).order_by("-audit_seq", "-pk").first()

    def current_for(self, ballot) -> tuple["OutcomeRun | None", bool]:
        """The latest run and whether it is stale, as the results page and the outcomes API show it.

        A stale run has its recompute queued again, in case the broker was down (it runs now when eager), and
        is read again.
        """
        from . import services, tasks  # both store runs: they import this module, so it imports them late

        run = self.latest_for(ballot)
        if services.is_stale(ballot, run):
            tasks.enqueue_recompute(ballot.pk)
            run = self.latest_for(ballot)
        return run, services.is_stale(ballot, run)


class OutcomeRun(models.Model):
    """One recomputation: what it read (the input digest and the audit position) and what it found."""

    ballot = models.ForeignKey("votes.Ballot", models.CASCADE, related_name="outcome_runs")
    audit_seq = models.PositiveBigIntegerField(help_text=_("The ballot's audit stream position the run read up to."))
    input_digest = models.CharField(max_length=64, help_text=_("SHA-256 of the ballot's rules and vote counts read."))
    methodology = models.JSONField()
    results = models.JSONField(help_text=_("outcomes.json: every scenario, the flips, clustering, opinion groups."))
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField()

    objects = OutcomeRunQuerySet.as_manager()

    class Meta:
        ordering = ["ballot", "-audit_seq", "-pk"]
        indexes = [models.Index(fields=["ballot", "-audit_seq"])]

    def __str__(self) -> str:
        return f"Outcomes of {self.ballot} at audit #{self.audit_seq}"


# Decisions on the record, and formal objections to them ------------------------------------------

OUTCOME_MAX_LENGTH = 200  # what was decided, in a few words: an outcome's label or a short phrase
STATEMENT_MAX_LENGTH = 10_000  # the organizers' statement, or a member's reasoning: a few paragraphs at most


class DecisionQuerySet(models.QuerySet):
    def current(self) -> "DecisionQuerySet":
        """The decisions that stand: those no later decision revises."""
        return self.filter(superseded_by__isnull=True)

    def with_people(self) -> "DecisionQuerySet":
        """With what every page and file shows of a decision: who recorded it, its run, its objections."""
        return self.select_related("component", "recorded_by", "supersedes", "superseded_by").prefetch_related(
            models.Prefetch("objections", Objection.objects.select_related("member", "answered_by"))
        )


class Decision(models.Model):
    """What the organizers decided on a closed ballot, for one component or the whole ballot, and on which run.

    It cites the outcome run it rests on by its audit position and input digest, so that anyone holding the
    ballot's tally bundle can check that the run is the one the bundle recomputes. A decision is never edited:
    a new one revises it (`supersedes`).
    """

    ballot = models.ForeignKey("votes.Ballot", models.CASCADE, related_name="decisions")
    number = models.PositiveIntegerField(help_text=_("1, 2, 3… in the order recorded on the ballot."))
    component = models.ForeignKey(
        "deliberation.Component",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("None: the ballot."),
    )
    outcome = models.CharField(max_length=OUTCOME_MAX_LENGTH, help_text=_("What was decided."))
    statement = models.TextField(help_text=_("The organizers' statement, public."))
    run = models.ForeignKey(OutcomeRun, models.PROTECT, related_name="decisions")
    audit_seq = models.PositiveBigIntegerField(help_text=_("The cited run's audit position."))
    input_digest = models.CharField(max_length=64, help_text=_("The cited run's input digest."))
    supersedes = models.OneToOneField(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
        help_text=_("The decision revised."),
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = DecisionQuerySet.as_manager()

    class Meta:
        ordering = ["ballot", "number"]
        constraints = [
            models.UniqueConstraint(fields=["ballot", "number"], name="one_decision_number_per_ballot"),
            models.CheckConstraint(condition=~models.Q(statement=""), name="decision_has_statement"),
            models.CheckConstraint(condition=~models.Q(outcome=""), name="decision_has_outcome"),
        ]

    def __str__(self) -> str:
        return f"Decision {self.number} on {self.ballot}: {self.outcome}"

    @property
    def is_current(self) -> bool:
        try:
            self.superseded_by  # noqa: B018 - the reverse one-to-one raises when nothing revises it
        except Decision.DoesNotExist:
            return True
        return False

    def as_recorded(self) -> dict:
        """The decision as its `decision.recorded` event records it. Hashed into the ballot's chain."""
        return {
            "number": self.number,
            "component": self.component.key if self.component is not None else None,
            "outcome": self.outcome,
            "statement": self.statement,
            "run": {"audit_seq": self.audit_seq, "input_digest": self.input_digest},
            "supersedes": self.supersedes.number if self.supersedes is not None else None,
            "recorded_at": self.recorded_at.isoformat(),
        }

    def as_data(self) -> dict:
        """The decision as `ballot.json` holds it: as recorded, who recorded it, and its objections."""
        return self.as_recorded() | {
            "recorded_by": self.recorded_by.get_username(),
            "objections": [o.as_data() for o in self.objections.all()],
        }


class ObjectionQuerySet(models.QuerySet):
    def open(self) -> "ObjectionQuerySet":
        """Not answered yet."""
        return self.filter(answer="")


class Objection(models.Model):
    """A member's formal objection to a decision, and the organizers' answer on the record."""

    class Answer(models.TextChoices):
        UPHELD = "upheld", _("Upheld: the decision is revised")
        OVERRULED = "overruled", _("Overruled")

    decision = models.ForeignKey(Decision, models.CASCADE, related_name="objections")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    reasoning = models.TextField()
    lodged_at = models.DateTimeField(default=timezone.now)
    answer = models.CharField(max_length=16, choices=Answer, blank=True, help_text=_("Empty while open."))
    answer_reason = models.TextField(blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)

    objects = ObjectionQuerySet.as_manager()

    class Meta:
        ordering = ["decision", "lodged_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(reasoning=""), name="objection_has_reasoning"),
            models.CheckConstraint(
                condition=models.Q(answer="")
                | (~models.Q(answer_reason="") & models.Q(answered_at__isnull=False, answered_by__isnull=False)),
                name="answer_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Objection #{self.pk} to {self.decision}"

    def as_recorded(self) -> dict:
        """The objection as its events record it (`objection.lodged`, then `objection.answered`)."""
        return {
            "decision": self.decision.number,
            "reasoning": self.reasoning,
            "lodged_at": self.lodged_at.isoformat(),
            "answer": self.answer or None,
            "answer_reason": self.answer_reason,
            "answered_at": self.answered_at.isoformat() if self.answered_at else None,
        }

    def as_data(self) -> dict:
        """The objection as `ballot.json` holds it, within its decision."""
        return {
            "member": self.member.get_username(),
            "reasoning": self.reasoning,
            "lodged_at": self.lodged_at.isoformat(),
            "answer": self.answer or None,
            "answer_reason": self.answer_reason,
            "answered_by": self.answered_by.get_username() if self.answered_by is not None else None,
            "answered_at": self.answered_at.isoformat() if self.answered_at else None,
        }
