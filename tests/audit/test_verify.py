"""The audit table refuses changes, and `verify_audit` finds any change made behind its back:
in the log itself, and in the definitions, ballots and votes it records."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audit import guard
from audit.models import AuditEvent, record
from deliberation import services as deliberation
from tests.factories import DefinitionFactory
from votes.models import Vote


@pytest.fixture
def events(olga):
    definition = DefinitionFactory(slug="chain")
    for n in range(5):
        record(stream="definition:chain", actor=olga, action="test.step", subject=definition, payload={"n": n})
    record(stream="definition:other", actor=olga, action="test.other", subject=DefinitionFactory(slug="other"))
    return list(AuditEvent.objects.filter(stream="definition:chain").order_by("seq"))


@pytest.fixture
def definition(olga):
    """The shared `osd` definition, created as organizers create one: with its stream."""
    return deliberation.create_definition(
        slug="osd", title="Open System Definition", organizers=[olga], acting_user=olga
    )


@pytest.fixture
def voted(ballot, cast, alice, bob, dave):
    cast(alice, "code", "use", "required")
    cast(bob, "code", "use", "object", rationale="Not yet.")
    cast(bob, "code", "use", "required", rationale="Convinced.")
    cast(dave, "data", "study", "abstain")
    return ballot


def verify(*args: str) -> str:
    out = StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue()


def test_an_intact_log_verifies_and_names_each_head(events):
    output = verify()

    assert "intact: 6 events in 2 streams" in output
    assert f"definition:chain  head {events[-1].hash}" in output


@pytest.mark.parametrize(
    "rename",
    [
        lambda ballot: ballot.definition.__class__.objects.filter(pk=ballot.definition.pk).update(slug="osd-2"),
        lambda ballot: ballot.__class__.objects.filter(pk=ballot.pk).update(key="renamed"),
        lambda ballot: ballot.__class__.objects.filter(pk=ballot.pk).update(definition=DefinitionFactory()),
        lambda ballot: ballot.created_by.__class__.objects.filter(pk=ballot.created_by.pk).update(username="olga2"),
    ],
    ids=["definition slug", "ballot key", "ballot definition", "handle"],
)
def test_the_database_refuses_to_rename_what_streams_and_events_are_keyed_by(voted, rename):
    """A slug renamed in the admin started each ballot's chain afresh, unsealed its next vote, froze its outcomes."""
    with pytest.raises(DatabaseError, match="never changes"), transaction.atomic():
        rename(voted)


def test_saving_a_record_without_renaming_it_is_never_refused(voted):
    definition, olga = voted.definition, voted.created_by
    definition.title = "Open Source Definition, retitled"
    definition.save()  # every column written, the slug as it was
    voted.title = "Retitled"
    voted.save()
    olga.first_name = "Olga"
    olga.save()

    assert voted.audit_stream == "ballot:osd/components"


def test_the_database_refuses_to_update_an_event(events):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=events[2].pk).update(payload={"n": 99})

    assert AuditEvent.objects.get(pk=events[2].pk).payload == {"n": 2}


def test_the_database_refuses_to_delete_an_event(events):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=events[2].pk).delete()

    assert AuditEvent.objects.filter(stream="definition:chain").count() == 5


def tamper(sql: str, params: list) -> None:
    """What someone with direct database access could do: lift the guard and rewrite rows."""
    guard.uninstall(connection)  # rolled back with the test's transaction
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_a_changed_payload_is_found(events):
    tamper("UPDATE audit_auditevent SET payload = %s WHERE id = %s", ['{"n": 99}', events[2].pk])

    with pytest.raises(CommandError, match=r"definition:chain event #3: its content does not match its hash"):
        verify()


def test_a_deleted_event_is_found(events):
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])

    with pytest.raises(CommandError, match=r"definition:chain event #3: expected event #2 here"):
        verify()


def test_reordered_events_are_found(events):
    first, second = events[1], events[2]
    tamper(
        "UPDATE audit_auditevent SET seq = CASE WHEN id = %s THEN %s ELSE %s END WHERE id IN (%s, %s)",
        [first.pk, second.seq + 100, first.seq, first.pk, second.pk],
    )
    tamper("UPDATE audit_auditevent SET seq = %s WHERE id = %s", [second.seq, first.pk])

    with pytest.raises(CommandError, match=r"definition:chain event #2: its previous hash does not match"):
        verify()


def test_a_rewritten_chain_with_recomputed_hashes_no_longer_matches_the_published_head(events):
    """Rewriting history consistently needs every later hash to change, so the head moves."""
    head_before = events[-1].hash
    tamper("UPDATE audit_auditevent SET payload = %s WHERE id = %s", ['{"n": 99}', events[4].pk])
    forged = AuditEvent.objects.get(pk=events[4].pk)
    tamper("UPDATE audit_auditevent SET hash = %s WHERE id = %s", [forged.compute_hash(), forged.pk])

    output = verify()

    assert "intact" in output
    assert head_before not in output


