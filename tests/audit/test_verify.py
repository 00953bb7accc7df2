"""The audit table refuses changes, and `verify_audit` finds any change made behind its back."""

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audit import guard
from audit.models import AuditEvent, record
from tests.factories import DefinitionFactory


@pytest.fixture
def events(olga):
    definition = DefinitionFactory(slug="chain")
    for n in range(5):
        record(stream="definition:chain", actor=olga, action="test.step", subject=definition, payload={"n": n})
    record(stream="ballot:other", actor=olga, action="test.other", subject=definition)
    return list(AuditEvent.objects.filter(stream="definition:chain").order_by("seq"))


def verify() -> str:
    from io import StringIO

    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def test_an_intact_log_verifies_and_names_each_head(events):
    output = verify()

    assert "intact: 6 events in 2 streams" in output
    assert f"definition:chain  head {events[-1].hash}" in output


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
