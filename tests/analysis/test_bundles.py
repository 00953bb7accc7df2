"""The tally bundle export: exactly the files of docs/tally-format.md, each agreeing with the database and the others.

`recorded` is a ballot with a bit of everything: changed, withdrawn and on-behalf votes, a grant
used, a standing and a dismissed dispute, and a member and rationales that a spreadsheet would
run as formulas.
"""

import csv
import hashlib
import io
import json
import tempfile
import threading
import zipfile
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import example, given
from hypothesis import strategies as st

from analysis import bundles, reading, services
from audit import tlog
from audit.models import AuditEvent, head
from deliberation import services as deliberation
from deliberation.models import Membership
from plenary_tally import chain, outcomes
from plenary_tally.__main__ import main as tally_command
from plenary_tally.csvcells import neutralise, restore
from plenary_tally.model import spec_from_json
from tests.factories import MembershipFactory, UserFactory
from tests.fuzzing import fuzz, rolled_back
from tests.votes.conftest import CHOICES, CRITERIA
from votes import services as votes
from votes.models import Ballot, Dispute, Vote

POSTGRESQL = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
FILES = {
    "manifest.json", "ballot.json", "votes.csv", "audit.jsonl", "outcomes.json", "datapackage.json", "checkpoint.txt"
}  # fmt: skip
HEADER = ["voter", "working_group", "component", "criterion", "choice", "value", "cast_at", "rationale", "disputed"]
HOSTILE = ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "'quoted", "''", "'", "=", "plain", "", "a=b", " =1"]


@pytest.fixture
def mallory(group):
    """A member whose handle a spreadsheet would run as a formula (Django allows + and - in usernames)."""
    user = UserFactory(username="-1+1")
    MembershipFactory(group=group, user=user)
    return user


@pytest.fixture
def recorded(ballot, cast, olga, alice, bob, dave, mallory, other_group):
    not_necessary = ballot.choices.get(key="not-necessary")
    votes.grant_veto(ballot=ballot, choice=not_necessary, member=alice, reason="Data steward.", acting_user=olga)
    votes.grant_veto(
        ballot=ballot, choice=not_necessary, group=other_group, category="Data", reason="Charter §3", acting_user=olga
    )
    cast(alice, "code", "use", "required", rationale='=HYPERLINK("http://evil.example","click")')
    cast(alice, "data", "study", "not-necessary", rationale="'Quoted, she said")
    cast(bob, "code", "use", "object", rationale="Not yet.")
    cast(bob, "code", "use", "required", rationale="Changed my mind\r\nafter the call.")  # vote.changed
    cast(bob, "data", "use", "abstain")
    cast(dave, "code", "use", "required", acting_user=olga)  # on behalf
    cast(dave, "data", "use", "required")
    votes.withdraw_vote(
        ballot=ballot, voter=dave, component=ballot.version.components.get(key="data"),
        criterion=ballot.criteria.get(key="use"),
    )  # fmt: skip
    cast(mallory, "data", "share", "object", rationale="@SUM(A1) — and\ta tab")
    cast(mallory, "code", "modify", "abstain", rationale="-2+3")
    votes.raise_dispute(ballot=ballot, raised_by=bob, reason="No rationale given.", voter=alice, choice=not_necessary)
    dismissed = votes.raise_dispute(
        ballot=ballot,
        raised_by=alice,
        reason="On behalf?",
        voter=dave,
        component=ballot.version.components.get(key="code"),
    )
    votes.resolve_dispute(
        dispute=dismissed, status=Dispute.Status.DISMISSED, resolution="Dave asked.", acting_user=olga
    )
    return ballot


def export(ballot: Ballot) -> dict[str, bytes]:
    out = io.BytesIO()
    bundles.export_bundle(ballot, out)
    return unzipped(out.getvalue())


