"""The JSON API's search: /api/search?q=…, with the page's visibility, ranking and limit (search/engine.py)."""

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from config.pagination import MAX_OFFSET

from . import engine
from .text import QUERY_MAX_LENGTH, QueryRefused

router = Router(tags=["search"])


class Refused(Schema):
    detail: str


class HitOut(Schema):
    """One hit, in the order of rank. The rank itself is not given: on SQLite, bm25() weighs a word by how many rows
    of the whole index hold it, drafts in progress too, so its value would tell an outsider about them."""

    kind: str = Field(description="definition, version, component, comment or suggestion")
    title: str
    url: str = Field(description="The page of the passage: a version's line (`#L12`), a comment's anchor, …")
    definition: str
    version: str | None
    line: int | None = Field(description="The line of the version's text the hit is on, where it is on one.")
    snippet: str = Field(description="Plain text around the matches, never HTML.")
    highlights: list[tuple[int, int]] = Field(description="Where each match starts and ends in `snippet`.")


class SearchOut(Schema):
    query: str
    count: int
    items: list[HitOut]


def _out(hit: engine.Hit) -> dict:
    snippet, highlights = hit.snippet_text
    return {
        "kind": hit.kind,
        "title": hit.title,
        "url": hit.url,
        "definition": hit.definition,
        "version": hit.version,
        "line": hit.line,
        "snippet": snippet,
        "highlights": highlights,
    }


@router.get("/search", response={200: SearchOut, 400: Refused})
def search(
    request: HttpRequest,
    q: str = Query("", description=f'Words, "a phrase", -word, or; at most {QUERY_MAX_LENGTH} characters.'),
    limit: int = Query(engine.PAGE_SIZE, ge=1, le=engine.MAX_PAGE_SIZE, description="At most 50."),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
):
    """Definitions, versions' texts, components, comments and suggestions that match, best first: what the
    person asking may read only (a draft in progress to its organizers, no hidden comment to anyone)."""
    try:
        results = engine.search(request.user, q)
    except QueryRefused as refused:
        raise HttpError(400, str(refused)) from refused
    return {
        "query": results.query,
        "count": results.count(),
        "items": [_out(h) for h in results[offset : offset + limit]],
    }
