"""Tally bundles written by hand, as a group that voted in a spreadsheet (or a forger) would write them.

`write_votes` writes `ballot.json` and `votes.csv`; `write_bundle` adds a consistent
`audit.jsonl` (a real hash chain), `outcomes.json` computed by the pure core,
`datapackage.json` and `manifest.json`. `zip_dir` zips a directory, `rehash` rewrites the
manifest after a file was edited, so a check other than the hashes has to catch the edit.
"""

import csv
import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from plenary_tally import model, outcomes
from plenary_tally.chain import GENESIS_HASH, event_hash
from plenary_tally.csvcells import neutralise

COLUMNS = ("voter", "working_group", "component", "criterion", "choice", "value", "cast_at", "rationale", "disputed")
STREAM = "ballot:example/components"
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

BALLOT = {
    "format": "plenary-ballot/1",
    "definition": {"slug": "example", "title": "Example Definition"},
    "version": "0.1",
    "key": "components",
    "title": "Component vote on 0.1",
    "status": "open",
    "criteria": [{"key": "use", "label": "Use"}, {"key": "study", "label": "Study"}],
    "choices": [
        {"key": "required", "label": "Required", "value": 1},
        {"key": "abstain", "label": "Abstain", "value": 0},
        {"key": "object", "label": "Object", "value": -1, "requires_rationale": True},
        {"key": "not-necessary", "label": "Not necessary", "value": -1, "requires_grant": True},
    ],
    "working_groups": [
        {"key": "alpha", "name": "Alpha", "members": ["ann", "bo"], "chairs": ["ann"]},
        {"key": "beta", "name": "Beta", "members": ["cy", "-dee"]},  # a handle a spreadsheet would run
    ],
    "grants": [
        {
            "holder": "beta",
            "choice": "not-necessary",
            "category": "Data",
            "reason": "Charter §3",
            "granted_by": "olga",
            "granted_at": "2026-03-01T08:00:00+00:00",
        }
    ],
    "components": [
        {"key": "code", "title": "Training code", "category": "Code"},
        {"key": "data-a", "title": "Training data", "category": "Data"},
        {"key": "data-b", "title": "Testing data", "category": "Data"},
        {
            "key": "datasets",
            "title": "Datasets",
            "category": "Data",
            "aggregate": {"rule": "mean", "of": ["data-a", "data-b"]},
        },
    ],
    "methodology": {
        "rule": "mean-bands",
        "bands": [
            {"min": 2.0, "label": "Yes"},
            {"min": 1.5, "label": "Lean yes"},
            {"min": 1.0, "label": "Maybe"},
            {"min": 0.5, "label": "Lean no"},
        ],
        "otherwise": "No",
    },
    "clustering": {"k": 2, "seed": 42},
    "disputes": [
        {
            "selection": {
                "voter": None,
                "group": "beta",
                "choice": "not-necessary",
                "component": None,
                "criterion": None,
            },
            "reason": "Not necessary without a reason cancels a Required vote unexplained.",
            "status": "open",
            "resolution": "",
            "raised_by": "ann",
        }
    ],
}

# (voter, group, component, criterion, choice, rationale), cast one minute apart
VOTES = [
    ("ann", "alpha", "code", "use", "required", ""),
    ("ann", "alpha", "code", "study", "required", ""),
    ("ann", "alpha", "data-a", "use", "abstain", ""),
    ("bo", "alpha", "code", "use", "object", "=SUM(A1:A9)"),
    ("bo", "alpha", "data-b", "study", "required", ""),
    ("cy", "beta", "data-a", "use", "not-necessary", "'Quoted', as in the charter"),
    ("cy", "beta", "data-b", "use", "not-necessary", ""),
    ("-dee", "beta", "code", "use", "required", "+1 from me"),
    ("-dee", "beta", "data-a", "study", "abstain", ""),
]


def cast_at(i: int) -> str:
    return (START + timedelta(minutes=i)).isoformat()


def vote_rows(votes=VOTES, ballot=BALLOT) -> list[dict]:
    """The rows of votes.csv as plain values (not yet neutralised), sorted as the export sorts them."""
    values = {c["key"]: c["value"] for c in ballot["choices"]}
    rows = []
    for i, (voter, group, component, criterion, choice, rationale) in enumerate(votes):
        row = dict(zip(COLUMNS, (voter, group, component, criterion, choice), strict=False))
        row |= {"value": values[choice], "cast_at": cast_at(i), "rationale": rationale}
        row["disputed"] = any(
            d["status"] != "dismissed"
            and all(v is None or row["working_group" if s == "group" else s] == v for s, v in d["selection"].items())
            for d in ballot.get("disputes", [])
        )
        rows.append(row)
    return sorted(rows, key=lambda r: (r["component"], r["criterion"], r["voter"]))


def csv_text(rows: list[dict], header=COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        cells = [row[c] for c in COLUMNS]
        writer.writerow(
            [str(c).lower() if isinstance(c, bool) else c if isinstance(c, int) else neutralise(c) for c in cells]
        )
    return out.getvalue()


def write_votes(path: Path, ballot=BALLOT, rows=None) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "ballot.json").write_text(json.dumps(ballot, indent=2, ensure_ascii=False))
    (path / "votes.csv").write_text(csv_text(vote_rows(ballot=ballot) if rows is None else rows))
    return path


def expected_outcomes(ballot=BALLOT, rows=None) -> dict:
    """The outcomes straight from the pure core, not through the bundle reader."""
    rows = vote_rows(ballot=ballot) if rows is None else rows
    voters: dict = {}
    for r in rows:
        voters.setdefault(r["voter"], (r["working_group"], {}))[1][(r["component"], r["criterion"])] = r["value"]
    return json.loads(json.dumps(outcomes.compute(model.spec_from_json(ballot), model.tally(rows), voters)))


