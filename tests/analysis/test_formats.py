"""A bundle's format names and votes.csv's columns are stated once, in `plenary_tally.formats`.

The exporter writes them and the reader checks them from that one place: a bundle the server writes
is what the reader expects, and the values themselves are the published format (docs/tally-format.md).
"""

import csv
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import plenary_tally
from analysis import bundles
from plenary_tally import ballot as ballot_file
from plenary_tally import formats, outcomes, verification, votes


def test_the_format_is_what_docs_tally_format_md_publishes():
    assert (formats.TALLY, formats.BALLOT, formats.OUTCOMES) == (
        "plenary-tally/1",
        "plenary-ballot/1",
        "plenary-outcomes/1",
    )
    assert formats.VOTE_COLUMNS == (
        "voter", "working_group", "component", "criterion", "choice", "value", "cast_at", "rationale", "disputed"
    )  # fmt: skip
    assert [(f["name"], f["type"]) for f in formats.VOTE_FIELDS] == list(
        zip(formats.VOTE_COLUMNS, ["string"] * 5 + ["integer", "datetime", "string", "boolean"], strict=True)
    )
    assert all(f["description"] for f in formats.VOTE_FIELDS)


def test_the_reader_checks_against_the_same_names():
    assert (verification.FORMAT, ballot_file.FORMAT, outcomes.FORMAT) == (
        formats.TALLY,
        formats.BALLOT,
        formats.OUTCOMES,
    )
    assert votes.COLUMNS is plenary_tally.COLUMNS is formats.VOTE_COLUMNS


def test_the_exporter_writes_the_names_the_reader_expects(ballot, cast, bob):
    cast(bob, "code", "use", "required")
    out = io.BytesIO()
    bundles.export_bundle(ballot, out)
    with zipfile.ZipFile(out) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}

    assert json.loads(files["manifest.json"])["format"] == formats.TALLY
    assert json.loads(files["ballot.json"])["format"] == formats.BALLOT
    assert json.loads(files["outcomes.json"])["format"] == formats.OUTCOMES
    assert tuple(next(csv.reader(io.StringIO(files["votes.csv"].decode())))) == formats.VOTE_COLUMNS
    [resource] = json.loads(files["datapackage.json"])["resources"]
    assert resource["schema"]["fields"] == list(formats.VOTE_FIELDS)
    assert not hasattr(bundles, "VOTE_FIELDS") and not hasattr(bundles, "FORMAT")


def test_the_formats_module_needs_no_django():
    code = "import sys, plenary_tally.formats; assert not any(m.startswith('django') for m in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
