"""The command an observer runs, offline or against a site:

plenary-tally PATH [--verify [--expect-head HASH] [--log-key VKEY] [--checkpoint FILE]]
plenary-tally receipt RECEIPT [--against BUNDLE_OR_CHECKPOINT] [--log-key VKEY] [--proof FILE]
plenary-tally witness URL --state DIR [--key FILE] [--name NAME] [--publish] [--log-key VKEY]
plenary-tally keygen NAME
"""

import argparse
import json
import sys

from . import BundleError, recompute, verify


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "receipt":
        return receipt_main(argv[1:])
    if argv and argv[0] == "keygen":
        return keygen_main(argv[1:])
    if argv and argv[0] == "witness":
        from .witness import main as witness_main

        return witness_main(argv[1:])
    return bundle_main(argv)


def keygen_main(argv: list[str]) -> int:
    """A new signing key for a site's audit log: the key on stdout (for AUDIT_LOG_KEY or its file), its public
    verifier key on stderr. Needs no server and no settings, so it runs where the site will run."""
    from .notes import NoteError, generate_signer, verifier_of

    parser = argparse.ArgumentParser(
        prog="plenary-tally keygen",
        description="Print a new signing key for a Plenary site's audit log, and its verifier key (on stderr).",
    )
    parser.add_argument("name", help="the key's name: the site's host, such as plenary.example.org")
    args = parser.parse_args(argv)
    try:
        key = generate_signer(args.name)
    except NoteError as exc:
        parser.error(str(exc))
    print(key)
    print(
        f"Verifier key (public; after a rotation, the one it replaces goes into AUDIT_LOG_RETIRED_KEYS): "
        f"{verifier_of(key)}",
        file=sys.stderr,
    )
    return 0


def bundle_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="plenary-tally",
        description="Recompute a Plenary tally bundle's outcomes (printed as outcomes.json), or --verify all of it. "
        "Also: `plenary-tally receipt RECEIPT …` checks a voter's receipt, `plenary-tally witness URL …` "
        "witnesses a site's audit log.",
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
    parser.add_argument(
        "--log-key",
        metavar="VKEY",
        help="with --verify: the log's verifier key you trust (the site publishes it); checkpoint.txt must be "
        "signed by it, not just by the key the bundle's manifest names",
    )
    parser.add_argument(
        "--checkpoint",
        metavar="FILE",
        help="with --verify: a signed checkpoint of this ballot's log you kept; the bundle's log must extend it",
    )
    args = parser.parse_args(argv)
    for option in ("expect_head", "log_key", "checkpoint"):
        if getattr(args, option) is not None and not args.verify:
            parser.error(f"--{option.replace('_', '-')} goes with --verify")
    if args.verify:
        report = verify(
            args.path,
            expect_head=args.expect_head.strip().lower() if args.expect_head else None,
            log_key=args.log_key,
            checkpoint=args.checkpoint,
        )
        print("\n".join(report.lines()))
        return 0 if report.ok else 1
    try:
        result = recompute(args.path)
    except BundleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, sort_keys=True, indent=2, ensure_ascii=False))
    return 0


def receipt_main(argv: list[str]) -> int:
    from .receipts import check_receipts, read_receipts

    parser = argparse.ArgumentParser(
        prog="plenary-tally receipt",
        description="Check a voter's receipt: its event, its inclusion proof and its signed checkpoint; "
        "with --against, also that a later bundle or checkpoint holds the same history.",
        epilog="Exit status: 0 when everything holds, 1 when not, 2 when a file cannot be read.",
    )
    parser.add_argument("receipt", help="the receipt's JSON file, or the file of your receipts on a ballot")
    parser.add_argument("--against", metavar="BUNDLE_OR_CHECKPOINT", help="a later bundle, or a later checkpoint")
    parser.add_argument("--log-key", metavar="VKEY", help="the log's verifier key you trust (else the receipt's own)")
    parser.add_argument("--proof", metavar="FILE", help="the server's consistency proof JSON, for a later checkpoint")
    args = parser.parse_args(argv)
    try:
        found = read_receipts(args.receipt)
        proof = read_receipt_proof(args.proof) if args.proof else None
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    reports = check_receipts(found, against=args.against, log_key=args.log_key, proof=proof)
    if len(reports) == 1:
        print("\n".join(reports[0].lines()))
        return 0 if reports[0].ok else 1
    for n, (receipt, report) in enumerate(zip(found, reports, strict=True), 1):
        event = receipt.get("event") if isinstance(receipt, dict) else None
        seq = event.get("seq", "?") if isinstance(event, dict) else "?"
        print(f"receipt {n} (event #{seq}):")
        print("\n".join(f"  {line}" for line in report.lines()))
    failed = sum(not report.ok for report in reports)
    print(f"{len(reports)} receipts verified" if not failed else f"{failed} of {len(reports)} receipts not verified")
    return 0 if not failed else 1


def read_receipt_proof(path: str) -> dict:
    from .receipts import MAX_RECEIPT_BYTES

    with open(path, "rb") as stream:
        content = stream.read(MAX_RECEIPT_BYTES + 1)
    if len(content) > MAX_RECEIPT_BYTES:
        raise ValueError(f"a consistency proof file is at most {MAX_RECEIPT_BYTES} bytes")
    try:
        data = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError('a consistency proof is JSON: {"from": M, "to": N, "proof": [hex, ...]}') from None
    if not isinstance(data, dict):
        raise ValueError('a consistency proof is JSON: {"from": M, "to": N, "proof": [hex, ...]}')
    return data


if __name__ == "__main__":
    sys.exit(main())
