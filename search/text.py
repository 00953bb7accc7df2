"""Pure text work of search, no database: the query's limit and its FTS5 form, snippets and the line they are on.

A database marks each match in a snippet between START and STOP (characters of Unicode's private use
area, which no text shown here means anything by). `fragments` cuts a marked snippet into plain
pieces, each matched or not, so a template escapes every piece and wraps the matched ones in <mark>:
no snippet is ever written out as HTML, and no text searched can inject any.
"""

import re

QUERY_MAX_LENGTH = 200  # characters: a long sentence, or a dozen quoted phrases
START, STOP = "\ue000", "\ue001"
ELLIPSIS = "…"  # between fragments of a snippet, on both databases


class QueryRefused(ValueError):
    """A search that is not run; the message says why, to the person who asked."""


def check_query(text: str) -> str:
    """The query as it is searched for (trimmed, a NUL a space: no database takes one); refused if longer than
    QUERY_MAX_LENGTH."""
    text = text.replace("\x00", " ").strip()
    if len(text) > QUERY_MAX_LENGTH:
        raise QueryRefused(
            f"A search can be at most {QUERY_MAX_LENGTH} characters long; this one has {len(text)}. "
            "Search for fewer or shorter words."
        )
    return text


_TOKENS = re.compile(r'(-?)"([^"]*)"?|(\S+)')


def _fts5_string(text: str) -> str:
    """One FTS5 string: a phrase of the words `text` holds, quoted so nothing in it is taken as syntax."""
    return '"' + text.replace('"', '""') + '"'


def fts5_query(text: str) -> str:
    """PostgreSQL's websearch syntax (`websearch_to_tsquery`) as an FTS5 query: words all required, "a phrase",
    `-word` left out, `or` between alternatives. Every word and phrase is quoted: FTS5's own operators, column
    filters and prefix stars are never taken from what a person types. Empty when nothing is left to look for."""
    groups: list[tuple[list[str], list[str]]] = [([], [])]
    for match in _TOKENS.finditer(text):
        negated, phrase, word = match.group(1) == "-", match.group(2), match.group(3)
        if phrase is None:
            if word.lower() == "or":
                groups.append(([], []))
                continue
            negated, phrase = word.startswith("-"), word.lstrip("-")
        if not re.search(r"\w", phrase):
            continue  # punctuation alone: no word to find
        groups[-1][1 if negated else 0].append(_fts5_string(phrase))
    rendered = []
    for wanted, unwanted in groups:
        if not wanted:
            continue  # only words left out: websearch would match nearly everything, we match nothing
        clause = "(" + " AND ".join(wanted) + ")"
        if unwanted:
            clause = f"({clause} NOT ({' OR '.join(unwanted)}))"
        rendered.append(clause)
    return " OR ".join(rendered)


def fragments(marked: str) -> list[tuple[str, bool]]:
    """A marked snippet as (text, matched) pieces, its runs of white space (new lines too) made single spaces."""
    marked = " ".join(marked.split())
    pieces: list[tuple[str, bool]] = []
    for part in re.split(f"({START}[^{STOP}]*{STOP})", marked):
        if part.startswith(START):
            pieces.append((part.strip(START + STOP), True))
        elif part:
            pieces.append((part.replace(START, "").replace(STOP, ""), False))
    return pieces


def plain(pieces: list[tuple[str, bool]]) -> tuple[str, list[tuple[int, int]]]:
    """The snippet's text, and where in it each match starts and ends (for the API)."""
    text, spans = "", []
    for piece, matched in pieces:
        if matched:
            spans.append((len(text), len(text) + len(piece)))
        text += piece
    return text, spans


def line_of(body: str, marked: str) -> int | None:
    """The line of `body` (numbered from 1, as the version page's anchors) where the snippet matches most.

    Each fragment of the snippet is looked up in the text whole, so its lines are the lines it was cut from; the
    line holding the most matches wins (a phrase's line over one word of it alone), the first of equals. If the
    database changed a fragment's spacing, the first line holding the first matched word is taken."""
    best: tuple[int, int] | None = None  # (matches, line)
    for fragment in (f.strip() for f in marked.split(ELLIPSIS)):
        at = body.find(fragment.replace(START, "").replace(STOP, "")) if START in fragment else -1
        if at < 0:
            continue
        first = body.count("\n", 0, at) + 1
        for offset, line in enumerate(fragment.split("\n")):
            matches = line.count(START)
            if matches and (best is None or matches > best[0]):
                best = (matches, first + offset)
    if best is not None:
        return best[1]
    if START not in marked:
        return None
    word = marked.split(START, 1)[1].split(STOP, 1)[0].casefold()
    for number, line in enumerate(body.splitlines(), start=1):
        if word and word in line.casefold():
            return number
    return None
