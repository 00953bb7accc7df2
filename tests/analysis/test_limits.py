"""Hostile bundles: zips that readers would read differently, zip bombs, endless lines, deep JSON, huge integers.

Each is refused with the file and what is wrong: by `recompute` (and exit 2 from the command), as
a problem line by `--verify`, and by `import_tally` with "Nothing was imported." and no row written.
A member too large or too compressed is refused from the zip's directory, before it is read.
"""

import io
import json
import warnings
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError

import plenary_tally as tally
from plenary_tally import BundleError, limits

from . import handmade
from .test_import import import_tally, row_counts
from .test_tally import run

MiB = limits.MiB


def refusal(path: Path) -> BundleError:
    with pytest.raises(BundleError) as caught:
        tally.recompute(path)
    return caught.value


def problems(path: Path) -> list[str]:
    return [str(p) for p in tally.verify(path).problems]


def forbid_reading(monkeypatch) -> None:
    """From now on no member of any zip may be opened: what is refused must be refused from the zip's directory."""

    def opened(self, name, *args, **kwargs):
        raise AssertionError(f"{name} was read")

    monkeypatch.setattr(zipfile.ZipFile, "open", opened)


def bundle_zip(tmp_path: Path, **replaced: bytes) -> Path:
    """The hand-made bundle as a zip, with the files in `replaced` written instead (stored, or deflated if large)."""
    folder = handmade.write_bundle(tmp_path / "b")
    target = tmp_path / "b.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.writestr(path.name, replaced.pop(path.name, path.read_bytes()))
        for name, content in replaced.items():
            archive.writestr(name, content)
    return target


def assert_import_refused(path: Path, message: str) -> None:
    before = row_counts()
    with pytest.raises(CommandError) as refused:
        import_tally(path)
    assert str(refused.value).startswith(f"Nothing was imported. {message}"), str(refused.value)
    assert row_counts() == before


# Finding 6: a zip that says one thing to one reader and another to the next ----------------------


def with_votes_twice(tmp_path: Path) -> Path:
    """votes.csv twice: zipfile reads the last copy, unzip asks or takes the first; only the first is hashed."""
    path = bundle_zip(tmp_path)
    other = handmade.csv_text(handmade.vote_rows()[1:])
    with warnings.catch_warnings(), zipfile.ZipFile(path, "a") as archive:
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name: 'votes.csv'"
        archive.writestr("votes.csv", other)
    return path


