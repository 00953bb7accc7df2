"""Spreadsheet formula neutralisation for the cells of `votes.csv`. Pure: no Django, no database.

A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return as a
formula, so a voter's handle or rationale could make an observer's spreadsheet do something.
On export such a cell gets a `'` in front, and so does a cell that itself starts with `'`, so
that readers can always remove exactly one leading `'` (docs/tally-format.md): `restore` undoes
`neutralise` for every string.
"""

ESCAPE = "'"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """The cell as written to the CSV: with a `'` in front if a spreadsheet would run it, or it starts with `'`."""
    return ESCAPE + cell if cell.startswith((*FORMULA_STARTS, ESCAPE)) else cell


def restore(cell: str) -> str:
    """The cell as the person wrote it: one leading `'` removed."""
    return cell.removeprefix(ESCAPE)
