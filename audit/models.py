"""The append-only, hash-chained record of every state change in Plenary.

Rows are only ever inserted, through `record()`. Each event's hash is a SHA-256 over a
canonical serialization of its own fields and the previous event's hash, so changing or
removing any event breaks every hash after it.
"""

import hashlib
import json
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

GENESIS_HASH = "0" * 64


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class AuditEventQuerySet(models.QuerySet):
    def about(self, subject: models.Model) -> "AuditEventQuerySet":
        return self.filter(subject_type=subject._meta.label_lower, subject_id=str(subject.pk))


class AuditEvent(models.Model):
    seq = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    actor_handle = models.CharField(max_length=150, blank=True)  # snapshot, hashed
    action = models.CharField(max_length=64, db_index=True)
    subject_type = models.CharField(max_length=100)
    subject_id = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["subject_type", "subject_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.subject_type}:{self.subject_id}"

    def canonical(self) -> dict[str, Any]:
        """The fields the hash covers, as plain JSON data."""
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor_handle,
            "action": self.action,
            "subject": f"{self.subject_type}:{self.subject_id}",
            "payload": self.payload,
            "prev_hash": self.prev_hash,
        }

    def compute_hash(self) -> str:
        return hashlib.sha256(canonical_json(self.canonical()).encode()).hexdigest()


def _lock_chain() -> None:
    """Serialize appends so the chain stays gap-free and in order under concurrency."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('plenary.audit'))")
    # SQLite: transactions start IMMEDIATE (see settings), which already serializes writers.


def record(*, actor: Any, action: str, subject: models.Model, payload: dict[str, Any] | None = None) -> AuditEvent:
    """Append one event. Call inside the transaction that makes the change it records."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record() must run inside the transaction of the change it records")
    _lock_chain()
    last = AuditEvent.objects.order_by("-seq").values("seq", "hash").first()
    event = AuditEvent(
        seq=(last["seq"] + 1) if last else 1,
        at=timezone.now(),
        actor=actor,
        actor_handle=actor.get_username() if actor else "",
        action=action,
        subject_type=subject._meta.label_lower,
        subject_id=str(subject.pk),
        payload=json.loads(canonical_json(payload or {})),
        prev_hash=last["hash"] if last else GENESIS_HASH,
    )
    event.hash = event.compute_hash()
    event.save(force_insert=True)
    return event
