"""The decision on the record and formal objections: who may record, object and answer, what each writes in the
ballot's audit stream, and how a tally bundle carries them for `plenary-tally --verify` to check.

`closed` is the ballot `components` of tests/votes/conftest.py, voted on and closed, with its outcomes computed:
built once per module (`_world_once`), each test rolling back what it wrote. `ballot` is another ballot of the
same version and groups, open, built for each test that asks for it.
"""

import copy
import json
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse

from analysis import bundles, decisions, services
from analysis.models import OUTCOME_MAX_LENGTH, STATEMENT_MAX_LENGTH, Decision, Objection, OutcomeRun
from audit.models import AuditEvent
from plenary_tally import verify
from plenary_tally.vocabulary import Action
from tests.analysis import handmade
from tests.conftest import from_world, make_definition, make_group, make_other_group, make_persona, make_published
from tests.factories import UserFactory
from tests.votes.conftest import make_cast, make_scheduled, new_ballot
from votes import services as votes
from votes.models import Ballot

# The world, built once per module ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def _world_once(django_db_setup, django_db_blocker) -> Iterator[SimpleNamespace]:
    """The personas, `published`, its groups and `closed`, as tests/conftest.py and tests/votes/conftest.py build
    them, once per module in a transaction that each test's own nests in and rolls back to (as Django's
    TestCase.setUpTestData does); rolled back after the module's last test."""
    with django_db_blocker.unblock(), transaction.atomic():
        w = SimpleNamespace(**{name: make_persona(name) for name in ("olga", "alice", "bob", "carol", "dave")})
        w.published = make_published(make_definition(w.olga))
        w.group = make_group(w.published.definition, w.alice, w.bob)
        w.other_group = make_other_group(w.published.definition, w.dave)
        ballot = make_scheduled(w.olga, w.published, w.group, w.other_group)
        w.closed = _closed(votes.open_ballot(ballot=ballot, acting_user=w.olga), w.olga, w.alice, w.bob, w.dave)
        yield w
        transaction.set_rollback(True)


def _closed(ballot: Ballot, olga, alice, bob, dave) -> Ballot:
    """The ballot, voted on and closed, with its outcomes computed from the final votes."""
    cast = make_cast(ballot)
    cast(alice, "code", "use", "required")
    cast(bob, "code", "use", "required")
    cast(dave, "data", "use", "abstain")
    ballot = votes.close_ballot(ballot=ballot, acting_user=olga)
    services.recompute(ballot)
    return ballot


olga, alice, bob, carol, dave, published, group, other_group = from_world(
    "olga", "alice", "bob", "carol", "dave", "published", "group", "other_group"
)


@pytest.fixture
def definition(_world):
    return _world.published.definition


@pytest.fixture
def closed(_world):
    """The ballot `components`, voted on and closed, with its outcomes computed from the final votes."""
    return _world.closed


@pytest.fixture
def ballot(published, olga, group, other_group):
    """An open ballot of the same version and groups as `closed`, without votes."""
    scheduled = new_ballot(published, olga, [group, other_group], key="open", eligibility=Ballot.Eligibility.LIVE)
    return votes.open_ballot(ballot=scheduled, acting_user=olga)


@pytest.fixture
def code(closed):
    return closed.version.components.get(key="code")


def record(closed, olga, component, outcome="Yes", statement="The groups agree: code is required.", **kwargs):
    return decisions.record_decision(
        ballot=closed, component=component, outcome=outcome, statement=statement, acting_user=olga, **kwargs
    )


def events(ballot, action) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(stream=ballot.audit_stream, action=action).order_by("seq"))


def nothing_written(ballot, before: int) -> bool:
    return services.audit_position(ballot) == before and not Decision.objects.exists()


# Recording a decision --------------------------------------------------------------------------------------------


def test_olga_records_a_decision_citing_the_latest_run_and_it_is_audited(closed, olga, code):
    run = OutcomeRun.objects.latest_for(closed)

    decision = record(closed, olga, code)

    assert (decision.number, decision.run, decision.audit_seq, decision.input_digest) == (
        1,
        run,
        run.audit_seq,
        run.input_digest,
    )
    (event,) = events(closed, Action.DECISION_RECORDED)
    assert event.actor == olga and event.subject_id == str(decision.pk)
    assert event.payload == {
        "number": 1,
        "component": "code",
        "outcome": "Yes",
        "statement": "The groups agree: code is required.",
        "run": {"audit_seq": run.audit_seq, "input_digest": run.input_digest},
        "supersedes": None,
        "recorded_at": decision.recorded_at.isoformat(),
    }
    assert list(closed.decisions.current()) == [decision]


