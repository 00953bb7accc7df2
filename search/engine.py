"""Search over what a person may read: one function, `search(user, text)`, over two backends.

What a person may find is what the pages let them read, and is decided by the pages' own QuerySet
methods (`VISIBLE`): a draft in progress and everything on it is found by those who may see the
draft only, and a hidden comment by nobody. Each backend filters by them in the query that counts
and ranks, so what may not be seen is never counted, ranked or cut into a snippet.

PostgreSQL ranks with ts_rank over weighted vectors (search/index.py) and cuts snippets with
ts_headline; SQLite with FTS5's bm25() and snippet(). Both read PostgreSQL's websearch syntax:
words, "a phrase", -word, or. Ranks are comparable within one backend only.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import connection
from django.db.models import CharField, F, QuerySet, Value
from django.db.models.functions import Concat

from deliberation.models import Comment, Component, Definition, DraftVersion, Suggestion

from . import index
from .text import ELLIPSIS, START, STOP, check_query, fragments, fts5_query, line_of, plain

PAGE_SIZE = 20
MAX_PAGE_SIZE = 50  # snippets are the costly part: the API gives at most this many at once

MODELS = {
    "definition": Definition,
    "version": DraftVersion,
    "component": Component,
    "comment": Comment,
    "suggestion": Suggestion,
}
# Who may find what: the rows of each kind `user` may read, by the QuerySet methods the pages and the API use.
VISIBLE: dict[str, Callable[..., QuerySet]] = {
    "definition": lambda user: Definition.objects.all(),  # definitions are public
    "version": lambda user: DraftVersion.objects.visible_to(user),
    "component": lambda user: Component.objects.visible_to(user),
    "comment": lambda user: Comment.objects.visible_to(user).shown(),
    "suggestion": lambda user: Suggestion.objects.visible_to(user),
}
# What each kind's page needs to say where it is and link to it.
RELATED = {
    "definition": (),
    "version": ("definition",),
    "component": ("version__definition",),
    "comment": ("version__definition", "author", "component", "suggestion"),
    "suggestion": ("version__definition", "author"),
}


@dataclass(frozen=True)
class Hit:
    """One thing found: what it is, where it is, a link to the passage, and its snippet in (text, matched) pieces."""

    kind: str
    title: str
    url: str
    place: str  # the definition, and the version the hit is in
    definition: str  # slug
    version: str | None  # label
    line: int | None  # the version's line the match is on (a version's text, a passage's comment, a suggestion)
    rank: float
    snippet: list[tuple[str, bool]] = field(default_factory=list)
    title_marks: list[tuple[str, bool]] = field(default_factory=list)

    @property
    def snippet_text(self) -> tuple[str, list[tuple[int, int]]]:
        return plain(self.snippet)


class Results:
    """The hits for one query, ranked best first; counted and cut into pages lazily, as a QuerySet is, so that
    Django's Paginator pages it. The query is checked on creation (`QueryRefused`)."""

    def __init__(self, user, text: str):
        self.query = check_query(text)
        self.backend = _backend(user, self.query)
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = self.backend.count() if self.backend else 0
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list[Hit]:
        if not isinstance(window, slice) or not self.backend:
            return []
        start = window.start or 0
        stop = window.stop if window.stop is not None else start + PAGE_SIZE
        if stop <= start:
            return []
        return self.backend.hits(start, stop - start)


def search(user, text: str) -> Results:
    """Everything `user` may read that matches `text`, best first. Raises QueryRefused for an overlong query."""
    return Results(user, text)


def _backend(user, query: str) -> "_Backend | None":
    if not query:
        return None
    if connection.vendor == "postgresql":
        return _PostgreSQL(user, query)
    terms = fts5_query(query)
    return _SQLite(user, terms) if terms else None


class _Backend:
    def __init__(self, user, query: str):
        self.user = user
        self.query = query

    def count(self) -> int:
        raise NotImplementedError

    def ranked(self, offset: int, limit: int) -> list[tuple[str, int, float]]:
        """(kind, id, rank) of the hits `offset`..`offset + limit`, best first."""
        raise NotImplementedError

    def marked(self, kind: str, pks: list[int]) -> dict[int, tuple[str, str]]:
        """Each hit's title and snippet, their matches between START and STOP."""
        raise NotImplementedError

    def hits(self, offset: int, limit: int) -> list[Hit]:
        ranked = self.ranked(offset, limit)
        by_kind: dict[str, list[int]] = {}
        for kind, pk, _ in ranked:
            by_kind.setdefault(kind, []).append(pk)
        found, marks = {}, {}
        for kind, pks in by_kind.items():
            found[kind] = MODELS[kind]._default_manager.select_related(*RELATED[kind]).in_bulk(pks)
            marks[kind] = self.marked(kind, pks)
        return [
            _hit(kind, found[kind][pk], rank, *marks[kind].get(pk, ("", "")))
            for kind, pk, rank in ranked
            if pk in found[kind]  # deleted since it was ranked
        ]


