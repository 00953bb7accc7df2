"""Small random ballots, tie-prone on purpose, written as whole tally bundles: what the portability checks read.

2–8 voters in 1–3 groups, 2–6 components (one sometimes a mean aggregate), 1–2 criteria, values
−1, 0 and +1, each voter voting on part of the grid or all of it, sometimes a dispute; mean-bands
or majority. `bundle(seed)` is a function of its seed alone, so two processes (or two virtual
environments) write the same bundles.

    python tests/analysis/randomballots.py write DIR [--count N]    # DIR/0000 … as directories
    python tests/analysis/randomballots.py digests DIR               # one line per bundle: its outcomes' SHA-256
    python tests/analysis/randomballots.py verify DIR                # verify every bundle; exit 1 if one fails

The last two run with the verifier alone (plenary_tally and numpy), as an observer's machine has it.
"""

import argparse
import csv
import hashlib
import io
import json
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from plenary_tally import recompute, verify
from plenary_tally.chain import GENESIS_HASH, event_hash

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CHOICES = [
    {"key": "yes", "label": "Required", "value": 1, "requires_grant": False, "blocking": False,
     "requires_rationale": False},
    {"key": "abstain", "label": "Abstain", "value": 0, "requires_grant": False, "blocking": False,
     "requires_rationale": False},
    {"key": "no", "label": "Not necessary", "value": -1, "requires_grant": False, "blocking": False,
     "requires_rationale": False},
]  # fmt: skip
BANDS = {"rule": "mean-bands", "otherwise": "No", "bands": [
    {"min": 2.0, "label": "Yes"}, {"min": 1.5, "label": "Lean yes"}, {"min": 1.0, "label": "Maybe"},
    {"min": 0.5, "label": "Lean no"}]}  # fmt: skip


def ballot_and_votes(seed: int) -> tuple[dict, list[dict]]:
    """A random ballot.json and its current votes (rows of votes.csv), from `seed` alone."""
    rng = random.Random(seed)
    groups = [f"g{i}" for i in range(rng.randint(1, 3))]
    voters = {f"v{i}": rng.choice(groups) for i in range(rng.randint(2, 8))}
    leaves = [f"c{i}" for i in range(rng.randint(2, 6))]
    categories = ["Code", "Data"]
    components = [{"key": key, "title": key.upper(), "category": rng.choice(categories)} for key in leaves]
    if rng.random() < 0.3:
        parts = rng.sample(leaves, 2)
        components.append({"key": "agg", "title": "Aggregate", "category": "Data",
                           "aggregate": {"rule": rng.choice(["mean", "sum"]), "of": sorted(parts)}})  # fmt: skip
    criteria = [{"key": key, "label": key.title()} for key in ["use", "study"][: rng.randint(1, 2)]]
    methodology = BANDS if rng.random() < 0.7 else {"rule": "majority", "threshold": rng.choice([0.5, 0.667])}
    ballot = {
        "format": "plenary-ballot/1",
        "definition": {"slug": "random", "title": "Random Definition"},
        "version": "0.1",
        "key": f"ballot-{seed}",
        "title": f"Random ballot {seed}",
        "status": "open",
        "criteria": criteria,
        "choices": CHOICES,
        "working_groups": [
            {
                "key": g,
                "name": g.upper(),
                "members": sorted(v for v, vg in voters.items() if vg == g),
                "chairs": [],
                "former_members": [],
            }
            for g in groups
        ],  # fmt: skip
        "grants": [],
        "components": components,
        "methodology": methodology,
        "clustering": {"k": rng.randint(2, 3), "seed": rng.randrange(2**32)},
        "disputes": [],
    }
    share = rng.choice([0.5, 0.8, 1.0])
    rows = []
    for voter, group in voters.items():
        for leaf in leaves:
            for criterion in criteria:
                if rng.random() < share:
                    choice = rng.choice(CHOICES)
                    rows.append({"voter": voter, "working_group": group, "component": leaf,
                                 "criterion": criterion["key"], "choice": choice["key"], "value": choice["value"],
                                 "rationale": "", "disputed": False})  # fmt: skip
    if rows and rng.random() < 0.3:
        target = rng.choice(rows)["voter"]
        selection = {"voter": target, "group": None, "choice": None, "component": None, "criterion": None}
        dispute = {"selection": selection, "reason": "Cast twice.", "status": "open", "resolution": ""}
        ballot["disputes"].append(dispute | {"raised_by": "olga"})
        for row in rows:
            row["disputed"] = row["voter"] == target
    for i, row in enumerate(rows):
        row["cast_at"] = (START + timedelta(minutes=i)).isoformat()
    return ballot, rows


