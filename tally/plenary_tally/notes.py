"""Signed notes (c2sp.org/signed-note) with Ed25519 keys, as Go's `golang.org/x/mod/sumdb/note` writes them.

A note is a text ending in a newline, a blank line, then one signature line per key:
"— <key name> base64(4-byte key id || signature)". Keys are strings:

    verifier key   <name>+<hex key id>+base64(0x01 || 32-byte public key)
    signer key     PRIVATE+KEY+<name>+<hex key id>+base64(0x01 || 32-byte seed)

and the key id is the first 4 bytes of SHA-256(name || "\\n" || 0x01 || public key). The same
strings with type 0x04 are Ed25519 cosignature keys (c2sp.org/tlog-cosignature, see
`checkpoints.py`), which share this parsing. Nothing here touches Django or the network.
"""

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01
COSIGNATURE_V1 = 0x04  # timestamped Ed25519 checkpoint cosignatures
MAX_NOTE_BYTES = 1 << 20
MAX_SIGNATURES = 100
MAX_KEY_LENGTH = 1000
SIGNATURE_PREFIX = "— "  # an em dash and a space
_HEX_ID = re.compile(r"[0-9a-f]{8}")
_PRIVATE = "PRIVATE+KEY+"


class NoteError(ValueError):
    """A note, a key or a checkpoint that does not hold; the message says what is wrong."""


def key_id(name: str, algorithm: int, public_key: bytes) -> int:
    return int.from_bytes(hashlib.sha256(name.encode() + b"\n" + bytes([algorithm]) + public_key).digest()[:4], "big")


def check_name(name: str, what: str = "a key name") -> None:
    if not name:
        raise NoteError(f"{what} must not be empty")
    if any(c.isspace() or c == "+" or ord(c) < 0x20 for c in name):
        raise NoteError(f"{what} must not contain spaces or '+': {name!r}")


