"""The plain data the analysis works on. No Django, no database: a ballot's rules and its vote counts.

The analysis never needs individual votes to compute outcomes: every methodology and every
scenario reads the counts of votes per (component, criterion, group, choice, disputed). So
its cost does not grow with the number of votes, only with the size of the ballot.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from .rules import DEFAULT_CLUSTERING

Score = Fraction | int


@dataclass(frozen=True)
class Result:
    """One component's outcome under one methodology and vote set, and what would change it (`needs`)."""

    score: Score | None
    outcome: str
    margin: int | None
    needs: str = ""


@dataclass(frozen=True)
class Choice:
    key: str
    value: int
    requires_grant: bool = False
    blocking: bool = False


@dataclass(frozen=True)
class Component:
    key: str
    category: str = ""
    rule: str = ""  # "", "sum" or "mean"
    parts: tuple[str, ...] = ()

    @property
    def is_aggregate(self) -> bool:
        return bool(self.rule)


@dataclass(frozen=True)
class BallotSpec:
    criteria: tuple[str, ...]
    choices: Mapping[str, Choice]
    components: tuple[Component, ...]
    groups: tuple[str, ...]
    methodology: Mapping[str, Any]
    clustering: Mapping[str, Any] = field(default_factory=lambda: dict(DEFAULT_CLUSTERING))
    # Who may vote: each group's number of eligible members, and the eligible voters of the ballot (a member of
    # two groups counts once); the base of a majority "of the eligible" and of a quorum. Group names for sentences.
    eligible: Mapping[str, int] = field(default_factory=dict)
    eligible_voters: int = 0
    group_names: Mapping[str, str] = field(default_factory=dict)
    carries: bool = False  # carries votes from a previous ballot: the scenarios without them are computed

    @property
    def leaves(self) -> tuple[Component, ...]:
        return tuple(c for c in self.components if not c.is_aggregate)

    @property
    def values(self) -> tuple[int, int]:
        """The lowest and highest value on the scale."""
        values = [c.value for c in self.choices.values()]
        return min(values), max(values)


@dataclass(frozen=True)
class Cell:
    """How many current votes share one component, criterion, group, choice, disputed and conflicted flag.

    `conflicted`: cast by a voter with a standing declared conflict of interest in the ballot or the component.
    `carried`: carried from the ballot on the previous version and not confirmed since; `outdated`: carried onto a
    component whose text changed.
    """

    component: str
    criterion: str
    group: str
    choice: str
    disputed: bool
    count: int
    conflicted: bool = False
    carried: bool = False
    outdated: bool = False


# A cell's keys and flags, as counted: (component, criterion, group, choice, disputed, conflicted, carried, outdated)
CellKey = tuple[str, str, str, str, bool, bool, bool, bool]


@dataclass(frozen=True, eq=False)
class VoterMatrix:
    """Each voter's values over the ballot's (component, criterion) cells, and which cells they voted on.

    What the opinion groups read: `names` sorted, `groups` the group each voter is shown with
    (`voter_group`), `values` one row per voter and one column per cell, as integers (0 where
    the voter did not vote), and `voted` the same shape, True where they did. Missing is not
    zero: the opinion groups tell a 0 cast from a cell left empty by `voted`.
    """

    names: tuple[str, ...]
    groups: tuple[str, ...]
    cells: tuple[tuple[str, str], ...]
    values: np.ndarray
    voted: np.ndarray

    def __len__(self) -> int:
        return len(self.names)


def voter_matrix(
    voters: "Mapping[str, tuple[str, Mapping[tuple[str, str], int]]] | VoterMatrix", cells: Sequence[tuple[str, str]]
) -> VoterMatrix:
    """The matrix of `voters` given as {voter: (group, {(component, criterion): value})}, or as a matrix already."""
    cells = tuple((component, criterion) for component, criterion in cells)
    if isinstance(voters, VoterMatrix):
        if voters.cells == cells:
            return voters
        values = np.zeros((len(voters.names), len(cells)), dtype=np.int64)
        voted = np.zeros((len(voters.names), len(cells)), dtype=bool)
        column = {cell: i for i, cell in enumerate(voters.cells)}
        for i, cell in enumerate(cells):
            if cell in column:
                values[:, i] = voters.values[:, column[cell]]
                voted[:, i] = voters.voted[:, column[cell]]
        return VoterMatrix(voters.names, voters.groups, cells, values, voted)
    names = tuple(sorted(voters))
    index = {cell: i for i, cell in enumerate(cells)}
    values = np.zeros((len(names), len(cells)), dtype=np.int64)
    voted = np.zeros((len(names), len(cells)), dtype=bool)
    for row, name in enumerate(names):
        for cell, value in voters[name][1].items():
            values[row, index[cell]] = value
            voted[row, index[cell]] = True
    return VoterMatrix(names, tuple(voters[name][0] for name in names), cells, values, voted)


