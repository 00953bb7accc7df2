"""A ballot's current votes, read once, as what the analysis needs: the cells of counts and the voter matrix.

One pass over the votes, as columns of ids: on PostgreSQL gathered by the database into three
arrays (`array_agg`) that numpy reads as they come, in PostgreSQL's binary format, elsewhere (the
embedded SQLite) a plain query. The
rest is vectorised: which votes a standing dispute or a standing declared conflict of interest
covers, the counts per (component, criterion, group, choice, disputed, conflicted), each voter's
values and group. Nothing is done per vote in
Python, so a million votes cost little more than the database takes to hand them over.
"""

import math
from dataclasses import dataclass
from typing import cast

import numpy as np
import psycopg
from django.contrib.auth import get_user_model
from django.db import connection
from psycopg.adapt import Loader

from deliberation.models import WorkingGroup
from plenary_tally.ballot import SELECTORS
from plenary_tally.model import BallotSpec, Cell, VoterMatrix
from votes.models import Ballot, Vote

COLUMNS = ("voter_id", "component_id", "criterion_id", "group_id", "choice_id")
AT = {f"{s}_id": COLUMNS.index(f"{s}_id") for s in SELECTORS}  # where each dispute selector's column is


@dataclass(frozen=True)
class BallotVotes:
    cells: list[Cell]
    voters: VoterMatrix
    votes: int


def read(ballot: Ballot, spec: BallotSpec) -> BallotVotes:
    """The ballot's votes as the analysis reads them, in one pass over the votes."""
    ids = _vote_ids(ballot)
    components = _positions(ids[:, 1], dict(ballot.version.components.values_list("pk", "key")))
    criteria = _positions(ids[:, 2], dict(ballot.criteria.values_list("pk", "key")))
    groups = _positions(ids[:, 3], dict(ballot.groups.values_list("pk", "key")), WorkingGroup.objects, "key")
    choice_rows = list(ballot.choices.values_list("pk", "key", "value"))
    choices = _positions(ids[:, 4], {pk: key for pk, key, _ in choice_rows})
    users = get_user_model().objects
    members = users.filter(memberships__group__in=ballot.groups.all()).distinct().values_list("pk", "username")
    voters = _positions(ids[:, 0], dict(members), users, "username")  # voters are or were members, as a rule
    return BallotVotes(
        cells=_cells(
            components,
            criteria,
            groups,
            choices,
            _disputed(ballot, ids),
            _conflicted(ballot, ids),
            *_carried(ballot, ids),
        ),  # fmt: skip
        voters=_matrix(spec, voters, components, criteria, groups, choices, {k: v for _, k, v in choice_rows}),
        votes=len(ids),
    )


def _vote_ids(ballot: Ballot) -> np.ndarray:
    """(votes × 5) int32, a column each: voter, component, criterion, group and choice of every current vote."""
    if connection.vendor != "postgresql":
        rows = list(ballot.votes.order_by().values_list(*COLUMNS))
        return np.asfortranarray(np.array(rows, dtype=np.int64).reshape(-1, len(COLUMNS)).astype(np.int32))
    return _from_arrays(ballot)


def _array(data, item: str) -> np.ndarray:
    """A one-dimensional array without NULLs from PostgreSQL's binary format: a header, then (length, value) pairs."""
    dimensions, has_nulls = int.from_bytes(data[0:4], "big"), int.from_bytes(data[4:8], "big")
    if dimensions != 1 or has_nulls:
        raise ValueError("expected a one-dimensional array without NULLs")
    size = int.from_bytes(data[12:16], "big")
    values = np.frombuffer(data, dtype=np.dtype([("length", ">i4"), ("value", item)]), offset=20, count=size)
    return values["value"].astype(np.int64)


class _Int8Array(Loader):
    """An int8[] in PostgreSQL's binary format, read by numpy as it comes: no Python int per element."""

    format = psycopg.pq.Format.BINARY

    def load(self, data) -> np.ndarray:
        return _array(data, ">i8")


class _Int4Array(_Int8Array):
    def load(self, data) -> np.ndarray:
        return _array(data, ">i4")


INT8_ARRAY, INT4_ARRAY = 1016, 1007  # the types' OIDs


