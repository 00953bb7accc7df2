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
import json
import os
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import IO, Any

from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Collate
from django.utils import timezone

from audit.chain import GENESIS_HASH
from audit.models import AuditEvent
from votes import services as votes_services
from votes.models import Ballot

from . import outcomes, reading, services
from .csvcells import neutralise

FORMAT = "plenary-tally/1"
BALLOT_FORMAT = "plenary-ballot/1"
VOTE_COLUMNS = (
    "voter", "working_group", "component", "criterion", "choice", "value", "cast_at", "rationale", "disputed"
)  # fmt: skip
CHUNK = 2000  # rows per database round trip while streaming

VOTE_FIELDS = [
    {"name": "voter", "type": "string", "description": "The member's public handle."},
    {"name": "working_group", "type": "string", "description": "The key of the group the vote is cast for."},
    {"name": "component", "type": "string", "description": "A leaf component key from ballot.json."},
    {"name": "criterion", "type": "string", "description": "A criterion key from ballot.json."},
    {"name": "choice", "type": "string", "description": "A choice key from ballot.json."},
    {"name": "value", "type": "integer", "description": "The choice's value."},
    {"name": "cast_at", "type": "datetime", "description": "When the vote was cast, ISO 8601."},
    {"name": "rationale", "type": "string", "description": "The voter's reason, free text."},
    {"name": "disputed", "type": "boolean", "description": "Whether an open or upheld dispute covers the vote."},
]


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
        with one_snapshot():
            ballot = Ballot.objects.select_related("definition", "version").get(pk=ballot.pk)
            spec = services.ballot_spec(ballot)
            votes = reading.read(ballot, spec)
            bundle.write_json("ballot.json", ballot_json(ballot))
            with bundle.open("votes.csv") as text:
                write_votes(ballot, text)
            with bundle.open("audit.jsonl") as text:
                audit_head = write_audit(ballot, text)
        bundle.write_json("outcomes.json", outcomes.compute(spec, votes.cells, votes.voters))
        bundle.write_json("datapackage.json", datapackage(ballot))
        manifest = {
            "format": FORMAT,
            "generated_at": generated_at.isoformat(),
            "software_version": software_version(),
            "ballot": f"{ballot.definition.slug}/{ballot.key}",
            "audit_head": audit_head,
            "files": dict(bundle.hashes),
        }
        bundle.write_json("manifest.json", manifest)
    return manifest


@contextmanager
def one_snapshot() -> Iterator[None]:
    """A transaction in which every read sees the database as it was at its first read.

    PostgreSQL gives that at REPEATABLE READ; SQLite gives it to any read transaction in WAL
    mode, and a deferred one does not hold the write lock, so voting goes on meanwhile. Inside a
    transaction already begun (a test, a caller's atomic block) the isolation is the caller's.
    """
    if connection.in_atomic_block or connection.vendor not in ("postgresql", "sqlite"):
        with transaction.atomic():
            yield
    elif connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield
    else:
        connection.ensure_connection()
        mode, connection.transaction_mode = connection.transaction_mode, "DEFERRED"
        try:
            with transaction.atomic():
                connection.transaction_mode = mode  # BEGIN DEFERRED has run; later transactions are as configured
                yield
        finally:
            connection.transaction_mode = mode


# ballot.json ---------------------------------------------------------------------------------


def ballot_json(ballot: Ballot) -> dict[str, Any]:
    """The ballot's rules as `ballot.json` (format plenary-ballot/1) holds them."""
    return {
        "format": BALLOT_FORMAT,
        "definition": {"slug": ballot.definition.slug, "title": ballot.definition.title},
        "version": ballot.version.label,
        "key": ballot.key,
        "title": ballot.title,
        "status": ballot.status,
        "criteria": [{"key": c.key, "label": c.label} for c in ballot.criteria.all()],
        "choices": [c.as_data() for c in ballot.choices.all()],
        "working_groups": _working_groups(ballot),
        "grants": _grants(ballot),
        "components": _components(ballot),
        "methodology": ballot.methodology,
        "clustering": ballot.clustering,
        "disputes": _disputes(ballot),
    }


def _working_groups(ballot: Ballot) -> list[dict]:
    """Each enrolled group with its members when the ballot closed, or now while it has not.

    `former_members` are those not among the members who still have votes for the group:
    they left it after voting, and their votes stand.
    """
    closed = ballot.status == Ballot.Status.CLOSED and ballot.roster_at_close is not None
    roster = ballot.roster_at_close if closed else votes_services.roster(ballot)
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
                "former_members": sorted(voters.get(group.key, set()) - set(members)),
            }
        )
    return groups


