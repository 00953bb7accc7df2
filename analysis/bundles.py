"""A ballot's tally bundle, format plenary-tally/1 (docs/tally-format.md): the export, Django side.

Everything in a bundle is read from one snapshot of the database, so its votes, its audit log
and its outcomes agree with one another however many votes land while it is written. The
two files that grow with the votes, `votes.csv` and `audit.jsonl`, are streamed row by row
into the zip and hashed on the way, so memory stays flat; the outcomes are computed from
vote counts. `manifest.json` comes last, with the SHA-256 of every other file.
"""

import csv
import hashlib
import importlib.metadata
import io
import json
import os
import queue
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from json.encoder import encode_basestring
from pathlib import Path
from typing import IO, Any

from django.db import connection
from django.db.models import F, Func, TextField
from django.db.models.functions import Cast, Collate
from django.utils import timezone

import plenary_tally
from audit import tlog
from audit.models import AuditEvent
from plenary_tally import formats, outcomes
from plenary_tally.chain import GENESIS_HASH
from plenary_tally.csvcells import neutralise
from plenary_tally.vocabulary import Action
from votes import access as votes_access
from votes import services as votes_services
from votes.models import Ballot

from . import reading, services
from .models import OutcomeRun

CHUNK = 2000  # rows per database round trip while streaming


def filename(ballot: Ballot) -> str:
    return f"{ballot.definition.slug}-{ballot.key}-tally.zip"


def software_version() -> str:
    try:
        return importlib.metadata.version("plenary")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def export_bundle(ballot: Ballot, out: str | os.PathLike | IO[bytes]) -> dict[str, Any]:
    """Write the ballot's bundle as a zip to `out` (a path or a binary file); return its manifest."""
    generated_at = timezone.now().replace(microsecond=0)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        bundle = _Bundle(archive, generated_at)
        with services.one_snapshot(settle=[ballot.audit_stream]):  # every queued vote in the log first
            ballot = Ballot.objects.select_related("definition", "version").get(pk=ballot.pk)
            results = _outcomes(ballot)
            bundle.write_json(formats.BALLOT_FILE, ballot_json(ballot))
            with bundle.open(formats.VOTES_FILE) as text:
                write_votes(ballot, text)
            with bundle.open(formats.AUDIT_FILE) as text:
                audit_head = write_audit(ballot, text)
            audit_size = tlog.head_size(ballot.audit_stream)  # the events audit.jsonl holds, queued ones aside
        bundle.write_json(formats.OUTCOMES_FILE, results)
        bundle.write_json(formats.DATAPACKAGE_FILE, datapackage(ballot))
        # The log's signed checkpoint of exactly the events in audit.jsonl (signed now, after the snapshot, if none
        # was): what an observer checks against the published log key and against what witnesses cosigned.
        with bundle.open(formats.CHECKPOINT_FILE) as text:
            text.write(tlog.checkpoint_at(ballot.audit_stream, audit_size).note)
        manifest = {
            "format": formats.TALLY,
            "generated_at": generated_at.isoformat(),
            "software_version": software_version(),
            "ballot": f"{ballot.definition.slug}/{ballot.key}",
            "audit_head": audit_head,
            "log_key": tlog.log_key(),
            "files": dict(bundle.hashes),
        }
        bundle.write_json(formats.MANIFEST_FILE, manifest)
    return manifest


def _outcomes(ballot: Ballot) -> dict[str, Any]:
    """The outcomes of the votes in this snapshot: the stored run when it read this very state, else computed.

    A run reads the ballot in one snapshot too (`services.compute_run`), so a run at the snapshot's audit
    position, by this engine, holds exactly what computing again would give: the download and the results
    page agree, and a download costs no recomputation.
    """
    run = OutcomeRun.objects.latest_for(ballot)
    if (
        run is not None
        and run.results.get("engine") == outcomes.ENGINE
        and run.audit_seq == services.audit_position(ballot)
    ):
        return run.results
    spec = services.ballot_spec(ballot)
    votes = reading.read(ballot, spec)
    return outcomes.compute(spec, votes.cells, votes.voters)


