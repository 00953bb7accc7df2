"""`--verify`: everything a bundle claims, checked from its files alone.

1. `manifest.json` lists every other file with its SHA-256, and they match.
2. `audit.jsonl` is one unbroken hash chain, the ballot's, ending at the manifest's `audit_head`
   (and at the head the observer copied from the ballot's page, given `expect_head`).
3. Replaying it gives exactly `votes.csv` (vote events set or clear a voter's cell; dispute
   events give the `disputed` column) and the rules, status, roster, grants, disputes and
   declared conflicts of interest of `ballot.json`.
   With `checkpoint.txt`, the log's signed checkpoint (c2sp.org/tlog-checkpoint): its size is the
   number of events, its root the Merkle root of their leaves (`merkle.py`), and its signature holds
   for manifest.json's `log_key` (or the observer's pinned `log_key`). A checkpoint the observer
   kept (`kept_checkpoint`) must be extended by the log: the root of its first `size` leaves.
4. Recomputing from `ballot.json` and `votes.csv` gives exactly `outcomes.json`, but for the
   opinion groups' axes, the one numerical step: they are accepted as eigenvectors of the exactly
   recomputed covariance within TOLERANCE, and the voters' places and groups are then recomputed
   exactly from them.

Each kind of check reports one line (`Report.lines`).
"""

import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from . import chain, clustering, decisions, formats, merkle
from .ballot import SELECTORS, STANDING, Ballot, read_ballot
from .checkpoints import Checkpoint, verify_checkpoint
from .files import Bundle, BundleError, open_bundle, parse_json, parse_time
from .formats import AUDIT_FILE, BALLOT_FILE, CHECKPOINT_FILE, MANIFEST_FILE, OUTCOMES_FILE, VOTES_FILE
from .model import eligible_handles
from .notes import MAX_NOTE_BYTES, NoteError, Verifier
from .outcomes import compute, opinion_cells
from .vocabulary import CLEARS_THE_CELL, SETS_THE_CELL, Action, ballot_stream
from .votes import Counts, Vote, read_votes

FORMAT = formats.TALLY
SHOWN = 10  # problems listed; the count says how many more there are
KEPT = 100  # problems held in memory, however many rows differ
TOLERANCE = 1e-8  # of the opinion groups' axes, relative to the largest eigenvalue (docs/tally-format.md)
KINDS = ("files", "audit log", "audit head", "checkpoint", "ballot", "votes", "outcomes", "opinion groups", "decisions")
VOTE_FIELDS = ("voter", "group", "component", "criterion", "choice", "value", "rationale", "cast_at")
RECORDED = "those the audit log recorded"
CONFLICT_FIELDS = ("member", "component", "statement", "declared_at", "withdrawn_at")


@dataclass
class Report:
    problems: list[BundleError] = field(default_factory=list)  # the first ones
    found: int = 0  # all of them
    files: int = 0
    events: int = 0
    votes: int = 0
    checked: dict[str, str] = field(default_factory=dict)  # kind of check -> what held
    failed: Counter = field(default_factory=Counter)  # kind of check -> problems found

    @property
    def ok(self) -> bool:
        return not self.found

    def add(self, *problems: BundleError, kind: str | None = None) -> None:
        self.found += len(problems)
        self.problems += problems[: max(0, KEPT - len(self.problems))]
        for problem in problems:
            self.failed[kind or _kind(problem)] += 1

    def held(self, kind: str, what: str) -> None:
        self.checked[kind] = what

    def lines(self) -> list[str]:
        """One line per kind of check, the problems (the first SHOWN), and the verdict."""
        kinds = [
            f"{kind}: FAILED, {n} problem{'s' if n > 1 else ''}" if (n := self.failed[kind]) else f"{kind}: {what}"
            for kind in KINDS
            if (what := self.checked.get(kind)) is not None or self.failed[kind]
        ]
        if self.ok:
            verdict = f"verified: {self.files} files, {self.events} audit events, {self.votes} votes, outcomes match"
            return [*kinds, verdict]
        shown = [str(p) for p in self.problems[:SHOWN]]
        more = self.found - len(shown)
        return [
            *kinds,
            *shown,
            *([f"… and {more} more"] if more > 0 else []),
            f"not verified: {self.found} problem{'s' if self.found > 1 else ''}",
        ]


def _kind(problem: BundleError) -> str:
    if problem.file == OUTCOMES_FILE and problem.message.startswith("opinion_groups"):
        return "opinion groups"
    return {MANIFEST_FILE: "files", AUDIT_FILE: "audit log", BALLOT_FILE: "ballot", VOTES_FILE: "votes",
            OUTCOMES_FILE: "outcomes"}.get(problem.file, "files")  # fmt: skip


