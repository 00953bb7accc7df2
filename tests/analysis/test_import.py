"""`import_tally`: a bundle in, through the services; and the round trip import → export → verify.

Every refusal is checked to leave every table as it was.
"""

import json
import shutil
import subprocess
import sys
import zipfile
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import transaction

import plenary_tally as tally
from analysis import bundles
from audit.models import AuditEvent
from deliberation import services as deliberation
from deliberation.models import Definition, Membership
from plenary_tally.__main__ import main as tally_command
from tests.conftest import make_definition, make_group, make_other_group, make_persona, make_published
from tests.factories import DefinitionFactory, UserFactory
from tests.faults import audit_chain_holds, every_table, the_database_fails
from tests.votes.conftest import make_cast, make_scheduled
from votes import services as votes
from votes.models import Ballot, Dispute, VetoGrant

from . import handmade


def import_tally(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("import_tally", str(path), *args, stdout=out)
    return out.getvalue()


def verify_in_a_subprocess(path: Path) -> subprocess.CompletedProcess:
    """`plenary-tally PATH --verify` in a clean environment: no Django settings, a BLAS kernel of its own choosing."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "plenary-tally"), str(path), "--verify"],
        cwd=path.parent,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )


def row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def unzip(bundle: Path, target: Path) -> Path:
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(target)
    return target


# Importing a hand-made directory -----------------------------------------------------------------


def test_a_directory_with_ballot_and_votes_becomes_a_ballot_and_its_address_is_printed(db, tmp_path):
    ann = UserFactory(username="ann")  # already has an account: kept as is, used when asked to

    out = import_tally(handmade.write_votes(tmp_path), "--use-existing-accounts")

    ballot = Ballot.objects.get(definition__slug="example", key="components")
    assert out.splitlines() == [
        "Imported example/components: 9 votes, 4 accounts created, 1 existing account used.",
        ballot.get_absolute_url(),
    ]
    definition = ballot.definition
    assert definition.title == "Example Definition"
    assert [u.username for u in definition.organizers.all()] == ["importer"]
    version = ballot.version
    assert (version.label, version.is_published, version.release_notes) == ("0.1", True, "Imported from a tally bundle")
    datasets = version.components.get(key="datasets")
    assert (datasets.aggregate_rule, sorted(p.key for p in datasets.parts.all())) == ("mean", ["data-a", "data-b"])
    roles = {(m.group.key, m.user.username, m.role) for m in Membership.objects.filter(group__definition=definition)}
    assert roles == {
        ("alpha", "ann", "chair"),
        ("alpha", "bo", "member"),
        ("beta", "cy", "member"),
        ("beta", "-dee", "member"),
    }
    assert (ballot.status, ballot.results_visibility) == (Ballot.Status.OPEN, Ballot.Visibility.LIVE)
    assert [c.key for c in ballot.criteria.all()] == ["use", "study"]
    assert ballot.choices.get(key="not-necessary").requires_grant
    grant = VetoGrant.objects.get(ballot=ballot)
    assert (grant.group.key, grant.category, grant.reason) == ("beta", "Data", "Charter §3")

    imported = {
        (
            v.voter.username,
            v.group.key,
            v.component.key,
            v.criterion.key,
            v.choice.key,
            v.rationale,
            v.cast_at.isoformat(),
        )
        for v in ballot.votes.select_related("voter", "group", "component", "criterion", "choice")
    }
    assert imported == {
        (r["voter"], r["working_group"], r["component"], r["criterion"], r["choice"], r["rationale"], r["cast_at"])
        for r in handmade.vote_rows()
    }
    dispute = Dispute.objects.get(ballot=ballot)
    assert (dispute.group.key, dispute.choice.key, dispute.status, dispute.raised_by.username) == (
        "beta",
        "not-necessary",
        "open",
        "ann",
    )

    ann.refresh_from_db()
    assert ann.email.endswith("@example.org")
    newcomer = Ballot.objects.get(pk=ballot.pk).votes.get(voter__username="-dee", component__key="code").voter
    assert (newcomer.email, newcomer.is_active, newcomer.has_usable_password()) == (
        "-dee@imported.invalid",
        True,
        False,
    )
    actions = list(AuditEvent.objects.filter(stream=ballot.audit_stream).values_list("action", flat=True))
    assert actions[:3] == ["ballot.created", "grant.made", "ballot.opened"]
    assert actions.count("vote.cast_on_behalf") == 9  # the importer entered them: who voted and who clicked apart
    assert actions[-1] == "dispute.raised"


def test_a_closed_ballot_comes_in_closed_with_its_disputes_resolved_and_revoked_grants_revoked(db, tmp_path):
    ballot = json.loads(json.dumps(handmade.BALLOT))
    ballot["status"] = "closed"
    ballot["disputes"][0] |= {"status": "upheld", "resolution": "No reason was given.", "raised_by": "someone-else"}
    ballot["grants"].append(
        {
            "holder": "ann",
            "holder_kind": "member",
            "choice": "not-necessary",
            "reason": "r",
            "revoked_at": "2026-04-01T00:00:00Z",
        }
    )

    import_tally(handmade.write_votes(tmp_path, ballot), "--organizer", "olga")

    imported = Ballot.objects.get(key="components")
    assert imported.status == Ballot.Status.CLOSED
    assert imported.roster_at_close["alpha"] == [{"member": "ann", "role": "chair"}, {"member": "bo", "role": "member"}]
    dispute = imported.disputes.get()
    assert (dispute.status, dispute.resolution, dispute.raised_by.username, dispute.resolved_by.username) == (
        "upheld",
        "No reason was given.",
        "olga",  # someone outside the groups cannot raise a dispute: the organizer does
        "olga",
    )
    revoked = imported.grants.get(member__username="ann")
    assert revoked.revoked_at is not None and "2026-04-01" in revoked.revoke_reason
    assert list(imported.definition.organizers.values_list("username", flat=True)) == ["olga"]


def test_a_dry_run_checks_everything_and_writes_nothing(db, tmp_path):
    before = row_counts()

    out = import_tally(handmade.write_votes(tmp_path), "--dry-run")

    assert (
        out == "Dry run, nothing written: the bundle would import as example/components: 9 votes, 5 accounts created.\n"
    )
    assert row_counts() == before


# Refusals ----------------------------------------------------------------------------------------


def _rows(**changes) -> list[dict]:
    rows = handmade.vote_rows()
    rows[2] = rows[2] | changes
    return rows


def _ballot(edit) -> dict:
    ballot = json.loads(json.dumps(handmade.BALLOT))
    edit(ballot)
    return ballot


def _bundle_with_manifest(tmp_path: Path) -> Path:
    path = handmade.write_bundle(tmp_path)
    text = (path / "votes.csv").read_text().replace("abstain,0", "required,1", 1)
    (path / "votes.csv").write_text(text)
    return path


def _zip_cut_short(tmp_path: Path) -> Path:
    bundle = handmade.zip_dir(handmade.write_bundle(tmp_path / "b"), tmp_path / "b.zip")
    bundle.write_bytes(bundle.read_bytes()[:-100])
    return bundle


def _slug_taken(tmp_path: Path) -> Path:
    DefinitionFactory(slug="example")
    return handmade.write_votes(tmp_path)


BAD = {
    "unknown voter": (
        lambda p: handmade.write_votes(p, rows=_rows(voter="zed")),
        "votes.csv, line 4: 'zed' is not a member",
    ),
    "unknown component": (
        lambda p: handmade.write_votes(p, rows=_rows(component="weights")),
        "line 4: unknown component",
    ),
    "value that does not match": (
        lambda p: handmade.write_votes(p, rows=_rows(value=5)),
        "line 4: the value '5' does not",
    ),
    "vote on an aggregate": (
        lambda p: handmade.write_votes(p, rows=_rows(component="datasets")),
        "'datasets' is an aggregate",
    ),
    "restricted choice without a grant": (
        lambda p: handmade.write_votes(p, rows=_rows(choice="not-necessary", value=-1)),
        "line 4: the choice 'not-necessary' is restricted",
    ),
    "duplicate vote": (
        lambda p: handmade.write_votes(p, rows=handmade.vote_rows() + handmade.vote_rows()[:1]),
        "votes.csv, line 11: a second vote by ann on code/study (the first is on line 2)",
    ),
    "malformed CSV": (
        lambda p: (handmade.write_votes(p), (p / "votes.csv").write_text("voter;group\n"))[0],
        "votes.csv, line 1: the header must be",
    ),
    "malformed JSON": (
        lambda p: (handmade.write_votes(p), (p / "ballot.json").write_text('{"format": "plenary-ballot/1",'))[0],
        "ballot.json, line 1: not valid JSON",
    ),
    "truncated zip": (_zip_cut_short, "b.zip: not a zip file, or a truncated one"),
    "hash that does not match": (_bundle_with_manifest, "votes.csv: its SHA-256 is"),
    "definition already here": (_slug_taken, "ballot.json: definition.slug: a definition 'example' already exists"),
    "a label the app refuses": (
        lambda p: handmade.write_votes(p, _ballot(lambda b: b.update(version="0.1 beta"))),
        "ballot.json: version: label: Use letters, digits, dots",
    ),
    "a dispute that selects no vote": (
        lambda p: handmade.write_votes(p, _ballot(lambda b: b["disputes"][0]["selection"].update(criterion="study"))),
        "ballot.json: disputes[0]: No current vote matches that selection",
    ),
    "a scheduled ballot with votes": (
        lambda p: handmade.write_votes(p, _ballot(lambda b: b.update(status="scheduled"))),
        "ballot.json: status: a scheduled ballot has no votes, but votes.csv has 9",
    ),
}


@pytest.mark.parametrize("make, message", BAD.values(), ids=BAD.keys())
def test_bad_input_is_refused_with_file_line_and_problem_and_nothing_is_written(db, tmp_path, make, message):
    path = make(tmp_path)
    before = row_counts()

    with pytest.raises(CommandError) as refused:
        import_tally(path)

    assert message in str(refused.value)
    assert str(refused.value).startswith("Nothing was imported. ")
    assert row_counts() == before


def test_an_organizer_handle_that_is_not_a_handle_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match="is not a handle"):
        import_tally(handmade.write_votes(tmp_path), "--organizer", "not a handle")


# The round trip ----------------------------------------------------------------------------------


@pytest.mark.parametrize("close", [False, True], ids=["open", "closed"])
def test_import_export_verify_and_the_outcomes_are_those_of_the_imported_files(db, tmp_path, close):
    ballot = json.loads(json.dumps(handmade.BALLOT))
    ballot["status"] = "closed" if close else "open"
    source = handmade.write_votes(tmp_path / "source", ballot)
    import_tally(source)
    imported = Ballot.objects.get(key="components")

    bundle = tmp_path / "exported.zip"
    bundles.export_bundle(imported, bundle)

    verified = verify_in_a_subprocess(bundle)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    events = 14 if close else 13  # created, granted, opened, 9 votes, the dispute; closed
    assert verified.stdout.splitlines()[-1] == f"verified: 6 files, {events} audit events, 9 votes, outcomes match"
    with zipfile.ZipFile(bundle) as archive:
        assert json.loads(archive.read("outcomes.json")) == tally.recompute(source)


def built_once(tmp_path_factory, django_db_blocker, export) -> Path:
    """The bundle `export(ballot, path, people)` writes of the ballot `components` of tests/votes/conftest.py, with
    the personas and groups of tests/conftest.py; what it wrote in the database is rolled back, so that only the
    file is left, for a module's tests to read."""
    with django_db_blocker.unblock(), transaction.atomic():
        people = SimpleNamespace(**{name: make_persona(name) for name in ("olga", "alice", "bob", "carol", "dave")})
        published = make_published(make_definition(people.olga))
        people.group = make_group(published.definition, people.alice, people.bob)
        people.other_group = make_other_group(published.definition, people.dave)
        scheduled = make_scheduled(people.olga, published, people.group, people.other_group)
        ballot = votes.open_ballot(ballot=scheduled, acting_user=people.olga)
        bundle = export(ballot, tmp_path_factory.mktemp("bundle") / "bundle.zip", people)
        transaction.set_rollback(True)
    return bundle


@pytest.fixture(scope="module")
def _exported_once(tmp_path_factory, django_db_setup, django_db_blocker) -> Path:
    return built_once(tmp_path_factory, django_db_blocker, export_closed)


@pytest.fixture
def exported(_exported_once, tmp_path) -> Path:
    """The bundle of `export_closed`, built once per module: a copy per test, its ballot not in the database."""
    return Path(shutil.copy(_exported_once, tmp_path / "bundle.zip"))


@pytest.fixture
def exported_and_kept(tmp_path, ballot, olga, alice, bob, dave, group, other_group) -> Path:
    """The bundle of `export_closed`, its ballot and people kept in the database."""
    people = SimpleNamespace(olga=olga, alice=alice, bob=bob, dave=dave, group=group, other_group=other_group)
    return export_closed(ballot, tmp_path / "bundle.zip", people)


def export_closed(ballot: Ballot, bundle: Path, people: SimpleNamespace) -> Path:
    """A closed ballot: grants used and revoked, votes changed, withdrawn and on behalf, disputes, a hostile handle."""
    olga, alice, bob, dave, group, other_group = (
        people.olga,
        people.alice,
        people.bob,
        people.dave,
        people.group,
        people.other_group,
    )
    cast = make_cast(ballot)
    mallory = UserFactory(username="-1+1")
    deliberation.add_member(group=group, user=mallory, acting_user=olga)  # joins the open ballot's roster, on record
    not_necessary = ballot.choices.get(key="not-necessary")
    to_alice = votes.grant_veto(ballot=ballot, choice=not_necessary, member=alice, reason="Steward.", acting_user=olga)
    votes.grant_veto(
        ballot=ballot, choice=not_necessary, group=other_group, category="Data", reason="Charter §3", acting_user=olga
    )
    cast(alice, "data", "study", "not-necessary", rationale="'Quoted, she said")
    cast(alice, "code", "use", "required", rationale='=HYPERLINK("http://evil.example")')
    cast(bob, "code", "use", "object", rationale="Not yet.")
    cast(bob, "code", "use", "required", rationale="Changed my mind\r\nafter the call.")
    cast(dave, "code", "use", "required", acting_user=olga)
    cast(dave, "data", "use", "not-necessary")
    cast(dave, "data", "study", "abstain")
    code, use = ballot.version.components.get(key="code"), ballot.criteria.get(key="use")
    votes.withdraw_vote(ballot=ballot, voter=dave, component=code, criterion=use)
    cast(mallory, "data", "share", "object", rationale="@SUM(A1)\ttab")
    votes.revoke_grant(grant=to_alice, reason="Term ended.", acting_user=olga)
    votes.raise_dispute(ballot=ballot, raised_by=bob, reason="No rationale.", group=other_group, choice=not_necessary)
    dismissed = votes.raise_dispute(ballot=ballot, raised_by=alice, reason="Really?", voter=bob)
    votes.resolve_dispute(dispute=dismissed, status="dismissed", resolution="Bob said so.", acting_user=olga)
    votes.close_ballot(ballot=ballot, acting_user=olga)
    bundles.export_bundle(ballot, bundle)
    return bundle


def test_an_exported_ballot_imports_under_another_slug_and_round_trips(exported_and_kept, tmp_path):
    exported = exported_and_kept
    source = unzip(exported, tmp_path / "source")
    (source / "manifest.json").unlink()  # the bundle is edited: its manifest no longer holds
    ballot = json.loads((source / "ballot.json").read_text())
    ballot["definition"]["slug"] = "osd-copy"
    (source / "ballot.json").write_text(json.dumps(ballot))

    import_tally(source, "--use-existing-accounts")  # the same people, here already
    copy = Ballot.objects.get(definition__slug="osd-copy")
    bundles.export_bundle(copy, tmp_path / "copy.zip")

    assert tally.verify(tmp_path / "copy.zip").ok, tally.verify(tmp_path / "copy.zip").lines()
    with zipfile.ZipFile(tmp_path / "copy.zip") as archive, zipfile.ZipFile(exported) as original:
        assert json.loads(archive.read("outcomes.json")) == tally.recompute(source)
        assert archive.read("votes.csv").count(b"\n") == original.read("votes.csv").count(b"\n")
    assert copy.status == Ballot.Status.CLOSED
    assert copy.grants.get(member__username="alice").revoked_at is not None


@pytest.mark.parametrize("close", [False, True], ids=["open", "closed"])
def test_a_member_who_voted_then_left_is_a_former_member_and_the_bundle_verifies_and_round_trips(
    tmp_path, ballot, cast, olga, alice, bob, group, close
):
    cast(alice, "code", "use", "required")
    cast(bob, "code", "use", "object", rationale="Not yet.")
    cast(bob, "data", "use", "abstain")
    deliberation.remove_member(membership=group.memberships.current().get(user=bob), acting_user=olga)
    if close:
        votes.close_ballot(ballot=ballot, acting_user=olga)
    bundle = tmp_path / "bundle.zip"
    bundles.export_bundle(ballot, bundle)

    verified = verify_in_a_subprocess(bundle)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    with zipfile.ZipFile(bundle) as archive:
        exported = json.loads(archive.read("ballot.json"))
    weights = next(g for g in exported["working_groups"] if g["key"] == "weights")
    assert "bob" not in weights["members"]
    assert weights["former_members"] == ["bob"]

    source = unzip(bundle, tmp_path / "source")
    (source / "manifest.json").unlink()
    exported["definition"]["slug"] = "osd-copy"
    (source / "ballot.json").write_text(json.dumps(exported))
    import_tally(source, "--use-existing-accounts")  # the same people, here already
    copy = Ballot.objects.get(definition__slug="osd-copy")
    bundles.export_bundle(copy, tmp_path / "copy.zip")

    verified = verify_in_a_subprocess(tmp_path / "copy.zip")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    with zipfile.ZipFile(tmp_path / "copy.zip") as archive:
        again = json.loads(archive.read("ballot.json"))
        assert archive.read("votes.csv").count(b"\n") == 4  # the header and three votes
    assert again["working_groups"] == exported["working_groups"]
    assert not Membership.objects.filter(group__definition__slug="osd-copy", user__username="bob", left_at=None)
    assert copy.status == (Ballot.Status.CLOSED if close else Ballot.Status.OPEN)
    if close:
        assert "bob" not in {m["member"] for m in copy.roster_at_close["weights"]}


def _tamper(name: str, old: bytes, new: bytes):
    def edit(path: Path) -> None:
        data = (path / name).read_bytes()
        assert old in data, old
        (path / name).write_bytes(data.replace(old, new, 1))

    return edit


def _change_a_hash(path: Path) -> None:
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["files"]["ballot.json"] = "0" * 64
    (path / "manifest.json").write_text(json.dumps(manifest))


TAMPERING = {
    "a vote in votes.csv": (_tamper("votes.csv", b",object,-1,", b",required,1,"), "votes.csv"),
    "an audit line": (_tamper("audit.jsonl", b'"rationale": "Not yet."', b'"rationale": "Not now."'), "audit.jsonl"),
    "a number in outcomes.json": (_tamper("outcomes.json", b'"score": ', b'"score": 1'), "outcomes.json"),
    "the manifest itself": (_change_a_hash, "manifest.json"),
}


@pytest.mark.parametrize("tamper, file", TAMPERING.values(), ids=TAMPERING.keys())
def test_tampering_with_any_one_file_of_a_bundle_fails_verify_and_names_it(exported, tmp_path, capsys, tamper, file):
    assert tally_command([str(exported), "--verify"]) == 0
    capsys.readouterr()
    path = unzip(exported, tmp_path / "unzipped")
    tamper(path)
    rezipped = handmade.zip_dir(path, tmp_path / "tampered.zip")

    assert tally_command([str(rezipped), "--verify"]) == 1
    out = capsys.readouterr().out
    assert any(file in line and "FAILED" not in line for line in out.splitlines()[:-1]), out
    assert out.splitlines()[-1].startswith("not verified: ")


def _forge_ballot(change):
    """Edit ballot.json alone, then recompute outcomes.json from it and rehash the manifest, as a forger would."""

    def forge(path: Path) -> None:
        ballot = json.loads((path / "ballot.json").read_text())
        change(ballot)
        (path / "ballot.json").write_text(json.dumps(ballot, sort_keys=True))
        (path / "outcomes.json").write_text(json.dumps(tally.recompute(path), sort_keys=True))
        handmade.rehash(path)

    return forge


def _swap_titles(ballot):
    first, second = ballot["components"][:2]
    first["title"], second["title"] = second["title"], first["title"]


FORGERIES = {
    "a leaf component nobody voted on": lambda b: b["components"].append(
        {"key": "ghost", "title": "Ghost", "category": "Code"}
    ),
    "an aggregate's rule": lambda b: next(c for c in b["components"] if "aggregate" in c)["aggregate"].update(
        rule="sum" if next(c for c in b["components"] if "aggregate" in c)["aggregate"]["rule"] == "mean" else "mean"
    ),
    "two components' titles swapped": _swap_titles,
    "a grant's granted_by": lambda b: b["grants"][0].update(granted_by="bob"),
    "a grant's granted_at": lambda b: b["grants"][0].update(granted_at="2020-01-01T00:00:00+00:00"),
    "a dispute's raised_by": lambda b: b["disputes"][0].update(raised_by="dave"),
}


def _group(ballot, key):
    return next(g for g in ballot["working_groups"] if g["key"] == key)


def _move(group, handle, source, target):
    group[source].remove(handle)
    group[target].append(handle)
    if source == "members" and handle in group["eligible"]:
        group["eligible"].remove(handle)  # a forger keeps ballot.json consistent with itself


ROSTER_FORGERIES = {
    "a member added to a group": lambda b: _group(b, "weights")["members"].append("eve"),
    "a member shown as gone": lambda b: _move(_group(b, "weights"), "bob", "members", "former_members"),
    "a chair made": lambda b: _group(b, "weights")["chairs"].append("bob"),
    "an eligible member left out": lambda b: _group(b, "weights")["eligible"].remove("bob"),
    "a former member invented": lambda b: _group(b, "corpora")["former_members"].append("alice"),
    "a former member shown as a member": lambda b: _move(_group(b, "weights"), "carol", "former_members", "members"),
    "a group's name": lambda b: _group(b, "weights").update(name="Model weights (official)"),
    "the definition's title": lambda b: b["definition"].update(title="Another definition"),
}
FORGERIES |= {name: ROSTER_FORGERIES[name] for name in ROSTER_FORGERIES if name != "a former member shown as a member"}


@pytest.fixture(scope="module")
def _exported_open_once(tmp_path_factory, django_db_setup, django_db_blocker) -> Path:
    return built_once(tmp_path_factory, django_db_blocker, export_open)


@pytest.fixture
def exported_open(_exported_open_once, tmp_path) -> Path:
    """The bundle of `export_open`, built once per module: a copy per test, its ballot not in the database."""
    return Path(shutil.copy(_exported_open_once, tmp_path / "open.zip"))


def export_open(ballot: Ballot, bundle: Path, people: SimpleNamespace) -> Path:
    """An open ballot whose roster changed while it ran: carol joined, voted and left; bob joined another group."""
    olga, bob, carol, dave, group = people.olga, people.bob, people.carol, people.dave, people.group
    cast = make_cast(ballot)
    joined = deliberation.add_member(group=group, user=carol, acting_user=olga)
    cast(carol, "code", "use", "required")
    deliberation.remove_member(membership=joined, acting_user=olga)  # her vote stands: a former member
    cast(bob, "code", "use", "abstain")
    cast(dave, "data", "study", "required")
    bundles.export_bundle(ballot, bundle)
    return bundle


def test_an_open_ballot_s_roster_is_covered_by_its_own_log(exported_open, tmp_path):
    path = unzip(exported_open, tmp_path / "open")
    ballot = json.loads((path / "ballot.json").read_text())

    report = tally.verify(path)

    assert report.ok, report.lines()
    assert ballot["status"] == "open"
    assert _group(ballot, "weights")["members"] == ["alice", "bob"]
    assert _group(ballot, "weights")["former_members"] == ["carol"]
    events = [json.loads(line) for line in (path / "audit.jsonl").read_text().splitlines()]
    assert [(e["action"], e["payload"]["member"]) for e in events if e["action"].startswith("membership.")] == [
        ("membership.joined", "carol"),
        ("membership.left", "carol"),
    ]


@pytest.mark.parametrize("change", ROSTER_FORGERIES.values(), ids=ROSTER_FORGERIES.keys())
def test_an_open_ballot_s_ballot_json_forged_alone_does_not_verify(exported_open, tmp_path, change):
    """While a ballot runs no roster at close covers its groups: the log's roster and its changes do."""
    path = unzip(exported_open, tmp_path / "forged")
    _forge_ballot(change)(path)

    report = tally.verify(path)

    assert not report.ok
    assert any(line.startswith("ballot: FAILED") for line in report.lines()), report.lines()


@pytest.mark.parametrize("change", FORGERIES.values(), ids=FORGERIES.keys())
def test_a_ballot_json_forged_alone_with_the_genuine_log_does_not_verify(exported, tmp_path, change):
    path = unzip(exported, tmp_path / "forged")
    assert tally.verify(path).ok
    _forge_ballot(change)(path)

    report = tally.verify(path)

    assert not report.ok
    assert any(line.startswith("ballot: FAILED") for line in report.lines()), report.lines()


def test_tampering_is_caught_by_the_command_in_a_subprocess_too(exported, tmp_path):
    path = unzip(exported, tmp_path / "unzipped")
    _tamper("votes.csv", b",object,-1,", b",required,1,")(path)

    done = verify_in_a_subprocess(handmade.zip_dir(path, tmp_path / "tampered.zip"))

    assert done.returncode == 1
    assert "\nvotes.csv: its SHA-256 is" in done.stdout


# A failure halfway ------------------------------------------------------------------------------


def sixty_votes(path: Path) -> Path:
    """Ten members, each voting on every leaf component and criterion: 60 rows."""
    ballot = json.loads(json.dumps(handmade.BALLOT))
    ballot["working_groups"][0]["members"] += [f"m{n}" for n in range(6)]
    ballot["disputes"] = []
    members = [(m, g["key"]) for g in ballot["working_groups"] for m in g["members"]]
    cells = [(c, k) for c in ("code", "data-a", "data-b") for k in ("use", "study")]
    votes = [
        (m, g, c, k, "required" if n % 3 else "abstain", "")
        for n, ((m, g), (c, k)) in enumerate((member, cell) for member in members for cell in cells)
    ]
    return handmade.write_votes(path, ballot, handmade.vote_rows(votes, ballot))


AT_THE_50TH_VOTE = {
    "its vote row": ('INSERT INTO "votes_vote"', lambda params: True),
    "its audit event": ('INSERT INTO "audit_auditevent"', lambda params: "vote.cast_on_behalf" in params),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("statement, when", AT_THE_50TH_VOTE.values(), ids=AT_THE_50TH_VOTE.keys())
def test_an_import_the_database_fails_at_the_50th_vote_leaves_nothing_and_says_so(tmp_path, statement, when):
    path = sixty_votes(tmp_path)
    before, events = every_table(), list(AuditEvent.objects.values())

    with the_database_fails(statement, nth=50, when=when) as failed, pytest.raises(CommandError) as refused:
        import_tally(path)

    assert failed
    assert str(refused.value).startswith("Nothing was imported: the database failed (")
    assert every_table() == before
    assert list(AuditEvent.objects.values()) == events
    assert audit_chain_holds()
    assert import_tally(path).startswith("Imported example/components: 60 votes, 11 accounts created.")
    assert audit_chain_holds()


# The demo ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_demo_ballot_round_trips(db, tmp_path):
    call_command("seed_demo", stdout=StringIO())
    demo = Ballot.objects.get(key="components-0-0-9")
    bundles.export_bundle(demo, tmp_path / "demo.zip")

    verified = verify_in_a_subprocess(tmp_path / "demo.zip")
    assert verified.returncode == 0, verified.stdout
    verdict = verified.stdout.splitlines()[-1]
    assert verdict.startswith("verified: 6 files, ") and verdict.endswith("outcomes match")

    source = unzip(tmp_path / "demo.zip", tmp_path / "source")
    (source / "manifest.json").unlink()
    ballot = json.loads((source / "ballot.json").read_text())
    ballot["definition"]["slug"] = "open-model-copy"
    (source / "ballot.json").write_text(json.dumps(ballot))
    import_tally(source, "--use-existing-accounts")  # the same people, here already
    copy = Ballot.objects.get(definition__slug="open-model-copy")
    assert copy.votes.count() == demo.votes.count()
    bundles.export_bundle(copy, tmp_path / "copy.zip")

    again = verify_in_a_subprocess(tmp_path / "copy.zip")
    assert again.returncode == 0, again.stdout
    with zipfile.ZipFile(tmp_path / "copy.zip") as archive:
        assert json.loads(archive.read("outcomes.json")) == tally.recompute(source)
    assert Definition.objects.filter(slug="open-model").exists()
