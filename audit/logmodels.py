"""The log's signed checkpoints, and the witnesses' cosignatures of them: append-only, like the events.

A checkpoint commits to the first `size` events of one stream: the root of the RFC 6962 Merkle tree
whose leaves are their chain hashes, signed by the log's key as a C2SP tlog-checkpoint note. It keeps
the tree's frontier, so the next checkpoint extends it by the events after it alone (`audit/tlog.py`).
A cosignature is a witness's statement that it saw this checkpoint and that it is consistent with
every earlier one it saw: a note signature line of its own key, verified before it is stored.
"""

from datetime import UTC, datetime

from django.db import models
from django.utils import timezone

COSIGNATURES_PER_CHECKPOINT = 50  # witnesses one checkpoint keeps; more are refused, with this number


class CheckpointQuerySet(models.QuerySet):
    def of(self, stream: str) -> "CheckpointQuerySet":
        return self.filter(stream=stream)

    def latest_of(self, stream: str) -> "Checkpoint | None":
        return self.of(stream).order_by("-size").first()

    def covering(self, stream: str, seq: int) -> "Checkpoint | None":
        """The earliest checkpoint of the stream that includes event `seq`."""
        return self.of(stream).filter(size__gte=seq).order_by("size").first()


class Checkpoint(models.Model):
    stream = models.CharField(max_length=200)
    size = models.PositiveBigIntegerField()  # how many events of the stream it commits to, from seq 1
    root = models.CharField(max_length=64)  # hex of the Merkle tree head
    note = models.TextField()  # the signed note, exactly as served at /audit/log/checkpoint
    frontier = models.JSONField()  # plenary_tally.merkle.Frontier.to_data() at `size`
    key_id = models.CharField(max_length=8)  # hex of the signing key's id
    signed_at = models.DateTimeField(default=timezone.now)

    objects = CheckpointQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["stream", "size"], name="one_checkpoint_per_size")]

    def __str__(self) -> str:
        return f"{self.stream} at {self.size}"


class Cosignature(models.Model):
    checkpoint = models.ForeignKey(Checkpoint, models.PROTECT, related_name="cosignatures")
    witness = models.CharField(max_length=200)  # the name in the witness's verifier key
    witness_key = models.CharField(max_length=300)  # the witness's verifier key, as posted
    line = models.TextField()  # the cosignature line: "— <name> <base64>"
    timestamp = models.PositiveBigIntegerField()  # when the witness says it cosigned, in Unix seconds
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["received_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["checkpoint", "witness_key"], name="one_cosignature_per_witness_key")
        ]

    def __str__(self) -> str:
        return f"{self.witness} on {self.checkpoint}"

    @property
    def cosigned_at(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp, UTC)