# ballot.json ---------------------------------------------------------------------------------


def ballot_json(ballot: Ballot) -> dict[str, Any]:
    """The ballot's rules as `ballot.json` (format plenary-ballot/1) holds them."""
    return {
        "format": formats.BALLOT,
        "definition": _definition_as_recorded(ballot),
        "version": ballot.version.label,
        "key": ballot.key,
        "title": ballot.title,
        "status": ballot.status,
        "eligibility": ballot.eligibility,
        "criteria": [{"key": c.key, "label": c.label} for c in ballot.criteria.all()],
        "choices": [c.as_data() for c in ballot.choices.all()],
        "working_groups": _working_groups(ballot),
        "grants": _grants(ballot),
        "components": ballot.version.components.as_data(),
        "methodology": ballot.methodology,
        "clustering": ballot.clustering,
        "disputes": _disputes(ballot),
        "decisions": _decisions(ballot),
        "conflicts": _conflicts(ballot),
    } | votes_services.carry_spec(ballot)


def _definition_as_recorded(ballot: Ballot) -> dict[str, str]:
    """The definition as the ballot's log names it: its title when the ballot was created, which the log covers."""
    created = _created_payload(ballot)
    return created.get("definition") or {"slug": ballot.definition.slug, "title": ballot.definition.title}


def _created_payload(ballot: Ballot) -> dict[str, Any]:
    """The payload of the ballot's `ballot.created` event."""
    events = AuditEvent.objects.filter(stream=ballot.audit_stream, action=Action.BALLOT_CREATED)
    return events.values_list("payload", flat=True).first() or {}


def _working_groups(ballot: Ballot) -> list[dict]:
    """Each enrolled group with its members when the ballot closed, or now while it has not.

    `former_members` are those not among the members who still have votes for the group:
    they left it after voting, and their votes stand.
    """
    roster = ballot.roster_at_close
    if ballot.status != Ballot.Status.CLOSED or roster is None:
        roster = votes_access.roster(ballot)
    eligible = votes_access.eligible_roster(ballot)
    voters: dict[str, set[str]] = {}
    for group, voter in ballot.votes.order_by().values_list("group__key", "voter__username").distinct():
        voters.setdefault(group, set()).add(voter)
    groups = []
    for group in sorted(ballot.groups.all(), key=lambda g: g.key):
        members = [m["member"] for m in roster.get(group.key, [])]
        groups.append(
            {
                "key": group.key,
                "name": group.name,
                "members": members,
                "chairs": [m["member"] for m in roster.get(group.key, []) if m["role"] == "chair"],
                "eligible": eligible[group.key],
                "former_members": sorted(voters.get(group.key, set()) - set(members)),
            }
        )
    return groups


def _grants(ballot: Ballot) -> list[dict]:
    grants = ballot.grants.select_related("choice", "group", "member", "granted_by").order_by("granted_at", "pk")
    return [grant.as_data() for grant in grants]


def _disputes(ballot: Ballot) -> list[dict]:
    return [d.as_data() for d in ballot.disputes.with_people().order_by("raised_at", "pk")]


def _decisions(ballot: Ballot) -> list[dict]:
    return [d.as_data() for d in ballot.decisions.with_people().order_by("number")]


def _conflicts(ballot: Ballot) -> list[dict]:
    return [c.as_data() for c in ballot.conflicts.with_people().order_by("declared_at", "pk")]


# votes.csv, audit.jsonl, datapackage.json ----------------------------------------------------


def _in_code_point_order(*fields: str) -> list:
    """Order by text as Python sorts it, whatever the database's collation."""
    if connection.vendor == "postgresql":
        return [Collate(field, "C") for field in fields]
    return [F(field) for field in fields]  # SQLite compares text byte by byte already


