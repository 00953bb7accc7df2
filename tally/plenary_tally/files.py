"""A bundle's files, from a zip or a directory, and the one error every check raises."""

import hashlib
import io
import json
import math
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

CHUNK = 1 << 16


class BundleError(Exception):
    """What is wrong with a bundle, and where: the file, the line when there is one, the problem."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        super().__init__(file, line, message)
        self.file, self.line, self.message = file, line, message

    def __str__(self) -> str:
        return f"{self.file}, line {self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


class Bundle:
    """A bundle's files by name, from a zip (possibly with everything in one folder) or a directory."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        self._prefix = ""
        if self.path.is_dir():
            self.names = {p.name for p in self.path.iterdir() if p.is_file()}
        elif self.path.is_file():
            try:
                self._zip = zipfile.ZipFile(self.path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise BundleError(self.path.name, None, f"not a zip file, or a truncated one ({exc})") from exc
            entries = [n for n in self._zip.namelist() if not n.endswith("/")]
            folders = {n.split("/")[0] for n in entries}
            if len(folders) == 1 and all(n.count("/") == 1 for n in entries):
                self._prefix = f"{folders.pop()}/"  # a zipped folder
            self.names = {n.removeprefix(self._prefix) for n in entries}
        else:
            raise BundleError(str(path), None, "no such file or directory")

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    @contextmanager
    def binary(self, name: str) -> Iterator[IO[bytes]]:
        if name not in self.names:
            raise BundleError(name, None, "missing from the bundle")
        try:
            with self._zip.open(self._prefix + name) if self._zip else (self.path / name).open("rb") as stream:
                yield stream
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise BundleError(name, None, f"damaged in the zip ({exc})") from exc
        except OSError as exc:
            raise BundleError(name, None, f"cannot be read ({exc})") from exc

    @contextmanager
    def text(self, name: str) -> Iterator[IO[str]]:
        """The file as UTF-8 text (a byte order mark is skipped), line ends as written."""
        with self.binary(name) as stream:
            try:
                yield io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
            except UnicodeDecodeError as exc:
                raise BundleError(name, None, f"not UTF-8 text ({exc.reason})") from exc

    @contextmanager
    def lines(self, name: str) -> Iterator[Iterator[str]]:
        """The file's lines as UTF-8 text, line ends kept, read as a stream; a bad byte is reported at its line."""
        with self.binary(name) as stream:
            yield _decoded(name, stream)

    def json(self, name: str) -> Any:
        with self.text(name) as stream:
            content = stream.read()
        return parse_json(name, content)

    def sha256(self, name: str) -> str:
        digest = hashlib.sha256()
        with self.binary(name) as stream:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()


def _decoded(name: str, stream: IO[bytes]) -> Iterator[str]:
    for number, line in enumerate(stream, 1):
        try:
            yield line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise BundleError(name, number, f"not UTF-8 text ({exc.reason} at byte {exc.start + 1})") from exc


@contextmanager
def open_bundle(path: str | Path) -> Iterator[Bundle]:
    bundle = Bundle(path)
    try:
        yield bundle
    finally:
        bundle.close()


class _Refused(ValueError):
    """What the strict decoder refuses, said without the place; `parse_json` adds the file and the line."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    if len({k for k, _ in pairs}) != len(pairs):
        keys = [k for k, _ in pairs]
        twice = next(k for k in keys if keys.count(k) > 1)
        raise _Refused(f"the key {twice!r} appears twice in one object")
    return dict(pairs)


def _no_constant(constant: str) -> None:
    raise _Refused(f"{constant} is not a JSON number")


def _finite(number: str) -> float:
    if not math.isfinite(value := float(number)):
        raise _Refused(f"{number} is too large a number")
    return value


# One decoder for every line of a file of a million: json.loads would build one per call.
_STRICT = json.JSONDecoder(object_pairs_hook=_unique_keys, parse_constant=_no_constant, parse_float=_finite)


def parse_json(name: str, content: str, line: int | None = None) -> Any:
    """Strict JSON: no NaN or Infinity, no key twice in one object. `line`: where `content` starts, if one line."""
    try:
        if content.startswith("\ufeff"):  # as json.loads says it
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", content, 0)
        return _STRICT.decode(content)
    except _Refused as exc:
        raise BundleError(name, line, str(exc)) from None
    except json.JSONDecodeError as exc:
        raise BundleError(name, line or exc.lineno, f"not valid JSON: {exc.msg} (column {exc.colno})") from exc


def parse_time(text: str) -> datetime:
    """ISO 8601, returned in UTC; a time without a UTC offset is taken as UTC.

    Raises ValueError, also for a time that has no UTC equivalent, such as 9999-12-31T23:59-01:00.
    """
    moment = datetime.fromisoformat(text.strip())
    try:
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except OverflowError:
        raise ValueError(f"{text!r} is out of range") from None
