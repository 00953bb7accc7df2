"""`plenary-tally witness URL --state DIR`: watch a Plenary site's audit log, and cosign what holds.

For each stream the site lists (`GET URL/audit/log/checkpoints.json`), the witness checks the log's
signature (with the log key it pinned on its first run), then that the checkpoint is consistent
with the last one it stored for that origin: the same size must have the same root, a smaller
size is a rollback, and a larger one must come with a valid consistency proof
(`GET URL/audit/log/consistency.json`). It then stores the checkpoint, cosigns it
(c2sp.org/tlog-cosignature) and, with --publish, sends the cosignature back
(`POST URL/audit/log/cosignatures.json`). A fork — two signed checkpoints of one size with
different roots, or a larger one that does not extend the stored one — is printed with both signed
notes as evidence and written to DIR/evidence-*.txt; the stored checkpoint is never replaced by it.

Only the standard library's urllib talks to the site, with a timeout and a size limit on every
response. `run` takes the `fetch` and `post` functions, so it runs the same against any transport.
"""

import argparse
import hashlib
import json
import os
import re
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import merkle
from .checkpoints import Checkpoint, Cosigner, generate_cosigner, origin_for, verify_checkpoint
from .notes import MAX_KEY_LENGTH, NoteError, Verifier, check_name

TIMEOUT = 15  # seconds, for each request
MAX_RESPONSE_BYTES = 16 << 20  # checkpoints.json lists every stream's signed checkpoint
MAX_STREAMS = 10_000
KEY_FILE = "witness.key"
LOG_KEY_FILE = "log_key.txt"
CHECKPOINTS_DIR = "checkpoints"

Fetch = Callable[[str], bytes]
Post = Callable[[str, bytes], tuple[int, bytes]]


class WitnessError(Exception):
    """The site cannot be reached, or answers something that is not what the routes promise."""