def _from_arrays(ballot: Ballot) -> np.ndarray:
    """The ids of every vote in three arrays built by PostgreSQL, two ids to an int8, read by numpy as they come.

    The ids are cast to int4 first: one past 2**31 raises "integer out of range" rather than be garbled.
    """
    quote = connection.ops.quote_name
    voter, component, criterion, group, choice = (quote(c) for c in COLUMNS)
    query = (
        f"SELECT array_agg(({voter}::int4)::int8 << 32 | ({component}::int4)::int8),"
        f" array_agg(({criterion}::int4)::int8 << 32 | ({group}::int4)::int8), array_agg({choice}::int4)"
        f" FROM {quote(Vote._meta.db_table)} WHERE {quote(Vote._meta.get_field('ballot').column)} = %s"
    )
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.adapters.register_loader(INT8_ARRAY, _Int8Array)
        cursor.adapters.register_loader(INT4_ARRAY, _Int4Array)
        cursor.execute(query, [ballot.pk], binary=True)
        first, second, choices = cast(tuple, cursor.fetchone())  # an aggregate without GROUP BY: always one row
    if first is None:  # no vote at all
        return np.zeros((0, len(COLUMNS)), dtype=np.int32, order="F")
    ids = np.empty((len(first), len(COLUMNS)), dtype=np.int32, order="F")
    ids[:, 0], ids[:, 1] = first >> 32, first & 0xFFFFFFFF
    del first
    ids[:, 2], ids[:, 3] = second >> 32, second & 0xFFFFFFFF
    del second
    ids[:, 4] = choices
    return ids


def _disputed(ballot: Ballot, ids: np.ndarray) -> np.ndarray:
    """Whether a standing dispute covers each vote: one whose every set selector matches (VoteQuerySet.with_flags)."""
    covered = np.zeros(len(ids), dtype=bool)
    for dispute in ballot.disputes.standing().values(*AT):
        match = np.ones(len(ids), dtype=bool)
        for column, value in dispute.items():
            if value is not None:
                match &= ids[:, AT[column]] == value
        covered |= match
    return covered


def _conflicted(ballot: Ballot, ids: np.ndarray) -> np.ndarray:
    """Whether its voter's standing declared conflict of interest covers each vote: in the whole ballot or its
    component (VoteQuerySet.conflicted)."""
    covered = np.zeros(len(ids), dtype=bool)
    for member, component in ballot.conflicts.standing().values_list("member_id", "component_id"):
        match = ids[:, 0] == member
        if component is not None:
            match &= ids[:, 1] == component
        covered |= match
    return covered