# TRUNCATE, which no row trigger sees -----------------------------------------------------------


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite has no TRUNCATE; its DELETE meets the row trigger"
)
def test_the_database_refuses_to_truncate_the_audit_table(events):
    settle_constraints()
    with pytest.raises(DatabaseError, match="append-only: TRUNCATE refused"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE audit_auditevent")

    assert AuditEvent.objects.filter(stream="definition:chain").count() == 5


def settle_constraints() -> None:
    """PostgreSQL truncates no table with foreign-key checks still pending in the test's transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_flush_cannot_empty_the_audit_log(events):
    settle_constraints()
    with pytest.raises(CommandError, match="couldn't be flushed") as refused:
        call_command("flush", interactive=False, verbosity=0)

    # the first guarded table the TRUNCATE meets refuses: the events', or that of their checkpoints (guard.py)
    assert re.search(r"(audit events|checkpoints and cosignatures) are append-only", str(refused.value.__cause__))
    assert AuditEvent.objects.filter(stream="definition:chain").count() == 5


def empty_the_audit_table() -> None:
    """What an operator who lifts the guard can do: TRUNCATE on PostgreSQL, DELETE on SQLite."""
    settle_constraints()
    tamper("TRUNCATE audit_auditevent" if connection.vendor == "postgresql" else "DELETE FROM audit_auditevent", [])


# Every record has its stream ------------------------------------------------------------------


def test_a_site_whose_records_match_their_streams_verifies(voted):
    output = verify()

    assert "intact: 7 events in 2 streams; every definition and ballot has its stream" in output
    assert "1 ballot replayed, 3 stored votes exactly those the log leaves" in output


def test_an_emptied_audit_table_is_named_not_reported_as_an_intact_empty_log(voted):
    empty_the_audit_table()

    with pytest.raises(CommandError) as failed:
        verify()

    message = str(failed.value)
    assert "definition osd has no audit stream (definition:osd)" in message
    assert "ballot osd/components has no audit stream (ballot:osd/components)" in message


def test_a_definition_renamed_in_the_database_is_named_with_each_ballot_it_cuts_off(voted):
    tamper("UPDATE deliberation_definition SET slug = %s WHERE slug = %s", ["osd-2", "osd"])

    with pytest.raises(CommandError) as failed:
        verify()

    message = str(failed.value)
    assert "ballot osd-2/components has no audit stream (ballot:osd-2/components)" in message
    assert "definition osd-2 has no audit stream (definition:osd)" not in message
    assert "definition osd-2 has no audit stream (definition:osd-2)" in message
    assert "the log holds streams no definition or ballot has: ballot:osd/components, definition:osd" in message


# Each ballot's stored state is what its stream replays to ------------------------------------


def vote_of(in_ballot, voter, component="code", criterion="use") -> Vote:
    return in_ballot.votes.get(voter=voter, component__key=component, criterion__key=criterion)


def test_a_vote_changed_in_the_database_is_named_by_its_cell(voted, bob):
    vote = vote_of(voted, bob)
    tamper("UPDATE votes_vote SET choice_id = %s WHERE id = %s", [voted.choices.get(key="abstain").pk, vote.pk])

    with pytest.raises(CommandError) as failed:
        verify()

    assert (
        "ballot osd/components differs from what its audit stream records: stored vote of bob on code/use:"
        " the database says choice 'abstain', the audit log (event #"
    ) in str(failed.value)
    assert "'required'" in str(failed.value)


def test_a_vote_removed_in_the_database_is_named(voted, dave):
    Vote.objects.filter(pk=vote_of(voted, dave, "data", "study").pk).delete()

    with pytest.raises(CommandError, match=r"no row for the vote of dave on data/study that the audit stream leaves"):
        verify()


def test_a_vote_added_in_the_database_is_named(voted, alice):
    Vote.objects.create(
        ballot=voted,
        voter=alice,
        group=vote_of(voted, alice).group,
        component=voted.version.components.get(key="data"),
        criterion=voted.criteria.get(key="share"),
        choice=voted.choices.get(key="required"),
        cast_by=alice,
    )

    with pytest.raises(CommandError, match=r"stored vote of alice on data/share: the audit log leaves no such vote"):
        verify()


def test_a_ballot_rule_changed_in_the_database_is_named(voted):
    tamper("UPDATE votes_ballot SET title = %s WHERE id = %s", ["Something else", voted.pk])

    with pytest.raises(
        CommandError, match=r"ballot osd/components .*: its stored title differs from the ballot.created"
    ):
        verify()


def test_one_stream_is_checked_alone_with_its_record(voted, bob):
    tamper("UPDATE votes_vote SET rationale = %s WHERE id = %s", ["Edited.", vote_of(voted, bob).pk])

    output = verify("--stream", "definition:osd")
    assert "intact: 1 events in 1 streams" in output and "ballot:osd" not in output
    with pytest.raises(CommandError, match=r"bob on code/use: the database says rationale 'Edited.'"):
        verify("--stream", voted.audit_stream)
