"""The audit log as a transparency log: a Merkle tree per stream, signed checkpoints, proofs, receipts, witnesses.

Each stream's events are the leaves of an RFC 6962 Merkle tree (a leaf is an event's chain hash). The log
signs a checkpoint of a stream's tree — its origin, size and root, a C2SP tlog-checkpoint note — with its
Ed25519 key (`AUDIT_LOG_KEY`); an inclusion proof shows one event is in a checkpointed tree, a consistency
proof that a later tree extends an earlier one. A voter's receipt holds their vote event, its proof and a
checkpoint covering it; a witness checks each new checkpoint against the last it saw and sends back its
cosignature, stored here once verified. Whoever kept a receipt or a witnessed checkpoint can later tell a
rewritten history from an appended one, without trusting this server.

`sign_checkpoint(stream)` is the one writer of checkpoints: it extends the stored frontier of the latest
checkpoint by the events after it, never re-reading the stream. The sequencer calls it after each batch;
readers that need the head anchored now (pages, JSON, receipts, the bundle) call `current`.
"""

import os
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction

from plenary_tally import checkpoints, merkle, notes, receipts
from plenary_tally.vocabulary import VOTE_ACTIONS

from .logmodels import COSIGNATURES_PER_CHECKPOINT, Checkpoint, Cosignature
from .models import AuditEvent

CHUNK = 5000  # event hashes per database round trip


class Refusal(ValueError):
    """Why a proof, a checkpoint or a cosignature was not given or not taken, in one sentence."""


class NoSuchStream(Refusal):
    """A stream with no event: nothing to prove."""


# The key --------------------------------------------------------------------------------------


def site() -> str:
    """The log's name: the site's host, as `SITE_URL` gives it; the key's name and every origin's prefix."""
    return urlsplit(settings.SITE_URL).netloc


def signer_key() -> str:
    """The signing key: `AUDIT_LOG_KEY`, else the file `AUDIT_LOG_KEY_FILE`, made on first use when embedded."""
    if settings.AUDIT_LOG_KEY:
        return settings.AUDIT_LOG_KEY.strip()
    path = Path(settings.AUDIT_LOG_KEY_FILE)
    if settings.AUDIT_LOG_KEY_GENERATED and not path.exists():
        _make_key_file(path)
    return path.read_text().strip()


def _make_key_file(path: Path) -> None:
    """A new key for this site, written once (owner-readable only); another process that made it first wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as out:
        out.write(notes.generate_signer(site()) + "\n")


@cache
def _signer(key: str) -> notes.Signer:
    return notes.Signer(key)


def signer() -> notes.Signer:
    return _signer(signer_key())


def log_key() -> str:
    """The verifier key that checks the log's checkpoints: what an observer pins (`/audit/log/key`)."""
    return signer().verifier_key


def retired_keys() -> list[str]:
    """The verifier keys of earlier signing keys, whose checkpoints still verify (`AUDIT_LOG_RETIRED_KEYS`)."""
    return [key.strip() for key in settings.AUDIT_LOG_RETIRED_KEYS if key.strip()]


def origin(stream: str) -> str:
    return checkpoints.origin_for(site(), stream)


# The tree -------------------------------------------------------------------------------------


def head_size(stream: str) -> int:
    """How many events the stream holds: its head's seq (public, like the head itself)."""
    return AuditEvent.objects.filter(stream=stream).order_by("-seq").values_list("seq", flat=True).first() or 0


def _hashes(stream: str, after: int, upto: int | None) -> Iterable[str]:
    events = AuditEvent.objects.filter(stream=stream, seq__gt=after)
    if upto is not None:
        events = events.filter(seq__lte=upto)
    return events.order_by("seq").values_list("hash", flat=True).iterator(chunk_size=CHUNK)


def leaves(stream: str, size: int | None = None) -> list[bytes]:
    """The leaf hashes of the stream's first `size` events (all, by default), in seq order."""
    return [merkle.event_leaf(h) for h in _hashes(stream, 0, size)]


def sign_checkpoint(stream: str) -> Checkpoint | None:
    """Sign the stream's current head, unless a checkpoint covers it already; the new row, or None."""
    size = head_size(stream)
    if size == 0 or Checkpoint.objects.of(stream).filter(size=size).exists():
        return None
    return _sign_at(stream, size)


def checkpoint_at(stream: str, size: int) -> Checkpoint:
    """The checkpoint of exactly the stream's first `size` events, signed now if there is none."""
    found = Checkpoint.objects.of(stream).filter(size=size).first()
    return found or _sign_at(stream, size)


def current(stream: str) -> Checkpoint | None:
    """The stream's latest checkpoint, signed first if the head is newer; None for a stream with no event."""
    sign_checkpoint(stream)
    return Checkpoint.objects.latest_of(stream)


def _sign_at(stream: str, size: int) -> Checkpoint:
    """Extend the frontier of the latest checkpoint at or below `size` by the events after it, and sign."""
    base = Checkpoint.objects.of(stream).filter(size__lte=size).order_by("-size").first()
    if base is not None and base.size == size:
        return base
    frontier = merkle.Frontier.from_data(base.frontier) if base else merkle.Frontier()
    frontier.extend(merkle.event_leaf(h) for h in _hashes(stream, frontier.size, size))
    if frontier.size != size:
        raise RuntimeError(f"{stream} holds {frontier.size} events up to #{size}: its chain has a gap")
    signed = checkpoints.sign_checkpoint(checkpoints.Checkpoint(origin(stream), size, frontier.root()), signer())
    try:
        with transaction.atomic():
            return Checkpoint.objects.create(
                stream=stream,
                size=size,
                root=frontier.root().hex(),
                note=signed,
                frontier=frontier.to_data(),
                key_id=f"{signer().key_id:08x}",
            )
    except IntegrityError:  # another process signed this size first: theirs stands
        return Checkpoint.objects.of(stream).get(size=size)