def verify(
    path: str | Path,
    *,
    expect_head: str | None = None,
    log_key: str | None = None,
    checkpoint: str | Path | None = None,
) -> Report:
    """Every check of the bundle at `path`; `expect_head` is the audit head an observer copied from the ballot page,
    `log_key` the log's verifier key they pinned, `checkpoint` the file of a signed checkpoint they kept."""
    report = Report()
    try:
        kept = _read_note(Path(checkpoint)) if checkpoint is not None else None
    except (OSError, NoteError) as exc:
        report.add(BundleError(str(checkpoint), None, f"the kept checkpoint cannot be read: {exc}"), kind="checkpoint")
        return report
    try:
        with open_bundle(path) as bundle:
            _verify(bundle, report, expect_head, log_key, kept)
    except BundleError as exc:  # a problem that stops the checks that depend on it
        report.add(exc)
    return report


def _read_note(path: Path) -> bytes:
    with open(path, "rb") as stream:
        content = stream.read(MAX_NOTE_BYTES + 1)
    if len(content) > MAX_NOTE_BYTES:
        raise NoteError(f"a signed checkpoint is at most {MAX_NOTE_BYTES} bytes")
    return content


def _verify(bundle: Bundle, report: Report, expect_head: str | None, log_key: str | None, kept: bytes | None) -> None:
    manifest: dict = {}
    try:
        manifest, problems = check_manifest(bundle)
        report.add(*problems, kind="files")
        report.files = len(manifest["files"])
        report.held("files", f"{report.files}, each with the SHA-256 manifest.json lists")
    except BundleError as exc:
        report.add(exc)
    ballot = read_ballot(bundle)
    replay: Replay | None  # None once the log is found broken
    replay = Replay(ballot)
    replay.tree = merkle.Frontier()  # the leaves hashed while the chain is read, once
    kept_checkpoint = _kept_checkpoint(kept, log_key, manifest, report)
    if kept_checkpoint is not None:
        replay.roots_at[kept_checkpoint.size] = None
    try:
        replay.read(bundle)
        report.events = replay.events
        report.add(*replay.against_manifest(manifest), kind="audit log")
        report.held("audit log", f"{replay.events} events in one unbroken hash chain, ending at {replay.head}")
        report.add(*replay.against_ballot(), kind="ballot")
        report.held("ballot", f"its rules, status, roster, grants, disputes and conflicts are {RECORDED}")
    except BundleError as exc:
        report.add(exc)
        replay = None  # broken: votes.csv is still checked and counted, not compared
    if expect_head is not None:
        head = replay.head if replay is not None else manifest.get("audit_head")
        if head == expect_head:
            report.held("audit head", f"{head}, the one expected")
        else:
            message = f"the log ends at {head}, not at the head expected ({expect_head}): not the same record"
            report.add(BundleError(AUDIT_FILE, None, message), kind="audit head")
    if replay is not None:
        _check_checkpoints(bundle, replay, manifest, log_key, kept_checkpoint, report)
    counts = Counts()
    for vote in read_votes(bundle, ballot):
        counts.add(vote)
        if replay is not None:
            report.add(*replay.against_row(vote), kind="votes")
    report.votes = counts.votes
    if replay is not None:
        report.add(*replay.missing_rows(), kind="votes")
        report.held("votes", f"{counts.votes} rows, exactly the votes the audit log leaves, disputed as it says")
    problems, groups = check_outcomes(bundle, ballot, counts)
    report.add(*problems)
    report.held("outcomes", "counts, scores, thresholds, outcomes, margins, flips and clusters recomputed identical")
    if groups is not None:
        report.held("opinion groups", groups)
    if ballot.decisions:
        problems, held = decisions.check_runs(ballot, counts.cells)
        report.add(*problems, kind="decisions")
        report.held("decisions", held)


# The signed checkpoints (with 2) --------------------------------------------------------------


def _key_for(log_key: str | None, manifest: dict) -> tuple[str | None, str]:
    if log_key is not None:
        return log_key, "the pinned key"
    named = manifest.get("log_key")
    return (named, "the key manifest.json names, not pinned") if isinstance(named, str) else (None, "")