class IsoFormat(Func):
    """A timestamp as `datetime.isoformat()` writes an aware UTC one, written by the database: no datetime per row."""

    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        utc = f"({sql}) AT TIME ZONE 'UTC'"
        fraction = (
            f"CASE WHEN EXTRACT(MICROSECONDS FROM {utc})::bigint %% 1000000 = 0 THEN '' ELSE to_char({utc}, '.US') END"
        )
        text = f"""to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS') || {fraction} || '+00:00'"""
        return text, params * 3

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])  # stored as str() of the UTC datetime
        return f"REPLACE({sql}, ' ', 'T') || '+00:00'", params


def vote_rows(ballot: Ballot):
    """The ballot's current votes as the rows of votes.csv, sorted by component, criterion, voter; then, on a
    ballot that carries votes, whether each is carried and outdated."""
    return (
        ballot.votes.with_flags_of(ballot.disputes.standing())
        .annotate(cast_at_text=IsoFormat("cast_at"))
        .order_by(*_in_code_point_order("component__key", "criterion__key", "voter__username"))
        .values_list(
            "voter__username",
            "group__key",
            "component__key",
            "criterion__key",
            "choice__key",
            "choice__value",
            "cast_at_text",
            "rationale",
            "is_disputed",
            "carried",
            "outdated",
        )
    )


def write_votes(ballot: Ballot, out: "_HashingText") -> None:
    """One row per current vote (`vote_rows`); person-made cells neutralised."""
    writer = csv.writer(out)
    carries = ballot.carry_rule != Ballot.CarryRule.NONE  # then two more columns (formats.CARRY_FIELDS)
    writer.writerow(formats.CARRY_COLUMNS if carries else formats.VOTE_COLUMNS)
    keys = _Neutralised()  # handles and keys come back again and again: each neutralised once
    for row in vote_rows(ballot).iterator(chunk_size=CHUNK):
        voter, group, component, criterion, choice, value, cast_at, rationale, disputed, carried, outdated = row
        flags = ["true" if carried else "false", "true" if outdated else "false"] if carries else []
        writer.writerow(
            [
                keys[voter], keys[group], keys[component], keys[criterion], keys[choice],
                value,  # a number: never escaped
                cast_at,
                neutralise(rationale),
                "true" if disputed else "false",
                *flags,
            ]
        )  # fmt: skip


class _Neutralised(dict):
    def __missing__(self, cell: str) -> str:
        self[cell] = neutralise(cell)
        return self[cell]


def write_audit(ballot: Ballot, out: "_HashingText") -> str:
    """The ballot's audit stream, one event per line in chain order; returns the last event's hash.

    Each line is `json.dumps(event.canonical(), sort_keys=True, ensure_ascii=False)`, written out field by
    field in that order from plain text columns: only the payload is parsed, to sort its keys.
    """
    head = GENESIS_HASH
    events = (
        AuditEvent.objects.filter(stream=ballot.audit_stream)
        .order_by("seq")
        .annotate(at_text=IsoFormat("at"), payload_text=Cast("payload", TextField()))
        .values_list(
            "stream",
            "seq",
            "at_text",
            "actor_handle",
            "action",
            "subject_type",
            "subject_id",
            "payload_text",
            "prev_hash",
            "hash",
        )  # fmt: skip
    )
    text, dumps, loads = encode_basestring, json.dumps, json.loads
    for stream, seq, at, actor, action, subject_type, subject_id, payload, prev_hash, hash_ in events.iterator(
        chunk_size=CHUNK
    ):
        payload = dumps(loads(payload), sort_keys=True, ensure_ascii=False)
        out.write(
            f'{{"action": {text(action)}, "actor": {text(actor)}, "at": {text(at)}, "hash": {text(hash_)}, '
            f'"payload": {payload}, "prev_hash": {text(prev_hash)}, "seq": {int(seq)}, "stream": {text(stream)}, '
            f'"subject": {text(f"{subject_type}:{subject_id}")}}}\n'
        )
        head = hash_
    return head


