"""`import_tally` with bundles broken by hypothesis: mutations of the hand-made ballot.json and votes.csv.

Keys left out, renamed or given hostile values; unknown choices, criteria and components; votes
given twice; cells that a spreadsheet would run; bad encodings, byte order marks, NUL bytes and
files cut short; zips cut short; manifests whose hashes no longer hold. Whatever comes in,
`import_tally` either imports it, and then the ballot's votes are those of the file and its
export verifies, or it refuses it with "Nothing was imported." and the file, the line where there
is one, and the problem; and then no row of any table has changed, audit log included. The
reader without Django (`python -m analysis.tally`) refuses what it cannot read with the same kind
of message, never a traceback.
"""

import copy
import csv
import io
import json
import re
import tempfile
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from hypothesis import example, given
from hypothesis import strategies as st

import plenary_tally as tally
from analysis import bundles
from plenary_tally.csvcells import restore
from tests.fuzzing import NASTY, fuzz, rolled_back, rows, text
from votes.models import Ballot

from . import handmade

KNOWN = ["code", "data-a", "data-b", "datasets", "alpha", "beta", "required", "abstain", "object", "not-necessary"]
KNOWN += ["use", "study", "ann", "bo", "cy", "-dee", "@ann", "Data", "Code", "mean", "sum", "open", "closed"]
FORMULAS = ["=1+1", "+1", "-1", "@SUM(A1)", "\t=x", "\r=x", "＝1+1", "'=quoted", "''"]
REFUSED = re.compile(r"Nothing was imported\. (ballot\.json|votes\.csv|manifest\.json|bundle\.zip)(, line \d+)?: \S")


def json_values() -> st.SearchStrategy:
    """What a hand-edited ballot.json might hold where something else belongs."""
    return st.one_of(
        text(60),
        st.sampled_from(KNOWN + NASTY),
        st.integers(),
        st.sampled_from([2**31, -(2**31) - 1, 2**32, 2**63, 10**30, -1, 0]),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.none(),
        st.lists(st.sampled_from(KNOWN), max_size=3),
        st.dictionaries(st.sampled_from(["key", "label", "value", "rule", "of"]), st.sampled_from(KNOWN), max_size=2),
        st.sampled_from(
            ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "2024-02-30T10:00", "2026-03-01T09:00Z"]
        ),
    )


def paths(value, path=()) -> list[tuple]:
    """Every place in a JSON document, as the keys and indices that lead to it."""
    found = [path] if path else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths(inner, (*path, key))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            found += paths(inner, (*path, i))
    return found


def parent(document, path: tuple):
    for step in path[:-1]:
        document = document[step]
    return document


@st.composite
def edited_ballot(draw, ballot: dict) -> None:
    """One edit of ballot.json: a value replaced, a key left out or renamed, an item given twice."""
    path = draw(st.sampled_from(paths(ballot)))
    container, last = parent(ballot, path), path[-1]
    how = draw(st.sampled_from(["replace", "replace", "drop", "rename", "twice"]))
    if how == "replace":
        container[last] = draw(json_values())
    elif how == "drop":
        del container[last]
    elif how == "rename" and isinstance(container, dict):
        container[draw(st.sampled_from(["Key", "keys", "label ", "", "format", "value"]))] = container.pop(last)
    elif isinstance(container, list):
        container.append(copy.deepcopy(container[last]))


@st.composite
def edited_votes(draw, rows_: list[dict]) -> None:
    """One edit of votes.csv's rows: a cell replaced, a row given twice or left out."""
    how = draw(st.sampled_from(["cell", "cell", "cell", "twice", "drop"]))
    if not rows_:
        return
    i = draw(st.integers(0, len(rows_) - 1))
    if how == "cell":
        column = draw(st.sampled_from(handmade.COLUMNS))
        rows_[i][column] = draw(st.one_of(text(40), st.sampled_from(KNOWN + FORMULAS), json_values().map(str)))
    elif how == "twice":
        rows_.append(dict(rows_[i]))
    else:
        del rows_[i]


DAMAGE = ["bom", "latin-1", "utf-16", "bad byte", "nul", "cut short", "crlf", "huge cell", "huge number"]


def edited_bytes(data: bytes, how: str, where: float) -> bytes:
    """votes.csv or ballot.json, damaged as files are damaged on their way."""
    at = int(len(data) * where)
    return {
        "bom": lambda: b"\xef\xbb\xbf" + data,
        "latin-1": lambda: data.decode().encode("latin-1", errors="replace") + "é".encode("latin-1"),
        "utf-16": lambda: data.decode().encode("utf-16"),
        "bad byte": lambda: data[:at] + b"\xff\xfe" + data[at:],
        "nul": lambda: data[:at] + b"\x00" + data[at:],
        "cut short": lambda: data[:at],
        "crlf": lambda: data.replace(b"\n", b"\r\n"),
        "huge cell": lambda: data.rstrip(b"\n") + b"," + b"x" * 140_000 + b"\n",
        "huge number": lambda: data.replace(b": 2.0", b": 1e400", 1),
    }[how]()


@st.composite
def bundles_(draw) -> dict:
    ballot = copy.deepcopy(handmade.BALLOT)
    votes = [dict(r) for r in handmade.vote_rows()]
    for _ in range(draw(st.integers(0, 2))):
        draw(edited_ballot(ballot))
    for _ in range(draw(st.integers(0, 2))):
        draw(edited_votes(votes))
    damaged = draw(
        st.one_of(
            st.none(),
            st.tuples(
                st.sampled_from(["ballot.json", "votes.csv"]),
                st.sampled_from(DAMAGE),
                st.floats(0, 1),
            ),
        )
    )
    return {
        "ballot": ballot,
        "votes": votes,
        "damaged": damaged,
        "manifest": draw(st.sampled_from([None, "holds", "stale"])),
        "zipped": draw(st.sampled_from([False, True, "cut short"])),
    }