def test_a_decision_for_the_whole_ballot_has_no_component(closed, olga):
    decision = record(closed, olga, None, outcome="Adopted as a whole")

    assert decision.component is None
    assert events(closed, Action.DECISION_RECORDED)[0].payload["component"] is None


def test_recording_again_for_a_component_supersedes_the_decision_that_stood(closed, olga, code):
    first = record(closed, olga, code)
    on_ballot = record(closed, olga, None, outcome="Adopted")
    second = record(closed, olga, code, outcome="Lean yes", statement="Revised after the call.")

    assert second.supersedes == first and second.number == 3
    assert set(closed.decisions.current()) == {on_ballot, second}
    assert events(closed, Action.DECISION_RECORDED)[-1].payload["supersedes"] == 1


@pytest.mark.parametrize("who", ["alice", "bob", "carol", "oscar"])
def test_only_the_definitions_organizers_record_decisions(closed, code, who, request):
    before = services.audit_position(closed)
    with pytest.raises(PermissionDenied):
        record(closed, request.getfixturevalue(who), code)
    assert nothing_written(closed, before)


def test_a_decision_waits_for_the_ballot_to_close(ballot, cast, olga, alice):
    cast(alice, "code", "use", "required")
    services.recompute(ballot)
    before = services.audit_position(ballot)

    with pytest.raises(ValidationError, match="once the ballot has closed"):
        record(ballot, olga, ballot.version.components.get(key="code"))
    assert nothing_written(ballot, before)


@pytest.mark.parametrize(
    "outcome, statement, problem",
    [
        ("Yes", "   ", "Write the statement"),
        ("", "Because.", "Write what was decided"),
        ("x" * (OUTCOME_MAX_LENGTH + 1), "Because.", f"at most {OUTCOME_MAX_LENGTH} characters"),
        ("Yes", "x" * (STATEMENT_MAX_LENGTH + 1), f"at most {STATEMENT_MAX_LENGTH} characters"),
    ],
)
def test_a_decision_needs_an_outcome_and_a_statement_within_their_limits(
    closed, olga, code, outcome, statement, problem
):
    before = services.audit_position(closed)
    with pytest.raises(ValidationError, match=problem):
        record(closed, olga, code, outcome=outcome, statement=statement)
    assert nothing_written(closed, before)


def test_a_run_that_read_the_ballot_before_it_closed_is_refused(ballot, cast, olga, alice):
    cast(alice, "code", "use", "required")
    before_close = services.compute_run(ballot)
    ballot = votes.close_ballot(ballot=ballot, acting_user=olga)
    services.recompute(ballot)

    with pytest.raises(ValidationError, match="before it closed"):
        record(ballot, olga, ballot.version.components.get(key="code"), run=before_close)
    assert not Decision.objects.exists()


def test_the_cited_run_must_have_read_the_ballot_as_it_stands(closed, olga, code, bob, alice):
    votes.raise_dispute(ballot=closed, raised_by=bob, reason="Cast in a hurry.", voter=alice)
    stale = OutcomeRun.objects.latest_for(closed)
    with pytest.raises(ValidationError, match="changed since that run"):
        record(closed, olga, code, run=stale)
    with pytest.raises(ValidationError, match="no run to rest the decision on yet"):
        record(closed, olga, code)  # the latest run read the votes before the dispute
    assert not Decision.objects.exists()

    services.recompute(closed)
    assert record(closed, olga, code).input_digest != stale.input_digest


def test_a_run_of_another_ballot_is_refused(closed, olga, code, published, group):
    other = votes.close_ballot(
        ballot=votes.open_ballot(
            ballot=votes.create_ballot(
                version=published,
                key="other",
                title="Other",
                groups=[group],
                criteria=[("use", "Use")],
                choices=[{"key": "required", "label": "Required", "value": 1}],
                acting_user=olga,
            ),
            acting_user=olga,
        ),
        acting_user=olga,
    )
    with pytest.raises(ValidationError, match="not a run of this ballot"):
        record(closed, olga, code, run=services.compute_run(other))