def _kept_checkpoint(kept: bytes | None, log_key: str | None, manifest: dict, report: Report) -> Checkpoint | None:
    """The checkpoint the observer kept, once its signature holds; None (and a problem) when it does not."""
    if kept is None:
        return None
    key, _ = _key_for(log_key, manifest)
    try:
        if key is None:
            raise NoteError("no key to check it with: give --log-key (manifest.json names none)")
        return verify_checkpoint(kept, Verifier(key))
    except NoteError as exc:
        report.add(BundleError("the kept checkpoint", None, str(exc)), kind="checkpoint")
        return None


def _check_checkpoints(
    bundle: Bundle, replay: "Replay", manifest: dict, log_key: str | None, kept: Checkpoint | None, report: Report
) -> None:
    assert replay.tree is not None
    held = []

    def fail(message: str, file: str = CHECKPOINT_FILE) -> None:
        report.add(BundleError(file, None, message), kind="checkpoint")

    origin_end = f"/audit/{replay.stream}"
    if CHECKPOINT_FILE in bundle.names:
        key, whose = _key_for(log_key, manifest)
        try:
            if key is None:
                raise NoteError("manifest.json names no log_key to check it with")
            with bundle.binary(CHECKPOINT_FILE) as stream:
                content = stream.read(MAX_NOTE_BYTES + 1)
            if len(content) > MAX_NOTE_BYTES:
                raise NoteError(f"a signed checkpoint is at most {MAX_NOTE_BYTES} bytes")
            verifier = Verifier(key)
            signed = verify_checkpoint(content, verifier)
        except NoteError as exc:
            fail(str(exc))
        else:
            root = replay.tree.root()
            if signed.size != replay.events:
                fail(f"it covers {signed.size} events, but audit.jsonl holds {replay.events}")
            elif signed.root != root:
                fail(f"its root is {signed.root.hex()}, but audit.jsonl's events have root {root.hex()}")
            if not signed.origin.endswith(origin_end):
                fail(f"its origin {signed.origin} is not the log of {replay.stream}")
            held.append(f"{signed.size} events, root {signed.root.hex()}, signed by {verifier.name} ({whose})")
    elif log_key is not None:
        fail("the bundle holds no checkpoint.txt to check against the pinned log key")
    else:
        held.append("none in this bundle: no signed checkpoint to check")
    if kept is not None:
        if kept.size > replay.events:
            fail(
                f"the kept checkpoint covers {kept.size} events, but the bundle's log holds only {replay.events}: "
                "it was cut short, or is another history",
                "the kept checkpoint",
            )
        else:
            root = replay.roots_at.get(kept.size) or merkle.EMPTY_ROOT
            if root == kept.root:
                held.append(f"it extends the kept checkpoint of {kept.size} events (root {kept.root.hex()})")
            else:
                fail(
                    f"the bundle's first {kept.size} events have root {root.hex()}, but the kept checkpoint signed "
                    f"root {kept.root.hex()} for them: the log was rewritten since",
                    "the kept checkpoint",
                )
        if not kept.origin.endswith(origin_end):
            fail(f"its origin {kept.origin} is not the log of {replay.stream}", "the kept checkpoint")
    if held:
        report.held("checkpoint", "; ".join(held))


# 1. The manifest -----------------------------------------------------------------------------


def _roster_map(roster: Any, fail) -> dict[str, dict[str, str]]:
    """A recorded roster ({group: [{"member", "role"}]}) as group -> member -> role."""
    try:
        return {g: {m["member"]: m["role"] for m in members} for g, members in roster.items()}
    except (AttributeError, KeyError, TypeError) as exc:
        if fail is None:
            return {}
        raise fail("its roster is not {group: [{member, role}]}") from exc


def check_manifest(bundle: Bundle) -> tuple[dict, list[BundleError]]:
    """The manifest, and every file it lists whose hash differs, every file it misses."""
    manifest = bundle.json(MANIFEST_FILE)
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict):
        raise BundleError(MANIFEST_FILE, None, "must hold an object with `files`: {name: sha256}")
    problems = []
    if manifest.get("format") != FORMAT:
        problems.append(BundleError(MANIFEST_FILE, None, f"format must be {FORMAT!r}, not {manifest.get('format')!r}"))
    for name, digest in sorted(files.items()):
        if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
            problems.append(BundleError(MANIFEST_FILE, None, f"files.{name}: {digest!r} is not a SHA-256 in hex"))
        elif name not in bundle.names:
            problems.append(BundleError(name, None, "listed in manifest.json, but missing from the bundle"))
        elif (actual := bundle.sha256(name)) != digest:
            message = f"its SHA-256 is {actual}, but manifest.json lists {digest}: one of the two was changed"
            problems.append(BundleError(name, None, message))
    for name in sorted(bundle.names - set(files) - {MANIFEST_FILE}):
        problems.append(BundleError(name, None, "in the bundle, but not listed in manifest.json"))
    return manifest, problems


