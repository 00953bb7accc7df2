"""A voter's receipt: proof that one audit event is in the log its operator signed, checked offline.

The server hands a voter, once their vote is recorded and a checkpoint covers it, a JSON receipt:

    {"format": "plenary-receipt/1", "stream": ..., "event": {the event as a line of audit.jsonl},
     "leaf_index": seq - 1, "tree_size": n, "proof": [hex, ...],
     "checkpoint": "<the signed checkpoint note>", "log_key": "<the log's verifier key>"}

`check_receipt` checks, with no server: the event's hash is its chain hash, the inclusion proof
leads from it to the checkpoint's root, and the checkpoint is signed by the log's key (the
observer's pinned key, else the receipt's own). Against a later bundle or checkpoint it then
shows the operator did not sign another history: a receipt whose event is missing from a later
log, or whose root that log does not extend, is evidence of it.
"""

import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import chain, merkle
from .checkpoints import Checkpoint, verify_checkpoint
from .files import BundleError, open_bundle, parse_json
from .formats import AUDIT_FILE
from .notes import MAX_NOTE_BYTES, NoteError, Verifier, open_note

RECEIPT_FORMAT = "plenary-receipt/1"
MAX_RECEIPT_BYTES = 2 * MAX_NOTE_BYTES  # a receipt holds one note, one event and a proof
MAX_RECEIPTS_BYTES = 64 * 2**20  # a voter's receipts on one ballot: a few kilobytes for each vote they cast
MAX_RECEIPTS = 100_000
RECEIPT_KEYS = ("format", "stream", "event", "leaf_index", "tree_size", "proof", "checkpoint", "log_key")


def make_receipt(
    event: Mapping[str, Any], leaves: Sequence[bytes], tree_size: int, checkpoint_note: str, log_key: str
) -> dict[str, Any]:
    """The receipt of `event` (with its "hash") in the stream whose leaf hashes are `leaves`, at the
    checkpoint `checkpoint_note` of `tree_size` leaves signed by `log_key`."""
    index = int(event["seq"]) - 1
    if not 0 <= index < tree_size <= len(leaves):
        raise ValueError(f"event #{event['seq']} is not in a tree of {tree_size} leaves")
    if Checkpoint.parse(open_note(checkpoint_note, ()).text).size != tree_size:
        raise ValueError(f"the checkpoint given is not the one of {tree_size} leaves")
    return {
        "format": RECEIPT_FORMAT,
        "stream": event["stream"],
        "event": dict(event),
        "leaf_index": index,
        "tree_size": tree_size,
        "proof": [h.hex() for h in merkle.inclusion_proof(leaves[:tree_size], index)],
        "checkpoint": checkpoint_note,
        "log_key": log_key,
    }


