"""Recompute and verify a tally bundle (docs/tally-format.md) with no database and no Django settings.

    python -m analysis.tally PATH            # prints the recomputed outcomes.json
    python -m analysis.tally PATH --verify   # one line and exit 0, or the differences and exit 1

PATH is a bundle zip or a directory holding its files, or just `ballot.json` and `votes.csv`.
Reading checks every file against the format: a problem is a `BundleError` naming the file,
the line (or the place in a JSON file) and what is wrong. Only the standard library, numpy
and scikit-learn (through `analysis.outcomes`) and `audit.chain` are imported, so an
observer needs nothing but Plenary's `analysis/` and `audit/` folders. `import_tally` reads
bundles through here too, so the web app accepts exactly what this command checks.
"""

from pathlib import Path

from . import outcomes
from .ballot import Ballot, Dispute, Grant, read_ballot
from .files import Bundle, BundleError, open_bundle
from .verification import Report, check_manifest, verify
from .votes import COLUMNS, Counts, Vote, count_votes, read_votes

__all__ = [
    "COLUMNS",
    "Ballot",
    "Bundle",
    "BundleError",
    "Counts",
    "Dispute",
    "Grant",
    "Report",
    "Vote",
    "check_manifest",
    "compute",
    "count_votes",
    "open_bundle",
    "read_ballot",
    "read_votes",
    "recompute",
    "verify",
]


def compute(ballot: Ballot, counts: Counts) -> dict:
    """Every scenario, the clustering and the opinion groups, as the server computes them."""
    return outcomes.compute(ballot.spec, counts.cells, counts.voters)


def recompute(path: str | Path) -> dict:
    """The outcomes of the bundle or directory at `path`, from its `ballot.json` and `votes.csv` alone."""
    with open_bundle(path) as bundle:
        ballot = read_ballot(bundle)
        return compute(ballot, count_votes(bundle, ballot))
