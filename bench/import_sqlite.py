"""How long `import_tally` holds the embedded (SQLite) database, by the number of votes.

    python bench/import_sqlite.py --votes 2000 10000       # each into a fresh SQLite file; prints JSON

A generated ballot (voters in four groups, two criteria, 25 components per 50 votes of a voter)
is written as a directory bundle and imported into a migrated, empty SQLite file. The figure is
the time per vote and the ratio of the largest run's time to the smallest's (near its ratio of
votes, the import is linear). docs/performance.md ("Importing on SQLite") holds a run's figures.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from plenary_tally import formats

ROOT = Path(__file__).resolve().parent.parent
PER_VOTER = 50  # votes: 25 components x 2 criteria
CHOICES = [
    {"key": "yes", "label": "Yes", "value": 1},
    {"key": "abstain", "label": "Abstain", "value": 0},
    {"key": "no", "label": "No", "value": -1},
]


def write_bundle(path: Path, votes: int) -> None:
    voters = [f"voter{i:06d}" for i in range(max(1, votes // PER_VOTER))]
    groups = {f"g{n}": [v for i, v in enumerate(voters) if i % 4 == n] for n in range(4)}
    components = [f"c{n:02d}" for n in range(PER_VOTER // 2)]
    ballot = {
        "format": formats.BALLOT,
        "definition": {"slug": "bench", "title": "Bench"},
        "version": "1.0",
        "key": "bench",
        "title": "Bench",
        "status": "open",
        "criteria": [{"key": "use", "label": "Use"}, {"key": "study", "label": "Study"}],
        "choices": CHOICES,
        "working_groups": [{"key": g, "name": g.upper(), "members": m} for g, m in groups.items() if m],
        "components": [{"key": c, "title": c.upper(), "category": "Code"} for c in components],
        "methodology": {"rule": "majority", "threshold": 0.5},
    }
    path.mkdir(parents=True)
    (path / formats.BALLOT_FILE).write_text(json.dumps(ballot))
    group_of = {v: g for g, m in groups.items() for v in m}
    with (path / formats.VOTES_FILE).open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(formats.VOTE_COLUMNS)
        n = 0
        for v in voters:
            for c in components:
                for criterion in ("use", "study"):
                    if n == votes:
                        return
                    choice = CHOICES[n % 3]
                    writer.writerow([v, group_of[v], c, criterion, choice["key"], choice["value"], "", "", "false"])
                    n += 1


def run(votes: int, work: Path) -> float:
    bundle, database = work / f"bundle-{votes}", work / f"db-{votes}.sqlite3"
    write_bundle(bundle, votes)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "bench-" + "x" * 50}
    env.setdefault("ALLOWED_HOSTS", "localhost")
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True)
    start = time.perf_counter()
    subprocess.run([*manage, "import_tally", str(bundle)], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, nargs="+", default=[2000, 10000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        seconds = {n: run(n, Path(work)) for n in args.votes}
    low, high = min(seconds), max(seconds)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "ms_per_vote": {n: round(1000 * s / n, 2) for n, s in seconds.items()},
                "time_ratio": round(seconds[high] / seconds[low], 2),
                "votes_ratio": high / low,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