def write(spec: dict, folder: Path) -> Path:
    path = handmade.write_votes(folder / "bundle", spec["ballot"], spec["votes"])
    if spec["manifest"]:
        manifest = {"format": "plenary-tally/1", "files": {}}
        (path / "manifest.json").write_text(json.dumps(manifest))
        handmade.rehash(path)
    if spec["damaged"]:
        name, how, where = spec["damaged"]
        (path / name).write_bytes(edited_bytes((path / name).read_bytes(), how, where))
    if spec["manifest"] == "holds":
        handmade.rehash(path)
    if spec["zipped"]:
        path = handmade.zip_dir(path, folder / "bundle.zip")
        if spec["zipped"] == "cut short":
            path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    return path


def row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def votes_in_the_file(path: Path) -> set[tuple]:
    """votes.csv read as the format says, by the standard library alone: one leading ' removed per cell."""
    with tally.open_bundle(path) as bundle, bundle.binary("votes.csv") as stream:
        text_ = stream.read().decode("utf-8-sig")
    found = set()
    for row in csv.DictReader(io.StringIO(text_, newline="")):
        cells = {k: v if k == "value" else restore(v) for k, v in row.items()}
        moment = datetime.fromisoformat(cells["cast_at"]).astimezone(UTC) if cells["cast_at"].strip() else None
        found.add(
            (
                cells["voter"],
                cells["working_group"],
                cells["component"],
                cells["criterion"],
                cells["choice"],
                cells["rationale"].strip(),
                moment,
            )
        )
    return found


def votes_imported(ballot: Ballot, with_times: set) -> set[tuple]:
    timed = {v[:6] for v in with_times if v[6] is not None}
    return {
        (
            v.voter.username,
            v.group.key,
            v.component.key,
            v.criterion.key,
            v.choice.key,
            v.rationale,
            v.cast_at
            if (v.voter.username, v.group.key, v.component.key, v.criterion.key, v.choice.key, v.rationale) in timed
            else None,
        )
        for v in ballot.votes.select_related("voter", "group", "component", "criterion", "choice")
    }


def holds_nul(spec: dict) -> bool:
    """Whether any text of the bundle holds a NUL character, which nothing in Plenary may hold."""
    in_ballot = "\\u0000" in json.dumps(spec["ballot"])
    in_votes = any("\x00" in str(cell) for row in spec["votes"] for cell in row.values())
    return in_ballot or in_votes or (spec["damaged"] is not None and spec["damaged"][1] == "nul")


def read_without_django(path: Path) -> None:
    """`python -m analysis.tally PATH`: outcomes, or a BundleError naming the file; never anything else."""
    try:
        tally.recompute(path)
    except tally.BundleError as exc:
        assert exc.file and exc.message


def spec(ballot=None, votes=None, *, damaged=None, manifest=None, zipped=False, **changes) -> dict:
    """A bundle to write: the hand-made one, with `changes` to ballot.json's top level, and its votes."""
    ballot = copy.deepcopy(ballot or handmade.BALLOT) | changes
    votes = handmade.vote_rows(ballot=ballot) if votes is None else votes
    return {"ballot": ballot, "votes": votes, "damaged": damaged, "manifest": manifest, "zipped": zipped}


def edit(change) -> dict:
    ballot = copy.deepcopy(handmade.BALLOT)
    change(ballot)
    return ballot


def every_vote(**cells) -> list[dict]:
    return [row | cells for row in handmade.vote_rows()]


@pytest.mark.slow
@fuzz(30)
@given(spec=bundles_())
@example(spec=spec(clustering={"k": 2, "seed": 2**32}))  # more than k-means takes as its random state
@example(spec=spec(title="Vote\x00"))
@example(spec=spec(votes=every_vote(rationale="NUL\x00 in the middle")))
@example(spec=spec(damaged=("votes.csv", "nul", 0.5), manifest="holds", zipped=True))
@example(spec=spec(votes=every_vote(cast_at="9999-12-31T23:59:59-23:59")))  # no time in UTC
@example(spec=spec(edit(lambda b: b["disputes"][0]["selection"].update(group=["beta"]))))
@example(spec=spec(edit(lambda b: b["components"][3]["aggregate"].update(of=[["data-a"]]))))
@example(spec=spec(edit(lambda b: b["methodology"]["bands"][0].update(min=10**400))))
@example(spec=spec(votes=every_vote(rationale='=HYPERLINK("http://evil.example")')))
@example(spec=spec(damaged=("ballot.json", "huge number", 0)))  # a band at 1e400 × μ
@example(spec=spec(edit(lambda b: b["disputes"][0]["selection"].update(criterion="study"))))  # refused after the votes
def test_a_broken_bundle_is_imported_whole_or_refused_with_its_file_line_and_problem(db, spec):
    with tempfile.TemporaryDirectory() as folder, rolled_back():
        path = write(spec, Path(folder))
        read_without_django(path)
        before, counts = rows(), row_counts()

        try:
            call_command("import_tally", str(path), stdout=StringIO())
        except CommandError as refused:
            assert REFUSED.match(str(refused)), str(refused)
            assert row_counts() == counts
            assert rows() == before
            return

        assert not holds_nul(spec), "a NUL character was imported"

        ballot = Ballot.objects.get(definition__slug=spec["ballot"]["definition"]["slug"])
        in_file = votes_in_the_file(path)
        assert votes_imported(ballot, in_file) == in_file
        bundles.export_bundle(ballot, Path(folder) / "exported.zip")
        report = tally.verify(Path(folder) / "exported.zip")
        assert report.ok, report.lines()