def _carried(ballot: Ballot, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whether each vote is carried and not confirmed since, and whether it is outdated (`Vote.carried`): read
    apart, by cell, as the ids' order is the database's; only the rows of voters with carried votes are looked at."""
    carried, outdated = np.zeros(len(ids), dtype=bool), np.zeros(len(ids), dtype=bool)
    rows = ballot.votes.filter(carried=True).order_by().values_list("voter", "component", "criterion", "outdated")
    flags = {(voter, component, criterion): stale for voter, component, criterion, stale in rows}
    if not flags:
        return carried, outdated
    for i in np.flatnonzero(np.isin(ids[:, 0], [voter for voter, _, _ in flags])).tolist():
        stale = flags.get((int(ids[i, 0]), int(ids[i, 1]), int(ids[i, 2])))
        if stale is not None:
            carried[i], outdated[i] = True, stale
    return carried, outdated


class _Positions:
    """A column of ids as positions among its keys, the keys sorted in code-point order (as Python sorts them)."""

    def __init__(self, at: np.ndarray, keys: list[str]):
        self.at, self.keys = at, keys


def _positions(values: np.ndarray, known: dict[int, str], model=None, field: str = "") -> _Positions:
    """Each id's position among the keys of `known`, sorted; ids not known are looked up in `model`'s `field`."""
    pks = np.array(sorted(known), dtype=np.int64)
    if len(pks) and pks[-1] - pks[0] < 16 * len(pks) + 1024:  # ids close together: a lookup table, O(1) each
        table = np.full(int(pks[-1] - pks[0]) + 1, len(pks) - 1, dtype=np.int32)
        table[pks - pks[0]] = np.arange(len(pks), dtype=np.int32)
        found = table[np.clip(values - pks[0], 0, len(table) - 1)]
    else:
        found = np.minimum(np.searchsorted(pks, values), max(len(pks) - 1, 0))
    if len(values) and (not len(pks) or not np.array_equal(pks[found], values)):
        if model is None:
            raise ValueError("a vote refers to a row the ballot does not have")
        missing = np.setdiff1d(np.unique(values), pks).tolist()
        for start in range(0, len(missing), 500):
            known |= dict(model.filter(pk__in=missing[start : start + 500]).values_list("pk", field))
        return _positions(values, known)
    ordered = sorted(known, key=lambda pk: known[pk])
    rank = {pk: i for i, pk in enumerate(ordered)}
    rank_by_pk = np.array([rank[pk] for pk in pks.tolist()], dtype=np.int32)
    at = rank_by_pk[found] if len(values) else np.zeros(0, dtype=np.int32)
    return _Positions(at, [known[pk] for pk in ordered])


def _cells(
    components,
    criteria,
    groups,
    choices,
    disputed: np.ndarray,
    conflicted: np.ndarray,
    carried: np.ndarray,
    outdated: np.ndarray,
) -> list[Cell]:
    """How many votes share each (component, criterion, group, choice, disputed, conflicted, carried, outdated),
    sorted by keys."""
    columns = (components, criteria, groups, choices)
    code = np.zeros(len(disputed), dtype=np.int64)
    for column in columns:
        code *= len(column.keys)
        code += column.at
    code *= 16
    code += 8 * disputed.astype(np.int64) + 4 * conflicted.astype(np.int64) + 2 * carried.astype(np.int64) + outdated
    counts = np.bincount(code, minlength=16 * math.prod(len(column.keys) for column in columns))
    cells = []
    for value in np.flatnonzero(counts).tolist():
        n = int(counts[value])
        value, flags = divmod(value, 16)
        keys = []
        for column in reversed(columns):
            value, i = divmod(value, len(column.keys))
            keys.append(column.keys[i])
        component, criterion, group, choice = reversed(keys)
        cells.append(
            Cell(
                component, criterion, group, choice, bool(flags & 8), n,
                conflicted=bool(flags & 4), carried=bool(flags & 2), outdated=bool(flags & 1),
            )
        )  # fmt: skip
    return cells


def _matrix(spec, voters, components, criteria, groups, choices, value: dict[str, int]) -> VoterMatrix:
    """Each voter's values over the leaf cells, and the group they cast most votes for (then by key)."""
    cells = tuple((c.key, criterion) for c in spec.leaves for criterion in spec.criteria)
    voted = np.bincount(voters.at, minlength=len(voters.keys)) > 0
    names = [name for name, has in zip(voters.keys, voted.tolist(), strict=True) if has]
    rows = (np.cumsum(voted) - 1)[voters.at]  # the voters who voted, in code-point order

    column = {cell: i for i, cell in enumerate(cells)}
    table = np.array([[column.get((c, k), -1) for k in criteria.keys] for c in components.keys], dtype=np.int64)
    columns = table.reshape(len(components.keys), len(criteria.keys))[components.at, criteria.at]
    value_of = np.array([value[key] for key in choices.keys], dtype=np.int64)
    values = np.zeros((len(names), len(cells)), dtype=np.int64)
    voted = np.zeros((len(names), len(cells)), dtype=bool)
    on_leaf = columns >= 0
    values[rows[on_leaf], columns[on_leaf]] = value_of[choices.at[on_leaf]]
    voted[rows[on_leaf], columns[on_leaf]] = True

    n_groups = max(1, len(groups.keys))
    per_group = np.bincount(rows * n_groups + groups.at, minlength=len(names) * n_groups)
    chosen = per_group.reshape(len(names), n_groups).argmax(axis=1)  # on a tie the first: the smallest key
    return VoterMatrix(
        names=tuple(names),
        groups=tuple(groups.keys[i] for i in chosen.tolist()),
        cells=cells,
        values=values,
        voted=voted,
    )