def unzipped(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def csv_rows(raw: bytes) -> list[dict[str, str]]:
    """votes.csv as a reader following the docs sees it: one leading ' removed from every cell but value."""
    rows = list(csv.DictReader(StringIO(raw.decode(), newline="")))
    return [{k: v if k == "value" else restore(v) for k, v in row.items()} for row in rows]


def stored_votes(ballot: Ballot) -> list[dict[str, str]]:
    votes_ = ballot.votes.with_flags().select_related("voter", "group", "component", "criterion", "choice")
    return sorted(
        (
            {
                "voter": v.voter.username,
                "working_group": v.group.key,
                "component": v.component.key,
                "criterion": v.criterion.key,
                "choice": v.choice.key,
                "value": str(v.choice.value),
                "cast_at": v.cast_at.isoformat(),
                "rationale": v.rationale,
                "disputed": "true" if v.is_disputed else "false",
            }
            for v in votes_
        ),
        key=lambda row: (row["component"], row["criterion"], row["voter"]),
    )


def computed_outcomes(ballot: Ballot) -> dict:
    results = outcomes.compute(services.ballot_spec(ballot), services.vote_cells(ballot), services.voter_values(ballot))
    return json.loads(json.dumps(results))


# The files ------------------------------------------------------------------------------------------------


def test_the_bundle_holds_exactly_the_seven_files_with_the_manifest_last(recorded):
    out = io.BytesIO()
    bundles.export_bundle(recorded, out)

    names = zipfile.ZipFile(io.BytesIO(out.getvalue())).namelist()
    assert set(names) == FILES and len(names) == len(FILES)
    assert names[-1] == "manifest.json"


def test_the_manifest_lists_the_sha256_of_every_other_file_and_the_audit_head(recorded):
    files = export(recorded)
    manifest = json.loads(files["manifest.json"])

    assert set(manifest) == {"format", "generated_at", "software_version", "ballot", "audit_head", "log_key", "files"}
    assert manifest["format"] == "plenary-tally/1"
    assert manifest["ballot"] == "osd/components"
    assert manifest["software_version"] == "0.1.0"
    assert manifest["files"] == {
        name: hashlib.sha256(data).hexdigest() for name, data in files.items() if name != "manifest.json"
    }
    last = AuditEvent.objects.filter(stream=recorded.audit_stream).order_by("-seq").first()
    assert manifest["audit_head"] == last.hash
    assert manifest["log_key"] == tlog.log_key()


def test_json_files_have_sorted_keys_two_space_indents_utf8_and_a_final_newline(recorded):
    files = export(recorded)

    for name in ("manifest.json", "ballot.json", "outcomes.json", "datapackage.json"):
        text = files[name].decode()
        assert text == json.dumps(json.loads(text), sort_keys=True, ensure_ascii=False, indent=2) + "\n"
    assert "Charter §3" in files["ballot.json"].decode()


def test_votes_csv_holds_every_current_vote_with_its_dispute_flag_and_rationale(recorded, alice, bob, dave):
    files = export(recorded)
    raw = files["votes.csv"]
    rows = csv_rows(raw)

    assert raw.decode().splitlines()[0] == ",".join(HEADER)
    assert rows == stored_votes(recorded)
    assert len(rows) == Vote.objects.filter(ballot=recorded).count() == 7
    by_cell = {(r["voter"], r["component"], r["criterion"]): r for r in rows}
    assert by_cell[("alice", "data", "study")]["disputed"] == "true"  # open dispute
    assert by_cell[("dave", "code", "use")]["disputed"] == "false"  # dismissed dispute
    assert by_cell[("dave", "code", "use")]["choice"] == "required"  # on behalf, by olga
    assert ("dave", "data", "use") not in by_cell  # withdrawn
    assert by_cell[("bob", "code", "use")]["rationale"] == "Changed my mind\r\nafter the call."
    assert by_cell[("alice", "data", "study")]["value"] == "-1"


def test_votes_csv_rows_are_sorted_by_component_criterion_and_voter(recorded):
    rows = csv_rows(export(recorded)["votes.csv"])

    keys = [(r["component"], r["criterion"], r["voter"]) for r in rows]
    assert keys == sorted(keys)


@pytest.mark.slow
def test_votes_csv_reads_with_pandas_as_the_docs_say(recorded):
    import pandas as pd

    votes_ = pd.read_csv(io.BytesIO(export(recorded)["votes.csv"]), keep_default_na=False)

    assert list(votes_.columns) == HEADER
    assert votes_.groupby("component")["value"].sum().to_dict() == {"code": 3, "data": -2}


def test_the_bundle_takes_the_outcomes_of_a_run_that_read_this_very_state(recorded, monkeypatch):
    computed = export(recorded)["outcomes.json"]
    services.compute_run(recorded)
    monkeypatch.setattr(reading, "read", lambda *args: pytest.fail("the outcomes were computed again"))

    assert export(recorded)["outcomes.json"] == computed


def test_a_run_that_a_later_vote_made_stale_is_not_taken(recorded, cast, alice):
    services.compute_run(recorded)
    cast(alice, "data", "modify", "required")

    assert json.loads(export(recorded)["outcomes.json"]) == computed_outcomes(recorded)
    assert json.loads(export(recorded)["outcomes.json"])["counts"]["data"]["required"] == 1


def test_audit_jsonl_lines_are_each_events_canonical_form_with_sorted_keys(recorded):
    files = export(recorded)
    events = AuditEvent.objects.filter(stream=recorded.audit_stream).order_by("seq")
    expected = "".join(json.dumps(e.canonical(), sort_keys=True, ensure_ascii=False) + "\n" for e in events)
    assert files["audit.jsonl"].decode() == expected


def test_cast_at_is_written_as_python_writes_it_with_or_without_a_fraction_of_a_second(recorded, cast, alice):
    whole = timezone.now().replace(microsecond=0) - timedelta(days=1)
    cast(alice, "data", "modify", "required", cast_at=whole)
    cast(alice, "data", "share", "required", cast_at=whole.replace(microsecond=5))

    rows = {(r["voter"], r["component"], r["criterion"]): r for r in csv_rows(export(recorded)["votes.csv"])}
    assert rows[("alice", "data", "modify")]["cast_at"] == whole.isoformat()
    assert rows[("alice", "data", "share")]["cast_at"] == whole.replace(microsecond=5).isoformat()
    for vote in Vote.objects.filter(ballot=recorded).select_related("voter", "component", "criterion"):
        assert rows[(vote.voter.username, vote.component.key, vote.criterion.key)]["cast_at"] == (
            vote.cast_at.isoformat()
        )


def test_replaying_audit_jsonl_gives_exactly_votes_csv(recorded):
    """What `--verify` checks: each vote event sets or clears a cell; dispute events set which votes are disputed."""
    files = export(recorded)
    cells: dict[tuple, dict] = {}
    disputes: dict[str, dict] = {}
    for line in files["audit.jsonl"].decode().splitlines():
        event = json.loads(line)
        p = event["payload"]
        if event["action"] in ("vote.cast", "vote.changed", "vote.cast_on_behalf"):
            cells[(p["voter"], p["component"], p["criterion"])] = p
        elif event["action"] == "vote.withdrawn":
            del cells[(p["voter"], p["component"], p["criterion"])]
        elif event["action"] in ("dispute.raised", "dispute.resolved"):
            disputes[event["subject"]] = p

    def disputed(p: dict) -> bool:
        return any(
            d["status"] in ("open", "upheld") and all(v is None or p[k] == v for k, v in d["selection"].items())
            for d in disputes.values()
        )

    replayed = sorted(
        (
            {
                "voter": p["voter"],
                "working_group": p["group"],
                "component": p["component"],
                "criterion": p["criterion"],
                "choice": p["choice"],
                "value": str(p["value"]),
                "cast_at": p["cast_at"],
                "rationale": p["rationale"],
                "disputed": "true" if disputed(p) else "false",
            }
            for p in cells.values()
        ),
        key=lambda row: (row["component"], row["criterion"], row["voter"]),
    )
    assert replayed == csv_rows(files["votes.csv"])


def test_audit_jsonl_is_the_ballots_stream_in_order_and_its_chain_holds(recorded):
    files = export(recorded)
    lines = files["audit.jsonl"].decode().splitlines()
    events = [json.loads(line) for line in lines]

    expected = AuditEvent.objects.filter(stream=recorded.audit_stream).order_by("seq")
    assert lines == [json.dumps(e.canonical(), sort_keys=True, ensure_ascii=False) for e in expected]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    broken, heads = chain.verify(events)
    assert broken is None
    assert heads == {recorded.audit_stream: json.loads(files["manifest.json"])["audit_head"]}


def test_ballot_json_has_every_documented_key_and_round_trips_to_the_analysis_spec(recorded):
    ballot = json.loads(export(recorded)["ballot.json"])

    assert set(ballot) == {
        "format", "definition", "version", "key", "title", "status", "eligibility", "criteria", "choices",
        "working_groups", "grants", "components", "methodology", "clustering", "disputes", "conflicts",
        "decisions",
    }  # fmt: skip
    assert spec_from_json(ballot) == services.ballot_spec(recorded)
    assert ballot["format"] == "plenary-ballot/1"
    assert ballot["definition"] == {"slug": "osd", "title": "Open System Definition"}
    assert (ballot["version"], ballot["key"], ballot["status"]) == ("0.0.9", "components", "open")
    assert ballot["criteria"] == [{"key": k, "label": label} for k, label in CRITERIA]
    flags = {"requires_grant": False, "blocking": False, "requires_rationale": False}
    assert ballot["choices"] == [flags | c for c in CHOICES]
    assert ballot["components"] == [
        {"key": "code", "title": "Training code", "category": "Code"},
        {"key": "all-data", "title": "All data", "category": "Data", "aggregate": {"rule": "mean", "of": ["data"]}},
        {"key": "data", "title": "Training data", "category": "Data"},
    ]
    assert ballot["methodology"] == recorded.methodology and ballot["clustering"] == {"k": 2, "seed": 42}


def test_ballot_json_names_groups_members_chairs_grants_and_disputes(recorded):
    ballot = json.loads(export(recorded)["ballot.json"])

    assert ballot["working_groups"] == [
        {
            "key": "corpora",
            "name": "Corpora",
            "members": ["dave"],
            "chairs": [],
            "eligible": ["dave"],
            "former_members": [],
        },
        {
            "key": "weights",
            "name": "Weights",
            "members": ["-1+1", "alice", "bob"],
            "chairs": ["alice"],
            "eligible": ["-1+1", "alice", "bob"],
            "former_members": [],
        },
    ]
    [to_alice, to_corpora] = ballot["grants"]
    assert {k: v for k, v in to_alice.items() if k != "granted_at"} == {
        "holder": "alice",
        "holder_kind": "member",
        "choice": "not-necessary",
        "category": None,
        "reason": "Data steward.",
        "granted_by": "olga",
        "revoked_at": None,
    }
    assert (to_corpora["holder"], to_corpora["holder_kind"], to_corpora["category"]) == ("corpora", "group", "Data")
    assert ballot["disputes"] == [
        {
            "selection": {
                "voter": "alice",
                "group": None,
                "choice": "not-necessary",
                "component": None,
                "criterion": None,
            },
            "reason": "No rationale given.",
            "status": "open",
            "resolution": "",
            "raised_by": "bob",
        },
        {
            "selection": {"voter": "dave", "group": None, "choice": None, "component": "code", "criterion": None},
            "reason": "On behalf?",
            "status": "dismissed",
            "resolution": "Dave asked.",
            "raised_by": "alice",
        },
    ]


def test_a_closed_ballot_lists_its_members_at_close_not_as_they_are_now(recorded, olga, bob, carol, group):
    votes.close_ballot(ballot=recorded, acting_user=olga)
    Membership.objects.filter(user=bob).update(left_at=timezone.now())
    MembershipFactory(group=group, user=carol)

    ballot = json.loads(export(recorded)["ballot.json"])

    assert ballot["status"] == "closed"
    weights = next(g for g in ballot["working_groups"] if g["key"] == "weights")
    assert weights["members"] == ["-1+1", "alice", "bob"]
    assert weights["former_members"] == []  # bob left after the close: a member at close, not a former one


def test_a_revoked_grant_says_when(recorded, olga):
    votes.revoke_grant(grant=recorded.grants.get(group__isnull=False), reason="Charter changed.", acting_user=olga)

    grants = json.loads(export(recorded)["ballot.json"])["grants"]

    assert grants[0]["revoked_at"] is None
    assert grants[1]["revoked_at"] == recorded.grants.get(group__isnull=False).revoked_at.isoformat()


def test_outcomes_json_is_what_the_analysis_computes_for_the_ballot(recorded):
    assert json.loads(export(recorded)["outcomes.json"]) == computed_outcomes(recorded)


def test_datapackage_describes_votes_csv_with_typed_columns(recorded):
    package = json.loads(export(recorded)["datapackage.json"])

    [resource] = package["resources"]
    assert package["name"] == "osd-components"
    assert {k: resource[k] for k in ("name", "path", "format", "encoding")} == {
        "name": "votes",
        "path": "votes.csv",
        "format": "csv",
        "encoding": "utf-8",
    }
    assert [(f["name"], f["type"]) for f in resource["schema"]["fields"]] == [
        ("voter", "string"),
        ("working_group", "string"),
        ("component", "string"),
        ("criterion", "string"),
        ("choice", "string"),
        ("value", "integer"),
        ("cast_at", "datetime"),
        ("rationale", "string"),
        ("disputed", "boolean"),
    ]


def test_votes_and_audit_events_are_streamed_as_rows_never_loaded_as_model_instances(recorded, monkeypatch):
    def loaded(cls, *args, **kwargs):
        raise AssertionError(f"{cls.__name__} instances loaded: the export would grow with the votes")

    monkeypatch.setattr(Vote, "from_db", classmethod(loaded))
    monkeypatch.setattr(AuditEvent, "from_db", classmethod(loaded))

    assert csv_rows(export(recorded)["votes.csv"])


def test_a_ballot_without_votes_exports_a_header_only_csv(scheduled):
    files = export(scheduled)

    assert files["votes.csv"] == (",".join(HEADER) + "\r\n").encode()
    [created] = [json.loads(line) for line in files["audit.jsonl"].decode().splitlines()]
    assert created["action"] == "ballot.created"
    assert json.loads(files["manifest.json"])["audit_head"] == created["hash"]
    assert json.loads(files["outcomes.json"]) == computed_outcomes(scheduled)


# Spreadsheet formula injection --------------------------------------------------------------------------------


def test_cells_a_spreadsheet_would_run_are_written_with_a_quote_in_front(recorded):
    raw = export(recorded)["votes.csv"]

    assert b'"\'=HYPERLINK(""http://evil.example"",""click"")"' in raw
    assert b"'-1+1," in raw  # the handle
    assert b"''Quoted, she said" in raw
    assert b"'@SUM(A1) \xe2\x80\x94 and\ta tab" in raw
    assert b"'-2+3" in raw
    assert b",-1," in raw and b",'-1," not in raw  # value is a number, never escaped
    cells = [cell for row in csv.reader(StringIO(raw.decode(), newline="")) for cell in row[:5] + row[6:]]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]