def with_a_local_header_edited(tmp_path: Path, field: str) -> Path:
    """votes.csv's local header changed in the bytes: the central directory still says what it said."""
    path = bundle_zip(tmp_path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        at = archive.getinfo("votes.csv").header_offset
    if field == "name":
        data[at + 30 : at + 39] = b"VOTES.CSV"
    else:  # the uncompressed size, which a reader that follows local headers goes by
        data[at + 22 : at + 26] = (int.from_bytes(data[at + 22 : at + 26], "little") + 1).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


def with_a_hidden_member(tmp_path: Path) -> Path:
    """Another votes.csv before the zip: zipfile finds the central directory at the end, unzip -l … the first."""
    hidden = tmp_path / "hidden.zip"
    with zipfile.ZipFile(hidden, "w") as archive:
        archive.writestr("votes.csv", handmade.csv_text(handmade.vote_rows()[1:]))
    path = bundle_zip(tmp_path)
    path.write_bytes(hidden.read_bytes()[: hidden.stat().st_size - 22 - 55] + path.read_bytes())
    return path


ZIPS_READ_TWO_WAYS = {
    "a name twice": (with_votes_twice, "votes.csv: is in the zip twice"),
    "a local header's name": (
        lambda p: with_a_local_header_edited(p, "name"),
        "votes.csv: its local header in the zip disagrees with the zip's central directory",
    ),
    "a local header's size": (
        lambda p: with_a_local_header_edited(p, "size"),
        "votes.csv: its local header in the zip disagrees with the zip's central directory",
    ),
    "a member before the first": (
        with_a_hidden_member,
        "b.zip: holds bytes before audit.jsonl that no member accounts",
    ),
}


@pytest.mark.parametrize("make, message", ZIPS_READ_TWO_WAYS.values(), ids=ZIPS_READ_TWO_WAYS.keys())
def test_a_zip_readers_would_read_differently_is_refused_before_anything_is_read(tmp_path, monkeypatch, make, message):
    path = make(tmp_path)
    forbid_reading(monkeypatch)

    assert str(refusal(path)).startswith(message)
    assert problems(path)[0].startswith(message)


class _Unseekable(io.RawIOBase):
    def __init__(self) -> None:
        self.written = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.written += data
        return len(data)


def test_a_zip_written_as_a_stream_with_its_sizes_after_each_member_still_verifies(tmp_path):
    folder = handmade.write_bundle(tmp_path / "b")
    out = _Unseekable()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:  # not seekable: data descriptors (flag 8)
        for path in sorted(folder.iterdir()):
            with archive.open(path.name, "w") as member:
                member.write(path.read_bytes())
    (tmp_path / "streamed.zip").write_bytes(out.written)

    assert tally.verify(tmp_path / "streamed.zip").ok


def test_a_name_twice_but_for_case_is_refused(tmp_path):
    path = bundle_zip(tmp_path, **{"Votes.csv": b"voter\n"})

    assert str(refusal(path)) == "Votes.csv: and votes.csv are both in the zip, the same name but for case"


@pytest.mark.parametrize("name", ["../votes.csv", "/etc/votes.csv", "a//votes.csv", "./votes.csv", "a\\votes.csv"])
def test_a_name_an_unzip_would_write_elsewhere_is_refused(tmp_path, name):
    path = bundle_zip(tmp_path, **{name: b"voter\n"})

    assert str(refusal(path)) == f"b.zip: holds {name!r}, not a plain file name inside the bundle"


@pytest.mark.parametrize("make, message", ZIPS_READ_TWO_WAYS.values(), ids=ZIPS_READ_TWO_WAYS.keys())
def test_import_refuses_a_zip_readers_would_read_differently_and_writes_nothing(db, tmp_path, make, message):
    assert_import_refused(make(tmp_path), message)


# Finding 7: zip bombs, and lines without end ---------------------------------------------------------------


def padded_ballot(size: int) -> bytes:
    """A valid ballot.json of `size` bytes: the hand-made one after that many spaces."""
    text = json.dumps(handmade.BALLOT).encode()
    return b" " * (size - len(text)) + text


def test_a_highly_compressed_member_is_refused_from_the_zip_directory(tmp_path, monkeypatch):
    path = bundle_zip(tmp_path, **{"ballot.json": padded_ballot(4 * MiB)})  # ~4 kB in the zip
    forbid_reading(monkeypatch)

    error = refusal(path)

    assert error.file == "ballot.json" and error.message.startswith("is compressed ")
    assert error.message.endswith(" times in the zip, more than the 100 a bundle's files may be")
    assert problems(path) == [str(error)]


def test_a_member_larger_than_its_limit_is_refused_from_the_zip_directory(tmp_path, monkeypatch):
    path = tmp_path / "b.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:  # stored: a ratio of 1
        archive.writestr("ballot.json", padded_ballot(33 * MiB))
        archive.writestr("votes.csv", handmade.csv_text(handmade.vote_rows()))
    forbid_reading(monkeypatch)

    assert (
        str(refusal(path))
        == "ballot.json: is 33 MiB uncompressed, more than the 32 MiB a bundle's ballot.json may hold"
    )


def test_a_file_of_a_directory_larger_than_its_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = handmade.write_votes(tmp_path)
    (path / "ballot.json").write_bytes(padded_ballot(33 * MiB))
    monkeypatch.setattr(Path, "open", lambda *a, **k: pytest.fail("read"))

    assert (
        str(refusal(path))
        == "ballot.json: is 33 MiB uncompressed, more than the 32 MiB a bundle's ballot.json may hold"
    )


def test_the_command_exits_2_for_a_zip_bomb(tmp_path):
    done = run(str(bundle_zip(tmp_path, **{"ballot.json": padded_ballot(4 * MiB)})))

    assert done.returncode == 2
    assert done.stderr.startswith("error: ballot.json: is compressed ")


def test_import_refuses_a_zip_bomb_and_writes_nothing(db, tmp_path):
    assert_import_refused(bundle_zip(tmp_path, **{"ballot.json": padded_ballot(4 * MiB)}), "ballot.json: is compressed")


def test_a_csv_line_longer_than_its_limit_is_refused_once_that_much_is_read(tmp_path):
    path = handmade.write_votes(tmp_path)
    with (path / "votes.csv").open("a") as votes:
        votes.write("ann," + "x" * MiB)  # no line end

    assert str(refusal(path)) == "votes.csv, line 11: a line longer than 1 MiB, the most a line of votes.csv may hold"


def test_an_audit_line_longer_than_its_limit_is_a_problem_of_verify(tmp_path):
    path = handmade.write_bundle(tmp_path / "b")
    with (path / "audit.jsonl").open("a") as audit:
        audit.write('{"payload": "' + "x" * 16 * MiB + '"}\n')
    lines = (path / "audit.jsonl").read_text().count("\n")

    assert f"audit.jsonl, line {lines}: a line longer than 16 MiB, the most a line of audit.jsonl may hold" in problems(
        path
    )


def test_a_million_vote_bundle_is_within_every_limit():
    """docs/performance.md: votes.csv ~150 MB, audit.jsonl ~600 MB, compressed 5 to 30 times; lines of a few kB."""
    assert limits.max_bytes("votes.csv") >= 4 * 150 * 10**6 and limits.max_bytes("audit.jsonl") >= 3 * 600 * 10**6
    assert limits.MAX_RATIO >= 3 * 30


# Finding 12: JSON nested deep, integers beyond 64 bits ------------------------------------------------------


def with_ballot(tmp_path: Path, edit) -> Path:
    path = handmade.write_votes(tmp_path)
    (path / "ballot.json").write_text(edit(json.dumps(handmade.BALLOT, indent=2)))
    return path


def deep(text: str) -> str:
    return text.replace('"version": "0.1"', '"version": "0.1", "x": ' + "[" * 100_000 + "]" * 100_000)


def wide(text: str) -> str:
    return text.replace('"value": 1', f'"value": {2**70}', 1)


def long(text: str) -> str:
    return text.replace('"value": 1', f'"value": {"9" * 5000}', 1)


HOSTILE_JSON = {
    "nested 100,000 deep": (deep, "ballot.json: arrays and objects nested deeper than 64 (line 7, column "),
    "2**70": (wide, f"ballot.json: choices[0].value: {2**70} is an integer beyond 64 bits"),
    "5000 digits": (long, "ballot.json: choices[0].value: 99999999999999999999… (5000 digits) is an integer beyond"),
}


@pytest.mark.parametrize("edit, message", HOSTILE_JSON.values(), ids=HOSTILE_JSON.keys())
def test_deep_json_and_wide_integers_are_refused_with_the_file_and_place(tmp_path, edit, message):
    path = with_ballot(tmp_path, edit)

    assert str(refusal(path)).startswith(message)
    done = run(str(path))
    assert done.returncode == 2 and done.stderr.startswith(f"error: {message}"), done.stderr


@pytest.mark.parametrize("edit, message", HOSTILE_JSON.values(), ids=HOSTILE_JSON.keys())
def test_import_refuses_deep_json_and_wide_integers_and_writes_nothing(db, tmp_path, edit, message):
    assert_import_refused(with_ballot(tmp_path, edit), message)


def test_the_widest_64_bit_integers_are_read():
    assert tally.files.parse_json("x.json", f"[{2**63 - 1}, {-(2**63)}]") == [2**63 - 1, -(2**63)]
    with pytest.raises(BundleError, match=r"^x.json: \[1\]: 9223372036854775808 is an integer beyond 64 bits"):
        tally.files.parse_json("x.json", f"[{2**63 - 1}, {2**63}]")


def test_an_audit_event_with_a_wide_integer_is_a_problem_of_verify_at_its_line(tmp_path):
    path = handmade.write_bundle(tmp_path / "b")
    text = (path / "audit.jsonl").read_text()
    (path / "audit.jsonl").write_text(text.replace('"seq": 2,', f'"seq": {2**64},', 1))

    assert f"audit.jsonl, line 2: seq: {2**64} is an integer beyond 64 bits" in " ".join(problems(path))
