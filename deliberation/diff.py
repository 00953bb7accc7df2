"""Differences between two versions: the text line by line, and the component list. Pure Python."""

import difflib
from dataclasses import dataclass, field, replace
from typing import Literal

Op = Literal["equal", "delete", "insert", "replace"]


@dataclass(frozen=True)
class Row:
    """One row of a side-by-side diff; either side may be empty."""

    op: Op
    old_no: int | None
    old: str | None
    new_no: int | None
    new: str | None
    mark: int | None = None  # the suggestion the new line came from, where one is known (`attribute`)


@dataclass(frozen=True)
class InlineLine:
    sign: Literal[" ", "-", "+"]
    old_no: int | None
    new_no: int | None
    text: str
    mark: int | None = None


def attribute(rows: list[Row], sources: dict[int, int]) -> list[Row]:
    """The rows with each changed new line marked with its source (`sources`: new line number -> suggestion)."""
    return [
        replace(row, mark=sources.get(row.new_no)) if row.op != "equal" and row.new_no in sources else row
        for row in rows
    ]


def text_diff(old: str, new: str) -> list[Row]:
    a, b = old.splitlines(), new.splitlines()
    rows: list[Row] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        for k in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + k, j1 + k
            rows.append(
                Row(
                    op=op,
                    old_no=i + 1 if i < i2 else None,
                    old=a[i] if i < i2 else None,
                    new_no=j + 1 if j < j2 else None,
                    new=b[j] if j < j2 else None,
                )
            )
    return rows


def inline(rows: list[Row]) -> list[InlineLine]:
    """The same diff as one column: removed lines, then added lines, for each change."""
    lines: list[InlineLine] = []
    pending_added: list[InlineLine] = []
    for row in rows:
        if row.op == "equal":
            lines += pending_added
            pending_added = []
            lines.append(InlineLine(" ", row.old_no, row.new_no, row.old or ""))
            continue
        if row.old is not None:
            lines.append(InlineLine("-", row.old_no, None, row.old))
        if row.new is not None:
            pending_added.append(InlineLine("+", None, row.new_no, row.new, row.mark))
    return lines + pending_added


@dataclass(frozen=True)
class ComponentSpec:
    key: str
    title: str
    category: str
    description: str = ""
    aggregate: tuple[str, tuple[str, ...]] | None = None  # (rule, sorted part keys)


@dataclass(frozen=True)
class ComponentChange:
    key: str
    kind: Literal["added", "removed", "changed"]
    old: ComponentSpec | None
    new: ComponentSpec | None
    fields: tuple[str, ...] = field(default=())


def component_changes(old: list[ComponentSpec], new: list[ComponentSpec]) -> list[ComponentChange]:
    """Components added, removed and changed between two versions, matched by their stable key."""
    before, after = {c.key: c for c in old}, {c.key: c for c in new}
    changes: list[ComponentChange] = []
    for key in sorted(before.keys() | after.keys()):
        a, b = before.get(key), after.get(key)
        if a is None:
            changes.append(ComponentChange(key, "added", None, b))
        elif b is None:
            changes.append(ComponentChange(key, "removed", a, None))
        else:
            fields = tuple(
                f for f in ("title", "category", "description", "aggregate") if getattr(a, f) != getattr(b, f)
            )
            if fields:
                changes.append(ComponentChange(key, "changed", a, b, fields))
    return changes
