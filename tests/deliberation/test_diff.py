"""The diff between two versions is pure: plain strings and ComponentSpecs in, rows and changes out."""

import pytest

from deliberation.diff import ComponentChange, ComponentSpec, InlineLine, Row, component_changes, inline, text_diff

PAIRS = [
    ("", ""),
    ("one line", "one line"),
    ("a\nb\nc", "a\nb\nc\n"),
    ("", "new\ntext"),
    ("old\ntext", ""),
    ("a\nb\nc", "a\nB\nB2\nc\nd"),
    ("x\ny", "y\nz"),
    ("# Preamble\n\nOpen means use.\n", "# Preamble\n\nOpen means use, study, modify and share.\n"),
    ("1\n2\n3\n4\n5", "5\n4\n3\n2\n1"),
]


@pytest.mark.parametrize("old, new", PAIRS)
def test_side_by_side_rows_hold_every_old_and_every_new_line_in_order(old, new):
    rows = text_diff(old, new)

    assert [r.old for r in rows if r.old is not None] == old.splitlines()
    assert [r.new for r in rows if r.new is not None] == new.splitlines()
    assert [r.old_no for r in rows if r.old_no is not None] == list(range(1, len(old.splitlines()) + 1))
    assert [r.new_no for r in rows if r.new_no is not None] == list(range(1, len(new.splitlines()) + 1))


@pytest.mark.parametrize("old, new", PAIRS)
def test_inline_lines_rebuild_both_texts(old, new):
    lines = inline(text_diff(old, new))

    assert [line.text for line in lines if line.sign in " -"] == old.splitlines()
    assert [line.text for line in lines if line.sign in " +"] == new.splitlines()


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ("same\ntext", "same\ntext", [Row("equal", 1, "same", 1, "same"), Row("equal", 2, "text", 2, "text")]),
        ("a", "a\nb", [Row("equal", 1, "a", 1, "a"), Row("insert", None, None, 2, "b")]),
        ("a\nb", "b", [Row("delete", 1, "a", None, None), Row("equal", 2, "b", 1, "b")]),
        (
            "a\nb\nc",
            "a\nB\nB2\nc",
            [
                Row("equal", 1, "a", 1, "a"),
                Row("replace", 2, "b", 2, "B"),
                Row("replace", None, None, 3, "B2"),
                Row("equal", 3, "c", 4, "c"),
            ],
        ),
        (
            "a\nb\nc",
            "a\nc",
            [Row("equal", 1, "a", 1, "a"), Row("delete", 2, "b", None, None), Row("equal", 3, "c", 2, "c")],
        ),
    ],
)
def test_text_diff_pairs_lines_side_by_side(old, new, expected):
    assert text_diff(old, new) == expected


def test_a_trailing_newline_is_not_a_change():
    assert all(row.op == "equal" for row in text_diff("a\nb", "a\nb\n"))


def test_inline_shows_the_removed_lines_of_a_change_before_the_added_ones():
    assert inline(text_diff("a\nb\nc", "a\nB\nB2\nc")) == [
        InlineLine(" ", 1, 1, "a"),
        InlineLine("-", 2, None, "b"),
        InlineLine("+", None, 2, "B"),
        InlineLine("+", None, 3, "B2"),
        InlineLine(" ", 3, 4, "c"),
    ]


def test_inline_of_nothing_is_nothing():
    assert inline(text_diff("", "")) == []


CODE = ComponentSpec("code", "Training code", "Code")
DATA = ComponentSpec("data", "Training data", "Data", "The data the model was trained on.")
ALL_DATA = ComponentSpec("all-data", "All data", "Data", aggregate=("mean", ("data",)))


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ([], [], []),
        ([CODE, DATA], [DATA, CODE], []),
        ([CODE], [CODE, DATA], [ComponentChange("data", "added", None, DATA)]),
        ([CODE, DATA], [DATA], [ComponentChange("code", "removed", CODE, None)]),
        (
            [CODE],
            [ComponentSpec("code", "Code used for training", "Code")],
            [
                ComponentChange(
                    "code", "changed", CODE, ComponentSpec("code", "Code used for training", "Code"), ("title",)
                )
            ],
        ),
        (
            [DATA],
            [ComponentSpec("data", "Training data", "Dataset", "Every training set.")],
            [
                ComponentChange(
                    "data",
                    "changed",
                    DATA,
                    ComponentSpec("data", "Training data", "Dataset", "Every training set."),
                    ("category", "description"),
                )
            ],
        ),
        (
            [ALL_DATA],
            [ComponentSpec("all-data", "All data", "Data", aggregate=("sum", ("data",)))],
            [
                ComponentChange(
                    "all-data",
                    "changed",
                    ALL_DATA,
                    ComponentSpec("all-data", "All data", "Data", aggregate=("sum", ("data",))),
                    ("aggregate",),
                )
            ],
        ),
        (
            [ALL_DATA],
            [ComponentSpec("all-data", "All data", "Data")],
            [
                ComponentChange(
                    "all-data", "changed", ALL_DATA, ComponentSpec("all-data", "All data", "Data"), ("aggregate",)
                )
            ],
        ),
    ],
    ids=[
        "nothing",
        "same-in-another-order",
        "added",
        "removed",
        "title",
        "category-and-description",
        "aggregate-rule",
        "aggregate-to-leaf",
    ],
)
def test_component_changes_matches_components_by_key(old, new, expected):
    assert component_changes(old, new) == expected


def test_component_changes_come_sorted_by_key():
    old = [ComponentSpec("b", "B", "Code"), ComponentSpec("z", "Z", "Code")]
    new = [ComponentSpec("z", "Zed", "Code"), ComponentSpec("a", "A", "Code")]

    assert [(c.key, c.kind) for c in component_changes(old, new)] == [
        ("a", "added"),
        ("b", "removed"),
        ("z", "changed"),
    ]


def test_a_changed_aggregate_part_list_is_a_change():
    old = [ComponentSpec("all", "All", "Data", aggregate=("sum", ("a", "b")))]
    new = [ComponentSpec("all", "All", "Data", aggregate=("sum", ("a",)))]

    assert component_changes(old, new)[0].fields == ("aggregate",)
