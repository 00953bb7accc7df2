"""`votes.csv`, read as a stream and checked row by row against `ballot.json`, and counted for the analysis."""

import csv
import sys
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np

from . import formats
from .ballot import Ballot
from .csvcells import restore
from .files import Bundle, BundleError, parse_time
from .model import Cell, CellKey, VoterMatrix, voter_group
from .model import cell as counted

intern = sys.intern

COLUMNS = formats.VOTE_COLUMNS


@dataclass(frozen=True, slots=True)
class Vote:
    """One row of votes.csv, checked; `line` is where it starts in the file."""

    line: int
    voter: str
    group: str
    component: str
    criterion: str
    choice: str
    value: int
    cast_at: datetime | None
    rationale: str
    disputed: bool
    conflicted: bool = False  # not a column: its voter's standing declared conflicts in ballot.json cover it
    carried: bool = False  # the optional columns of a ballot that carries votes (formats.CARRY_FIELDS)
    outdated: bool = False


def read_votes(bundle: Bundle, ballot: Ballot) -> Iterator[Vote]:
    """Each row of votes.csv, checked, in file order. Streamed: a file of any size reads in flat memory."""
    first_seen: dict[tuple[str, str, str], int] = {}
    voting_for: dict[str, tuple[str, int]] = {}  # each voter's group, and the line that first says so
    with bundle.lines(formats.VOTES_FILE) as lines:
        reader = csv.reader(lines, strict=True)
        line = 1
        try:
            header = next(reader, None)
            columns = formats.CARRY_COLUMNS if ballot.carries else COLUMNS
            if header is None or tuple(header) != columns:
                found = ",".join(header) if header else "nothing"
                raise BundleError(formats.VOTES_FILE, 1, f"the header must be {','.join(columns)}; found {found}")
            line = reader.line_num + 1
            for row in reader:
                vote = _check(line, row, ballot, columns)
                cell = (vote.voter, vote.component, vote.criterion)
                if cell in first_seen:
                    message = f"a second vote by {vote.voter} on {vote.component}/{vote.criterion}"
                    raise BundleError(formats.VOTES_FILE, line, f"{message} (the first is on line {first_seen[cell]})")
                first_seen[cell] = line
                group, since = voting_for.setdefault(vote.voter, (vote.group, line))
                if group != vote.group:
                    raise BundleError(formats.VOTES_FILE, line, one_group_refused(vote.voter, group, since, vote.group))
                yield vote
                line = reader.line_num + 1
        except csv.Error as exc:
            raise BundleError(formats.VOTES_FILE, line, f"malformed CSV ({exc})") from exc


def one_group_refused(voter: str, group: str, line: int, other: str) -> str:
    """A member of several groups votes for one per ballot: why a vote for another of their groups is refused."""
    return (
        f"{voter!r} votes for working group {group!r} (line {line}) and for {other!r}"
        " (ballot.json lists both): a member of several groups votes for one per ballot"
    )