def roster(ballot=BALLOT) -> dict[str, list[dict]]:
    """Each group's members as the log records them: {group: [{"member", "role"}]}, by handle."""
    return {
        g["key"]: [
            {"member": h, "role": "chair" if h in g.get("chairs", []) else "member"} for h in sorted(g["members"])
        ]
        for g in ballot["working_groups"]
    }


def audit_events(ballot=BALLOT) -> list[dict]:
    """The ballot's log: created, granted, opened, every vote (one changed, one withdrawn), the dispute."""
    flags = {"requires_grant": False, "blocking": False, "requires_rationale": False}
    entries = [
        (
            "ballot.created",
            "votes.ballot:1",
            {
                "definition": ballot["definition"],
                "key": ballot["key"],
                "title": ballot["title"],
                "version": ballot["version"],
                "groups": sorted(g["key"] for g in ballot["working_groups"]),
                "group_names": {g["key"]: g["name"] for g in ballot["working_groups"]},
                "roster": roster(ballot),
                "criteria": ballot["criteria"],
                "choices": [flags | c for c in ballot["choices"]],
                "methodology": ballot["methodology"],
                "clustering": ballot["clustering"],
                "components": ballot["components"],
                "results_visibility": "live",
            },
        ),
    ]
    for i, g in enumerate(ballot["grants"], 1):
        payload = {"holder": g["holder"], "holder_kind": "group", "choice": g["choice"], "category": g["category"]}
        payload |= {"reason": g["reason"], "granted_at": g.get("granted_at"), "revoked_at": g.get("revoked_at")}
        entries.append(("grant.made", f"votes.vetogrant:{i}", payload, g.get("granted_by") or "olga"))
    entries.append(("ballot.opened", "votes.ballot:1", {}))
    rows = vote_rows(ballot=ballot)
    rows_by_time = sorted(rows, key=lambda r: r["cast_at"])
    changed_later = rows_by_time[-3]
    withdrawn = {"voter": "bo", "working_group": "alpha", "component": "data-a", "criterion": "use"}
    for pk, row in enumerate(rows_by_time, 1):
        if row is changed_later:  # first cast as Required, then changed
            entries.append(("vote.cast", f"votes.vote:{pk}", _vote(row | {"choice": "required", "value": 1})))
            entries.append(("vote.changed", f"votes.vote:{pk}", _vote(row)))
        else:
            entries.append(("vote.cast", f"votes.vote:{pk}", _vote(row)))
        if pk == 2:
            gone = withdrawn | {"choice": "abstain", "value": 0, "cast_at": cast_at(50), "rationale": ""}
            entries.append(("vote.cast", "votes.vote:99", _vote(gone)))
            entries.append(("vote.withdrawn", "votes.vote:99", _vote(gone)))
    for i, d in enumerate(ballot["disputes"], 1):
        payload = {k: d[k] for k in ("selection", "reason", "status", "resolution")}
        raised = payload | {"status": "open", "votes": 2}
        entries.append(("dispute.raised", f"votes.dispute:{i}", raised, d["raised_by"]))
        if d["status"] != "open":
            entries.append(("dispute.resolved", f"votes.dispute:{i}", payload))
    return chain(entries)


def _vote(row: dict) -> dict:
    return {
        "voter": row["voter"],
        "group": row["working_group"],
        "component": row["component"],
        "criterion": row["criterion"],
        "choice": row["choice"],
        "value": row["value"],
        "rationale": row["rationale"],
        "grant": None,
        "cast_by": row["voter"],
        "cast_at": row["cast_at"],
        "previous": None,
    }


def chain(entries: list[tuple], stream: str = STREAM) -> list[dict]:
    """The events of (action, subject, payload[, actor]) entries, hash-chained; the actor is olga unless given."""
    events, previous = [], GENESIS_HASH
    for seq, (action, subject, payload, *actor) in enumerate(entries, 1):
        event = {
            "stream": stream,
            "seq": seq,
            "at": (START + timedelta(minutes=seq)).isoformat(),
            "actor": actor[0] if actor else "olga",
            "action": action,
            "subject": subject,
            "payload": payload,
            "prev_hash": previous,
        }
        event["hash"] = previous = event_hash(event)
        events.append(event)
    return events


def write_bundle(path: Path, ballot=BALLOT) -> Path:
    """A whole, consistent bundle as a directory."""
    write_votes(path, ballot)
    events = audit_events(ballot)
    lines = "".join(json.dumps(e, sort_keys=True, ensure_ascii=False) + "\n" for e in events)
    (path / "audit.jsonl").write_text(lines)
    (path / "outcomes.json").write_text(json.dumps(expected_outcomes(ballot), sort_keys=True, indent=2))
    (path / "datapackage.json").write_text(json.dumps({"profile": "tabular-data-package", "resources": []}))
    manifest = {"format": "plenary-tally/1", "ballot": "example/components", "audit_head": events[-1]["hash"]}
    (path / "manifest.json").write_text(json.dumps(manifest | {"files": {}}))
    return rehash(path)


def rehash(path: Path) -> Path:
    """Rewrite the manifest's hashes to the files as they are now."""
    manifest = json.loads((path / "manifest.json").read_text())
    names = sorted(p.name for p in path.iterdir() if p.name != "manifest.json")
    manifest["files"] = {n: hashlib.sha256((path / n).read_bytes()).hexdigest() for n in names}
    (path / "manifest.json").write_text(json.dumps(manifest, sort_keys=True, indent=2))
    return path


def zip_dir(path: Path, target: Path, folder: str = "") -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(path.iterdir()):
            archive.write(file, folder + file.name)
    return target