@pytest.mark.parametrize("cell", HOSTILE)
def test_restore_undoes_neutralise(cell):
    assert restore(neutralise(cell)) == cell


@pytest.mark.parametrize(
    "cell, written",
    [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\tx", "'\tx"), ("\rx", "'\rx"),
     ("'x", "''x"), ("x", "x"), ("", ""), ("a=b", "a=b")],
)  # fmt: skip
def test_neutralise_quotes_what_a_spreadsheet_would_run_and_what_starts_with_a_quote(cell, written):
    assert neutralise(cell) == written


@given(st.text())
def test_any_text_survives_neutralise_then_restore_and_is_never_a_formula(cell):
    written = neutralise(cell)

    assert restore(written) == cell
    assert not written.startswith(("=", "+", "-", "@", "\t", "\r"))


SPREADSHEET_STARTS = ["=", "+", "-", "@", "\t", "\r", "'", " =", "\n=", ""]
RATIONALES = st.tuples(
    st.sampled_from(SPREADSHEET_STARTS), st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30)
).map("".join)


@pytest.fixture
def formulas(olga):
    """A ballot whose every key and handle a spreadsheet would run: members +1, @x and -1 of group -g,
    voting on component -code for criteria -use and -study with choices -yes and -no."""
    definition = deliberation.create_definition(slug="sheet", title="=Sheet", organizers=[olga], acting_user=olga)
    version = deliberation.start_draft(definition=definition, label="1", acting_user=olga)
    for key, category in (("-code", "=Code"), ("-data", "+Data")):
        fields = {"key": key, "title": f"@{key}", "category": category}
        deliberation.add_component(version=version, fields=fields, acting_user=olga)
    version = deliberation.publish_version(version=version, release_notes="-", acting_user=olga)
    group = deliberation.create_group(definition=definition, key="-g", name="=Group", acting_user=olga)
    for handle in ("+1", "@x", "-1"):
        deliberation.add_member(group=group, user=UserFactory(username=handle), acting_user=olga)
    ballot = votes.create_ballot(
        version=version,
        key="-b",
        title="=Ballot",
        groups=[group],
        criteria=[("-use", "=Use"), ("-study", "+Study")],
        choices=[{"key": "-yes", "label": "+Yes", "value": 1}, {"key": "-no", "label": "-No", "value": -1}],
        acting_user=olga,
    )
    return votes.open_ballot(ballot=ballot, acting_user=olga)