def test_a_component_of_another_version_is_refused(closed, olga, draft):
    from tests.factories import ComponentFactory

    with pytest.raises(ValidationError, match="not part of the version"):
        record(closed, olga, ComponentFactory(version=draft, key="elsewhere"))


# Objections and their answers ------------------------------------------------------------------------------------


def test_bob_lodges_an_objection_with_his_reasoning_and_it_is_audited(closed, olga, bob, code):
    decision = record(closed, olga, code)

    objection = decisions.lodge_objection(decision=decision, member=bob, reasoning="Training code alone is not enough.")

    (event,) = events(closed, Action.OBJECTION_LODGED)
    assert event.actor == bob
    assert event.payload == {
        "decision": 1,
        "reasoning": "Training code alone is not enough.",
        "lodged_at": objection.lodged_at.isoformat(),
        "answer": None,
        "answer_reason": "",
        "answered_at": None,
    }
    assert list(decision.objections.open()) == [objection]


def test_dave_of_the_other_group_may_object_but_not_carol_nor_the_organizer(closed, olga, dave, carol, code):
    decision = record(closed, olga, code)
    decisions.lodge_objection(decision=decision, member=dave, reasoning="Corpora disagrees.")
    for outsider in (carol, olga):
        with pytest.raises(PermissionDenied):
            decisions.lodge_objection(decision=decision, member=outsider, reasoning="Me too.")
    assert decision.objections.count() == 1


def test_an_objection_needs_reasoning_on_a_decision_that_stands_and_waits_for_its_answer(closed, olga, bob, code):
    first = record(closed, olga, code)
    with pytest.raises(ValidationError, match="Write your reasoning"):
        decisions.lodge_objection(decision=first, member=bob, reasoning=" ")
    with pytest.raises(ValidationError, match=f"at most {STATEMENT_MAX_LENGTH}"):
        decisions.lodge_objection(decision=first, member=bob, reasoning="x" * (STATEMENT_MAX_LENGTH + 1))
    decisions.lodge_objection(decision=first, member=bob, reasoning="No.")
    with pytest.raises(ValidationError, match="awaits its answer already"):
        decisions.lodge_objection(decision=first, member=bob, reasoning="Still no.")
    record(closed, olga, code, outcome="Lean yes")
    with pytest.raises(ValidationError, match="has been revised"):
        decisions.lodge_objection(decision=first, member=bob, reasoning="And now?")
    assert Objection.objects.count() == 1


def test_olga_overrules_an_objection_with_reasons_and_the_decision_stands(closed, olga, bob, code):
    decision = record(closed, olga, code)
    objection = decisions.lodge_objection(decision=decision, member=bob, reasoning="No.")

    answered, revised = decisions.answer_objection(
        objection=objection, answer="overruled", reason="The vote was clear.", acting_user=olga
    )

    assert revised is None
    assert (answered.answer, answered.answer_reason, answered.answered_by) == ("overruled", "The vote was clear.", olga)
    (event,) = events(closed, Action.OBJECTION_ANSWERED)
    assert event.actor == olga and event.payload["answer"] == "overruled"
    assert event.payload["answer_reason"] == "The vote was clear."
    assert list(closed.decisions.current()) == [decision]


def test_olga_upholds_an_objection_and_the_decision_is_revised_by_a_new_record(closed, olga, bob, code):
    decision = record(closed, olga, code)
    objection = decisions.lodge_objection(decision=decision, member=bob, reasoning="Code without data is not open.")

    answered, revised = decisions.answer_objection(
        objection=objection, answer="upheld", reason="Bob is right.", outcome="Lean yes", acting_user=olga
    )

    assert answered.answer == "upheld"
    assert (revised.supersedes, revised.outcome, revised.statement, revised.number) == (
        decision,
        "Lean yes",
        "Bob is right.",
        2,
    )
    actions = list(
        AuditEvent.objects.filter(stream=closed.audit_stream).order_by("-seq").values_list("action", flat=True)[:2]
    )
    assert actions == [Action.DECISION_RECORDED, Action.OBJECTION_ANSWERED]
    assert list(closed.decisions.current()) == [revised]


