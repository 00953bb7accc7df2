"""The hash chain of audit events, in plain Python: no Django, no database.

An event is a mapping with the keys of `FIELDS` plus its `hash`. Events form one chain per
stream (a definition, a ballot): in each, `seq` counts 1, 2, 3… and each event's `prev_hash`
is the hash of the one before (`GENESIS_HASH` for the first). The hash is SHA-256 over the
canonical JSON of the event's fields. A tally bundle carries a ballot's stream as
`audit.jsonl`, so anyone can check it with this module alone.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64
FIELDS = ("stream", "seq", "at", "actor", "action", "subject", "payload", "prev_hash")


def canonical_json(data: Any) -> str:
    """Sorted keys, no spaces, UTF-8 kept: the one serialization every hash is taken over."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(event: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json({f: event[f] for f in FIELDS}).encode()).hexdigest()


@dataclass(frozen=True)
class Break:
    """Where a chain stops holding: the stream, the position, and what is wrong."""

    stream: str
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"{self.stream} event #{self.seq}: {self.reason}"


def verify(events: Iterable[Mapping[str, Any]]) -> tuple[Break | None, dict[str, str]]:
    """Check events given in chain order (per stream); return the first break and each stream's head."""
    heads: dict[str, tuple[int, str]] = {}
    for event in events:
        missing = [f for f in (*FIELDS, "hash") if f not in event]
        if missing:
            return Break(str(event.get("stream", "?")), int(event.get("seq", 0)), f"missing {', '.join(missing)}"), {}
        stream, seq = event["stream"], event["seq"]
        last_seq, last_hash = heads.get(stream, (0, GENESIS_HASH))
        if seq != last_seq + 1:
            return Break(stream, seq, f"expected event #{last_seq + 1} here: an event is missing or out of order"), {}
        if event["prev_hash"] != last_hash:
            return Break(stream, seq, "its previous hash does not match the event before it"), {}
        if event_hash(event) != event["hash"]:
            return Break(stream, seq, "its content does not match its hash: it was changed"), {}
        heads[stream] = (seq, event["hash"])
    return None, {stream: head for stream, (_, head) in heads.items()}


def json_roundtrip(data: Any) -> Any:
    """Data as it will read back from JSON storage, so the hash taken now still holds later."""
    return json.loads(canonical_json(data))