def _grants(ballot: Ballot) -> list[dict]:
    grants = ballot.grants.select_related("choice", "group", "member", "granted_by").order_by("granted_at", "pk")
    return [
        {
            "holder": grant.group.key if grant.group_id else grant.member.get_username(),
            "holder_kind": "group" if grant.group_id else "member",
            "choice": grant.choice.key,
            "category": grant.category or None,
            "reason": grant.reason,
            "granted_by": grant.granted_by.get_username(),
            "granted_at": grant.granted_at.isoformat(),
            "revoked_at": grant.revoked_at.isoformat() if grant.revoked_at else None,
        }
        for grant in grants
    ]


def _components(ballot: Ballot) -> list[dict]:
    """In the order the analysis reads them (`services.ballot_spec`, sorted in Python), an aggregate's parts sorted."""
    components = sorted(
        ballot.version.components.prefetch_related("parts"), key=lambda c: (c.category, c.position, c.key)
    )
    rows = []
    for c in components:
        row: dict[str, Any] = {"key": c.key, "title": c.title, "category": c.category}
        if c.is_aggregate:
            row["aggregate"] = {"rule": c.aggregate_rule, "of": sorted(p.key for p in c.parts.all())}
        rows.append(row)
    return rows


def _disputes(ballot: Ballot) -> list[dict]:
    disputes = ballot.disputes.select_related("raised_by", "voter", "group", "choice", "component", "criterion")
    return [
        {
            "selection": {
                "voter": d.voter.get_username() if d.voter_id else None,
                "group": d.group.key if d.group_id else None,
                "choice": d.choice.key if d.choice_id else None,
                "component": d.component.key if d.component_id else None,
                "criterion": d.criterion.key if d.criterion_id else None,
            },
            "reason": d.reason,
            "status": d.status,
            "resolution": d.resolution,
            "raised_by": d.raised_by.get_username(),
        }
        for d in disputes.order_by("raised_at", "pk")
    ]


# votes.csv, audit.jsonl, datapackage.json ----------------------------------------------------


def _in_code_point_order(*fields: str) -> list:
    """Order by text as Python sorts it, whatever the database's collation."""
    if connection.vendor == "postgresql":
        return [Collate(field, "C") for field in fields]
    return [F(field) for field in fields]  # SQLite compares text byte by byte already


def write_votes(ballot: Ballot, out: "_HashingText") -> None:
    """One row per current vote, sorted by component, criterion and voter; person-made cells neutralised."""
    writer = csv.writer(out)
    writer.writerow(VOTE_COLUMNS)
    rows = (
        ballot.votes.with_flags()
        .order_by(*_in_code_point_order("component__key", "criterion__key", "voter__username"))
        .values_list(
            "voter__username",
            "group__key",
            "component__key",
            "criterion__key",
            "choice__key",
            "choice__value",
            "cast_at",
            "rationale",
            "is_disputed",
        )
    )
    for row in rows.iterator(chunk_size=CHUNK):
        voter, group, component, criterion, choice, value, cast_at, rationale, disputed = row
        writer.writerow(
            [
                *(neutralise(cell) for cell in (voter, group, component, criterion, choice)),
                value,  # a number: never escaped
                cast_at.isoformat(),
                neutralise(rationale),
                "true" if disputed else "false",
            ]
        )


def write_audit(ballot: Ballot, out: "_HashingText") -> str:
    """The ballot's audit stream, one event per line in chain order; returns the last event's hash."""
    head = GENESIS_HASH
    for event in AuditEvent.objects.filter(stream=ballot.audit_stream).order_by("seq").canonical(chunk_size=CHUNK):
        out.write(json.dumps(event, sort_keys=True, ensure_ascii=False) + "\n")
        head = event["hash"]
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
                "path": "votes.csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "description": (
                    "One row per current vote. A text cell that a spreadsheet would run as a formula, or that "
                    "starts with ', has a ' in front: remove one leading ' from every text cell."
                ),
                "schema": {"fields": VOTE_FIELDS, "primaryKey": ["voter", "component", "criterion"]},
            }
        ],
    }


# The zip -------------------------------------------------------------------------------------


class _HashingText:
    """A text stream into one file of the zip, as UTF-8, hashed on the way: what `csv.writer` writes to."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.sha256 = hashlib.sha256()

    def write(self, text: str) -> int:
        data = text.encode()
        self.sha256.update(data)
        self.stream.write(data)
        return len(text)


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
            yield text
        self.hashes[name] = text.sha256.hexdigest()

    def write_json(self, name: str, data: Any) -> None:
        with self.open(name) as text:
            text.write(json.dumps(data, sort_keys=True, ensure_ascii=False, indent=2) + "\n")