# Proofs ---------------------------------------------------------------------------------------


def _check_range(stream: str, *sizes: int) -> int:
    size = head_size(stream)
    if size == 0:
        raise NoSuchStream(f"The audit log has no stream {stream!r}.")
    for n in sizes:
        if not 1 <= n <= size:
            raise Refusal(f"Stream {stream!r} holds events 1 to {size}: {n} is not among them.")
    return size


def inclusion(stream: str, seq: int, size: int) -> list[bytes]:
    """The proof that event `seq` is in the tree of the stream's first `size` events."""
    _check_range(stream, seq, size)
    if seq > size:
        raise Refusal(f"Event #{seq} is not in a tree of {size} events.")
    return merkle.inclusion_proof(leaves(stream, size), seq - 1)


def consistency(stream: str, old: int, new: int) -> list[bytes]:
    """The proof that the tree of the first `new` events extends that of the first `old`."""
    _check_range(stream, old, new)
    if old > new:
        raise Refusal(f"A tree of {new} events cannot extend one of {old}.")
    return merkle.consistency_proof(leaves(stream, new), old)


# Receipts -------------------------------------------------------------------------------------


def receipt(event: AuditEvent) -> dict[str, Any]:
    """A voter's receipt for one vote event: the event, its inclusion proof and a checkpoint covering it."""
    return receipts_for([event])[0]


def receipts_for(events: list[AuditEvent]) -> list[dict[str, Any]]:
    """Receipts for events of one stream, against one checkpoint: the stream is read once."""
    if not events:
        return []
    [stream] = {e.stream for e in events}
    checkpoint = current(stream)
    assert checkpoint is not None  # the stream holds these events
    tree = leaves(stream, checkpoint.size)
    return [receipts.make_receipt(e.canonical(), tree, checkpoint.size, checkpoint.note, log_key()) for e in events]


def has_vote_events(stream: str, voter_handle: str) -> bool:
    return AuditEvent.objects.filter(stream=stream, action__in=VOTE_ACTIONS, payload__voter=voter_handle).exists()


def vote_events(stream: str, voter_handle: str, cell: tuple[str, str] | None = None) -> "list[AuditEvent]":
    """Every vote event of a stream whose voter is this handle (on one (component, criterion) cell, if given),
    in chain order: what their receipts cover."""
    events = AuditEvent.objects.filter(stream=stream, action__in=VOTE_ACTIONS, payload__voter=voter_handle)
    if cell is not None:
        events = events.filter(payload__component=cell[0], payload__criterion=cell[1])
    return list(events.order_by("seq"))


# Witnesses ------------------------------------------------------------------------------------

COSIGNATURE_LIMITS = {"stream": 200, "checkpoint": 8192, "cosignature": 1024, "witness_key": 300}


def add_cosignature(*, stream: str, note: str, line: str, witness_key: str) -> tuple[Cosignature, bool]:
    """Store a witness's cosignature of one of our checkpoints, once it verifies; (row, whether it is new).

    Refused, with the reason, unless the checkpoint is one this log signed and stored for `stream`, and the
    line is a cosignature of it by `witness_key`. Not an audit event: a cosignature changes nothing of a
    stream; it is kept in its own append-only table and shown on /audit/log/.
    """
    for name, value in (("stream", stream), ("checkpoint", note), ("cosignature", line), ("witness_key", witness_key)):
        if len(value) > COSIGNATURE_LIMITS[name]:
            raise Refusal(f"{name} is {len(value)} characters long; at most {COSIGNATURE_LIMITS[name]} are taken.")
    checkpoint = _our_checkpoint(stream, note)
    try:
        witness = checkpoints.CosignatureVerifier(witness_key.strip())
        timestamp = witness.verify(checkpoint.note, line.strip())
    except (notes.NoteError, ValueError) as exc:
        raise Refusal(f"This witness key or cosignature cannot be read: {exc}") from None
    if timestamp is None:
        raise Refusal("This cosignature does not hold for this checkpoint and witness key.")
    with transaction.atomic():
        checkpoint = Checkpoint.objects.select_for_update().get(pk=checkpoint.pk)  # one count at a time
        stored = checkpoint.cosignatures.filter(witness_key=witness_key.strip()).first()
        if stored is not None:
            return stored, False
        if checkpoint.cosignatures.count() >= COSIGNATURES_PER_CHECKPOINT:
            raise Refusal(f"This checkpoint has {COSIGNATURES_PER_CHECKPOINT} cosignatures already: no more are kept.")
        row = Cosignature.objects.create(
            checkpoint=checkpoint,
            witness=witness.name,
            witness_key=witness_key.strip(),
            line=line.strip(),
            timestamp=timestamp,
        )
    return row, True


def _our_checkpoint(stream: str, note: str) -> Checkpoint:
    """The stored checkpoint this note is, signed by our key (or a retired one): else refused."""
    verifiers = [notes.Verifier(key) for key in [log_key(), *retired_keys()]]
    try:
        opened = notes.open_note(note, verifiers)
        parsed = checkpoints.Checkpoint.parse(opened.text)
    except (notes.NoteError, ValueError) as exc:
        raise Refusal(f"This checkpoint cannot be read: {exc}") from None
    if not opened.verified:
        raise Refusal("This checkpoint is not signed by this log's key.")
    if parsed.origin != origin(stream):
        raise Refusal(f"This checkpoint is of {parsed.origin!r}, not of stream {stream!r}.")
    stored = Checkpoint.objects.of(stream).filter(size=parsed.size).first()
    if stored is None or stored.root != parsed.root.hex():
        raise Refusal("This log never published this checkpoint.")
    return stored