def _check(line: int, row: list[str], ballot: Ballot, columns: tuple[str, ...] = COLUMNS) -> Vote:
    def fail(message: str) -> BundleError:
        return BundleError(formats.VOTES_FILE, line, message)

    if len(row) != len(columns):
        raise fail(f"expected {len(columns)} cells ({','.join(columns)}), found {len(row)}")
    for column, cell in zip(columns, row, strict=True):
        if "\x00" in cell:
            raise fail(f"{column} holds a NUL character, which no text in Plenary can hold")
    # the keys and handles come back on every row: one copy of each is kept (sys.intern), not a million
    voter, group, component, criterion, choice = (intern(restore(cell)) for cell in row[:5])
    cells = {"value": row[5], "cast_at": restore(row[6]), "rationale": restore(row[7]), "disputed": restore(row[8])}
    spec = ballot.spec
    if group not in ballot.members:
        raise fail(f"unknown working group {group!r}")
    if voter not in ballot.handles:
        raise fail(f"{voter!r} is not a member of any working group in ballot.json")
    if voter not in ballot.voters[group]:
        raise fail(f"{voter!r} votes for working group {group!r} but is not one of its members or former members")
    if component not in ballot.categories:
        raise fail(f"unknown component {component!r}")
    if component not in ballot.leaves:
        raise fail(f"{component!r} is an aggregate: its score comes from its parts, not from votes")
    if criterion not in spec.criteria:
        raise fail(f"unknown criterion {criterion!r}")
    if choice not in spec.choices:
        raise fail(f"unknown choice {choice!r}")
    value = spec.choices[choice].value
    if cells["value"].strip() != str(value):
        raise fail(f"the value {cells['value']!r} does not match the choice {choice!r}, whose value is {value}")
    try:
        cast_at = parse_time(cells["cast_at"]) if cells["cast_at"].strip() else None
    except ValueError:
        raise fail(f"cast_at {cells['cast_at']!r} is not an ISO 8601 date and time") from None
    disputed = cells["disputed"].strip().lower()
    if disputed not in ("true", "false", ""):
        raise fail(f"disputed must be true or false, not {cells['disputed']!r}")
    vote = Vote(
        line, voter, group, component, criterion, choice, value, cast_at, cells["rationale"], disputed == "true"
    )
    if ballot.conflicts and ballot.conflicted(vote):
        vote = replace(vote, conflicted=True)
    if len(columns) > len(COLUMNS):
        carried, outdated = (restore(c).strip().lower() for c in row[len(COLUMNS) :])
        if carried not in ("true", "false") or outdated not in ("true", "false"):
            raise fail(f"carried and outdated are true or false, not {row[len(COLUMNS)]!r} and {row[-1]!r}")
        if outdated == "true" and carried != "true":
            raise fail("outdated is true, but carried is false: only a carried vote is outdated")
        vote = replace(vote, carried=carried == "true", outdated=outdated == "true")
    if spec.choices[choice].requires_grant and ballot.grant_for(vote) is None:
        category = ballot.categories[component]
        raise fail(
            f"the choice {choice!r} is restricted, and no grant in ballot.json gives it to {voter!r} or to"
            f" group {group!r} for {component!r} (category {category!r})"
        )
    if ballot.requires_rationale(choice) and not vote.rationale.strip():
        raise fail(f"a vote {choice!r} needs a rationale")
    if vote.disputed != ballot.disputed(vote):
        says = "cover" if ballot.disputed(vote) else "do not cover"
        raise fail(f"disputed is {disputed or 'empty'}, but the disputes in ballot.json {says} this vote")
    return vote


class Counts:
    """What the analysis reads from the votes: the cells of counts and each voter's values.

    Each voter's values are kept as three compact arrays (voter, cell, value), a few bytes a vote,
    and become the voter matrix once every row is in.
    """

    def __init__(self) -> None:
        self.votes = 0
        self._cells: dict[CellKey, int] = {}
        self._voters: dict[str, int] = {}
        self._groups: list[dict[str, int]] = []  # per voter: votes for each group
        self._columns: dict[tuple[str, str], int] = {}
        self._rows, self._at, self._values = array("i"), array("i"), array("q")

    def add(self, vote: Vote) -> None:
        self.votes += 1
        key = (vote.component, vote.criterion, vote.group, vote.choice, vote.disputed, vote.conflicted, vote.carried,
               vote.outdated)  # fmt: skip
        self._cells[key] = self._cells.get(key, 0) + 1
        row = self._voters.setdefault(vote.voter, len(self._voters))
        if row == len(self._groups):
            self._groups.append({})
        column = self._columns.setdefault((vote.component, vote.criterion), len(self._columns))
        self._rows.append(row)
        self._at.append(column)
        self._values.append(vote.value)
        groups = self._groups[row]
        groups[vote.group] = groups.get(vote.group, 0) + 1

    @property
    def cells(self) -> list[Cell]:
        return [counted(key, n) for key, n in sorted(self._cells.items())]

    @property
    def voters(self) -> VoterMatrix:
        """Each voter's group (`voter_group`) and values; a voter's later row for the same cell wins."""
        names = sorted(self._voters)
        order = np.empty(len(names), dtype=np.int64)
        order[[self._voters[name] for name in names]] = np.arange(len(names))
        values = np.zeros((len(names), len(self._columns)), dtype=np.int64)
        voted = np.zeros((len(names), len(self._columns)), dtype=bool)
        if self._rows:
            rows, columns = order[np.frombuffer(self._rows, dtype=np.int32)], np.frombuffer(self._at, dtype=np.int32)
            values[rows, columns] = np.frombuffer(self._values, dtype=np.int64)
            voted[rows, columns] = True
        return VoterMatrix(
            names=tuple(names),
            groups=tuple(voter_group(self._groups[self._voters[name]]) for name in names),
            cells=tuple(self._columns),
            values=values,
            voted=voted,
        )


def count_votes(bundle: Bundle, ballot: Ballot) -> Counts:
    counts = Counts()
    for vote in read_votes(bundle, ballot):
        counts.add(vote)
    return counts
