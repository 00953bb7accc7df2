"""The pure parts of search: PostgreSQL's websearch syntax read for FTS5, snippets cut into escaped pieces, and the
line of a version's text a snippet was taken from. No database."""

import sqlite3

import pytest
from hypothesis import given
from hypothesis import strategies as st

from search.text import QUERY_MAX_LENGTH, START, STOP, QueryRefused, check_query, fragments, fts5_query, line_of, plain


@pytest.mark.parametrize(
    "query, fts5",
    [
        ("training data", '("training" AND "data")'),
        ('"training data"', '("training data")'),
        ("code -data", '(("code") NOT ("data"))'),
        ('code -"test data"', '(("code") NOT ("test data"))'),
        ("code or weights", '("code") OR ("weights")'),
        ("a OR b c", '("a") OR ("b" AND "c")'),
        ('say "it', '("say" AND "it")'),  # an unclosed quote closes at the end
        ("title:x NEAR(a b) c*", '("title:x" AND "NEAR(a" AND "b)" AND "c*")'),  # FTS5's syntax is only text here
        ('it"s', '("it""s")'),  # a quote inside a word is doubled, as FTS5 escapes it
        ("-data", ""),  # nothing wanted
        ("- ! ?", ""),
        ("or", ""),
        ("", ""),
    ],
)
def test_websearch_syntax_in_fts5(query, fts5):
    assert fts5_query(query) == fts5


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=QUERY_MAX_LENGTH))
def test_whatever_is_typed_fts5_runs_it_as_a_query(query):
    with sqlite3.connect(":memory:") as db:
        db.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize = 'porter unicode61 remove_diacritics 2')")
        db.execute("INSERT INTO t VALUES ('a text with words')")
        terms = fts5_query(check_query(query))
        if terms:
            db.execute("SELECT rowid FROM t WHERE t MATCH ?", [terms]).fetchall()  # no syntax error


def test_a_query_is_trimmed_and_limited():
    assert check_query("  code  ") == "code"
    assert check_query("x" * QUERY_MAX_LENGTH) == "x" * QUERY_MAX_LENGTH
    with pytest.raises(QueryRefused, match=f"at most {QUERY_MAX_LENGTH} characters long; this one has 201"):
        check_query("x" * (QUERY_MAX_LENGTH + 1))


def test_a_snippet_is_pieces_of_text_matched_or_not():
    marked = f"A <b>bold</b>\n  {START}claim{STOP} &amp; {START}more{STOP}"

    pieces = fragments(marked)

    assert pieces == [("A <b>bold</b> ", False), ("claim", True), (" &amp; ", False), ("more", True)]
    assert plain(pieces) == ("A <b>bold</b> claim &amp; more", [(14, 19), (26, 30)])


def test_stray_marks_in_a_text_mark_nothing():
    assert fragments(f"a {STOP}b{START}") == [("a b", False)]


BODY = "# Title\n\nThe model is open.\n\nThe model parameters, such as weights.\nEnd."


@pytest.mark.parametrize(
    "marked, line",
    [
        (f"The {START}model{STOP} {START}parameters{STOP}, such as", 5),
        (f"The {START}model{STOP} is open.\n\nThe {START}model{STOP} {START}parameters{STOP}, such", 5),  # most marks
        (f"# Title\n\nThe {START}model{STOP} is open.", 3),
        (f"…The {START}model{STOP} is open…", 3),  # SQLite's ellipses
        (f"The  {START}weights{STOP} reshaped", 5),  # not the text's spacing: the line with the word
        ("no match at all", None),
    ],
)
def test_the_line_a_snippet_comes_from(marked, line):
    assert line_of(BODY, marked) == line