def spec_from_json(ballot: Mapping[str, Any]) -> BallotSpec:
    """A BallotSpec from `ballot.json` (format plenary-ballot/1), in the order the server reads a ballot.

    That is: components by category, then by key; groups and an aggregate's parts by key
    (`analysis.services.ballot_spec` sorts the same way, in Python, whatever the database's
    collation). The order decides the order of the lists in the outcomes, and no order in the
    file does: listing the components, groups or members otherwise gives the same outcomes.
    """
    components = sorted(ballot["components"], key=lambda c: (c.get("category", ""), c["key"]))
    eligible = {g["key"]: frozenset(eligible_handles(g)) for g in ballot["working_groups"]}
    return BallotSpec(
        criteria=tuple(c["key"] for c in ballot["criteria"]),
        choices={
            c["key"]: Choice(
                key=c["key"],
                value=int(c["value"]),
                requires_grant=bool(c.get("requires_grant", False)),
                blocking=bool(c.get("blocking", False)),
            )
            for c in ballot["choices"]
        },
        components=tuple(
            Component(
                key=c["key"],
                category=c.get("category", ""),
                rule=(c.get("aggregate") or {}).get("rule", ""),
                parts=tuple(sorted((c.get("aggregate") or {}).get("of", ()))),
            )
            for c in components
        ),
        groups=tuple(sorted(g["key"] for g in ballot["working_groups"])),
        methodology=ballot["methodology"],
        clustering=ballot.get("clustering") or dict(DEFAULT_CLUSTERING),
        eligible={key: len(handles) for key, handles in eligible.items()},
        eligible_voters=len(frozenset().union(*eligible.values())),
        group_names={g["key"]: g.get("name") or g["key"] for g in ballot["working_groups"]},
        carries=carries(ballot),
    )


def carries(ballot: Mapping[str, Any]) -> bool:
    """Whether ballot.json's ballot carries votes from a previous one: a `carry` with a rule other than none."""
    carry = ballot.get("carry")
    return isinstance(carry, Mapping) and carry.get("rule", "none") != "none"


def eligible_handles(group: Mapping[str, Any]) -> list[str]:
    """Who may vote for a group of ballot.json: its `eligible` list, else its members."""
    eligible = group.get("eligible")
    return list(group["members"] if eligible is None else eligible)


def voter_group(votes_per_group: Mapping[str, int]) -> str:
    """The group a voter is shown with among the opinion groups: the one they cast most votes for, then by key."""
    return min(votes_per_group, key=lambda group: (-votes_per_group[group], group))


def tally(rows: Iterable[Mapping[str, Any]]) -> list[Cell]:
    """Count vote rows (dicts with component, criterion, working_group, choice, disputed, and optionally
    conflicted, carried and outdated) into cells."""
    counts: dict[CellKey, int] = {}
    yes = (True, "true", "True", "1", 1)
    for row in rows:
        conflicted, carried, outdated = (row.get(f, False) in yes for f in ("conflicted", "carried", "outdated"))
        key = (row["component"], row["criterion"], row["working_group"], row["choice"], row["disputed"] in yes,
               conflicted, carried, outdated)  # fmt: skip
        counts[key] = counts.get(key, 0) + 1
    return [cell(key, n) for key, n in sorted(counts.items())]


def cell(key: CellKey, count: int) -> Cell:
    """A Cell from (component, criterion, group, choice, disputed, conflicted, carried, outdated) and its count."""
    component, criterion, group, choice, disputed, conflicted, carried, outdated = key
    return Cell(component, criterion, group, choice, disputed, count, conflicted, carried, outdated)
