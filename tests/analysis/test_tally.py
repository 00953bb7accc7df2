"""`analysis.tally`: reading, checking, recomputing and verifying bundles written by hand. No database."""

import copy
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import plenary_tally as tally
from plenary_tally import BundleError

from . import handmade

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    """`python -m analysis.tally …` as an observer runs it: no Django settings, no database in the environment."""
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    return subprocess.run(
        [sys.executable, "-m", "analysis.tally", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def refusal(path: Path) -> BundleError:
    with pytest.raises(BundleError) as caught:
        tally.recompute(path)
    return caught.value


# Recomputing -------------------------------------------------------------------------------------


def test_a_directory_with_just_ballot_and_votes_recomputes_what_the_pure_core_computes(tmp_path):
    path = handmade.write_votes(tmp_path / "spreadsheet")

    assert tally.recompute(path) == handmade.expected_outcomes()


def test_a_zip_and_a_zipped_folder_read_like_the_directory(tmp_path):
    path = handmade.write_bundle(tmp_path / "bundle")

    flat = handmade.zip_dir(path, tmp_path / "flat.zip")
    folder = handmade.zip_dir(path, tmp_path / "folder.zip", folder="example-components-tally/")

    assert tally.recompute(flat) == tally.recompute(folder) == handmade.expected_outcomes()


def test_cells_a_spreadsheet_would_run_come_back_as_written(tmp_path):
    path = handmade.write_votes(tmp_path)
    assert "'-dee" in (path / "votes.csv").read_text() and "'=SUM(A1:A9)" in (path / "votes.csv").read_text()

    with tally.open_bundle(path) as bundle:
        votes = list(tally.read_votes(bundle, tally.read_ballot(bundle)))

    assert {v.voter for v in votes} == {"ann", "bo", "cy", "-dee"}
    rationales = {v.rationale for v in votes}
    assert {"=SUM(A1:A9)", "'Quoted', as in the charter", "+1 from me"} <= rationales


def test_the_order_of_groups_and_components_in_ballot_json_does_not_change_the_outcomes(tmp_path):
    shuffled = copy.deepcopy(handmade.BALLOT)
    shuffled["working_groups"].reverse()
    shuffled["components"] = shuffled["components"][1:] + shuffled["components"][:1]
    shuffled["components"][2]["aggregate"]["of"].reverse()

    assert tally.recompute(handmade.write_votes(tmp_path, shuffled)) == handmade.expected_outcomes()


def test_a_ballot_without_the_keys_an_import_may_leave_out_still_recomputes(tmp_path):
    ballot = {k: v for k, v in handmade.BALLOT.items() if k not in ("key", "status", "disputes", "clustering")}
    ballot["working_groups"] = [{k: v for k, v in g.items() if k != "chairs"} for g in ballot["working_groups"]]
    rows = handmade.vote_rows(ballot=ballot)
    for row in rows:
        row["cast_at"] = ""

    result = tally.recompute(handmade.write_votes(tmp_path, ballot, rows))

    assert result == handmade.expected_outcomes(ballot, rows)
    assert result["clustering"]["all"]["k"] == 2


# Refusals: votes.csv -----------------------------------------------------------------------------


def _row(**changes) -> dict:
    row = {
        "voter": "ann",
        "working_group": "alpha",
        "component": "data-b",
        "criterion": "use",
        "choice": "required",
        "value": 1,
        "cast_at": "2026-03-01T12:00:00+00:00",
        "rationale": "",
        "disputed": False,
    }
    return row | changes


@pytest.mark.parametrize(
    "row, problem",
    [
        (_row(voter="zed"), "'zed' is not a member of any working group"),
        (_row(working_group="gamma"), "unknown working group 'gamma'"),
        (_row(working_group="beta"), "'ann' votes for working group 'beta' but is not one of its members"),
        (_row(component="weights"), "unknown component 'weights'"),
        (_row(component="datasets"), "'datasets' is an aggregate"),
        (_row(criterion="share"), "unknown criterion 'share'"),
        (_row(choice="maybe"), "unknown choice 'maybe'"),
        (_row(value=-1), "the value '-1' does not match the choice 'required', whose value is 1"),
        (_row(value="one"), "does not match the choice"),
        (_row(choice="not-necessary", value=-1), "'not-necessary' is restricted, and no grant"),
        (
            _row(voter="cy", working_group="beta", component="code", choice="not-necessary", value=-1),
            "(category 'Code')",
        ),
        (_row(choice="object", value=-1), "a vote 'object' needs a rationale"),
        (_row(cast_at="yesterday"), "cast_at 'yesterday' is not an ISO 8601 date and time"),
        (_row(disputed="maybe"), "disputed must be true or false"),
        (_row(disputed=True), "disputed is true, but the disputes in ballot.json do not cover this vote"),
        (_row(component="code", criterion="study"), "a second vote by ann on code/study (the first is on line 2)"),
    ],
)
def test_a_bad_vote_row_is_refused_with_its_line_and_problem(tmp_path, row, problem):
    rows = handmade.vote_rows()
    rows.insert(3, row)
    path = handmade.write_votes(tmp_path, rows=rows)

    error = refusal(path)

    assert (error.file, error.line) == ("votes.csv", 5)  # the header, three rows, then this one
    assert problem in error.message
    assert str(error).startswith("votes.csv, line 5: ")


@pytest.mark.parametrize(
    "text, line, problem",
    [
        ("voter,group,component\n", 1, "the header must be voter,working_group,component,criterion"),
        ("", 1, "found nothing"),
        (",".join(handmade.COLUMNS) + "\nann,alpha,code,use,required,1\n", 2, "expected 9 cells"),
        (",".join(handmade.COLUMNS) + '\nann,alpha,code,use,required,1,,"unclosed"x,false\n', 2, "malformed CSV"),
        (",".join(handmade.COLUMNS) + '\nann,alpha,code,use,required,1,,"a\nb",false\nbo,x\n', 4, "expected 9 cells"),
    ],
)
def test_malformed_csv_is_refused_with_its_line(tmp_path, text, line, problem):
    path = handmade.write_votes(tmp_path)
    (path / "votes.csv").write_text(text)

    error = refusal(path)

    assert (error.file, error.line) == ("votes.csv", line)
    assert problem in error.message


def test_votes_csv_that_is_not_utf8_is_refused(tmp_path):
    path = handmade.write_votes(tmp_path)
    (path / "votes.csv").write_bytes(
        ",".join(handmade.COLUMNS).encode() + b"\nann,alpha,code,use,required,1,,caf\xe9,false\n"
    )

    error = refusal(path)

    assert (error.file, error.line) == ("votes.csv", 2) and "not UTF-8" in error.message


# Refusals: grants --------------------------------------------------------------------------------


def _with_grant(tmp_path, grant: dict, row: dict) -> Path:
    ballot = copy.deepcopy(handmade.BALLOT) | {"grants": [grant], "disputes": []}
    return handmade.write_votes(tmp_path, ballot, [row])


NOT_NECESSARY = {"voter": "bo", "component": "data-a", "choice": "not-necessary", "value": -1}


@pytest.mark.parametrize(
    "grant, allowed",
    [
        ({"holder": "bo", "holder_kind": "member", "choice": "not-necessary", "reason": "r"}, True),
        ({"holder": "@bo", "choice": "not-necessary", "reason": "r"}, True),  # a member's handle, on import
        ({"holder": "alpha", "choice": "not-necessary", "category": "Data", "reason": "r"}, True),
        ({"holder": "alpha", "choice": "not-necessary", "category": "Code", "reason": "r"}, False),
        ({"holder": "ann", "holder_kind": "member", "choice": "not-necessary", "reason": "r"}, False),
        ({"holder": "beta", "choice": "not-necessary", "reason": "r"}, False),
        ({"holder": "alpha", "choice": "not-necessary", "reason": "r", "revoked_at": "2026-03-01T12:00:01Z"}, True),
        ({"holder": "alpha", "choice": "not-necessary", "reason": "r", "revoked_at": "2026-03-01T11:00:00Z"}, False),
    ],
)
def test_a_restricted_choice_needs_a_grant_to_the_voter_or_their_group_in_scope_and_in_time(tmp_path, grant, allowed):
    path = _with_grant(tmp_path, grant, _row(**NOT_NECESSARY))

    if allowed:
        assert tally.recompute(path)["counts"]["data-a"]["not-necessary"] == 1
    else:
        assert "'not-necessary' is restricted" in refusal(path).message


# Refusals: ballot.json and the files -------------------------------------------------------------


def _ballot(**changes) -> dict:
    ballot = copy.deepcopy(handmade.BALLOT)
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = ballot
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value
    return ballot


@pytest.mark.parametrize(
    "ballot, problem",
    [
        (_ballot(format="plenary-ballot/2"), "format: must be 'plenary-ballot/1'"),
        (_ballot(criteria=[]), "criteria: a ballot needs at least one"),
        (_ballot(choices__1__key="required"), "choices[1]: the choice 'required' appears twice"),
        (_ballot(choices__0__value="1"), "choices[0].value: must be an integer"),
        (_ballot(components__3__aggregate={"rule": "mean", "of": ["data-a", "weights"]}), "aggregate.of[1]: 'weights'"),
        (_ballot(components__3__aggregate={"rule": "median", "of": ["data-a"]}), "components[3].aggregate.rule"),
        (_ballot(working_groups__0__chairs=["cy"]), "working_groups[0].chairs[0]: 'cy' chairs the group"),
        (_ballot(working_groups__0__members=["ann", "bo b"]), "working_groups[0].members[1]: 'bo b' is not a handle"),
        (_ballot(grants__0__choice="required"), "grants[0].choice: 'required' is not a choice of the ballot that"),
        (_ballot(grants__0__category="Weights"), "grants[0].category: no component has the category 'Weights'"),
        (_ballot(disputes__0__selection={"voter": "zed"}), "disputes[0].selection.voter: unknown voter 'zed'"),
        (_ballot(disputes__0__status="upheld"), "disputes[0].resolution: a dispute upheld needs its resolution"),
        (
            _ballot(methodology={"rule": "vibes"}),
            'methodology.rule: The methodology rule must be one of mean-bands, majority, not "vibes"',
        ),
        (_ballot(methodology__bands=[{"min": 1, "label": "Yes"}, {"min": 2, "label": "Lean"}]), "methodology.bands"),
        (_ballot(status="paused"), "status: must be one of scheduled, open, closed"),
    ],
)
def test_a_bad_ballot_json_is_refused_naming_the_place(tmp_path, ballot, problem):
    (tmp_path / "ballot.json").write_text(json.dumps(ballot))
    (tmp_path / "votes.csv").write_text(",".join(handmade.COLUMNS) + "\n")

    error = refusal(tmp_path)

    assert error.file == "ballot.json"
    assert problem in error.message


def test_malformed_json_is_refused_with_its_line(tmp_path):
    path = handmade.write_votes(tmp_path)
    text = (path / "ballot.json").read_text().replace('"Use"', '"Use",,', 1)
    (path / "ballot.json").write_text(text)

    error = refusal(path)

    assert error.file == "ballot.json" and error.line == text[: text.index(",,")].count("\n") + 1
    assert "not valid JSON" in error.message


@pytest.mark.parametrize("number", ["1e400", "-1e400", "NaN", "Infinity"])
def test_a_number_no_float_holds_is_refused_where_it_is_written(tmp_path, number):
    path = handmade.write_votes(tmp_path)
    text = (path / "ballot.json").read_text().replace('"min": 2.0', f'"min": {number}', 1)
    (path / "ballot.json").write_text(text)

    error = refusal(path)

    assert error.file == "ballot.json" and error.message.startswith(f"{number} is ")


def test_a_key_twice_in_one_object_is_refused(tmp_path):
    path = handmade.write_votes(tmp_path)
    (path / "ballot.json").write_text(
        (path / "ballot.json").read_text().replace('"version": "0.1"', '"version": "0.1", "version": "9"')
    )

    assert "the key 'version' appears twice" in refusal(path).message


@pytest.mark.parametrize("missing", ["ballot.json", "votes.csv"])
def test_a_missing_file_is_named(tmp_path, missing):
    path = handmade.write_votes(tmp_path)
    (path / missing).unlink()

    assert str(refusal(path)) == f"{missing}: missing from the bundle"


def test_a_truncated_zip_is_refused(tmp_path):
    bundle = handmade.zip_dir(handmade.write_bundle(tmp_path / "b"), tmp_path / "b.zip")
    bundle.write_bytes(bundle.read_bytes()[: bundle.stat().st_size // 2])

    error = refusal(bundle)

    assert error.file == "b.zip" and "not a zip file, or a truncated one" in error.message


def test_a_corrupt_file_in_a_zip_is_named(tmp_path):
    bundle = handmade.zip_dir(handmade.write_bundle(tmp_path / "b"), tmp_path / "b.zip")
    data = bytearray(bundle.read_bytes())
    with zipfile.ZipFile(bundle) as archive:
        info = archive.getinfo("votes.csv")
    name_and_extra = data[info.header_offset + 26 : info.header_offset + 30]
    start = (
        info.header_offset
        + 30
        + int.from_bytes(name_and_extra[:2], "little")
        + int.from_bytes(name_and_extra[2:], "little")
    )
    data[start + 10] ^= 0xFF  # a byte of the compressed votes
    bundle.write_bytes(bytes(data))

    error = refusal(bundle)

    assert error.file == "votes.csv" and "damaged in the zip" in error.message


def test_a_path_that_is_not_there_is_named(tmp_path):
    assert "no such file or directory" in str(refusal(tmp_path / "nowhere.zip"))


# Verifying ---------------------------------------------------------------------------------------


def test_a_whole_bundle_verifies_with_one_line_per_kind_of_check(tmp_path):
    path = handmade.write_bundle(tmp_path / "b")
    head = json.loads((path / "manifest.json").read_text())["audit_head"]

    report = tally.verify(handmade.zip_dir(path, tmp_path / "b.zip"), expect_head=head)

    assert report.lines() == [
        "files: 5, each with the SHA-256 manifest.json lists",
        f"audit log: 16 events in one unbroken hash chain, ending at {head}",
        f"audit head: {head}, the one expected",
        "checkpoint: none in this bundle: no signed checkpoint to check",
        "ballot: its rules, status, roster, grants, disputes and conflicts are those the audit log recorded",
        "votes: 9 rows, exactly the votes the audit log leaves, disputed as it says",
        "outcomes: counts, scores, thresholds, outcomes, margins, flips and clusters recomputed identical",
        "opinion groups: no axes to check (too few voters to place, or no variance); recomputed identical",
        "verified: 5 files, 16 audit events, 9 votes, outcomes match",
    ]


def test_a_bundle_with_another_head_than_the_one_expected_does_not_verify(tmp_path):
    path = handmade.write_bundle(tmp_path / "b")
    other = "ab" * 32

    report = tally.verify(path, expect_head=other)

    assert not report.ok
    assert "audit head: FAILED, 1 problem" in report.lines()
    assert f"not at the head expected ({other})" in str(report.problems[0])


def _edit(path: Path, name: str, old: str, new: str) -> None:
    text = (path / name).read_text()
    assert old in text, old
    (path / name).write_text(text.replace(old, new, 1))


def test_an_edited_file_fails_its_hash(tmp_path):
    path = handmade.write_bundle(tmp_path)
    _edit(path, "votes.csv", "ann,alpha,code,use,required,1", "ann,alpha,code,use,abstain,0")

    report = tally.verify(path)

    assert not report.ok
    assert report.problems[0].file == "votes.csv" and "its SHA-256 is" in report.problems[0].message


@pytest.mark.parametrize(
    "name, old, new, file, problem",
    [
        (
            "votes.csv",
            "required,1,2026-03-01T09:00",
            "abstain,0,2026-03-01T09:00",
            "votes.csv",
            "the file says choice 'abstain', the audit log (line",
        ),
        ("votes.csv", "+00:00,'+1 from me", "+00:00,+1 from me!", "votes.csv", "the file says rationale '+1 from me!'"),
        ("votes.csv", "T09:07:00+00:00", "T10:07:00+01:00", None, None),  # the same instant
        ("votes.csv", "T09:07:00+00:00", "T09:07:01+00:00", "votes.csv", "the file says cast_at"),
        ("audit.jsonl", '"choice": "abstain"', '"choice": "required"', "audit.jsonl", "the hash chain breaks at"),
        ("outcomes.json", '"mu": "', '"mu": "1', "outcomes.json", "criteria.study.thresholds.mu: the file says"),
        ("ballot.json", '"reason": "Charter §3"', '"reason": "Charter §4"', "ballot.json", "grants differ"),
        (
            "ballot.json",
            '"title": "Component vote on 0.1"',
            '"title": "Other"',
            "ballot.json",
            "title differs from the ballot.created event",
        ),
        ("ballot.json", '"status": "open"', '"status": "closed"', "ballot.json", "status is closed, the log says open"),
    ],
)
def test_an_edit_with_the_manifest_rehashed_is_still_caught_and_named(tmp_path, name, old, new, file, problem):
    path = handmade.write_bundle(tmp_path)
    _edit(path, name, old, new)
    handmade.rehash(path)

    report = tally.verify(path)

    if problem is None:
        assert report.ok, report.lines()
    else:
        assert not report.ok
        assert any(p.file == file and problem in p.message for p in report.problems), report.lines()


def test_a_dropped_vote_row_is_listed_as_missing(tmp_path):
    path = handmade.write_bundle(tmp_path)
    lines = (path / "votes.csv").read_text().splitlines(keepends=True)
    (path / "votes.csv").write_text("".join(lines[:2] + lines[3:]))
    handmade.rehash(path)

    report = tally.verify(path)

    assert any(
        p.file == "votes.csv" and "no row for the vote of" in p.message and "that audit.jsonl leaves" in p.message
        for p in report.problems
    )


def test_the_manifest_must_list_every_file_and_end_the_chain_where_the_log_ends(tmp_path):
    path = handmade.write_bundle(tmp_path)
    (path / "notes.txt").write_text("trust me")
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["audit_head"] = "0" * 64
    (path / "manifest.json").write_text(json.dumps(manifest))

    problems = [str(p) for p in tally.verify(path).problems]

    assert "notes.txt: in the bundle, but not listed in manifest.json" in problems
    assert any(p.startswith("manifest.json: audit_head is '000") for p in problems)


def test_without_a_manifest_or_a_log_nothing_is_verified(tmp_path):
    path = handmade.write_votes(tmp_path)

    problems = [str(p) for p in tally.verify(path).problems]

    assert problems[:2] == ["manifest.json: missing from the bundle", "audit.jsonl: missing from the bundle"]


# The command -------------------------------------------------------------------------------------


def test_the_command_prints_the_outcomes_without_django_settings(tmp_path):
    path = handmade.zip_dir(handmade.write_bundle(tmp_path / "b"), tmp_path / "b.zip")

    done = run(str(path))

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == handmade.expected_outcomes()


def test_the_command_verifies_in_one_line_or_lists_the_differences(tmp_path):
    path = handmade.write_bundle(tmp_path / "b")
    ok = run(str(path), "--verify")
    _edit(path, "outcomes.json", '"mu": "', '"mu": "1')  # μ 2/3 becomes 12/3
    tampered = run(str(path), "--verify")

    assert ok.returncode == 0
    assert ok.stdout.endswith("\nverified: 5 files, 16 audit events, 9 votes, outcomes match\n")
    assert tampered.returncode == 1
    assert "files: FAILED, 1 problem\n" in tampered.stdout and "outcomes: FAILED, 1 problem\n" in tampered.stdout
    assert "\noutcomes.json: its SHA-256 is" in tampered.stdout
    assert "outcomes.json: criteria.study.thresholds.mu: the file says" in tampered.stdout
    assert tampered.stdout.endswith("not verified: 2 problems\n")


def test_the_command_names_the_file_and_line_of_bad_input(tmp_path):
    rows = handmade.vote_rows()
    rows[0]["choice"] = "maybe"
    path = handmade.write_votes(tmp_path, rows=rows)

    done = run(str(path))

    assert done.returncode == 2
    assert done.stderr == "error: votes.csv, line 2: unknown choice 'maybe'\n"


def test_reading_and_verifying_import_nothing_of_django():
    code = (
        "import sys, plenary_tally, plenary_tally.__main__; "
        "assert not any(m.startswith('django') for m in sys.modules), "
        "sorted(m for m in sys.modules if m.startswith('django'))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