def cast_formulas(ballot: Ballot, rationales: list[str]) -> None:
    component, criteria = ballot.version.components.get(key="-code"), list(ballot.criteria.all())
    for i, (handle, rationale) in enumerate(zip(("+1", "@x", "-1"), rationales, strict=False)):
        votes.cast_vote(
            ballot=ballot,
            voter=UserFactory(username=handle),
            component=component,
            criterion=criteria[i % 2],
            choice=ballot.choices.get(key=("-yes", "-no")[i % 2]),
            rationale=rationale,
        )


def assert_no_cell_is_a_formula(raw: bytes) -> None:
    rows = list(csv.reader(StringIO(raw.decode(), newline="")))
    cells = [cell for row in rows[1:] for cell in row[:5] + row[6:]]  # every cell but the value, a number
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))], rows


@fuzz(6)
@given(rationales=st.lists(RATIONALES, min_size=3, max_size=3))
@example(rationales=['=HYPERLINK("http://evil.example","click")', "@SUM(A1)\tand a tab", "'-2+3"])
def test_every_cell_a_spreadsheet_would_run_is_neutralised_and_the_bundle_verifies_and_round_trips(
    formulas, capsys, rationales
):
    with rolled_back(), tempfile.TemporaryDirectory() as folder:
        cast_formulas(formulas, rationales)
        path, copy = Path(folder) / "bundle.zip", Path(folder) / "copy"
        bundles.export_bundle(formulas, path)
        with zipfile.ZipFile(path) as archive:
            raw = archive.read("votes.csv")
            archive.extractall(copy)

        assert_no_cell_is_a_formula(raw)
        assert csv_rows(raw) == stored_votes(formulas)
        assert tally_command([str(path), "--verify"]) == 0, capsys.readouterr().out  # python -m analysis.tally
        (copy / "manifest.json").unlink()
        data = json.loads((copy / "ballot.json").read_text())
        data["definition"]["slug"] = "sheet-copy"
        (copy / "ballot.json").write_text(json.dumps(data))
        call_command("import_tally", str(copy), "--use-existing-accounts", stdout=StringIO())
        assert stored_votes(Ballot.objects.get(definition__slug="sheet-copy")) == stored_votes(formulas)


