"""`plenary-tally PATH [--verify [--expect-head HASH]]`: the command an observer runs on a downloaded bundle."""

import argparse
import json
import sys

from . import BundleError, recompute, verify


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="plenary-tally",
        description="Recompute a Plenary tally bundle's outcomes (printed as outcomes.json), or --verify all of it.",
        epilog="Exit status: with --verify, 0 when everything holds and 1 when not (each problem listed); "
        "without, 0, or 2 when the input cannot be read.",
    )
    parser.add_argument("path", help="a bundle zip, or a directory with ballot.json and votes.csv at least")
    parser.add_argument(
        "--verify", action="store_true", help="also check the manifest hashes, the audit chain and its replay"
    )
    parser.add_argument(
        "--expect-head",
        metavar="HASH",
        help="with --verify: the audit head shown on the ballot's page, which the bundle's log must end at",
    )
    args = parser.parse_args(argv)
    if args.expect_head is not None and not args.verify:
        parser.error("--expect-head goes with --verify")
    if args.verify:
        report = verify(args.path, expect_head=args.expect_head.strip().lower() if args.expect_head else None)
        print("\n".join(report.lines()))
        return 0 if report.ok else 1
    try:
        result = recompute(args.path)
    except BundleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, sort_keys=True, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
