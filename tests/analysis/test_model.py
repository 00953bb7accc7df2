"""The pure core's plain-data model (rows tallied into cells, ballot.json read into a spec), and that the core
imports no Django. No database.
"""

import subprocess
import sys
from pathlib import Path

from plenary_tally import model
from plenary_tally.model import BallotSpec, Cell, Choice, Component

# The plain-data model ----------------------------------------------------------------------------


def test_tally_counts_rows_into_sorted_cells():
    rows = [
        {"component": "code", "criterion": "use", "working_group": "alpha", "choice": "required", "disputed": "false"},
        {"component": "code", "criterion": "use", "working_group": "alpha", "choice": "required", "disputed": ""},
        {"component": "code", "criterion": "use", "working_group": "alpha", "choice": "required", "disputed": "true"},
        {"component": "code", "criterion": "use", "working_group": "beta", "choice": "required", "disputed": False},
        {"component": "data", "criterion": "study", "working_group": "beta", "choice": "no", "disputed": True},
        {"component": "data", "criterion": "study", "working_group": "beta", "choice": "no", "disputed": "1"},
        {"component": "code", "criterion": "study", "working_group": "alpha", "choice": "required", "disputed": "0"},
    ]
    assert model.tally(rows) == [
        Cell("code", "study", "alpha", "required", False, 1),
        Cell("code", "use", "alpha", "required", False, 2),
        Cell("code", "use", "alpha", "required", True, 1),
        Cell("code", "use", "beta", "required", False, 1),
        Cell("data", "study", "beta", "no", True, 2),
    ]
    assert model.tally([]) == []


DESIGN_BALLOT = {
    "format": "plenary-ballot/1",
    "definition": {"slug": "example", "title": "Example Definition"},
    "version": "0.1",
    "title": "Component vote on 0.1",
    "criteria": [{"key": "use", "label": "Use"}, {"key": "study", "label": "Study"}],
    "choices": [
        {"key": "required", "label": "Required", "value": 1},
        {"key": "not-necessary", "label": "Not necessary", "value": -1, "requires_grant": True},
    ],
    "working_groups": [{"key": "alpha", "name": "Alpha", "members": ["ann", "bo"]}],
    "grants": [{"holder": "alpha", "choice": "not-necessary", "reason": "charter §3"}],
    "components": [
        {"key": "code", "title": "Training code", "category": "Code"},
        {"key": "data-a", "title": "Training data", "category": "Data"},
        {"key": "data-b", "title": "Testing data", "category": "Data"},
        {
            "key": "datasets",
            "title": "Datasets",
            "category": "Data",
            "aggregate": {"rule": "mean", "of": ["data-a", "data-b"]},
        },
    ],
    "methodology": {
        "rule": "mean-bands",
        "bands": [
            {"min": 2.0, "label": "Yes"},
            {"min": 1.5, "label": "Lean yes"},
            {"min": 1.0, "label": "Maybe"},
            {"min": 0.5, "label": "Lean no"},
        ],
        "otherwise": "No",
    },
    "clustering": {"k": 2, "seed": 42},
}


def test_spec_from_the_design_example_ballot_json():
    spec = model.spec_from_json(DESIGN_BALLOT)
    assert spec == BallotSpec(
        criteria=("use", "study"),
        choices={
            "required": Choice("required", 1),
            "not-necessary": Choice("not-necessary", -1, requires_grant=True),
        },
        components=(
            Component("code", "Code"),
            Component("data-a", "Data"),
            Component("data-b", "Data"),
            Component("datasets", "Data", rule="mean", parts=("data-a", "data-b")),
        ),
        groups=("alpha",),
        methodology=DESIGN_BALLOT["methodology"],
        clustering={"k": 2, "seed": 42},
        eligible={"alpha": 2},
        eligible_voters=2,
        group_names={"alpha": "Alpha"},
    )
    assert [c.key for c in spec.leaves] == ["code", "data-a", "data-b"]
    assert spec.values == (-1, 1)


def test_spec_without_clustering_gets_the_default():
    ballot = {key: value for key, value in DESIGN_BALLOT.items() if key != "clustering"}
    assert model.spec_from_json(ballot).clustering == {"k": 2, "seed": 42}


# Purity ------------------------------------------------------------------------------------------


def test_the_pure_core_does_not_import_django():
    code = (
        "import sys, plenary_tally.model, plenary_tally.methodologies, plenary_tally.outcomes, "
        "plenary_tally.clustering; "
        "assert not any(m.startswith('django') for m in sys.modules), "
        "sorted(m for m in sys.modules if m.startswith('django'))"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