# The download -------------------------------------------------------------------------------------------------


def tally_url(ballot: Ballot) -> str:
    return reverse("analysis:tally-download", args=[ballot.definition.slug, ballot.key])


@pytest.fixture
def sealed(olga, published, group, other_group):
    ballot = votes.create_ballot(
        version=published,
        key="sealed",
        title="Sealed vote",
        groups=[group, other_group],
        criteria=CRITERIA,
        choices=CHOICES,
        results_visibility=Ballot.Visibility.AFTER_CLOSE,
        acting_user=olga,
    )
    return votes.open_ballot(ballot=ballot, acting_user=olga)


def test_anyone_downloads_the_bundle_of_a_live_ballot(client, recorded):
    response = client.get(tally_url(recorded))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="osd-components-tally.zip"'
    files = unzipped(b"".join(response.streaming_content))
    assert set(files) == FILES
    assert csv_rows(files["votes.csv"]) == stored_votes(recorded)


def test_the_bundle_of_a_sealed_ballot_is_refused_until_it_closes(client, sealed, olga, carol):
    for persona in (None, carol, olga):
        if persona:
            client.force_login(persona)
        response = client.get(tally_url(sealed))
        assert response.status_code == 403
        assert "published when voting closes" in response.content.decode()

    votes.close_ballot(ballot=sealed, acting_user=olga)
    assert client.get(tally_url(sealed)).status_code == 200


