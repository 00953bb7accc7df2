"""Stored recomputations of a ballot's outcomes."""

from django.db import models
from django.utils import timezone


class OutcomeRunQuerySet(models.QuerySet):
    def latest_for(self, ballot) -> "OutcomeRun | None":
        return self.filter(ballot=ballot).order_by("-audit_seq", "-pk").first()


class OutcomeRun(models.Model):
    """One recomputation: what it read (the input digest and the audit position) and what it found."""

    ballot = models.ForeignKey("votes.Ballot", models.CASCADE, related_name="outcome_runs")
    audit_seq = models.PositiveBigIntegerField(help_text="The ballot's audit stream position the run read up to.")
    input_digest = models.CharField(max_length=64, help_text="SHA-256 of the ballot's rules and vote counts read.")
    methodology = models.JSONField()
    results = models.JSONField(help_text="outcomes.json: every scenario, the flips, clustering, opinion groups.")
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField()

    objects = OutcomeRunQuerySet.as_manager()

    class Meta:
        ordering = ["ballot", "-audit_seq", "-pk"]
        indexes = [models.Index(fields=["ballot", "-audit_seq"])]

    def __str__(self) -> str:
        return f"Outcomes of {self.ballot} at audit #{self.audit_seq}"