# 2 and 3. The audit log, replayed ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Replayed:
    """A vote as the audit log leaves it, and the line of the event that set it."""

    line: int
    voter: str
    group: str
    component: str
    criterion: str
    choice: str
    value: int
    rationale: str
    cast_at: str
    carried: bool = False  # set by vote.carried, and by nothing since
    outdated: bool = False


class Replay:
    """The ballot's state, event by event, from audit.jsonl; compared with the other files afterwards.

    `follow` takes the events from anywhere (the server replays its stored streams with it); a problem
    names the log `log`, an event in it by `at(line)`, and what disagrees with the log `stored`.
    """

    log = AUDIT_FILE
    stored = "the file"

    def at(self, line: int) -> str:
        return f"line {line}"

    def __init__(self, ballot: Ballot) -> None:
        self.ballot = ballot
        self.stream = ballot_stream(ballot.data["definition"]["slug"], ballot.key)
        self.events, self.line, self.head = 0, 0, chain.GENESIS_HASH
        self.votes: dict[tuple[str, str, str], Replayed] = {}
        self.disputes: dict[str, dict] = {}  # by subject
        self.grants: dict[str, dict] = {}
        self.conflicts: dict[str, dict] = {}  # by subject
        self.created: tuple[int, dict] | None = None
        self.status, self.roster = "scheduled", None
        self.members: dict[str, dict[str, str]] | None = None  # group -> member -> role, from the log's events
        # Under a frozen roster, from the opening on: group -> those who were members then and have not left since.
        self.eligible: dict[str, set[str]] | None = None
        self.roster_problems: list[BundleError] = []
        self._standing_selections: list | None = None  # once the log is read
        self.decisions = decisions.DecisionLog()  # the decisions on the record and the objections to them
        self.tree: merkle.Frontier | None = None  # when set, each accepted event's leaf is appended to it
        self.roots_at: dict[int, bytes | None] = {}  # tree sizes whose root is wanted, and the root once read

    def read(self, bundle: Bundle) -> None:
        broken = self.follow(self._events(bundle))
        if broken is not None:
            raise BundleError(AUDIT_FILE, self.line, f"the hash chain breaks at {broken}")
        if not self.events:
            raise BundleError(AUDIT_FILE, None, "holds no events; a ballot's log starts with ballot.created")

    def follow(self, events: Iterable[dict]) -> chain.Break | None:
        """Check the chain of `events` (the ballot's stream, in order) and apply each event it accepts.

        Returns where the chain breaks, if it does; raises a BundleError for an event the ballot's
        state cannot follow. Streamed: memory holds the ballot's state, never the events.
        """

        def applied() -> Iterator[dict]:
            for line, event in enumerate(events, 1):
                self.line = line
                yield event
                self._apply(line, event)  # runs once the chain has accepted the event
                if self.tree is not None:
                    self.tree.append(merkle.event_leaf(event["hash"]))
                    if self.tree.size in self.roots_at:
                        self.roots_at[self.tree.size] = self.tree.root()

        broken, _ = chain.verify(applied())
        return broken

    def _events(self, bundle: Bundle) -> Iterator[dict]:
        with bundle.lines(AUDIT_FILE) as lines:
            for line, text in enumerate(lines, 1):
                event = parse_json(AUDIT_FILE, text, line)
                if not isinstance(event, dict):
                    raise BundleError(AUDIT_FILE, line, "not a JSON object")
                yield event

    def _apply(self, line: int, event: dict) -> None:
        def fail(message: str) -> BundleError:
            return BundleError(AUDIT_FILE, line, f"{event['action']}: {message}")

        if event["stream"] != self.stream:
            raise fail(f"the event is in stream {event['stream']!r}, not the ballot's {self.stream!r}")
        self.events, self.head = self.events + 1, event["hash"]
        action, payload, subject = event["action"], event["payload"], event["subject"]
        if not isinstance(payload, dict):
            raise fail("its payload is not an object")
        self.decisions.apply(line, event, fail)
        if action in SETS_THE_CELL or action in CLEARS_THE_CELL:
            lacking = [f for f in VOTE_FIELDS if f not in payload]
            if lacking:
                raise fail(f"its payload lacks {', '.join(lacking)}")
            cell = (intern_text(payload["voter"]), intern_text(payload["component"]), intern_text(payload["criterion"]))
            if action in SETS_THE_CELL:
                group, choice = intern_text(payload["group"]), intern_text(payload["choice"])
                if self.eligible is not None and cell[0] not in self.eligible.get(group, ()):
                    message = (f"{action}: a vote by {cell[0]} for {group}, who was not a member when voting opened: "
                               "the ballot's roster was frozen then, and nobody added later votes")  # fmt: skip
                    self.roster_problems.append(BundleError(AUDIT_FILE, line, message))
                carried = action == Action.VOTE_CARRIED
                self.votes[cell] = Replayed(
                    line, cell[0], group, cell[1], cell[2], choice,
                    value=payload["value"], rationale=payload["rationale"], cast_at=payload["cast_at"],
                    carried=carried, outdated=carried and payload.get("outdated") is True,
                )  # fmt: skip
            elif self.votes.pop(cell, None) is None:
                raise fail(f"withdraws a vote of {cell[0]} on {cell[1]}/{cell[2]} that was never cast")
        elif action in (Action.DISPUTE_RAISED, Action.DISPUTE_RESOLVED):
            lacking = [f for f in ("selection", "status", "reason", "resolution") if f not in payload]
            if lacking or not isinstance(payload["selection"], dict) or payload["selection"].keys() - set(SELECTORS):
                raise fail(f"its payload lacks {', '.join(lacking) or 'a selection of votes'}")
            if action == Action.DISPUTE_RESOLVED and subject not in self.disputes:
                raise fail(f"resolves {subject}, which was never raised")
            raised_by = event["actor"] if action == Action.DISPUTE_RAISED else self.disputes[subject]["raised_by"]
            self.disputes[subject] = payload | {"raised_by": raised_by}
        elif action in (Action.GRANT_MADE, Action.GRANT_REVOKED):
            lacking = [f for f in ("holder", "holder_kind", "choice", "category", "reason") if f not in payload]
            if lacking:
                raise fail(f"its payload lacks {', '.join(lacking)}")
            granted_by = (
                event["actor"] if action == Action.GRANT_MADE else self.grants.get(subject, {}).get("granted_by")
            )
            self.grants[subject] = payload | {"revoked": action == Action.GRANT_REVOKED, "granted_by": granted_by}
        elif action in (Action.CONFLICT_DECLARED, Action.CONFLICT_WITHDRAWN):
            lacking = [f for f in CONFLICT_FIELDS if f not in payload]
            if lacking:
                raise fail(f"its payload lacks {', '.join(lacking)}")
            if action == Action.CONFLICT_WITHDRAWN and subject not in self.conflicts:
                raise fail(f"withdraws {subject}, which was never declared")
            if event["actor"] != payload["member"]:
                raise fail(f"by {event['actor']!r}: a conflict of interest is declared and withdrawn by its member")
            self.conflicts[subject] = payload
        elif action == Action.BALLOT_CREATED:
            self.created = (line, payload)
            self.members = _roster_map(payload["roster"], fail) if "roster" in payload else None
        elif action in (Action.BALLOT_UPDATED, Action.BALLOT_RESCHEDULED):
            self._edit(action, payload, fail)
        elif action in (Action.MEMBERSHIP_JOINED, Action.MEMBERSHIP_LEFT) and self.members is not None:
            group, member = payload.get("group"), payload.get("member")
            if group not in self.members or not isinstance(member, str):
                raise fail("names no member of a group the ballot enrolls")
            if action == Action.MEMBERSHIP_JOINED:
                self.members[group][member] = payload.get("role", "member")
            elif self.members[group].pop(member, None) is None:
                raise fail(f"{member} leaves {group}, which they had not joined")
            elif self.eligible is not None:
                self.eligible[group].discard(member)  # should they join again, they do not vote
        elif action == Action.BALLOT_OPENED:
            self.status = "open"
            if self.created is not None and self.created[1].get("eligibility", "live") == "frozen":
                if self.members is not None:
                    self.eligible = {g: set(members) for g, members in self.members.items()}
                if (
                    self.members is not None
                    and "roster" in payload
                    and _roster_map(payload["roster"], fail) != self.members
                ):
                    message = "the roster frozen at opening differs from the one the log's membership events give"
                    self.roster_problems.append(BundleError(AUDIT_FILE, line, f"{Action.BALLOT_OPENED}: {message}"))
        elif action == Action.BALLOT_CLOSED:
            self.status, self.roster = "closed", payload.get("roster")
            if self.members is not None and self.roster is not None and _roster_map(self.roster, fail) != self.members:
                message = "the roster at close differs from the one the log's membership events give"
                self.roster_problems.append(BundleError(AUDIT_FILE, line, f"{Action.BALLOT_CLOSED}: {message}"))

    def _edit(self, action: str, payload: dict, fail) -> None:
        """An organizer's edit: its new values replace those ballot.created recorded, as ballot.json must show them.

        A ballot is edited only while scheduled; once open only its closing time moves (ballot.rescheduled).
        """
        changed = payload.get("changed")
        if self.created is None or not isinstance(changed, dict):
            raise fail("edits a ballot the log has not created, or records no `changed`")
        if action == Action.BALLOT_UPDATED and self.status != "scheduled":
            raise fail(f"edits the ballot's rules while it is {self.status}: only a scheduled ballot is edited")
        if action == Action.BALLOT_RESCHEDULED and (self.status != "open" or changed.keys() - {"closes_at"}):
            raise fail("only an open ballot's closing time is rescheduled")
        line, created = self.created
        self.created = (line, created | changed)
        if "roster" in payload:
            self.members = _roster_map(payload["roster"], fail)
        elif "groups" in changed:
            raise fail("changes the enrolled groups but records no roster of them")

    def against_manifest(self, manifest: dict) -> list[BundleError]:
        problems = []
        slug, _, key = str(manifest.get("ballot", "")).partition("/")  # as the exporter names it: slug/key
        if "ballot" in manifest and ballot_stream(slug, key) != self.stream:
            problems.append(BundleError(MANIFEST_FILE, None, f"names ballot {manifest['ballot']!r}, the log another"))
        if manifest and manifest.get("audit_head") != self.head:
            message = f"audit_head is {manifest.get('audit_head')!r}, but audit.jsonl ends with {self.head}"
            problems.append(BundleError(MANIFEST_FILE, None, message))
        return problems

    def against_ballot(self) -> list[BundleError]:
        """ballot.json's rules, status, roster, grants, disputes and conflicts, as the log recorded them."""
        ballot, data = self.ballot, self.ballot.data
        if self.created is None:
            return [BundleError(AUDIT_FILE, None, "has no ballot.created event with the ballot's rules")]
        line, created = self.created
        flags = {"requires_grant": False, "blocking": False, "requires_rationale": False}
        in_file = {
            "definition": data["definition"],
            "group_names": {g["key"]: g["name"] for g in data["working_groups"]},
            "key": ballot.key,
            "title": data["title"],
            "version": data["version"],
            "groups": sorted(ballot.members),
            "criteria": [{"key": c["key"], "label": c["label"]} for c in data["criteria"]],
            "choices": [flags | c for c in data["choices"]],
            "methodology": data["methodology"],
            "clustering": data["clustering"],
        }
        if "carry" in data or "carry" in created:
            in_file["carry"] = data.get("carry")  # what it carries from the previous ballot, as recorded
        if data.get("eligibility", "live") != created.get("eligibility", "live"):
            in_file["eligibility"] = data.get("eligibility", "live")  # refused below: not the rule the log records
        not_covered = "is not recorded by the ballot.created event: the log does not cover it"
        differs = f"differs from the ballot.created event ({self.log}, {self.at(line)})"
        problems = [
            BundleError(BALLOT_FILE, None, f"{name} {differs if name in created else not_covered}")
            for name, value in in_file.items()
            if created.get(name) != value
        ]
        problems += self.roster_problems
        if "components" not in created:
            message = "components are not recorded by the ballot.created event: the log does not cover them"
            problems.append(BundleError(BALLOT_FILE, None, message))
        elif _by_key(created["components"]) != _by_key(data["components"]):
            message = f"components differ from those the ballot.created event records ({self.log}, {self.at(line)})"
            problems.append(BundleError(BALLOT_FILE, None, message))
        if ballot.status != self.status:
            problems.append(BundleError(BALLOT_FILE, None, f"status is {ballot.status}, the log says {self.status}"))
        listed = {
            g: {h: "chair" if h in ballot.chairs[g] else "member" for h in hs} for g, hs in ballot.members.items()
        }
        if self.roster is not None:
            if _roster_map(self.roster, None) != listed:
                problems.append(BundleError(BALLOT_FILE, None, "working_groups differ from the roster at close"))
        elif self.members is None:
            message = "working_groups are not covered by the log: ballot.created records no roster, and none closed it"
            problems.append(BundleError(BALLOT_FILE, None, message))
        elif self.members != listed:
            message = "working_groups differ from the roster the log's ballot.created and membership events give"
            problems.append(BundleError(BALLOT_FILE, None, message))
        voters: dict[str, set[str]] = {}
        for vote in self.votes.values():
            voters.setdefault(vote.group, set()).add(vote.voter)
        if any(ballot.former[g] != voters.get(g, set()) - handles for g, handles in ballot.members.items()):
            message = "former_members differ from those with votes for a group they are not members of"
            problems.append(BundleError(BALLOT_FILE, None, message))
        eligible = {g["key"]: set(eligible_handles(g)) for g in data["working_groups"]}
        if any(eligible[g] != (handles if self.eligible is None else self.eligible[g] & handles)
               for g, handles in ballot.members.items()):  # fmt: skip
            message = "the eligible members of a group differ from those the log's roster and ballot.opened give"
            problems.append(BundleError(BALLOT_FILE, None, message))
        grants = Counter(
            (g["holder"].removeprefix("@"), g["holder_kind"], g["choice"], g["category"], g["reason"], g["revoked"],
             g["granted_by"], _instant(g.get("granted_at")), _instant(g.get("revoked_at")))
            for g in self.grants.values()
        )  # fmt: skip
        listed_grants = Counter(
            (g.holder, g.holder_kind, g.choice, g.category, g.reason, g.revoked_at is not None,
             raw.get("granted_by"), _instant(raw.get("granted_at")), _instant(raw.get("revoked_at")))
            for g, raw in zip(ballot.grants, data.get("grants") or [], strict=True)
        )  # fmt: skip
        if grants != listed_grants:
            problems.append(BundleError(BALLOT_FILE, None, "grants differ from the grants the log recorded"))
        disputes = Counter(
            (tuple(d["selection"].get(s) for s in SELECTORS), d["status"], d["reason"], d["resolution"], d["raised_by"])
            for d in self.disputes.values()
        )
        listed_disputes = Counter(
            (tuple(d.selection[s] for s in SELECTORS), d.status, d.reason, d.resolution, d.raised_by)
            for d in ballot.disputes
        )
        if disputes != listed_disputes:
            problems.append(BundleError(BALLOT_FILE, None, "disputes differ from the disputes the log recorded"))
        problems += self.decisions.against(ballot, self.at)
        conflicts = Counter(
            (c["member"], c["component"], c["statement"], _instant(c["declared_at"]), _instant(c["withdrawn_at"]))
            for c in self.conflicts.values()
        )
        listed_conflicts = Counter(
            (c.member, c.component, c.statement, c.declared_at, c.withdrawn_at) for c in ballot.conflicts
        )
        if conflicts != listed_conflicts:
            message = "conflicts differ from the declared conflicts of interest the log recorded"
            problems.append(BundleError(BALLOT_FILE, None, message))
        return problems

    def against_row(self, vote: Vote) -> list[BundleError]:
        """The row of votes.csv against the vote the log leaves in its cell."""
        replayed = self.votes.pop((vote.voter, vote.component, vote.criterion), None)
        who = f"{vote.voter} on {vote.component}/{vote.criterion}"
        if replayed is None:
            return [BundleError(VOTES_FILE, vote.line, f"{who}: the audit log leaves no such vote")]
        same = (vote.group, vote.choice, vote.value, vote.rationale) == (
            replayed.group, replayed.choice, replayed.value, replayed.rationale
        )  # fmt: skip
        differences = [] if same else [
            f"{name} {mine!r}, the audit log ({self.at(replayed.line)}) {theirs!r}"
            for name, mine, theirs in (
                ("working_group", vote.group, replayed.group),
                ("choice", vote.choice, replayed.choice),
                ("value", vote.value, replayed.value),
                ("rationale", vote.rationale, replayed.rationale),
            )
            if mine != theirs
        ]  # fmt: skip
        if not _same_time(vote.cast_at, replayed.cast_at):
            shown = vote.cast_at.isoformat() if vote.cast_at else ""
            differences.append(f"cast_at {shown!r}, the audit log ({self.at(replayed.line)}) {replayed.cast_at!r}")
        for name, mine, theirs in (
            ("carried", vote.carried, replayed.carried),
            ("outdated", vote.outdated, replayed.outdated),
        ):
            if mine != theirs:
                differences.append(f"{name} {str(mine).lower()}, the audit log ({self.at(replayed.line)}) "
                                   f"{str(theirs).lower()}")  # fmt: skip
        disputed = any(all(getattr(vote, s) == v for s, v in selection) for selection in self._standing())
        if disputed != vote.disputed:
            differences.append(
                f"disputed {str(vote.disputed).lower()}, the disputes in the log {str(disputed).lower()}"
            )
        return [BundleError(VOTES_FILE, vote.line, f"{who}: {self.stored} says {d}") for d in differences]

    def _standing(self) -> list[tuple[tuple[str, Any], ...]]:
        """The set selectors of each dispute the log leaves standing: read once, checked against every row."""
        if self._standing_selections is None:
            self._standing_selections = [
                tuple((s, v) for s, v in d["selection"].items() if v is not None)
                for d in self.disputes.values()
                if d["status"] in STANDING
            ]
        return self._standing_selections

    def missing_rows(self) -> list[BundleError]:
        return [
            BundleError(VOTES_FILE, None, f"no row for the vote of {v.voter} on {v.component}/{v.criterion}"
                        f" that {self.log} leaves ({self.at(v.line)})")
            for v in sorted(self.votes.values(), key=lambda v: v.line)
        ]  # fmt: skip