def test_the_download_answers_get_and_head_only(client, recorded):
    assert client.post(tally_url(recorded)).status_code == 405
    assert client.head(tally_url(recorded)).status_code == 200


def test_an_unknown_ballot_has_no_bundle(client, recorded):
    assert client.get(reverse("analysis:tally-download", args=["osd", "nope"])).status_code == 404


@pytest.mark.parametrize("page", ["votes:ballot", "analysis:results"])
def test_the_ballot_and_results_pages_offer_the_bundle_only_when_results_are_public(client, recorded, sealed, page):
    public = client.get(reverse(page, args=["osd", recorded.key])).content.decode()
    hidden = client.get(reverse(page, args=["osd", sealed.key])).content.decode()

    assert f'href="{tally_url(recorded)}">Download the tally bundle</a>' in public
    command = f"plenary-tally osd-components-tally.zip --verify --expect-head {head(recorded.audit_stream)}"
    published_key = client.get(reverse("audit:key")).content.decode().splitlines()[0]
    assert f"{command} --log-key '{published_key}'" in public  # the key to pin, as /audit/log/key gives it
    assert "Download the tally bundle" not in hidden and "plenary-tally" not in hidden


# The command --------------------------------------------------------------------------------------------------


def test_export_tally_writes_the_bundle(recorded, tmp_path):
    out, stdout = tmp_path / "tally.zip", StringIO()

    call_command("export_tally", "osd/components", "--out", str(out), stdout=stdout)

    files = unzipped(out.read_bytes())
    manifest = json.loads(files["manifest.json"])
    assert set(files) == FILES
    assert stdout.getvalue() == f"Wrote {out}: osd/components, audit head {manifest['audit_head']}\n"
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.parametrize("name", ["osd/nope", "nope/components", "components"])
def test_export_tally_names_an_unknown_ballot(recorded, tmp_path, name):
    with pytest.raises(CommandError, match=f"No ballot {name}; give it as definition-slug/ballot-key"):
        call_command("export_tally", name, "--out", str(tmp_path / "tally.zip"))
    assert not list(tmp_path.iterdir())