def test_answers_are_refused_without_reasons_twice_or_by_members(closed, olga, bob, alice, code):
    decision = record(closed, olga, code)
    objection = decisions.lodge_objection(decision=decision, member=bob, reasoning="No.")
    with pytest.raises(PermissionDenied):
        decisions.answer_objection(objection=objection, answer="overruled", reason="Mine.", acting_user=alice)
    with pytest.raises(ValidationError, match="reasons for the answer"):
        decisions.answer_objection(objection=objection, answer="overruled", reason="", acting_user=olga)
    with pytest.raises(ValidationError, match="upheld or overruled"):
        decisions.answer_objection(objection=objection, answer="maybe", reason="Hm.", acting_user=olga)
    with pytest.raises(ValidationError, match="revised decision"):
        decisions.answer_objection(objection=objection, answer="upheld", reason="Right.", acting_user=olga)
    assert not events(closed, Action.OBJECTION_ANSWERED) and closed.decisions.count() == 1

    decisions.answer_objection(objection=objection, answer="overruled", reason="Clear.", acting_user=olga)
    with pytest.raises(ValidationError, match="answered already"):
        decisions.answer_objection(objection=objection, answer="overruled", reason="Again.", acting_user=olga)


# The bundle --------------------------------------------------------------------------------------------------


@pytest.fixture
def decided(closed, olga, bob, dave, code):
    return decide(closed, olga, bob, dave, code)


@pytest.fixture(scope="module")
def _decided_once(_world_once, tmp_path_factory, django_db_blocker) -> Path:
    """`exported(decided)`, built once per module in a transaction of its own that is rolled back: only the
    folder is left, for the tests that read the bundle and nothing else."""
    with django_db_blocker.unblock(), transaction.atomic():
        w = copy.deepcopy(_world_once)
        decided = decide(w.closed, w.olga, w.bob, w.dave, w.closed.version.components.get(key="code"))
        folder = exported(decided, tmp_path_factory.mktemp("decided"))
        transaction.set_rollback(True)
    return folder


@pytest.fixture
def decided_bundle(_decided_once, tmp_path) -> Path:
    """The unzipped bundle of `decided`, a copy per test to edit; its decisions are not in the database."""
    return Path(shutil.copytree(_decided_once, tmp_path / "bundle"))


def decide(closed, olga, bob, dave, code):
    """Decision 1 on code, objected to by bob (upheld: decision 2 revises it) and by dave (overruled);
    decision 3 on the whole ballot, with an objection of bob's still open."""
    first = record(closed, olga, code)
    upheld = decisions.lodge_objection(decision=first, member=bob, reasoning="Code without data is not open.")
    overruled = decisions.lodge_objection(decision=first, member=dave, reasoning="Corpora was not heard.")
    decisions.answer_objection(objection=overruled, answer="overruled", reason="It was, twice.", acting_user=olga)
    decisions.answer_objection(
        objection=upheld, answer="upheld", reason="Bob is right.", outcome="Lean yes", acting_user=olga
    )
    whole = record(closed, olga, None, outcome="Adopted", statement="The definition stands as voted.")
    decisions.lodge_objection(decision=whole, member=bob, reasoning="Too soon.")
    services.recompute(closed)  # as the results page would: the run at the bundle's audit position
    return closed


def exported(ballot, tmp_path: Path) -> Path:
    path = tmp_path / "bundle.zip"
    bundles.export_bundle(ballot, path)
    with zipfile.ZipFile(path) as archive:
        archive.extractall(tmp_path / "bundle")
    return tmp_path / "bundle"


def test_ballot_json_carries_every_decision_with_its_run_and_objections(decided, tmp_path):
    data = json.loads((exported(decided, tmp_path) / "ballot.json").read_text())

    first, revised, whole = data["decisions"]
    run = decided.decisions.get(number=1).run
    assert first["run"] == {"audit_seq": run.audit_seq, "input_digest": run.input_digest}
    assert (first["component"], first["outcome"], first["supersedes"], first["recorded_by"]) == (
        "code",
        "Yes",
        None,
        "olga",
    )
    assert [(o["member"], o["answer"], o["answered_by"]) for o in first["objections"]] == [
        ("bob", "upheld", "olga"),
        ("dave", "overruled", "olga"),
    ]
    assert (revised["supersedes"], revised["outcome"], revised["objections"]) == (1, "Lean yes", [])
    assert whole["component"] is None
    assert whole["objections"][0] | {"lodged_at": None} == {
        "member": "bob",
        "reasoning": "Too soon.",
        "lodged_at": None,
        "answer": None,
        "answer_reason": "",
        "answered_by": None,
        "answered_at": None,
    }


