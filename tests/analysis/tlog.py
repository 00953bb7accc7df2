"""A signed audit log made by hand for the transparency-log tests: events, leaves, checkpoints, bundles."""

import json
from pathlib import Path

from plenary_tally import checkpoints, merkle, notes
from plenary_tally.checkpoints import Checkpoint
from plenary_tally.notes import Signer

from . import handmade

SITE = "plenary.example.org"


def leaves(events: list[dict]) -> list[bytes]:
    return [merkle.event_leaf(e["hash"]) for e in events]


def signed(events: list[dict], size: int, signer: Signer, stream: str = handmade.STREAM) -> str:
    """The signed checkpoint of the first `size` events."""
    cp = Checkpoint(checkpoints.origin_for(SITE, stream), size, merkle.root(leaves(events)[:size]))
    return checkpoints.sign_checkpoint(cp, signer)


def write_signed_bundle(path: Path, log_key: str, events: list[dict] | None = None) -> Path:
    """handmade's bundle with checkpoint.txt (signed by `log_key`) and the log's key in the manifest;
    with `events`, its audit.jsonl replaced by them first (a rewritten history)."""
    handmade.write_bundle(path)
    if events is not None:
        lines = "".join(json.dumps(e, sort_keys=True, ensure_ascii=False) + "\n" for e in events)
        (path / "audit.jsonl").write_text(lines)
    events = [json.loads(line) for line in (path / "audit.jsonl").read_text().splitlines()]
    (path / "checkpoint.txt").write_text(signed(events, len(events), Signer(log_key)))
    manifest = json.loads((path / "manifest.json").read_text())
    manifest |= {"log_key": notes.verifier_of(log_key), "audit_head": events[-1]["hash"]}
    (path / "manifest.json").write_text(json.dumps(manifest))
    return handmade.rehash(path)


def rewritten(events: list[dict], at: int) -> list[dict]:
    """The same history with event `at` (1-based) given another time, re-chained from there on."""
    entries = [(e["action"], e["subject"], e["payload"], e["actor"]) for e in events]
    forged = handmade.chain(entries)
    forged[at - 1]["at"] = "2026-03-01T09:00:30+00:00"
    previous = forged[at - 2]["hash"] if at > 1 else "0" * 64
    from plenary_tally.chain import event_hash

    for event in forged[at - 1 :]:
        event["prev_hash"] = previous
        event["hash"] = previous = event_hash(event)
    return forged
