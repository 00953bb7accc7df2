"""The input digest of an outcome run: SHA-256 of the ballot's rules and vote counts the run read.

Stated once, here, so that the server stores it with each run (`analysis.services.compute_run`) and the
verifier recomputes it from a bundle's `ballot.json` and `votes.csv`: a decision cites the run it rests on
by this digest, and `--verify` checks that the run is the bundle's.
"""

import hashlib
from collections.abc import Iterable

from .chain import canonical_json
from .model import BallotSpec, Cell


def input_digest(spec: BallotSpec, cells: Iterable[Cell]) -> str:
    """The same rules and the same counts give the same digest, in whatever order the cells come."""
    ordered = sorted(
        cells,
        key=lambda c: (c.component, c.criterion, c.group, c.choice, c.disputed, c.conflicted, c.carried, c.outdated),
    )
    data: dict[str, object] = {
        "criteria": spec.criteria,
        "choices": [[c.key, c.value, c.requires_grant, c.blocking] for c in spec.choices.values()],
        "components": [[c.key, c.rule, c.parts] for c in spec.components],
        "groups": spec.groups,
        "methodology": spec.methodology,
        "clustering": spec.clustering,
        "eligible": [spec.eligible, spec.eligible_voters, spec.group_names],
        "cells": [
            [c.component, c.criterion, c.group, c.choice, c.disputed, c.conflicted, c.count]
            + ([c.carried, c.outdated] if c.carried or c.outdated else [])  # a ballot carrying nothing: as before
            for c in ordered
        ],
    }
    if spec.carries:
        data["carries"] = True
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()
