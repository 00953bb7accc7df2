"""The audit log's Merkle tree at N events, each figure beside its baseline (docs/performance.md).

    python bench/tlog.py                 # N = 1,000,000
    python bench/tlog.py --events 100000

No database: events are made in memory and hash-chained as `audit.record` chains them.

- root: `merkle.root` over N leaf hashes, against hashing N leaves (the least any root costs);
- frontier: appending N leaves to a `merkle.Frontier`, against the same baseline;
- proofs: an inclusion and a consistency proof from the list of leaf hashes, against `merkle.root`;
- verify: checking the hash chain of N events with their leaves appended to a frontier (what
  `--verify` does with a checkpoint), against checking the chain alone (what it did before).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tally"))

from plenary_tally import chain, merkle  # noqa: E402


def timed(fn, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def events(n: int) -> list[dict]:
    made, previous = [], chain.GENESIS_HASH
    for seq in range(1, n + 1):
        event = {"stream": "ballot:bench/components", "seq": seq, "at": "2026-03-01T09:00:00+00:00",
                 "actor": "olga", "action": "vote.cast", "subject": f"votes.vote:{seq}",
                 "payload": {"choice": "required", "value": 1}, "prev_hash": previous}  # fmt: skip
        event["hash"] = previous = chain.event_hash(event)
        made.append(event)
    return made


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    n = parser.parse_args().events
    data = [i.to_bytes(32, "big") for i in range(n)]
    leaves = [merkle.leaf_hash(d) for d in data]
    hashing = timed(lambda: [merkle.leaf_hash(d) for d in data])
    root = timed(lambda: merkle.root(leaves))
    frontier = timed(lambda: merkle.Frontier().extend(leaves))
    proofs = timed(lambda: (merkle.inclusion_proof(leaves, n // 3), merkle.consistency_proof(leaves, n // 3 * 2)))
    stream = events(n)

    def with_tree():
        tree = merkle.Frontier()

        def leaves_too():
            for event in stream:
                yield event
                tree.append(merkle.event_leaf(event["hash"]))

        chain.verify(leaves_too())
        return tree.root()

    alone = timed(lambda: chain.verify(stream), runs=1)
    both = timed(with_tree, runs=1)
    print(f"N = {n:,}")
    print(f"root       {root:7.2f} s   {root / hashing:5.2f} × hashing the leaves ({hashing:.2f} s)")
    print(f"frontier   {frontier:7.2f} s   {frontier / hashing:5.2f} × hashing the leaves")
    print(f"two proofs {proofs:7.2f} s   {proofs / root:5.2f} × one root")
    print(f"verify     {both:7.2f} s   {both / alone:5.2f} × checking the chain alone ({alone:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
