"""Declared conflicts of interest in the analysis and the bundle: the `without-conflicts` scenario on votes worked
out by hand; `conflicts` in ballot.json, read and checked by the verifier against the log's conflict events; the
server and the verifier flagging the same votes conflicted; and the round trip through import_tally.

The register page and the services are tested in tests/votes/test_conflicts.py.
"""

import json
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

import plenary_tally as tally
from analysis import bundles, services
from plenary_tally import BundleError, model, outcomes
from plenary_tally.ballot import ballot_from_data
from plenary_tally.chain import GENESIS_HASH, event_hash
from plenary_tally.files import open_bundle
from plenary_tally.model import BallotSpec, Cell, Choice, Component
from plenary_tally.votes import count_votes
from tests.audit.test_verify import verify as verify_audit
from votes import services as votes
from votes.models import Ballot

from . import handmade
from .conftest import OSAID, by_key

# The scenario, by hand -------------------------------------------------------------------------
#
#   code/use: ann +1, bo +1, cy +1 (cy declared a conflict in code); data/use: ann +1, bo −1, cy +1.
#   all: code 3, data 1, μ = 2: code 3 ≥ 1.5μ Lean yes, data 1 ≥ 0.5μ Lean no.
#   without-conflicts: cy's code vote goes: code 2, data 1, μ = 3/2: code 2 ≥ μ Maybe (< 1.5μ = 9/4), data Lean no.
#     @baseline μ = 2: code 2 ≥ μ Maybe, data Lean no.

SPEC = BallotSpec(
    criteria=("use",),
    choices={"yes": Choice("yes", 1), "no": Choice("no", -1)},
    components=(Component("code", "Code"), Component("data", "Data")),
    groups=("g",),
    methodology=OSAID,
)
ROWS = [
    {"component": c, "criterion": "use", "working_group": "g", "choice": choice, "disputed": False, "conflicted": flag}
    for c, choice, flag in [
        ("code", "yes", False),
        ("code", "yes", False),
        ("code", "yes", True),
        ("data", "yes", False),
        ("data", "no", False),
        ("data", "yes", False),
    ]
]


def scenario(found: dict, key: str) -> tuple:
    s = next(s for s in found["scenarios"] if s["key"] == key)
    return s["thresholds"], {c: r["outcome"] for c, r in by_key(s).items()}


def test_without_conflicts_leaves_out_the_votes_cast_over_a_declared_conflict():
    found = outcomes.compute(SPEC, model.tally(ROWS))

    assert scenario(found, "all") == ({"mu": 2}, {"code": "Lean yes", "data": "Lean no"})
    assert scenario(found, "without-conflicts") == ({"mu": "3/2"}, {"code": "Maybe", "data": "Lean no"})
    assert scenario(found, "without-conflicts@baseline") == ({"mu": 2}, {"code": "Maybe", "data": "Lean no"})
    assert by_key(next(s for s in found["scenarios"] if s["key"] == "without-conflicts"))["code"]["votes"] == 2
    assert {(f["component"], f["to"]["scenario"]) for f in found["flips"] if "conflicts" in f["to"]["scenario"]} == {
        ("code", "without-conflicts"),
        ("code", "without-conflicts@baseline"),
    }


def test_under_majority_too_the_conflicted_votes_are_left_out():
    spec = BallotSpec(SPEC.criteria, SPEC.choices, SPEC.components, SPEC.groups, {"rule": "majority", "threshold": 0.6})
    rows = [r | {"conflicted": r["component"] == "code" and i == 0} for i, r in enumerate(ROWS)]  # code: one yes out
    rows[1]["choice"] = "no"  # code: yes (conflicted), no, yes → 2/3 passes as cast, 1/2 fails without it

    found = outcomes.compute(spec, model.tally(rows))

    assert (scenario(found, "all")[1]["code"], scenario(found, "without-conflicts")[1]["code"]) == ("Passes", "Fails")
    assert [s["key"] for s in found["scenarios"]][:4] == [
        "all",
        "without-disputed",
        "without-restricted",
        "without-conflicts",
    ]


def test_a_cell_is_not_conflicted_unless_said():
    rows = [{k: v for k, v in r.items() if k != "conflicted"} for r in ROWS]

    assert not any(c.conflicted for c in model.tally(rows))
    assert Cell("code", "use", "g", "yes", False, 1) == Cell("code", "use", "g", "yes", False, 1, conflicted=False)


# ballot.json, read -------------------------------------------------------------------------------


def with_conflicts(*conflicts: dict) -> dict:
    ballot = json.loads(json.dumps(handmade.BALLOT))
    ballot["conflicts"] = list(conflicts)
    return ballot


