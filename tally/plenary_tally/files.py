"""A bundle's files, from a zip or a directory, and the one error every check raises."""

import hashlib
import io
import json
import math
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, cast

from . import limits

CHUNK = 1 << 16


class BundleError(Exception):
    """What is wrong with a bundle, and where: the file, the line when there is one, the problem."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        super().__init__(file, line, message)
        self.file, self.line, self.message = file, line, message

    def __str__(self) -> str:
        return f"{self.file}, line {self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


_LINK_REFUSED = (
    "is a symbolic link: a bundle's files are plain files in its directory, and a link is neither followed nor read"
)


class Bundle:
    """A bundle's files by name, from a zip (possibly with everything in one folder) or a directory."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        self._prefix = ""
        self._links: set[str] = set()  # a directory's symbolic links: refused by name, never followed
        if self.path.is_dir():
            entries = list(self.path.iterdir())
            self._links = {p.name for p in entries if p.is_symlink()}
            self.names = {p.name for p in entries if p.is_file()} | self._links
        elif self.path.is_file():
            try:
                self._zip = zipfile.ZipFile(self.path)
                _check_zip(self.path.name, self._zip)
            except (zipfile.BadZipFile, OSError, struct.error) as exc:
                self.close()
                raise BundleError(self.path.name, None, f"not a zip file, or a truncated one ({exc})") from exc
            except BundleError:
                self.close()
                raise
            members = [n for n in self._zip.namelist() if not n.endswith("/")]
            folders = {n.split("/")[0] for n in members}
            if len(folders) == 1 and all(n.count("/") == 1 for n in members):
                self._prefix = f"{folders.pop()}/"  # a zipped folder
            self.names = {n.removeprefix(self._prefix) for n in members}
        else:
            raise BundleError(str(path), None, "no such file or directory")

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    @contextmanager
    def binary(self, name: str) -> Iterator[IO[bytes]]:
        if name not in self.names:
            raise BundleError(name, None, "missing from the bundle")
        if name in self._links:
            raise BundleError(name, None, _LINK_REFUSED)
        try:
            with self._zip.open(self._prefix + name) if self._zip else self._plain_file(name) as stream:
                yield stream
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise BundleError(name, None, f"damaged in the zip ({exc})") from exc
        except OSError as exc:
            raise BundleError(name, None, f"cannot be read ({exc})") from exc

    def _plain_file(self, name: str) -> IO[bytes]:
        """A directory's file, opened without following a symbolic link (one put there since the bundle was opened)."""
        try:
            descriptor = os.open(self.path / name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError as exc:
            if (self.path / name).is_symlink():
                raise BundleError(name, None, _LINK_REFUSED) from None
            raise BundleError(name, None, f"cannot be read ({exc.strerror})") from None
        stream = os.fdopen(descriptor, "rb")
        try:  # a zip's members were all checked when it was opened; a file is checked once open, by what it holds
            _check_size(name, os.fstat(descriptor).st_size)
        except BundleError:
            stream.close()
            raise
        return stream

    @contextmanager
    def lines(self, name: str) -> Iterator[Iterator[str]]:
        """The file's lines as UTF-8 text, line ends kept, read as a stream; a bad byte is reported at its line.

        A line longer than the file's limit (limits.MAX_LINE_BYTES) is refused once that much is read.
        """
        with self.binary(name) as stream:
            buffered: io.BufferedReader
            if isinstance(stream, io.BufferedReader):
                buffered = stream
            else:  # a zip's member: a zipfile.ZipExtFile, which is an io.BufferedIOBase
                buffered = io.BufferedReader(cast(io.BufferedIOBase, stream), CHUNK)
            yield _decoded(name, buffered, limits.MAX_LINE_BYTES.get(name, limits.MAX_FILE_BYTES))

    def json(self, name: str) -> Any:
        """The file as one strict JSON document (`parse_json`), read whole: no more than limits.max_bytes."""
        most = limits.max_bytes(name)
        with self.binary(name) as stream:
            content = stream.read(most + 1)
        if len(content) > most:
            raise BundleError(name, None, f"holds more than {_size(most)}, the most a bundle's {name} may hold")
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BundleError(name, None, f"not UTF-8 text ({exc.reason})") from exc
        return parse_json(name, text)

    def sha256(self, name: str) -> str:
        digest = hashlib.sha256()
        with self.binary(name) as stream:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()


def _decoded(name: str, stream: IO[bytes], most: int) -> Iterator[str]:
    number = 0
    while line := stream.readline(most + 1):
        number += 1
        if len(line) > most:
            raise BundleError(name, number, f"a line longer than {_size(most)}, the most a line of {name} may hold")
        try:
            yield line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise BundleError(name, number, f"not UTF-8 text ({exc.reason} at byte {exc.start + 1})") from exc


def _size(n: int) -> str:
    if n < limits.MiB:
        return f"{n} bytes"
    return f"{n // limits.MiB} MiB" if n % limits.MiB == 0 else f"{n / limits.MiB:.1f} MiB"


def _check_size(name: str, size: int) -> None:
    if size > (most := limits.max_bytes(name)):
        raise BundleError(
            name, None, f"is {_size(size)} uncompressed, more than the {_size(most)} a bundle's {name} may hold"
        )


_LOCAL = struct.Struct("<4s2B4HL2L2H")  # a zip's local file header, as zipfile reads it
_DESCRIPTOR = b"PK\x07\x08"


def _check_zip(archive_name: str, archive: zipfile.ZipFile) -> None:
    """The zip says one thing to every reader, and its members are within the limits, before any is read.

    Refused: a name twice (or twice but for case), a name an unzip would write elsewhere, an encrypted
    member or one neither stored nor deflated, a member larger or more compressed than the limits, a
    local header that disagrees with the central directory, and bytes no member of the central
    directory accounts for (members overlapping, hidden between others, or before the first).
    """
    infos = archive.infolist()
    seen: dict[str, str] = {}  # casefolded -> as written
    for info in infos:
        name = info.orig_filename
        if (twin := seen.get(name.casefold())) == name:
            raise BundleError(name, None, "is in the zip twice: one reader would take one copy, another the other")
        if twin is not None:
            raise BundleError(name, None, f"and {twin} are both in the zip, the same name but for case")
        seen[name.casefold()] = name
        if "\x00" in name or "\\" in name or re.search(r"(^|/)\.{0,2}(/|$)", name.removesuffix("/")):
            raise BundleError(archive_name, None, f"holds {name!r}, not a plain file name inside the bundle")
        if info.is_dir():
            continue
        member = name.split("/")[-1]
        if info.flag_bits & 0x1:
            raise BundleError(member, None, "is encrypted in the zip")
        if info.compress_type not in limits.ZIP_METHODS:
            raise BundleError(member, None, "is neither stored nor deflated in the zip")
        _check_size(member, info.file_size)
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.RATIO_FROM and ratio > limits.MAX_RATIO:
            raise BundleError(
                member,
                None,
                f"is compressed {ratio:.0f} times in the zip, more than the {limits.MAX_RATIO} a bundle's files may be",
            )
    end = 0
    raw = archive.fp
    assert raw is not None  # the archive was just opened from its file, and is not closed yet
    for info in sorted(infos, key=lambda i: i.header_offset):
        member = info.orig_filename
        if info.header_offset < end:
            raise BundleError(member, None, "overlaps another member in the zip")
        if info.header_offset > end:
            raise BundleError(
                archive_name,
                None,
                f"holds bytes before {member} that no member accounts for:"
                " a reader that follows the local headers could find another file there",
            )
        raw.seek(info.header_offset)
        header = raw.read(_LOCAL.size)
        (signature, _, _, flags, method, _, _, crc, compressed, size, name_length, extra_length) = _LOCAL.unpack(header)
        local_name, extra = raw.read(name_length), raw.read(extra_length)
        zip64 = dict(_zip64_sizes(extra, size, compressed))
        size, compressed = zip64.get("size", size), zip64.get("compressed", compressed)
        # with a data descriptor after the data (flag 8), a writer may leave the CRC and sizes here at 0
        declared = zip((crc, compressed, size), (info.CRC, info.compress_size, info.file_size), strict=True)
        agreed = all(local == central or (flags & 0x8 and local == 0) for local, central in declared)
        if (
            signature != b"PK\x03\x04"
            or local_name != info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")
            or not agreed
            or method != info.compress_type
        ):
            raise BundleError(member, None, "its local header in the zip disagrees with the zip's central directory")
        end = info.header_offset + _LOCAL.size + name_length + extra_length + info.compress_size
        if flags & 0x8:  # a data descriptor: optional signature, CRC, then both sizes, of 4 bytes or 8 (zip64)
            raw.seek(end)
            wide = 8 if zip64 else 4
            descriptor = raw.read(4 + 4 + 2 * wide)
            start = 4 if descriptor[:4] == _DESCRIPTOR else 0
            fields = struct.unpack("<L" + ("QQ" if wide == 8 else "LL"), descriptor[start : start + 4 + 2 * wide])
            if fields != (info.CRC, info.compress_size, info.file_size):
                raise BundleError(
                    member, None, "its data descriptor in the zip disagrees with the zip's central directory"
                )
            end += start + 4 + 2 * wide
    if end != archive.start_dir:
        raise BundleError(archive_name, None, "holds bytes before its central directory that no member accounts for")


def _zip64_sizes(extra: bytes, size: int, compressed: int) -> Iterator[tuple[str, int]]:
    """The sizes a local header's zip64 extra field gives, for the ones its 32-bit fields leave at 0xFFFFFFFF."""
    while len(extra) >= 4:
        kind, length = struct.unpack("<HH", extra[:4])
        if kind == 1:
            data = extra[4 : 4 + length]
            for field, value in (("size", size), ("compressed", compressed)):
                if value == 0xFFFFFFFF and len(data) >= 8:
                    yield field, struct.unpack("<Q", data[:8])[0]
                    data = data[8:]
            return
        extra = extra[4 + length :]


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


_WIDE_REFUSED = f"an integer beyond 64 bits ({limits.MIN_INT} to {limits.MAX_INT})"


class _Wide(str):
    """An integer beyond 64 bits, as written: what the second decoding leaves where the first refused one."""


def _int64(number: str) -> int:
    if len(number) < 19:  # 18 digits always fit: the usual case, without a second look
        return int(number)
    if not _fits(number):
        raise _Refused(_WIDE_REFUSED)
    return int(number)


def _fits(number: str) -> bool:
    # 20 characters hold every 64-bit integer; a longer one is not converted at all (it may have a million digits)
    return len(number) <= 20 and limits.MIN_INT <= int(number) <= limits.MAX_INT


# One decoder for every line of a file of a million: json.loads would build one per call.
_STRICT = json.JSONDecoder(
    object_pairs_hook=_unique_keys, parse_constant=_no_constant, parse_float=_finite, parse_int=_int64
)
# Only once _STRICT has refused an integer: the same document, each such integer left as written
_WIDE = json.JSONDecoder(parse_int=lambda number: int(number) if _fits(number) else _Wide(number))
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[][{}]')


def parse_json(name: str, content: str, line: int | None = None) -> Any:
    """Strict JSON: no NaN or Infinity, no key twice in one object, integers of 64 bits, nested at most
    limits.MAX_JSON_DEPTH deep. `line`: where `content` starts, if one line."""
    try:
        if content.startswith("\ufeff"):  # as json.loads says it
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", content, 0)
        _shallow(content)
        return _STRICT.decode(content)
    except _Refused as exc:
        message = _where_wide(content) if str(exc) == _WIDE_REFUSED else str(exc)
        raise BundleError(name, line, message) from None
    except json.JSONDecodeError as exc:
        raise BundleError(name, line or exc.lineno, f"not valid JSON: {exc.msg} (column {exc.colno})") from exc


def _shallow(content: str) -> None:
    """Refuse arrays and objects nested deeper than the limit, before decoding (which recurses)."""
    if content.count("[") + content.count("{") <= limits.MAX_JSON_DEPTH:
        return  # cannot be deeper: the usual case, a line of audit.jsonl
    depth = 0
    for token in _TOKEN.finditer(content):
        bracket = token.group()
        if bracket in ("[", "{"):
            depth += 1
            if depth > limits.MAX_JSON_DEPTH:
                at = token.start()
                where = f"line {content.count(chr(10), 0, at) + 1}, column {at - content.rfind(chr(10), 0, at)}"
                raise _Refused(f"arrays and objects nested deeper than {limits.MAX_JSON_DEPTH} ({where})")
        elif bracket in ("]", "}"):
            depth -= 1


def _where_wide(content: str) -> str:
    """What the strict decoder refused, with the path to the integer: `choices[0].value: 2361…`."""
    try:
        found = _wide_integer(_WIDE.decode(content))
    except (json.JSONDecodeError, TypeError):  # malformed further on: said without the place
        return _WIDE_REFUSED
    if found is None:  # not found: said without the place
        return _WIDE_REFUSED
    path, number = found
    shown = number if len(number) <= 40 else f"{number[:20]}… ({len(number)} digits)"
    return f"{path}: {shown} is {_WIDE_REFUSED}"


def _wide_integer(value: Any, path: str = "") -> tuple[str, str] | None:
    """The path to the first integer beyond 64 bits in a decoded document, such as `choices[0].value`, and it."""
    if isinstance(value, _Wide):
        return path or "the whole file", str(value)
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, inner in items:
        where = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else key
        if (found := _wide_integer(inner, where)) is not None:
            return found
    return None


def parse_time(text: str) -> datetime:
    """ISO 8601, returned in UTC; a time without a UTC offset is taken as UTC.

    Raises ValueError, also for a time that has no UTC equivalent, such as 9999-12-31T23:59-01:00.
    """
    moment = datetime.fromisoformat(text.strip())
    try:
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except OverflowError:
        raise ValueError(f"{text!r} is out of range") from None