def test_export_tally_refuses_a_directory_that_does_not_exist(recorded, tmp_path):
    with pytest.raises(CommandError, match="No directory"):
        call_command("export_tally", "osd/components", "--out", str(tmp_path / "missing" / "tally.zip"))


def test_export_tally_warns_when_the_results_are_sealed(sealed, tmp_path):
    stderr = StringIO()

    call_command("export_tally", "osd/sealed", "--out", str(tmp_path / "tally.zip"), stderr=stderr, stdout=StringIO())

    assert "the results of osd/sealed are sealed until it closes" in stderr.getvalue()
    assert (tmp_path / "tally.zip").exists()


def test_a_failed_export_leaves_no_file_behind(recorded, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(bundles, "write_audit", broken)
    with pytest.raises(RuntimeError):
        call_command("export_tally", "osd/components", "--out", str(tmp_path / "tally.zip"), stdout=StringIO())
    assert not list(tmp_path.iterdir())


# One snapshot, on SQLite and PostgreSQL ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_export_in_a_transaction_of_its_own_agrees_with_itself(recorded, tmp_path):
    mode = getattr(connection, "transaction_mode", None)

    with CaptureQueriesContext(connection) as queries:
        files = export(recorded)

    begun = [q["sql"] for q in queries.captured_queries[:2]]  # before any read
    assert ("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ" if POSTGRESQL else "BEGIN DEFERRED") in begun
    assert not connection.in_atomic_block
    assert getattr(connection, "transaction_mode", None) == mode  # SQLite: later transactions as configured
    assert csv_rows(files["votes.csv"]) == stored_votes(recorded)
    assert json.loads(files["outcomes.json"]) == computed_outcomes(recorded)
    broken, heads = chain.verify(json.loads(line) for line in files["audit.jsonl"].decode().splitlines())
    assert broken is None and heads[recorded.audit_stream] == json.loads(files["manifest.json"])["audit_head"]


@pytest.mark.skipif(not POSTGRESQL, reason="needs PostgreSQL: SQLite's in-memory test database has one writer")
@pytest.mark.django_db(transaction=True)
def test_a_vote_landing_while_the_bundle_is_written_is_in_none_of_its_files(recorded, cast, carol, group, monkeypatch):
    MembershipFactory(group=group, user=carol)
    write_votes, landed = bundles.write_votes, []

    def a_vote_lands_meanwhile() -> None:
        try:
            landed.append(cast(carol, "code", "use", "required"))
        finally:
            connection.close()

    def write_votes_then_a_vote_lands(ballot: Ballot, out) -> None:
        write_votes(ballot, out)
        thread = threading.Thread(target=a_vote_lands_meanwhile)
        thread.start()
        thread.join(timeout=30)

    monkeypatch.setattr(bundles, "write_votes", write_votes_then_a_vote_lands)
    files = export(recorded)

    assert landed and Vote.objects.filter(voter=carol).exists()
    events = [json.loads(line) for line in files["audit.jsonl"].decode().splitlines()]
    assert "carol" not in {e["payload"].get("voter") for e in events}
    assert "carol" not in {r["voter"] for r in csv_rows(files["votes.csv"])}
    assert json.loads(files["manifest.json"])["audit_head"] == events[-1]["hash"]
    assert events[-1]["hash"] != AuditEvent.objects.filter(stream=recorded.audit_stream).order_by("-seq")[0].hash