def votes_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    columns = ("voter", "working_group", "component", "criterion", "choice", "value", "cast_at", "rationale",
               "disputed")  # fmt: skip
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([str(row[c]).lower() if isinstance(row[c], bool) else row[c] for c in columns])
    return out.getvalue()


def _events(ballot: dict, rows: list[dict]) -> list[dict]:
    created = {k: ballot[k] for k in ("key", "title", "version", "criteria", "choices", "methodology", "clustering")}
    created |= {"groups": sorted(g["key"] for g in ballot["working_groups"]), "results_visibility": "live"}
    created["components"] = ballot["components"]
    entries = [("ballot.created", "votes.ballot:1", created), ("ballot.opened", "votes.ballot:1", {})]
    for pk, row in enumerate(rows, 1):
        vote = {"voter": row["voter"], "group": row["working_group"], "component": row["component"],
                "criterion": row["criterion"], "choice": row["choice"], "value": row["value"], "rationale": "",
                "grant": None, "cast_by": row["voter"], "cast_at": row["cast_at"], "previous": None}  # fmt: skip
        entries.append(("vote.cast", f"votes.vote:{pk}", vote))
    for i, d in enumerate(ballot["disputes"], 1):
        payload = {k: d[k] for k in ("selection", "reason", "status", "resolution")}
        entries.append(("dispute.raised", f"votes.dispute:{i}", payload))
    stream = f"ballot:random/{ballot['key']}"
    events, previous = [], GENESIS_HASH
    for seq, (action, subject, payload) in enumerate(entries, 1):
        event = {"stream": stream, "seq": seq, "at": (START + timedelta(seconds=seq)).isoformat(), "actor": "olga",
                 "action": action, "subject": subject, "payload": payload, "prev_hash": previous}  # fmt: skip
        event["hash"] = previous = event_hash(event)
        events.append(event)
    return events


def write(path: Path, ballot: dict, rows: list[dict]) -> Path:
    """A whole bundle as a directory: the outcomes computed here, the manifest hashing every file."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "ballot.json").write_text(json.dumps(ballot, indent=2, sort_keys=True))
    (path / "votes.csv").write_text(votes_csv(sorted(rows, key=lambda r: (r["component"], r["criterion"],
                                                                         r["voter"]))))  # fmt: skip
    events = _events(ballot, rows)
    (path / "audit.jsonl").write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in events))
    (path / "datapackage.json").write_text(json.dumps({"profile": "tabular-data-package", "resources": []}))
    outcomes = recompute(path)
    (path / "outcomes.json").write_text(json.dumps(outcomes, sort_keys=True, indent=2))
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.iterdir())}
    manifest = {"format": "plenary-tally/1", "ballot": f"random/{ballot['key']}", "audit_head": events[-1]["hash"]}
    (path / "manifest.json").write_text(json.dumps(manifest | {"files": files}, sort_keys=True, indent=2))
    return path


def digest(path: Path) -> str:
    """The SHA-256 of the outcomes recomputed from the bundle's ballot.json and votes.csv, as written."""
    return hashlib.sha256(json.dumps(recompute(path), sort_keys=True, indent=2).encode()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["write", "digests", "verify"])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--count", type=int, default=500)
    args = parser.parse_args(argv)
    if args.command == "write":
        for seed in range(args.count):
            write(args.dir / f"{seed:04d}", *ballot_and_votes(seed))
        return 0
    bundles = sorted(p for p in args.dir.iterdir() if p.is_dir())
    if args.command == "digests":
        print("\n".join(f"{p.name} {digest(p)}" for p in bundles))
        return 0
    failed = 0
    for path in bundles:
        report = verify(path)
        if not report.ok:
            failed += 1
            print(f"{path.name}: " + " | ".join(report.lines()[-4:]))
    print(f"{len(bundles) - failed} of {len(bundles)} bundles verified")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