DECLARED = {
    "member": "bo",
    "component": "code",
    "statement": "I sell code.",
    "declared_at": "2026-03-01T09:00:00+00:00",
}


def test_the_reader_takes_standing_and_withdrawn_declarations():
    ballot = ballot_from_data(
        with_conflicts(
            DECLARED | {"withdrawn_at": None},
            DECLARED | {"member": "cy", "component": None, "withdrawn_at": "2026-03-02T09:00:00+00:00"},
        )
    )

    assert [(c.member, c.component, c.standing) for c in ballot.conflicts] == [
        ("bo", "code", True),
        ("cy", None, False),
    ]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"member": "zed"}, "conflicts[0].member: 'zed' is not a member of any working group of the ballot"),
        ({"member": "not a handle"}, "conflicts[0].member: 'not a handle' is not a handle"),
        (
            {"component": "datasets"},
            "conflicts[0].component: 'datasets' is not a component of the ballot that is voted on",
        ),
        ({"component": "nope"}, "conflicts[0].component: 'nope' is not a component"),
        ({"statement": None}, "conflicts[0].statement: missing"),
        ({"declared_at": "yesterday"}, "conflicts[0].declared_at: 'yesterday' is not an ISO 8601 date and time"),
        (
            {"withdrawn_at": "2026-02-01T00:00:00+00:00"},
            "conflicts[0].withdrawn_at: is before the declaration was made",
        ),
    ],
    ids=[
        "unknown member",
        "not a handle",
        "aggregate",
        "unknown component",
        "no statement",
        "bad time",
        "withdrawn first",
    ],
)
def test_the_reader_names_the_place_of_a_bad_declaration(change, message):
    with pytest.raises(BundleError) as refused:
        ballot_from_data(with_conflicts(DECLARED | change))

    assert str(refused.value).startswith(f"ballot.json: {message}")


# A bundle with conflicts -------------------------------------------------------------------------


@pytest.fixture
def declared(ballot, cast, alice, bob, dave):
    """bob declared a conflict in code, dave in the whole ballot; alice declared one and withdrew it."""
    cast(bob, "code", "use")
    cast(bob, "data", "use")
    cast(alice, "code", "use")
    cast(dave, "code", "use", "abstain")
    cast(dave, "data", "study")
    code = ballot.version.components.get(key="code")
    votes.declare_conflict(ballot=ballot, member=bob, component=code, statement="I maintain a training framework.")
    votes.declare_conflict(ballot=ballot, member=dave, statement="My employer sells training data.")
    mine = votes.declare_conflict(ballot=ballot, member=alice, statement="Consulting, until March.")
    votes.withdraw_conflict(declaration=mine, acting_user=alice, reason="The contract ended.")
    return ballot


@pytest.fixture
def bundle(declared, tmp_path) -> Path:
    path = tmp_path / "bundle.zip"
    bundles.export_bundle(declared, path)
    return path


def unzip(path: Path, target: Path) -> Path:
    with zipfile.ZipFile(path) as archive:
        archive.extractall(target)
    return target


def test_ballot_json_lists_every_declaration_as_recorded(declared, bundle):
    with zipfile.ZipFile(bundle) as archive:
        listed = json.loads(archive.read("ballot.json"))["conflicts"]

    assert listed == [c.as_data() for c in declared.conflicts.with_people().order_by("declared_at", "pk")]
    assert [(c["member"], c["component"], c["withdrawn_at"] is None) for c in listed] == [
        ("bob", "code", True),
        ("dave", None, True),
        ("alice", None, False),
    ]


def test_the_bundle_verifies_and_its_without_conflicts_scenario_leaves_out_the_conflicted_votes(bundle):
    report = tally.verify(bundle)

    assert report.ok, report.lines()
    with zipfile.ZipFile(bundle) as archive:
        published = json.loads(archive.read("outcomes.json"))
    votes_on = {s["key"]: {c["key"]: c["votes"] for c in s["components"]} for s in published["scenarios"]}
    assert (votes_on["all"]["code"], votes_on["all"]["data"]) == (3, 2)
    # bob's code vote (his declaration in code), dave's two (the whole ballot); alice's withdrew hers
    assert (votes_on["without-conflicts"]["code"], votes_on["without-conflicts"]["data"]) == (1, 1)


def test_the_server_and_the_verifier_flag_the_same_votes_conflicted(declared, bundle):
    with open_bundle(bundle) as opened:
        offline = count_votes(opened, tally.read_ballot(opened)).cells

    assert services.vote_cells(declared) == offline
    assert sorted((c.component, c.choice, c.count) for c in offline if c.conflicted) == [
        ("code", "abstain", 1),
        ("code", "required", 1),
        ("data", "required", 1),
    ]