def http_fetch(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:  # noqa: S310 (a URL the operator gives)
            content = response.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise WitnessError(f"{url} answered {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WitnessError(f"cannot reach {url}: {reason}") from None
    if len(content) > MAX_RESPONSE_BYTES:
        raise WitnessError(f"{url} answered more than {MAX_RESPONSE_BYTES} bytes")
    return content


def http_post(url: str, body: bytes) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            return response.status, response.read(MAX_RESPONSE_BYTES)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(MAX_RESPONSE_BYTES)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise WitnessError(f"cannot reach {url}: {getattr(exc, 'reason', exc)}") from None


@dataclass
class Outcome:
    """What the witness saw: one line per stream and per problem; evidence files; the exit status."""

    lines: list[str] = field(default_factory=list)
    evidence: list[Path] = field(default_factory=list)
    failed: int = 0
    cosigned: int = 0

    @property
    def status(self) -> int:
        return 1 if self.failed or self.evidence else 0

    def say(self, line: str) -> None:
        self.lines.append(line)

    def fail(self, line: str) -> None:
        self.failed += 1
        self.lines.append(f"FAILED: {line}")


def _json(fetch: Fetch, url: str) -> Any:
    try:
        return json.loads(fetch(url))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WitnessError(f"{url} did not answer JSON") from None


def _safe(origin: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", origin)[:80]
    return f"{slug}-{hashlib.sha256(origin.encode()).hexdigest()[:12]}"


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    """Written whole or not at all: a crash never leaves half a stored checkpoint."""
    temporary = path.with_name(path.name + ".new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.replace(temporary, path)


def _read_small(path: Path, most: int = 1 << 20) -> str:
    with open(path, "rb") as stream:
        content = stream.read(most + 1)
    if len(content) > most:
        raise WitnessError(f"{path} is larger than {most} bytes")
    return content.decode()


def load_cosigner(state: Path, key_file: Path | None, name: str | None, outcome: Outcome) -> Cosigner:
    if key_file is not None:
        return Cosigner(_read_small(key_file).strip())
    stored = state / KEY_FILE
    if stored.exists():
        return Cosigner(_read_small(stored).strip())
    name = name or "witness/" + re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname() or "local")
    check_name(name, "the witness's name")
    key = generate_cosigner(name)
    _write(stored, key + "\n", 0o600)
    cosigner = Cosigner(key)
    outcome.say(f"created the witness key {stored}; its verifier key, to publish: {cosigner.verifier_key}")
    return cosigner


def pin_log_key(state: Path, given: str | None, announced: Any, outcome: Outcome) -> Verifier:
    stored = state / LOG_KEY_FILE
    if stored.exists():
        pinned = _read_small(stored).strip()
        if given is not None and given.strip() != pinned:
            raise WitnessError(f"--log-key differs from the key pinned in {stored}: remove that file to pin another")
        if isinstance(announced, str) and announced.strip() != pinned:
            outcome.say(f"note: the site now announces another log key ({announced}); the pinned one is kept")
        return Verifier(pinned)
    if given is not None:
        verifier = Verifier(given)
        outcome.say(f"pinned the log key given: {verifier.verifier_key}")
    else:
        if not isinstance(announced, str) or len(announced) > MAX_KEY_LENGTH:
            raise WitnessError("checkpoints.json names no log_key, and no --log-key was given")
        verifier = Verifier(announced)
        outcome.say(
            f"pinned the log key the site announces, on trust as it is the first use: {verifier.verifier_key} "
            "(compare it with the key the site publishes elsewhere, or pass --log-key)"
        )
    _write(stored, verifier.verifier_key + "\n")
    return verifier


def run(
    url: str,
    state: Path,
    *,
    fetch: Fetch = http_fetch,
    post: Post = http_post,
    key_file: Path | None = None,
    name: str | None = None,
    publish: bool = False,
    log_key: str | None = None,
    now: Callable[[], float] = time.time,
) -> Outcome:
    """One pass of the witness over every stream the site at `url` lists; raises WitnessError when
    the site cannot be reached or answers nonsense, NoteError for a bad key."""
    base = url.rstrip("/")
    outcome = Outcome()
    state.mkdir(parents=True, exist_ok=True)
    (state / CHECKPOINTS_DIR).mkdir(exist_ok=True)
    cosigner = load_cosigner(state, key_file, name, outcome)
    listing = _json(fetch, f"{base}/audit/log/checkpoints.json")
    if not isinstance(listing, dict) or not isinstance(listing.get("streams"), list):
        raise WitnessError('checkpoints.json is not {"log_key", "site", "streams": [...]}')
    if len(listing["streams"]) > MAX_STREAMS:
        raise WitnessError(f"checkpoints.json lists more than {MAX_STREAMS} streams")
    verifier = pin_log_key(state, log_key, listing.get("log_key"), outcome)
    site = listing.get("site")
    for entry in listing["streams"]:
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("stream", "checkpoint")):
            outcome.fail('a stream entry is not {"stream", "size", "checkpoint"}')
            continue
        _witness_stream(base, entry, site, verifier, cosigner, state, outcome, fetch, post, publish, int(now()))
    return outcome


def _witness_stream(
    base: str,
    entry: dict,
    site: Any,
    verifier: Verifier,
    cosigner: Cosigner,
    state: Path,
    outcome: Outcome,
    fetch: Fetch,
    post: Post,
    publish: bool,
    when: int,
) -> None:
    stream, note = entry["stream"], entry["checkpoint"]
    try:
        new = verify_checkpoint(note, verifier)
    except NoteError as exc:
        outcome.fail(f"{stream}: its checkpoint does not hold: {exc}")
        return
    if isinstance(site, str) and new.origin != origin_for(site, stream):
        outcome.fail(f"{stream}: its checkpoint's origin is {new.origin}, not {origin_for(site, stream)}")
        return
    if entry.get("size") != new.size:
        outcome.fail(f"{stream}: listed with size {entry.get('size')}, but its checkpoint says {new.size}")
        return
    stored_path = state / CHECKPOINTS_DIR / f"{_safe(new.origin)}.txt"
    if stored_path.exists():
        old_note = _read_small(stored_path)
        old = verify_checkpoint(old_note, verifier)
        if not _consistent(base, stream, old, new, old_note, note, fetch, state, outcome):
            return
    else:
        outcome.say(f"{stream}: first checkpoint seen, {new.size} events, root {new.root.hex()}")
    _write(stored_path, note)
    line = cosigner.cosign(note, when)
    outcome.cosigned += 1
    if not publish:
        outcome.say(f"{stream}: cosigned at {new.size} events")
        return
    body = json.dumps(
        {"stream": stream, "checkpoint": note, "cosignature": line, "witness_key": cosigner.verifier_key}
    ).encode()
    status, answer = post(f"{base}/audit/log/cosignatures.json", body)
    if status == 201:
        outcome.say(f"{stream}: cosigned at {new.size} events, and published")
    else:
        try:
            detail = json.loads(answer).get("detail", "")
        except (ValueError, AttributeError):
            detail = answer[:200].decode(errors="replace")
        outcome.fail(f"{stream}: the site refused the cosignature ({status}): {detail}")


def _consistent(
    base: str,
    stream: str,
    old: Checkpoint,
    new: Checkpoint,
    old_note: str,
    new_note: str,
    fetch: Fetch,
    state: Path,
    outcome: Outcome,
) -> bool:
    if new.size == old.size:
        if new.root == old.root:
            outcome.say(f"{stream}: unchanged at {new.size} events")
            return True
        _evidence(state, outcome, stream, f"two signed checkpoints of {new.size} events with different roots, "
                  f"{old.root.hex()} and {new.root.hex()}: a fork", old_note, new_note)  # fmt: skip
        return False
    if new.size < old.size:
        _evidence(state, outcome, stream, f"a rollback: the log now signs {new.size} events, after it signed "
                  f"{old.size}", old_note, new_note)  # fmt: skip
        return False
    query = urllib.parse.urlencode({"stream": stream, "from": old.size, "to": new.size})
    try:
        answer = _json(fetch, f"{base}/audit/log/consistency.json?{query}")
        hashes = [bytes.fromhex(h) for h in answer["proof"]]
        if (answer.get("stream"), answer.get("from"), answer.get("to")) != (stream, old.size, new.size):
            raise ValueError("it is not the proof asked for")
    except WitnessError as exc:
        outcome.fail(f"{stream}: could not fetch the consistency proof from {old.size} to {new.size}: {exc}")
        return False
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        outcome.fail(f"{stream}: the consistency proof from {old.size} to {new.size} is malformed ({exc})")
        return False
    if not merkle.verify_consistency(old.size, new.size, old.root, new.root, hashes):
        proof_text = json.dumps(answer, indent=1)
        _evidence(state, outcome, stream, f"the checkpoint of {new.size} events (root {new.root.hex()}) does not "
                  f"extend the stored one of {old.size} (root {old.root.hex()}): a fork", old_note, new_note,
                  proof_text)  # fmt: skip
        return False
    outcome.say(f"{stream}: grew from {old.size} to {new.size} events, consistently")
    return True


def _evidence(
    state: Path, outcome: Outcome, stream: str, what: str, old_note: str, new_note: str, proof: str = ""
) -> None:
    text = (
        f"Plenary witness evidence: {stream}: {what}.\n"
        f"Both checkpoints below are signed by the log's key.\n\n"
        f"--- the checkpoint stored before ---\n{old_note}\n--- the checkpoint served now ---\n{new_note}"
        + (f"\n--- the consistency proof served ---\n{proof}\n" if proof else "")
    )
    path = state / f"evidence-{_safe(stream)}-{time.time_ns()}.txt"
    _write(path, text)
    outcome.evidence.append(path)
    outcome.lines.append(f"FORK: {stream}: {what}; evidence in {path}")
    outcome.lines.append(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="plenary-tally witness",
        description="Check a Plenary site's signed audit-log checkpoints are consistent with those seen before, "
        "and cosign them.",
        epilog="Exit status: 0 when every stream holds, 1 on a fork, rollback or failed check (evidence "
        "written to DIR), 2 when the site cannot be reached or a key cannot be read.",
    )
    parser.add_argument("url", help="the site, e.g. https://plenary.example.org")
    parser.add_argument("--state", required=True, metavar="DIR", help="where the witness keeps its key and checkpoints")
    parser.add_argument("--key", metavar="FILE", help="the witness's signer key (else DIR/witness.key, made once)")
    parser.add_argument("--name", help="the witness's key name when it is made, e.g. witness.example.net/w1")
    parser.add_argument("--publish", action="store_true", help="send each cosignature back to the site")
    parser.add_argument("--log-key", metavar="VKEY", help="the log's verifier key (else the one the site announces)")
    args = parser.parse_args(argv)
    try:
        outcome = run(
            args.url,
            Path(args.state),
            key_file=Path(args.key) if args.key else None,
            name=args.name,
            publish=args.publish,
            log_key=args.log_key,
        )
    except (WitnessError, NoteError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(outcome.lines))
    print(f"{outcome.cosigned} checkpoint(s) cosigned, {len(outcome.evidence)} fork(s), {outcome.failed} failure(s)")
    return outcome.status


if __name__ == "__main__":
    sys.exit(main())
