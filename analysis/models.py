"""Stored recomputations of a ballot's outcomes."""

from django.db import models
from django.utils import timezone


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
