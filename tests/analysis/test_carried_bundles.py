"""The bundle of a ballot with carried votes: it says what it carries, verifies, and round-trips through import_tally
(the versions and votes of `tests.votes.carrying`)."""

# ruff: noqa: F811 (the fixtures of `carrying`, imported to be found, are the tests' parameters)
import csv
import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

import plenary_tally as tally
from analysis import auditing, bundles
from audit.models import AuditEvent
from plenary_tally.vocabulary import Action
from tests.votes.carrying import carrying, cast_on, closed_1, version_1, version_2  # noqa: F401
from votes.models import Ballot

from .test_import import import_tally, unzip


def carried_ballot(carrying, alice):
    ballot = carrying(Ballot.CarryRule.MARK_OUTDATED)
    cast_on(ballot, alice, "model", "object", rationale="Too loose now.")  # changed: no longer carried
    return ballot


def rows(archive: zipfile.ZipFile) -> list[dict]:
    return list(csv.DictReader(io.StringIO(archive.read("votes.csv").decode())))


def test_the_bundle_says_what_is_carried_and_verifies(carrying, alice, closed_1, tmp_path):
    ballot = carried_ballot(carrying, alice)
    bundles.export_bundle(ballot, tmp_path / "b.zip")

    report = tally.verify(tmp_path / "b.zip")
    assert report.ok, report.lines()
    with zipfile.ZipFile(tmp_path / "b.zip") as archive:
        data = json.loads(archive.read("ballot.json"))
        votes = {(r["voter"], r["component"]): (r["carried"], r["outdated"]) for r in rows(archive)}
        results = json.loads(archive.read("outcomes.json"))
    assert data["carry"] == {
        "from": {"key": closed_1.key, "version": "1.0"},
        "rule": "mark_outdated",
        "mapping": {"datasets": ["training-data", "testing-data"]},
    }
    assert votes == {
        ("alice", "code"): ("true", "false"),
        ("alice", "datasets"): ("true", "true"),
        ("alice", "model"): ("false", "false"),
        ("dave", "model"): ("true", "true"),
    }
    keys = [s["key"] for s in results["scenarios"]]
    assert "without-carried" in keys and "without-outdated" in keys


def test_a_bundle_whose_votes_csv_hides_a_carried_vote_does_not_verify(carrying, alice, tmp_path):
    ballot = carried_ballot(carrying, alice)
    bundles.export_bundle(ballot, tmp_path / "b.zip")
    source = unzip(tmp_path / "b.zip", tmp_path / "source")
    (source / "manifest.json").unlink()
    text = (source / "votes.csv").read_text()
    (source / "votes.csv").write_text(text.replace(",true,true\n", ",false,false\n", 1))

    report = tally.verify(source)

    assert not report.ok
    assert any("carried false, the audit log" in line for line in report.lines()), report.lines()


def test_the_bundle_round_trips_through_import_tally(carrying, alice, tmp_path):
    ballot = carried_ballot(carrying, alice)
    bundles.export_bundle(ballot, tmp_path / "b.zip")
    source = unzip(tmp_path / "b.zip", tmp_path / "source")
    (source / "manifest.json").unlink()
    data = json.loads((source / "ballot.json").read_text())
    data["definition"]["slug"] = "osd-copy"
    (source / "ballot.json").write_text(json.dumps(data))

    import_tally(source, "--use-existing-accounts")
    copy = Ballot.objects.get(definition__slug="osd-copy")
    bundles.export_bundle(copy, tmp_path / "copy.zip")

    report = tally.verify(tmp_path / "copy.zip")
    assert report.ok, report.lines()
    with zipfile.ZipFile(tmp_path / "copy.zip") as archive, zipfile.ZipFile(tmp_path / "b.zip") as original:
        assert json.loads(archive.read("outcomes.json")) == tally.recompute(source)
        mine = sorted((r["voter"], r["component"], r["choice"], r["carried"], r["outdated"]) for r in rows(archive))
        theirs = sorted((r["voter"], r["component"], r["choice"], r["carried"], r["outdated"]) for r in rows(original))
        assert mine == theirs
        assert json.loads(archive.read("ballot.json"))["carry"]["rule"] == "mark_outdated"


def test_the_stored_votes_are_checked_against_the_log_carried_flags_and_all(carrying, alice):
    ballot = carried_ballot(carrying, alice)
    auditing.verify_records(stream=ballot.audit_stream)

    ballot.votes.filter(component__key="code").update(carried=False)  # behind the log's back

    with pytest.raises(auditing.RecordBroken, match="carried false, the audit log"):
        auditing.verify_records(stream=ballot.audit_stream)


def test_votes_carried_as_a_frozen_roster_s_ballot_opens_by_itself_verify(carrying, tmp_path):
    ballot = carrying(
        Ballot.CarryRule.MARK_OUTDATED,
        eligibility=Ballot.Eligibility.FROZEN,
        opens_at=timezone.now() - timedelta(minutes=1),
    )
    assert ballot.status == Ballot.Status.OPEN and ballot.votes.filter(carried=True).count() == 4
    bundles.export_bundle(ballot, tmp_path / "b.zip")

    report = tally.verify(tmp_path / "b.zip")
    assert report.ok, report.lines()
    opened = AuditEvent.objects.get(stream=ballot.audit_stream, action=Action.BALLOT_OPENED)
    assert opened.actor is None
    carried = AuditEvent.objects.filter(stream=ballot.audit_stream, action=Action.VOTE_CARRIED)
    assert set(carried.values_list("actor", flat=True)) == {None}