class _PostgreSQL(_Backend):
    def _search_query(self) -> SearchQuery:
        return SearchQuery(self.query, search_type="websearch", config=index.CONFIG)

    def _matches(self, kind: str) -> QuerySet:
        """The visible rows of `kind` that match, filtered on the vector the GIN index is built over."""
        visible = VISIBLE[kind](self.user).order_by().values("pk")
        return (
            MODELS[kind]
            ._default_manager.filter(pk__in=visible)
            .annotate(document=index.VECTORS[kind])
            .filter(document=self._search_query())
        )

    def _ranked(self) -> QuerySet:
        parts = [
            self._matches(kind)
            .annotate(
                kind=Value(kind, output_field=CharField()),
                # normalization 1: divided by 1 + the log of the text's length, so a mention in a long text counts less
                rank=SearchRank(F("document"), self._search_query(), normalization=Value(1)),
            )
            .values_list("kind", "pk", "rank")
            .order_by()
            for kind in index.KINDS
        ]
        return parts[0].union(*parts[1:], all=True)

    def count(self) -> int:
        return self._ranked().count()

    def ranked(self, offset: int, limit: int) -> list[tuple[str, int, float]]:
        return list(self._ranked().order_by("-rank", "kind", "id")[offset : offset + limit])

    def marked(self, kind: str, pks: list[int]) -> dict[int, tuple[str, str]]:
        query = self._search_query()
        columns = index.TEXT_COLUMNS[kind]
        text = F(columns[0]) if len(columns) == 1 else Concat(*_between(columns, Value("\n")))
        # One excerpt around the best match, as SQLite's snippet() gives (fragment mode starts a fragment at its match)
        snippet = SearchHeadline(
            text, query, config=index.CONFIG, start_sel=START, stop_sel=STOP, max_words=35, min_words=15
        )
        title_column = index.TITLE_COLUMNS.get(kind)
        title = (
            SearchHeadline(title_column, query, config=index.CONFIG, start_sel=START, stop_sel=STOP, highlight_all=True)
            if title_column
            else Value("")
        )
        rows = MODELS[kind]._default_manager.filter(pk__in=pks).annotate(marked_title=title, marked_text=snippet)
        return {pk: (t, s) for pk, t, s in rows.values_list("pk", "marked_title", "marked_text")}


def _between(items: tuple, separator) -> list:
    joined = []
    for item in items:
        joined += [F(item), separator]
    return joined[:-1]


class _SQLite(_Backend):
    """FTS5 over `search_index` (search/index.py); the visible ids of each kind come from the same QuerySets, as
    subqueries the hits are checked against."""

    def _hits_sql(self) -> tuple[str, list]:
        conditions, params = [], [self.query]
        for kind in index.KINDS:
            sql, visible_params = VISIBLE[kind](self.user).order_by().values("pk").query.sql_with_params()
            conditions.append(
                f"(id >> {index.KIND_BITS} = {index.kind_number(kind)} AND (id & {index.ID_MASK}) IN ({sql}))"
            )
            params += list(visible_params)
        sql = (
            "WITH hits AS MATERIALIZED (SELECT rowid AS id, "
            f"bm25(search_index, {index.TITLE_WEIGHT}, {index.TEXT_WEIGHT}) AS score "
            "FROM search_index WHERE search_index MATCH %s) "
            f"SELECT id, score FROM hits WHERE {' OR '.join(conditions)}"
        )
        return sql, params

    def count(self) -> int:
        sql, params = self._hits_sql()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM ({sql})", params)
            return cursor.fetchone()[0]

    def ranked(self, offset: int, limit: int) -> list[tuple[str, int, float]]:
        sql, params = self._hits_sql()
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} ORDER BY score, id LIMIT %s OFFSET %s", [*params, limit, offset])
            return [(*index.unpack(rowid), -score) for rowid, score in cursor.fetchall()]

    def marked(self, kind: str, pks: list[int]) -> dict[int, tuple[str, str]]:
        rowids = [index.rowid(kind, pk) for pk in pks]
        marks = f"'{START}', '{STOP}'"
        title, snippet = f"highlight(search_index, 0, {marks})", f"snippet(search_index, 1, {marks}, '{ELLIPSIS}', 30)"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT rowid, {title}, {snippet} "
                f"FROM search_index WHERE search_index MATCH %s AND rowid IN ({', '.join(['%s'] * len(rowids))})",
                [self.query, *rowids],
            )
            return {index.unpack(rowid)[1]: (title, text) for rowid, title, text in cursor.fetchall()}


def _hit(kind: str, obj, rank: float, marked_title: str, marked_text: str) -> Hit:
    """A hit as the page and the API show it: its title, where it is, the link to the passage, its snippet."""
    snippet = fragments(marked_text)
    title_marks = fragments(marked_title) if marked_title else []
    if kind == "definition":
        return Hit(kind, obj.title, obj.get_absolute_url(), obj.title, obj.slug, None, None, rank, snippet, title_marks)
    version = obj if kind == "version" else obj.version
    place = f"{version.definition.title} {version.label}"
    common = {"definition": version.definition.slug, "version": version.label, "rank": rank, "snippet": snippet}
    if kind == "version":
        line = line_of(obj.body, marked_text)
        url = obj.get_absolute_url() + (f"?view=lines#L{line}" if line else "")
        return Hit(kind, f"The text of {version.label}", url, place, line=line, **common)
    if kind == "component":
        return Hit(kind, obj.title, obj.get_absolute_url(), place, line=None, title_marks=title_marks, **common)
    author = obj.author.get_username()
    if kind == "comment":
        on = f"suggestion {obj.suggestion_id}" if obj.suggestion_id else obj.component or f"the text of {version.label}"
        return Hit(kind, f"Comment by @{author} on {on}", obj.get_absolute_url(), place, line=obj.line_from, **common)
    title = f"Suggestion {obj.pk} by @{author} on lines {obj.line_from}–{obj.line_to}"
    return Hit(kind, title, obj.get_absolute_url(), place, line=obj.line_from, **common)