def _by_key(components: Any) -> Any:
    """Components in the order of their keys, whatever order a file lists them in."""
    if not isinstance(components, list) or not all(isinstance(c, dict) and "key" in c for c in components):
        return components
    return sorted(components, key=lambda c: str(c["key"]))


def _instant(text: Any) -> Any:
    """A time as the instant it names, however its offset is written (None, and what is not a time, as is)."""
    try:
        return parse_time(text) if isinstance(text, str) else text
    except ValueError:
        return text


def intern_text(value: Any) -> Any:
    """One copy of a key or handle that a million events repeat (sys.intern), anything else as it is."""
    return sys.intern(value) if type(value) is str else value


def _same_time(mine: datetime | None, theirs: Any) -> bool:
    """The same instant, however the offset is written."""
    try:
        return mine is not None and isinstance(theirs, str) and parse_time(theirs) == mine
    except ValueError:
        return False


# 4. The outcomes -----------------------------------------------------------------------------


def check_outcomes(bundle: Bundle, ballot: Ballot, counts: Counts) -> tuple[list[BundleError], str | None]:
    """The differences between outcomes.json and the outcomes recomputed, and what held of the opinion groups.

    The published axes of the opinion groups, once accepted within TOLERANCE, are the ones the voters
    are placed on: every other number is recomputed exactly and compared as it is written.
    """
    published = bundle.json(OUTCOMES_FILE)
    groups = published.get("opinion_groups") if isinstance(published, dict) else None
    axes = groups.get("axes") if isinstance(groups, dict) else None
    problems, held = [], None
    if groups is not None:
        cells = opinion_cells(ballot.spec)
        wrong = clustering.check_published_axes(axes, counts.voters, cells=cells, tolerance=TOLERANCE)
        if wrong is not None:
            problems.append(BundleError(OUTCOMES_FILE, None, f"opinion_groups.axes: {wrong}"))
            axes = None
        elif axes:
            held = (f"{len(axes)} axes within {TOLERANCE:g} of the covariance's leading eigenvectors; "
                    "places and groups recomputed exactly from them")  # fmt: skip
        else:
            held = "no axes to check (too few voters to place, or no variance); recomputed identical"
    recomputed = chain.json_roundtrip(compute(ballot.spec, counts.cells, counts.voters, axes=axes))
    difference = first_difference(published, recomputed)
    if difference is not None:
        problems.append(BundleError(OUTCOMES_FILE, None, difference))
    return problems, held