@dataclass
class ReceiptReport:
    """What held and what did not, one sentence each, in the order checked."""

    checks: list[tuple[bool, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # said, but no failure (an unpinned key)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(held for held, _ in self.checks)

    def held(self, what: str) -> None:
        self.checks.append((True, what))

    def failed(self, what: str) -> None:
        self.checks.append((False, what))

    def lines(self) -> list[str]:
        lines = [f"{'held' if held else 'FAILED'}: {what}" for held, what in self.checks]
        lines += [f"note: {note}" for note in self.notes]
        failures = sum(not held for held, _ in self.checks)
        lines.append("receipt verified" if self.ok else f"receipt not verified: {failures} check(s) failed")
        return lines


def _hexes(values: Any, what: str) -> list[bytes]:
    if not isinstance(values, list) or len(values) > merkle.MAX_PROOF_LENGTH:
        raise ValueError(f"{what} is a list of at most {merkle.MAX_PROOF_LENGTH} hex hashes")
    try:
        hashes = [bytes.fromhex(v) for v in values]
    except (TypeError, ValueError):
        raise ValueError(f"{what} holds something that is not a hex hash") from None
    if any(len(h) != merkle.HASH_SIZE for h in hashes):
        raise ValueError(f"each hash of {what} is 64 hex digits")
    return hashes


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def read_receipts(path: str | Path) -> list[dict[str, Any]]:
    """One receipt, or the file of a voter's receipts on a ballot ({"format": ..., "receipts": [...]}),
    read within its size limit; `ValueError` says what is wrong with it."""
    with open(path, "rb") as stream:
        content = stream.read(MAX_RECEIPTS_BYTES + 1)
    if len(content) > MAX_RECEIPTS_BYTES:
        raise ValueError(f"a file of receipts is at most {MAX_RECEIPTS_BYTES} bytes")
    try:
        data = json.loads(content.decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"a receipt is a JSON object ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError("a receipt is a JSON object")
    if "receipts" not in data:
        if len(content) > MAX_RECEIPT_BYTES:
            raise ValueError(f"a receipt is at most {MAX_RECEIPT_BYTES} bytes")
        return [data]
    found = data["receipts"]
    if data.get("format") != RECEIPT_FORMAT or not isinstance(found, list) or not 0 < len(found) <= MAX_RECEIPTS:
        raise ValueError(f"a file of receipts is {{'format': {RECEIPT_FORMAT!r}, 'receipts': [1 to {MAX_RECEIPTS}]}}")
    return found


def check_receipt(
    receipt: dict,
    *,
    against: str | Path | None = None,
    log_key: str | None = None,
    proof: dict | None = None,
) -> ReceiptReport:
    """Check `receipt` alone, then, with `against`, against a later bundle (zip or directory) or a
    later signed checkpoint (larger: with `proof`, the server's consistency proof JSON)."""
    report, checkpoint, verifier = _check_alone(receipt, log_key)
    if checkpoint is not None and verifier is not None and against is not None:
        _check_against(report, receipt, checkpoint, verifier, Path(against), proof)
    return report


def check_receipts(
    receipts: Sequence[dict],
    *,
    against: str | Path | None = None,
    log_key: str | None = None,
    proof: dict | None = None,
) -> list[ReceiptReport]:
    """Check each of a voter's receipts as `check_receipt` does; a bundle given as `against` is read once."""
    path = Path(against) if against is not None else None
    if path is None or not path.exists() or not _is_bundle(path):
        return [check_receipt(r, against=against, log_key=log_key, proof=proof) for r in receipts]
    checked = [(receipt, *_check_alone(receipt, log_key)) for receipt in receipts]
    covered = [(receipt, report, cp) for receipt, report, cp, _ in checked if cp is not None]
    if covered:
        most = max(receipt["tree_size"] for receipt, _, _ in covered)
        log = _BundleLog(path, covered[0][0]["stream"], most)
        roots = log.roots({receipt["tree_size"] for receipt, _, _ in covered})
        for receipt, report, checkpoint in covered:
            _against_log(report, receipt, checkpoint, log, roots)
    return [report for _, report, _, _ in checked]


def _check_alone(receipt: dict, log_key: str | None) -> tuple[ReceiptReport, Checkpoint | None, Verifier | None]:
    """The receipt's own checks; its checkpoint and the key that verified it, unless it stopped before them."""
    report = ReceiptReport()
    shape = _shape_problem(receipt)
    if shape:
        report.failed(f"the receipt's shape: {shape}")
        return report, None, None
    event, index, size = receipt["event"], receipt["leaf_index"], receipt["tree_size"]
    if chain.event_hash(event) == event["hash"]:
        report.held(f"event #{event['seq']} of {receipt['stream']} has its chain hash {event['hash']}")
    else:
        report.failed(f"event #{event['seq']}'s content does not match its hash: the receipt was changed")
    if event["stream"] != receipt["stream"] or index != event["seq"] - 1:
        report.failed("the event's stream and place (seq - 1) are not the receipt's stream and leaf index")
    if log_key is None:
        report.notes.append(
            "the log's key was not pinned: the receipt's own key was used, which only shows the receipt is "
            "self-consistent; pass the key the site publishes (--log-key) to check it was the log that signed"
        )
    key = log_key if log_key is not None else receipt["log_key"]
    try:
        verifier = Verifier(key)
        checkpoint = verify_checkpoint(receipt["checkpoint"], verifier)
    except NoteError as exc:
        report.failed(f"the checkpoint's signature: {exc}")
        return report, None, None
    report.held(f"the checkpoint is signed by {verifier.name} ({verifier.verifier_key})")
    if checkpoint.size != size:
        report.failed(f"the checkpoint covers {checkpoint.size} events, the receipt says {size}")
    if not checkpoint.origin.endswith(f"/audit/{receipt['stream']}"):
        report.failed(f"the checkpoint's origin {checkpoint.origin} is not the log of {receipt['stream']}")
    leaf = merkle.event_leaf(event["hash"])
    if merkle.verify_inclusion(leaf, index, size, _hexes(receipt["proof"], "proof"), checkpoint.root):
        report.held(f"the inclusion proof leads from the event to the checkpoint's root {checkpoint.root.hex()}")
    else:
        report.failed("the inclusion proof does not lead from the event to the checkpoint's root")
    return report, checkpoint, verifier


def _shape_problem(receipt: Any) -> str | None:
    if not isinstance(receipt, dict):
        return "a receipt is a JSON object"
    if receipt.get("format") != RECEIPT_FORMAT:
        return f"format must be {RECEIPT_FORMAT!r}, not {receipt.get('format')!r}"
    missing = [k for k in RECEIPT_KEYS if k not in receipt]
    if missing:
        return f"missing {', '.join(missing)}"
    event = receipt["event"]
    if not isinstance(event, dict) or any(f not in event for f in (*chain.FIELDS, "hash")):
        return f"event must be an audit event with {', '.join((*chain.FIELDS, 'hash'))}"
    if not isinstance(event["hash"], str) or len(event["hash"]) != 64:
        return "the event's hash is 64 hex digits"
    try:
        bytes.fromhex(event["hash"])
    except ValueError:
        return "the event's hash is 64 hex digits"
    if not _whole(event["seq"]) or not _whole(receipt["leaf_index"]) or not _whole(receipt["tree_size"]):
        return "seq, leaf_index and tree_size are whole numbers"
    for name in ("stream", "checkpoint", "log_key"):
        if not isinstance(receipt[name], str):
            return f"{name} is a string"
    try:
        _hexes(receipt["proof"], "proof")
    except ValueError as exc:
        return str(exc)
    return None


def _is_bundle(path: Path) -> bool:
    return path.is_dir() or zipfile.is_zipfile(path)


def _check_against(
    report: ReceiptReport, receipt: dict, checkpoint: Checkpoint, verifier: Verifier, path: Path, proof: dict | None
) -> None:
    if not path.exists():
        report.failed(f"{path}: no such file or directory")
    elif _is_bundle(path):
        _against_bundle(report, receipt, checkpoint, path)
    else:
        _against_checkpoint(report, receipt, checkpoint, verifier, path, proof)


def _against_bundle(report: ReceiptReport, receipt: dict, checkpoint: Checkpoint, path: Path) -> None:
    log = _BundleLog(path, receipt["stream"], receipt["tree_size"])
    _against_log(report, receipt, checkpoint, log, log.roots({receipt["tree_size"]}))


class _BundleLog:
    """A bundle's audit log, read once up to `most` events: their hashes in order, each checked against its
    content, or the sentence that says why it cannot be read."""

    def __init__(self, path: Path, stream: str, most: int) -> None:
        self.stream, self.error = stream, ""
        self.hashes: list[str] = []
        try:
            with open_bundle(path) as bundle, bundle.lines(AUDIT_FILE) as lines:
                for line, text in enumerate(lines, 1):
                    event = parse_json(AUDIT_FILE, text, line)
                    if not isinstance(event, dict) or not isinstance(event.get("hash"), str):
                        raise BundleError(AUDIT_FILE, line, "not an audit event with a hash")
                    if event.get("stream") != stream:
                        raise BundleError(AUDIT_FILE, line, f"an event of {event.get('stream')}, not of the receipt's")
                    if chain.event_hash(event) != event["hash"]:
                        raise BundleError(AUDIT_FILE, line, "its content does not match its hash: it was changed")
                    self.hashes.append(event["hash"])
                    if len(self.hashes) == most:
                        break
        except (BundleError, ValueError) as exc:
            self.error = f"the bundle's audit log cannot be read: {exc}"

    def roots(self, sizes: set[int]) -> dict[int, bytes]:
        """The root of the log's first n events for each n of `sizes` it holds: one pass over the log."""
        frontier, found = merkle.Frontier(), {}
        for event_hash in self.hashes:
            frontier.append(merkle.event_leaf(event_hash))
            if frontier.size in sizes:
                found[frontier.size] = frontier.root()
        return found


def _against_log(
    report: ReceiptReport, receipt: dict, checkpoint: Checkpoint, log: _BundleLog, roots: dict[int, bytes]
) -> None:
    index, size, event_hash = receipt["leaf_index"], receipt["tree_size"], receipt["event"]["hash"]
    if log.error or receipt["stream"] != log.stream:
        report.failed(log.error or f"the receipt is of {receipt['stream']}, the bundle's log of {log.stream}")
        return
    if len(log.hashes) < size:
        report.failed(
            f"the bundle's log holds {len(log.hashes)} events, fewer than the {size} the receipt's checkpoint "
            "covers: the log was cut short after the operator signed it"
        )
        return
    found = log.hashes[index]
    if found == event_hash:
        report.held(f"the bundle's log holds the event at its place, #{index + 1}, with the same hash")
    else:
        report.failed(f"the bundle's event #{index + 1} has hash {found}, not the receipt's {event_hash}")
    bundle_root = roots[size]
    if bundle_root == checkpoint.root:
        report.held(f"the bundle's first {size} events have the checkpoint's root {bundle_root.hex()}")
    else:
        report.failed(
            f"the bundle's first {size} events have root {bundle_root.hex()}, but the operator signed root "
            f"{checkpoint.root.hex()} for them: this receipt is evidence the operator signed another history"
        )


def _against_checkpoint(
    report: ReceiptReport, receipt: dict, checkpoint: Checkpoint, verifier: Verifier, path: Path, proof: dict | None
) -> None:
    try:
        with open(path, "rb") as stream:
            content = stream.read(MAX_NOTE_BYTES + 1)
        later = verify_checkpoint(content, verifier)
    except (OSError, NoteError) as exc:
        report.failed(f"the later checkpoint {path.name}: {exc}")
        return
    if later.origin != checkpoint.origin:
        report.failed(f"the later checkpoint is of {later.origin}, not of {checkpoint.origin}")
        return
    if later.size == checkpoint.size:
        if later.root == checkpoint.root:
            report.held(f"the later checkpoint, of the same size, has the same root {later.root.hex()}")
        else:
            report.failed(
                f"two checkpoints of {later.size} events signed by {verifier.name} with different roots, "
                f"{checkpoint.root.hex()} (the receipt's) and {later.root.hex()}: the operator signed two histories"
            )
        return
    small, large = (checkpoint, later) if later.size > checkpoint.size else (later, checkpoint)
    if proof is None:
        report.failed(
            f"the later checkpoint has {later.size} events: checking it extends the receipt's ({checkpoint.size}) "
            f"needs the server's consistency proof from {small.size} to {large.size} (--proof)"
        )
        return
    try:
        hashes = _hexes(proof.get("proof") if isinstance(proof, dict) else None, "the consistency proof")
    except ValueError as exc:
        report.failed(str(exc))
        return
    if (proof.get("from"), proof.get("to")) != (small.size, large.size):
        report.failed(f"the consistency proof is from {proof.get('from')} to {proof.get('to')}, "
                      f"not from {small.size} to {large.size}")  # fmt: skip
    elif merkle.verify_consistency(small.size, large.size, small.root, large.root, hashes):
        report.held(f"the checkpoint of {large.size} events extends the one of {small.size}: the log only grew")
    else:
        report.failed(
            f"the checkpoint of {large.size} events (root {large.root.hex()}) does not extend the one of "
            f"{small.size} (root {small.root.hex()}): the operator signed another history"
        )
