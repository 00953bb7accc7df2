"""The roll call's pages: every vote in the ballot's order, a hundred at a time, at the same cost at any size.

The order is the ballot's cells (components by category, position and key, then criteria by
position), and within a cell the voters' handles. A page starts where the last one ended: its
"Next" link carries the last vote's place (`after=component/criterion/handle`), its "Previous"
link the first one's (`before=…`). Each page reads a cell at a time, through the index on
(ballot, component, criterion), and stops once it has its hundred votes: a page never counts
or skips over the votes before it, so the ten-thousandth page of a million votes costs what the
first does. A page whose votes are spread thin over many cells takes four queries at most, never
one per cell.
"""

from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, Value, When

from deliberation.models import Component

from .models import Ballot, Criterion, Vote, VoteQuerySet

PAGE = 100
FILTERS = {  # the roll call's filters, by the name the page's form and the API's query give each
    "group": "group__key",
    "voter": "voter__username",
    "component": "component__key",
    "choice": "choice__key",
}
FLAGS = ("undocumented", "disputed", "conflicted")


@dataclass(frozen=True)
class Cell:
    component: Component
    criterion: Criterion

    @property
    def key(self) -> str:
        return f"{self.component.key}/{self.criterion.key}"


@dataclass(frozen=True)
class Page:
    votes: list[Vote]
    before: str  # the `before=` of the previous page, "" when this is the first
    after: str  # the `after=` of the next page, "" when this is the last


def components(ballot: Ballot) -> list[Component]:
    """The components voted on, in the roll call's order."""
    return list(ballot.version.components.leaves().order_by("category", "position", "key"))


def filtered(ballot: Ballot, votes: VoteQuerySet, *, flag: str = "", **applied: str) -> VoteQuerySet:
    """The votes the roll call's filters leave, for the page and the API alike.

    `applied` holds a value per name of FILTERS (a key, or a handle with or without its @; empty ones are
    no filter); `flag` is "undocumented" (restricted choices without a rationale), "disputed" (under an
    open or upheld dispute) or "conflicted" (cast over a standing declared conflict of interest). The first two
    are plain conditions on the votes' own columns, which the indexes answer: the restricted choices by their
    ids, and the standing disputes' selectors read first; the third, a subquery on the declarations.
    """
    for name, value in applied.items():
        if value:
            votes = votes.filter(**{FILTERS[name]: value.lstrip("@")})
    if flag == "undocumented":  # undocumented_vetoes(), by the choices' ids: an index finds them
        restricted = [c.pk for c in ballot.choices.all() if c.requires_grant]
        votes = votes.filter(choice__in=restricted, rationale="")
    elif flag == "disputed":
        votes = votes.covered_by(ballot.disputes.standing())
    elif flag == "conflicted":
        votes = votes.conflicted()
    return votes


def cells(ballot: Ballot, components: list[Component]) -> list[Cell]:
    """The cells of these components, in the roll call's order."""
    criteria = list(ballot.criteria.order_by("position", "pk"))
    return [Cell(c, k) for c in components for k in criteria]


def page(votes: VoteQuerySet, cells: list[Cell], *, after: str = "", before: str = "") -> Page:
    """The page of `votes` that starts after the place `after`, or ends before `before`, or the first."""
    if before and (place := _place(cells, before)) is not None:
        rows = _walk(votes, cells, place, forward=False)
        if rows:  # else nothing comes before that place: the first page
            has_more = len(rows) > PAGE
            rows = list(reversed(rows[:PAGE]))
            return Page(rows, before=_key(rows[0]) if has_more else "", after=_key(rows[-1]))
    place = _place(cells, after) if after else None
    rows = _walk(votes, cells, place, forward=True)
    has_more = len(rows) > PAGE
    rows = rows[:PAGE]
    return Page(
        rows,
        before=_key(rows[0]) if place is not None and rows else "",
        after=_key(rows[-1]) if has_more else "",
    )


def _place(cells: list[Cell], key: str) -> tuple[int, str] | None:
    """A place in the roll call, `component/criterion/handle`, as (cell index, handle); None if not one."""
    parts = key.split("/", 2)
    if len(parts) != 3:
        return None
    index = {cell.key: i for i, cell in enumerate(cells)}.get(f"{parts[0]}/{parts[1]}")
    return None if index is None else (index, parts[2])


def _key(vote: Vote) -> str:
    return f"{vote.component.key}/{vote.criterion.key}/{vote.voter.get_username()}"


def _walk(votes: VoteQuerySet, cells: list[Cell], place: tuple[int, str] | None, *, forward: bool) -> list[Vote]:
    """Up to PAGE + 1 votes from `place` on (or back): at most four queries, however many cells and votes.

    The rest of the cell the place is in; then the next cell, whole; then as many cells as, voted on
    as densely as that one, should hold the rest of the page, twice over; then, if votes are that
    sparse, every remaining cell at once.
    """
    start, handle = place if place is not None else (0 if forward else len(cells) - 1, None)
    rest = cells[start:] if forward else cells[: start + 1][::-1]
    first = votes
    if handle is not None:
        first = votes.filter(**{"voter__username__gt" if forward else "voter__username__lt": handle})
    found = _read(first, rest[:1], PAGE + 1, forward) if rest else []
    rest = rest[1:]
    if len(found) <= PAGE and rest:
        next_cell = _read(votes, rest[:1], PAGE + 1 - len(found), forward)
        found, rest = found + next_cell, rest[1:]
        wanted = PAGE + 1 - len(found)
        if wanted > 0 and rest:
            batch = rest[: 2 * -(-wanted // max(len(next_cell), 1))]
            found, rest = found + _read(votes, batch, wanted, forward), rest[len(batch) :]
    if len(found) <= PAGE and rest:
        found += _read(votes, rest, PAGE + 1 - len(found), forward)
    return found


def _read(votes: VoteQuerySet, batch: list[Cell], limit: int, forward: bool) -> list[Vote]:
    """The first `limit` votes of these cells, in the roll call's order (or in reverse)."""
    where = Q()
    rank = []
    for i, cell in enumerate(batch):
        where |= Q(component=cell.component, criterion=cell.criterion)
        rank.append(When(component=cell.component, criterion=cell.criterion, then=Value(i)))
    ordered = votes.filter(where).annotate(cell_rank=Case(*rank, output_field=IntegerField()))
    order = ("cell_rank", "voter__username") if forward else ("cell_rank", "-voter__username")
    return list(ordered.order_by(*order)[:limit])