def datapackage(ballot: Ballot) -> dict[str, Any]:
    """A Frictionless Data Package for `votes.csv`, so tools that read data packages type its columns."""
    return {
        "profile": "tabular-data-package",
        "name": f"{ballot.definition.slug}-{ballot.key}".lower(),
        "title": f"Votes: {ballot.title}",
        "resources": [
            {
                "profile": "tabular-data-resource",
                "name": "votes",
                "path": formats.VOTES_FILE,
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "description": (
                    "One row per current vote. A text cell that a spreadsheet would run as a formula, or that "
                    "starts with ', has a ' in front: remove one leading ' from every text cell."
                ),
                "schema": {"fields": _vote_fields(ballot), "primaryKey": ["voter", "component", "criterion"]},
            }
        ],
    }


def _vote_fields(ballot: Ballot) -> list[dict]:
    carries = ballot.carry_rule != Ballot.CarryRule.NONE
    return list(formats.VOTE_FIELDS + (formats.CARRY_FIELDS if carries else ()))


# The zip -------------------------------------------------------------------------------------


class _HashingText:
    """A text stream into one file of the zip, as UTF-8, hashed on the way: what `csv.writer` writes to.

    Text is gathered into blocks of about a megabyte, which a second thread hashes, compresses and
    writes while this one goes on reading rows: zlib and hashlib let go of Python's lock on big
    blocks, so on two cores the compression costs little time of its own. Memory stays flat: at
    most a few blocks wait.
    """

    BLOCK = 1 << 20
    WAITING = 4  # blocks

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.sha256 = hashlib.sha256()
        self.pending: list[str] = []
        self.size = 0
        self.blocks: queue.Queue[bytes | None] = queue.Queue(self.WAITING)
        self.failed: BaseException | None = None
        self.writer = threading.Thread(target=self._write_blocks, name="bundle-writer", daemon=True)
        self.writer.start()

    def write(self, text: str) -> int:
        self.pending.append(text)
        self.size += len(text)
        if self.size >= self.BLOCK:
            self._hand_over()
        return len(text)

    def close(self) -> None:
        """Write what is left and wait for the writer; raise what it met."""
        self._hand_over()
        self.blocks.put(None)
        self.writer.join()
        if self.failed is not None:
            raise self.failed

    def _hand_over(self) -> None:
        if self.failed is not None:
            raise self.failed
        if self.pending:
            self.blocks.put("".join(self.pending).encode())
            self.pending, self.size = [], 0

    def _write_blocks(self) -> None:
        while (block := self.blocks.get()) is not None:
            if self.failed is None:
                try:
                    self.sha256.update(block)
                    self.stream.write(block)
                except BaseException as exc:  # noqa: BLE001 - handed to the reading thread, which raises it
                    self.failed = exc


class _Bundle:
    def __init__(self, archive: zipfile.ZipFile, generated_at: datetime) -> None:
        self.archive = archive
        self.date_time = generated_at.timetuple()[:6]
        self.hashes: dict[str, str] = {}

    @contextmanager
    def open(self, name: str) -> Iterator[_HashingText]:
        info = zipfile.ZipInfo(name, date_time=self.date_time)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        with self.archive.open(info, "w") as stream:
            text = _HashingText(stream)
            try:
                yield text
            finally:
                text.close()
        self.hashes[name] = text.sha256.hexdigest()

    def write_json(self, name: str, data: Any) -> None:
        with self.open(name) as text:
            text.write(json.dumps(data, sort_keys=True, ensure_ascii=False, indent=2) + "\n")


def verifier_archive() -> bytes:
    """The verifier's source (`tally/`: its pyproject.toml, README and the plenary_tally package) as a zip.

    What the server itself computes with, for an observer to read or to `pip install` by its URL.
    """
    package = Path(plenary_tally.__file__).resolve().parent
    root = package.parent
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in [root / "pyproject.toml", root / "README.md", *sorted(package.glob("*.py"))]:
            info = zipfile.ZipInfo(f"plenary-tally/{path.relative_to(root)}", date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return out.getvalue()


def verifier_filename() -> str:
    return f"plenary-tally-{importlib.metadata.version('plenary-tally')}.zip"