def test_a_bundle_carrying_decisions_verifies_offline(decided_bundle):
    report = verify(decided_bundle)

    assert report.ok, report.lines()
    assert any(
        line.startswith("decisions: 3 on the record, 2 standing, each citing this bundle's run")
        for line in report.lines()
    )


def test_the_server_replays_the_decisions_of_its_stored_stream_too(decided):
    from analysis.auditing import verify_records

    verify_records(stream=decided.audit_stream)  # raises RecordBroken otherwise


def _edit(path: Path, change) -> Path:
    data = json.loads((path / "ballot.json").read_text())
    change(data)
    (path / "ballot.json").write_text(json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False))
    return handmade.rehash(path)


def test_a_decision_citing_another_digest_is_refused_naming_it(decided_bundle):
    path = decided_bundle
    _edit(path, lambda data: data["decisions"][2]["run"].update(input_digest="ab" * 32))

    report = verify(path)

    assert not report.ok
    messages = [str(p) for p in report.problems]
    assert any("decisions[2].run.input_digest differs from the decision.recorded event" in m for m in messages), (
        messages
    )
    assert any(
        "decisions[2].run.input_digest: decision 3 (on the ballot) cites the run" in m and "rests on another run" in m
        for m in messages
    ), messages
    assert "decisions: FAILED, 1 problem" in report.lines()


def test_an_edited_objection_is_refused_naming_it(decided_bundle):
    path = decided_bundle
    _edit(path, lambda data: data["decisions"][0]["objections"][1].update(reasoning="Corpora agreed."))

    report = verify(path)

    assert not report.ok
    assert any(
        "decisions[0].objections[1].reasoning differs from the objection's events" in str(p) for p in report.problems
    ), report.lines()


@pytest.mark.parametrize(
    "change, problem",
    [
        (lambda data: data["decisions"][1].update(outcome="Yes"), "decisions[1].outcome differs"),
        (lambda data: data["decisions"][0]["objections"][0].update(answer="overruled"), "objections[0].answer differs"),
        (lambda data: data["decisions"].pop(), "decision 3, recorded in the log (line"),
        (
            lambda data: data["decisions"][2]["objections"].clear(),
            "decisions[2].objections: 0 in the file, the log records 1",
        ),
    ],
)
def test_other_edits_of_the_record_are_refused(decided_bundle, change, problem):
    path = decided_bundle
    _edit(path, change)

    report = verify(path)

    assert not report.ok and any(problem in str(p) for p in report.problems), report.lines()


def test_a_standing_decision_whose_run_the_votes_moved_past_is_reported(decided, tmp_path, bob, alice):
    votes.raise_dispute(ballot=decided, raised_by=bob, reason="After the decision.", voter=alice)
    services.recompute(decided)

    report = verify(exported(decided, tmp_path))

    assert not report.ok
    assert [p.message.split(":")[0] for p in report.problems] == [
        "decisions[1].run.input_digest",
        "decisions[2].run.input_digest",
    ]


@pytest.mark.parametrize(
    "change, problem",
    [
        (lambda d: d.update(number=7), "decisions[0].number: must be 1"),
        (lambda d: d.update(component="nope"), "decisions[0].component: 'nope' is not a component"),
        (lambda d: d["run"].update(input_digest="xyz"), "decisions[0].run.input_digest: 'xyz' is not a SHA-256"),
        (lambda d: d["run"].pop("audit_seq"), "decisions[0].run.audit_seq: missing"),
        (lambda d: d.update(supersedes=5), "decisions[0].supersedes: names no earlier decision"),
        (lambda d: d["objections"][0].update(answer="maybe"), "decisions[0].objections[0].answer: must be one of"),
        (lambda d: d["objections"][0].update(answered_at=None), "an objection upheld needs its answer_reason"),
        (lambda d: d["objections"][0].update(member="not a handle"), "decisions[0].objections[0].member:"),
    ],
)
def test_the_reader_refuses_decisions_of_the_wrong_shape_naming_the_place(decided_bundle, change, problem):
    path = decided_bundle
    _edit(path, lambda data: change(data["decisions"][0]))

    report = verify(path)

    assert not report.ok and any(problem in str(p) for p in report.problems), report.lines()