def forge(path: Path, change) -> Path:
    """Edit ballot.json alone, recompute outcomes.json from it and rehash the manifest, as a forger would."""
    ballot = json.loads((path / "ballot.json").read_text())
    change(ballot["conflicts"])
    (path / "ballot.json").write_text(json.dumps(ballot, sort_keys=True))
    (path / "outcomes.json").write_text(json.dumps(tally.recompute(path), sort_keys=True))
    return handmade.rehash(path)


FORGERIES = {
    "one left out": lambda conflicts: conflicts.pop(0),
    "a statement changed": lambda conflicts: conflicts[0].update(statement="Nothing to declare."),
    "one withdrawn": lambda conflicts: conflicts[1].update(withdrawn_at="2040-01-01T00:00:00+00:00"),
    "a withdrawal undone": lambda conflicts: conflicts[2].update(withdrawn_at=None),
    "another member's": lambda conflicts: conflicts[0].update(member="alice"),
    "another component": lambda conflicts: conflicts[0].update(component="data"),
    "one added": lambda conflicts: conflicts.append(conflicts[0] | {"member": "alice"}),
}


@pytest.mark.parametrize("change", FORGERIES.values(), ids=FORGERIES.keys())
def test_conflicts_forged_in_ballot_json_alone_do_not_verify_and_are_named(bundle, tmp_path, change):
    path = forge(unzip(bundle, tmp_path / "forged"), change)

    report = tally.verify(path)

    assert not report.ok
    assert "ballot: FAILED, 1 problem" in report.lines()
    assert "ballot.json: conflicts differ from the declared conflicts of interest the log recorded" in report.lines()


def rechain(events: list[dict]) -> list[dict]:
    """The events hash-chained again, as someone rewriting the log would."""
    previous, out = GENESIS_HASH, []
    for event in events:
        event = {k: v for k, v in event.items() if k != "hash"} | {"prev_hash": previous}
        event["hash"] = previous = event_hash(event)
        out.append(event)
    return out


def test_a_conflict_event_by_someone_else_than_its_member_is_refused(bundle, tmp_path):
    path = unzip(bundle, tmp_path / "forged")
    events = [json.loads(line) for line in (path / "audit.jsonl").read_text().splitlines()]
    for event in events:
        if event["action"] == "conflict.declared" and event["payload"]["member"] == "bob":
            event["actor"] = "olga"  # an organizer declaring bob's conflict for him
    events = rechain(events)
    (path / "audit.jsonl").write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in events))
    manifest = json.loads((path / "manifest.json").read_text())
    (path / "manifest.json").write_text(json.dumps(manifest | {"audit_head": events[-1]["hash"]}))
    handmade.rehash(path)

    lines = tally.verify(path).lines()

    refused = "conflict.declared: by 'olga': a conflict of interest is declared and withdrawn by its member"
    assert any(refused in line for line in lines), lines


def test_verify_audit_names_a_declaration_changed_in_the_database(declared):
    declared.conflicts.filter(member__username="bob").update(statement="Edited behind the log.")

    with pytest.raises(CommandError, match="its stored conflicts differ from the declared conflicts of interest"):
        verify_audit()


# import_tally ------------------------------------------------------------------------------------


@pytest.mark.parametrize("close", [False, True], ids=["open", "closed"])
def test_an_exported_ballot_with_conflicts_imports_and_round_trips(declared, olga, tmp_path, close):
    if close:
        votes.close_ballot(ballot=declared, acting_user=olga, reason="Done.")
    bundles.export_bundle(declared, tmp_path / "bundle.zip")
    source = unzip(tmp_path / "bundle.zip", tmp_path / "source")
    (source / "manifest.json").unlink()  # the bundle is edited: its manifest no longer holds
    ballot = json.loads((source / "ballot.json").read_text())
    ballot["definition"]["slug"] = "osd-copy"
    (source / "ballot.json").write_text(json.dumps(ballot))

    call_command("import_tally", str(source), "--use-existing-accounts", stdout=StringIO())
    copy = Ballot.objects.get(definition__slug="osd-copy")
    bundles.export_bundle(copy, tmp_path / "copy.zip")

    assert tally.verify(tmp_path / "copy.zip").ok, tally.verify(tmp_path / "copy.zip").lines()
    assert [
        (c.member.username, c.component.key if c.component else None, c.statement, c.withdrawn_at is None)
        for c in copy.conflicts.with_people()
    ] == [
        ("bob", "code", "I maintain a training framework.", True),
        ("dave", None, "My employer sells training data.", True),
        ("alice", None, "Consulting, until March.", False),
    ]
    with zipfile.ZipFile(tmp_path / "copy.zip") as archive:
        assert json.loads(archive.read("outcomes.json")) == tally.recompute(source)