def _raw_public(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _vkey(name: str, algorithm: int, public_key: bytes) -> str:
    encoded = base64.b64encode(bytes([algorithm]) + public_key).decode()
    return f"{name}+{key_id(name, algorithm, public_key):08x}+{encoded}"


@dataclass(frozen=True)
class ParsedKey:
    name: str
    algorithm: int
    key_id: int
    material: bytes  # the public key of a verifier key, the seed of a signer key
    public_key: bytes


def parse_key(key: str, *, private: bool, algorithms: Iterable[int] = (ED25519,)) -> ParsedKey:
    """Read a verifier or signer key string, refusing it with a sentence on what is wrong."""
    kind = "signer key" if private else "verifier key"
    if not isinstance(key, str):
        raise NoteError(f"a {kind} is a string")
    key = key.strip()
    if len(key) > MAX_KEY_LENGTH:
        raise NoteError(f"this {kind} is longer than {MAX_KEY_LENGTH} characters")
    if private:
        if not key.startswith(_PRIVATE):
            raise NoteError("a signer key starts with PRIVATE+KEY+")
        key = key[len(_PRIVATE) :]
    elif key.startswith(_PRIVATE):
        raise NoteError("this is a signer key (PRIVATE+KEY+…): give its verifier key instead, never the private one")
    parts = key.split("+", 2)  # base64 may hold '+' too
    if len(parts) != 3:
        raise NoteError(f"a {kind} is name+keyid+key (three parts joined by '+'), this one has {len(parts)}")
    name, hex_id, encoded = parts
    check_name(name, f"the {kind}'s name")
    if not _HEX_ID.fullmatch(hex_id):
        raise NoteError(f"the {kind}'s id must be 8 lowercase hex digits, not {hex_id!r}")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise NoteError(f"the {kind}'s key is not valid base64") from None
    allowed = tuple(algorithms)
    if not raw or raw[0] not in allowed:
        expected = " or ".join(f"0x{a:02x}" for a in allowed)
        raise NoteError(f"the {kind} is not of a supported type (its first byte must be {expected})")
    if len(raw) != 33:
        raise NoteError(f"an Ed25519 {kind} holds 32 bytes after its type byte, this one {len(raw) - 1}")
    material = raw[1:]
    public = _raw_public(Ed25519PrivateKey.from_private_bytes(material).public_key()) if private else material
    if not private:
        try:
            Ed25519PublicKey.from_public_bytes(public)
        except ValueError:
            raise NoteError(f"the {kind} is not an Ed25519 public key") from None
    computed = key_id(name, raw[0], public)
    if computed != int(hex_id, 16):
        raise NoteError(f"the {kind}'s id {hex_id} does not match its name and key (expected {computed:08x})")
    return ParsedKey(name, raw[0], computed, material, public)


def signer_key(name: str, seed: bytes, algorithm: int = ED25519) -> str:
    check_name(name)
    public = _raw_public(Ed25519PrivateKey.from_private_bytes(seed).public_key())
    encoded = base64.b64encode(bytes([algorithm]) + seed).decode()
    return f"{_PRIVATE}{name}+{key_id(name, algorithm, public):08x}+{encoded}"


def generate_signer(name: str) -> str:
    """A new Ed25519 signer key string for `name` (keep it secret; give out `verifier_of` it)."""
    seed = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return signer_key(name, seed)


def verifier_of(signer_key: str) -> str:
    parsed = parse_key(signer_key, private=True, algorithms=(ED25519, COSIGNATURE_V1))
    return _vkey(parsed.name, parsed.algorithm, parsed.public_key)


def signature_line(name: str, key_id: int, signature: bytes) -> str:
    return f"{SIGNATURE_PREFIX}{name} {base64.b64encode(key_id.to_bytes(4, 'big') + signature).decode()}\n"


class Signer:
    """Signs note texts with an Ed25519 signer key string."""

    def __init__(self, signer_key: str) -> None:
        parsed = parse_key(signer_key, private=True)
        self.name = parsed.name
        self.key_id = parsed.key_id
        self._private = Ed25519PrivateKey.from_private_bytes(parsed.material)
        self.verifier_key = _vkey(parsed.name, ED25519, parsed.public_key)

    def sign(self, text: str) -> str:
        """The note with one more signature line: `text` is a note's text (ending in a newline) or an
        already signed note, whose signature by this same key, if any, is replaced."""
        try:
            note = open_note(text, ())
            body = note.text
            others = [(n, k, s) for n, k, s in note.signatures if (n, k) != (self.name, self.key_id)]
        except NoteError:
            _check_text(text)
            body, others = text, []
        if len(others) >= MAX_SIGNATURES:
            raise NoteError(f"a note carries at most {MAX_SIGNATURES} signatures")
        lines = [signature_line(n, k, s) for n, k, s in others]
        lines.append(signature_line(self.name, self.key_id, self._private.sign(body.encode())))
        return body + "\n" + "".join(lines)

    def __repr__(self) -> str:
        return f"Signer({self.verifier_key!r})"


class Verifier:
    """Checks Ed25519 signatures made by the key a verifier key string names."""

    algorithm = ED25519

    def __init__(self, verifier_key: str) -> None:
        parsed = parse_key(verifier_key, private=False, algorithms=(self.algorithm,))
        self.name = parsed.name
        self.key_id = parsed.key_id
        self.verifier_key = verifier_key.strip()
        self._public = Ed25519PublicKey.from_public_bytes(parsed.public_key)

    def verify(self, msg_bytes: bytes, sig: bytes) -> bool:
        try:
            self._public.verify(sig, msg_bytes)
        except InvalidSignature:
            return False
        return True

    def __repr__(self) -> str:
        return f"Verifier({self.verifier_key!r})"


@dataclass(frozen=True)
class Note:
    """An opened note: its text, every signature line as (name, key id, signature), and the names of
    the given verifiers whose signature holds. Its text means nothing unless `verified` names a key
    the reader trusts."""

    text: str
    signatures: list[tuple[str, int, bytes]] = field(default_factory=list)
    verified: list[str] = field(default_factory=list)


def _check_text(text: str) -> None:
    if not isinstance(text, str):
        raise NoteError("a note is text")
    try:
        size = len(text.encode())
    except UnicodeEncodeError:
        raise NoteError("a note must be valid UTF-8") from None
    if size > MAX_NOTE_BYTES:
        raise NoteError(f"a note is at most {MAX_NOTE_BYTES} bytes, this one is {size}")
    if not text.endswith("\n"):
        raise NoteError("a note's text must end with a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("a note must not contain control characters other than newline")


def open_note(note: str | bytes, verifiers: Iterable[Verifier]) -> Note:
    """Split a signed note into its text and signatures, and check those by the given verifiers.

    A malformed note raises `NoteError`, and so does a signature by a given key (same name and
    key id) that does not hold. Signatures by other keys are listed but not checked."""
    if isinstance(note, bytes):
        if len(note) > MAX_NOTE_BYTES:
            raise NoteError(f"a note is at most {MAX_NOTE_BYTES} bytes, this one is {len(note)}")
        try:
            note = note.decode()
        except UnicodeDecodeError:
            raise NoteError("a note must be valid UTF-8") from None
    _check_text(note)
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("a signed note has a blank line between its text and its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    lines = block.split("\n")[:-1]  # the block ends with a newline: nothing after the last
    if not lines:
        raise NoteError("this note has no signature lines")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"a note carries at most {MAX_SIGNATURES} signatures, this one {len(lines)}")
    known = {(v.name, v.key_id): v for v in verifiers}
    signatures: list[tuple[str, int, bytes]] = []
    verified: list[str] = []
    for number, line in enumerate(lines, start=1):
        name, kid, sig = parse_signature_line(line, f"signature line {number}")
        if any((name, kid) == (n, k) for n, k, _ in signatures):
            raise NoteError(f"signature line {number} repeats a signature by {name}")
        signatures.append((name, kid, sig))
        verifier = known.get((name, kid))
        if verifier is None:
            continue
        if not verifier.verify(text.encode(), sig):
            raise NoteError(f"the signature by {name} ({kid:08x}) does not hold for this note's text")
        verified.append(name)
    return Note(text, signatures, verified)


def parse_signature_line(line: str, what: str = "a signature line") -> tuple[str, int, bytes]:
    """(name, key id, signature) of "— name base64(key id || signature)", with or without its newline."""
    line = line.removesuffix("\n")
    if not line.startswith(SIGNATURE_PREFIX):
        raise NoteError(f"{what} must start with an em dash and a space")
    parts = line[len(SIGNATURE_PREFIX) :].split(" ")
    if len(parts) != 2:
        raise NoteError(f"{what} is '— <key name> <base64 signature>'")
    name, encoded = parts
    check_name(name, f"the key name in {what}")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise NoteError(f"the signature in {what} is not valid base64") from None
    if len(raw) < 5:
        raise NoteError(f"the signature in {what} is too short to hold a key id and a signature")
    return name, int.from_bytes(raw[:4], "big"), raw[4:]
