"""Signed checkpoints of an audit stream's Merkle tree (c2sp.org/tlog-checkpoint) and witness
cosignatures of them (c2sp.org/tlog-cosignature, the Ed25519 `cosignature/v1` type).

A checkpoint's text is three lines: the origin (which log, here `<site>/audit/<stream>`), the
tree size and the base64 root, then optional extension lines; the log signs it as a note
(`notes.py`). A witness that checked the checkpoint is consistent with every earlier one it saw
adds its cosignature: a note signature line whose key id uses type 0x04 and whose signature is
an 8-byte timestamp followed by an Ed25519 signature over

    cosignature/v1
    time <timestamp>
    <the checkpoint's text>
"""

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .merkle import HASH_SIZE
from .notes import (
    COSIGNATURE_V1,
    ED25519,
    NoteError,
    Signer,
    Verifier,
    _vkey,
    generate_signer,
    open_note,
    parse_key,
    parse_signature_line,
    signature_line,
)

_SIZE = re.compile(r"0|[1-9][0-9]*")
MAX_TIMESTAMP = (1 << 63) - 1
MAX_TREE_SIZE = (1 << 63) - 1
COSIGNATURE_HEADER = "cosignature/v1\n"


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode(), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, body: str) -> "Checkpoint":
        """Read a checkpoint's text, strictly: a non-empty origin, a decimal size without leading
        zeros, a 32-byte base64 root, and only non-empty extension lines."""
        if not isinstance(body, str) or not body.endswith("\n"):
            raise NoteError("a checkpoint's text ends with a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise NoteError("a checkpoint has at least three lines: origin, tree size, root hash")
        origin, size, encoded, *extensions = lines
        if not origin:
            raise NoteError("a checkpoint's origin (its first line) must not be empty")
        if not _SIZE.fullmatch(size) or int(size) > MAX_TREE_SIZE:
            raise NoteError(f"a checkpoint's tree size is a decimal number without leading zeros, not {size!r}")
        try:
            root = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise NoteError("a checkpoint's root hash (its third line) is not valid base64") from None
        if len(root) != HASH_SIZE or base64.b64encode(root).decode() != encoded:
            raise NoteError(f"a checkpoint's root hash is the base64 of {HASH_SIZE} bytes")
        if any(not line for line in extensions):
            raise NoteError("a checkpoint's extension lines must not be empty")
        return cls(origin, int(size), root, tuple(extensions))

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin or len(self.root) != HASH_SIZE or self.size < 0:
            raise NoteError("a checkpoint needs a one-line origin, a size of 0 or more and a 32-byte root")


def origin_for(site: str, stream: str) -> str:
    """The origin line of a Plenary stream's checkpoints, e.g. plenary.example.org/audit/definition:open-model."""
    return f"{site}/audit/{stream}"


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> str:
    return signer.sign(checkpoint.body())


def verify_checkpoint(note: str | bytes, verifier: Verifier) -> Checkpoint:
    """The checkpoint of a signed note, once its signature by `verifier`'s key holds; else `NoteError`."""
    opened = open_note(note, [verifier])
    if verifier.name not in opened.verified:
        raise NoteError(f"this checkpoint carries no signature by {verifier.name} ({verifier.key_id:08x})")
    return Checkpoint.parse(opened.text)


def _cosigned_message(body: str, when: int) -> bytes:
    return f"{COSIGNATURE_HEADER}time {when}\n{body}".encode()


def generate_cosigner(name: str) -> str:
    """A new witness key (a signer key string of type 0x04, the Ed25519 cosignature type)."""
    return Cosigner.convert(generate_signer(name))


class Cosigner:
    """A witness's key: cosigns checkpoints it has checked. Takes a cosigner key (type 0x04) or an
    ordinary Ed25519 signer key (0x01), whose cosignature key id is then computed with 0x04."""

    def __init__(self, signer_key: str) -> None:
        parsed = parse_key(signer_key, private=True, algorithms=(ED25519, COSIGNATURE_V1))
        self.name = parsed.name
        self._private = Ed25519PrivateKey.from_private_bytes(parsed.material)
        self.verifier_key = _vkey(parsed.name, COSIGNATURE_V1, parsed.public_key)
        self.key_id = parse_key(self.verifier_key, private=False, algorithms=(COSIGNATURE_V1,)).key_id

    @staticmethod
    def convert(signer_key: str) -> str:
        from .notes import signer_key as make_key

        parsed = parse_key(signer_key, private=True, algorithms=(ED25519, COSIGNATURE_V1))
        return make_key(parsed.name, parsed.material, COSIGNATURE_V1)

    def cosign(self, note: str, when: int) -> str:
        """The cosignature LINE ("— name base64…\\n") for the checkpoint of `note` at POSIX time `when`:
        append it to the note, or send it to the log, as it is. The log's signature is not checked
        here: a witness checks it (and the tree's consistency) before cosigning."""
        if isinstance(when, bool) or not isinstance(when, int) or not 0 <= when <= MAX_TIMESTAMP:
            raise NoteError(f"a cosignature's time is a whole number of seconds from 0 to {MAX_TIMESTAMP}")
        body = Checkpoint.parse(open_note(note, ()).text).body()
        signature = self._private.sign(_cosigned_message(body, when))
        return signature_line(self.name, self.key_id, when.to_bytes(8, "big") + signature)


class CosignatureVerifier:
    """Checks a witness's cosignatures, given its verifier key (type 0x04)."""

    def __init__(self, verifier_key: str) -> None:
        parsed = parse_key(verifier_key, private=False, algorithms=(COSIGNATURE_V1,))
        self.name = parsed.name
        self.key_id = parsed.key_id
        self.verifier_key = verifier_key.strip()
        self._public = Ed25519PublicKey.from_public_bytes(parsed.public_key)

    def verify(self, note: str, line: str) -> int | None:
        """The cosignature's timestamp when `line` is this witness's cosignature of `note`'s checkpoint;
        None when it is another key's, or does not hold. A malformed note or line raises `NoteError`."""
        name, kid, raw = parse_signature_line(line, "the cosignature line")
        if (name, kid) != (self.name, self.key_id) or len(raw) != 8 + 64:
            return None
        when = int.from_bytes(raw[:8], "big")
        if when > MAX_TIMESTAMP:
            return None
        body = Checkpoint.parse(open_note(note, ()).text).body()
        try:
            self._public.verify(raw[8:], _cosigned_message(body, when))
        except InvalidSignature:
            return None
        return when

    def find(self, note: str) -> int | None:
        """The timestamp of this witness's cosignature among `note`'s own signature lines, if one holds."""
        for name, kid, raw in open_note(note, ()).signatures:
            if (name, kid) == (self.name, self.key_id):
                return self.verify(note, signature_line(name, kid, raw))
        return None


def cosigned_by(note: str, verifiers: Iterable[CosignatureVerifier]) -> dict[str, int]:
    """{witness name: timestamp} for each given witness whose cosignature in `note` holds."""
    found = {}
    for verifier in verifiers:
        when = verifier.find(note)
        if when is not None:
            found[verifier.name] = when
    return found