def first_difference(published: Any, recomputed: Any, path: str = "") -> str | None:
    """Where two JSON values first differ, as a path such as `scenarios[1] (without-disputed).components[0]`."""
    here = path or "the whole file"
    if isinstance(published, dict) and isinstance(recomputed, dict):
        for key in sorted(published.keys() | recomputed.keys()):
            where = f"{path}.{key}" if path else key
            if key not in recomputed:
                return f"{where}: in the file, but not recomputed"
            if key not in published:
                return f"{where}: missing from the file; recomputed {_shown(recomputed[key])}"
            if (found := first_difference(published[key], recomputed[key], where)) is not None:
                return found
        return None
    if isinstance(published, list) and isinstance(recomputed, list):
        for i, (a, b) in enumerate(zip(published, recomputed, strict=False)):
            label = f" ({b['key']})" if isinstance(b, dict) and isinstance(b.get("key"), str) else ""
            if (found := first_difference(a, b, f"{path}[{i}]{label}")) is not None:
                return found
        if len(published) != len(recomputed):
            return f"{here}: the file has {len(published)} items, recomputed {len(recomputed)}"
        return None
    if _is_number(published) and _is_number(recomputed) and published == recomputed:
        return None
    if type(published) is type(recomputed) and published == recomputed:
        return None
    return f"{here}: the file says {_shown(published)}, recomputed {_shown(recomputed)}"


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "…"