def test_an_organizer_added_later_records_decisions_too(closed, olga, code):
    from deliberation import services as deliberation

    otto = UserFactory(username="otto")
    deliberation.add_organizer(definition=closed.definition, user=otto, acting_user=olga)
    assert record(closed, otto, code).recorded_by == otto


# The page ------------------------------------------------------------------------------------------------------


def page_of(ballot) -> str:
    return reverse("analysis:decision-list", args=[ballot.definition.slug, ballot.key])


def test_olga_records_a_decision_with_the_form_prefilled_from_the_run(client, closed, olga):
    client.force_login(olga)
    form = client.get(page_of(closed) + "?component=code").context["form"]
    run = OutcomeRun.objects.latest_for(closed)
    assert form.initial == {
        "component": "code",
        "run": run.pk,
        "outcome": decisions.outcome_in(run, form_component(closed)),
    }
    assert form.initial["outcome"]  # the run's outcome for code

    response = client.post(
        page_of(closed), {"component": "code", "outcome": "Yes", "statement": "Agreed.", "run": run.pk}
    )

    assert response.status_code == 302 and response["Location"].endswith("#decision-1")
    page = client.get(page_of(closed)).content.decode()
    assert "Decision 1 on Training code" in page and "Agreed." in page and f"#{run.audit_seq}" in page


def form_component(ballot):
    return ballot.version.components.get(key="code")


def test_a_refused_decision_is_shown_again_with_its_error_and_nothing_written(client, ballot, olga):
    client.force_login(olga)
    response = client.post(page_of(ballot), {"component": "", "outcome": "Adopted", "statement": "Early."})

    assert response.status_code == 200
    assert "once the ballot has closed" in response.content.decode()
    assert not Decision.objects.exists()


def test_members_object_and_organizers_answer_through_the_page(client, closed, olga, bob):
    decision = record(closed, olga, None, outcome="Adopted")
    client.force_login(bob)
    lodge = reverse("analysis:objection-lodge", args=[closed.definition.slug, closed.key, decision.number])
    assert client.post(lodge, {"reasoning": "Too soon."}).status_code == 302
    objection = decision.objections.get()
    assert "Too soon." in client.get(page_of(closed)).content.decode()

    client.force_login(olga)
    answer = reverse("analysis:objection-answer", args=[closed.definition.slug, closed.key, objection.pk])
    client.post(answer, {"answer": "upheld", "reason": "Agreed.", "outcome": "Adopted with changes"})

    assert closed.decisions.current().get().outcome == "Adopted with changes"
    page = client.get(page_of(closed)).content.decode()
    assert "Upheld</strong> by @olga" in page and "Revised by" in page


def test_the_results_page_shows_the_standing_decisions(client, closed, olga, code):
    record(closed, olga, code, outcome="Yes, required")
    page = client.get(reverse("analysis:results", args=[closed.definition.slug, closed.key])).content.decode()

    assert "The decision on the record" in page and "Training code</strong>: Yes, required" in page


def test_the_decisions_page_reads_in_a_fixed_number_of_queries(
    client, closed, olga, bob, dave, code, django_assert_max_num_queries
):
    for outcome in ("Yes", "Lean yes", "Maybe"):
        decision = record(closed, olga, code, outcome=outcome)
        decisions.lodge_objection(decision=decision, member=bob, reasoning="No.")
        decisions.lodge_objection(decision=decision, member=dave, reasoning="No!")
    with django_assert_max_num_queries(8):
        assert client.get(page_of(closed)).status_code == 200


def test_decisions_and_objections_leave_the_outcomes_current(decided, closed):
    """A decision rests on a run: recording it, objecting and answering recompute nothing."""
    run = OutcomeRun.objects.latest_for(closed)
    record(closed, closed.definition.organizers.get(), None, outcome="Adopted again", statement="Restated.")

    assert not services.is_stale(closed, run)
