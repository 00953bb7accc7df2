"""A version's text as numbered lines: the unit passages, comments and suggestions refer to. Pure Python.

A line is a line of the Markdown source, `body.splitlines()`, numbered from 1; a passage is the lines
`first`..`last`, both included.
"""

from dataclasses import dataclass


class OutOfRange(ValueError):
    """A passage that is not within the text."""


@dataclass(frozen=True)
class Change:
    """Replace the lines `first`..`last` of a text with `replacement` (which may be empty: a deletion)."""

    key: int
    first: int
    last: int
    replacement: str


def passage(body: str, first: int, last: int) -> str:
    """The lines `first`..`last` of `body`, joined with newlines; OutOfRange says why a range does not fit."""
    lines = body.splitlines()
    if first < 1 or last < first:
        raise OutOfRange("A passage runs from a line to the same or a later line, counting from line 1.")
    if last > len(lines):
        raise OutOfRange(f"Lines {first}–{last} are outside the text, which has {len(lines)} lines.")
    return "\n".join(lines[first - 1 : last])


def overlapping(changes: list[Change]) -> tuple[Change, Change] | None:
    """The first two changes whose passages share a line, or None."""
    ordered = sorted(changes, key=lambda c: (c.first, c.last))
    for a, b in zip(ordered, ordered[1:], strict=False):
        if b.first <= a.last:
            return a, b
    return None


def apply(body: str, changes: list[Change]) -> tuple[str, dict[int, tuple[int, int]]]:
    """`body` with every change made, from the bottom up so each passage's numbers hold until it is replaced.

    Returns the new text and, by change key, the lines its replacement occupies in it (an empty range,
    `(n, n - 1)`, for a deletion before line n). Changes must not overlap (`overlapping`).
    """
    lines = body.splitlines()
    for change in sorted(changes, key=lambda c: c.first, reverse=True):
        lines[change.first - 1 : change.last] = change.replacement.splitlines()
    placed, shift = {}, 0
    for change in sorted(changes, key=lambda c: c.first):
        size = len(change.replacement.splitlines())
        start = change.first + shift
        placed[change.key] = (start, start + size - 1)
        shift += size - (change.last - change.first + 1)
    text = "\n".join(lines)
    return (text + "\n" if text and body.endswith(("\n", "\r")) else text), placed


def find(body: str, text: str, near: int) -> int | None:
    """Where the passage `text` starts in `body`: the occurrence closest to line `near`; None if it is gone."""
    lines, wanted = body.splitlines(), text.split("\n")  # a passage is its lines joined with newlines
    starts = [i + 1 for i in range(len(lines) - len(wanted) + 1) if lines[i : i + len(wanted)] == wanted]
    return min(starts, key=lambda s: (abs(s - near), s)) if starts else None
