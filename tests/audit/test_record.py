"""The audit log is a hash chain: each event names the hash of the one before and hashes itself."""

import hashlib
import json

import pytest
from django.db import connection, transaction

from audit import guard
from audit.models import GENESIS_HASH, AuditEvent, canonical_json, record
from tests.factories import DefinitionFactory, UserFactory


def test_events_are_numbered_one_after_another_and_chained(olga):
    subject = DefinitionFactory(slug="chain")

    for n in range(4):
        record(stream="test", actor=olga, action="test.step", subject=subject, payload={"n": n})

    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert events[0].prev_hash == GENESIS_HASH
    for previous, event in zip(events, events[1:], strict=False):
        assert event.prev_hash == previous.hash
    assert len({e.hash for e in events}) == 4


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"label": "0.0.9", "components": 3, "based_on": None},
        {"nested": {"b": [1, 2, {"c": True}], "a": 1.5}, "z": -7},
        {"reason": "Hors sujet — «pub» 広告", "emoji": "🗳️"},
        {"digest": "0" * 64, "big": 2**53, "small": 0.1},
    ],
    ids=["empty", "flat", "nested", "unicode", "numbers"],
)
def test_a_stored_event_still_matches_its_hash_when_read_back(payload, olga):
    record(stream="test", actor=olga, action="test.payload", subject=olga, payload=payload)

    event = AuditEvent.objects.get()  # a fresh read, as a verifier would make
    assert event.payload == payload
    assert event.hash == event.compute_hash()


def test_the_hash_is_sha256_over_the_canonical_fields(olga):
    event = record(stream="test", actor=olga, action="test.hash", subject=olga, payload={"b": 1, "a": 2})

    expected = {
        "stream": "test",
        "seq": 1,
        "at": event.at.isoformat(),
        "actor": "olga",
        "action": "test.hash",
        "subject": f"auth.user:{olga.pk}",
        "payload": {"a": 2, "b": 1},
        "prev_hash": GENESIS_HASH,
    }
    data = json.dumps(expected, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert event.hash == hashlib.sha256(data.encode()).hexdigest()


@pytest.mark.parametrize(
    "field, value",
    [
        ("payload", {"n": 99}),
        ("action", "test.forged"),
        ("actor_handle", "mallory"),
        ("prev_hash", "f" * 64),
        ("subject_id", "12345"),
    ],
)
def test_changing_any_hashed_field_breaks_the_hash(field, value, olga):
    record(stream="test", actor=olga, action="test.step", subject=olga, payload={"n": 1})
    event = AuditEvent.objects.get()

    setattr(event, field, value)

    assert event.compute_hash() != event.hash


def test_the_actor_handle_is_a_snapshot_that_survives_a_rename(olga):
    """Plenary never renames an account (the database refuses it); an operator who lifts the guard could."""
    record(stream="test", actor=olga, action="test.rename", subject=olga)
    guard.uninstall(connection, parts=["keys"])  # rolled back with the test's transaction
    olga.username = "olga-renamed"
    olga.save()

    event = AuditEvent.objects.get()
    assert event.actor == olga
    assert event.actor_handle == "olga"
    assert event.hash == event.compute_hash()


def test_the_system_records_with_an_empty_handle(db):
    subject = DefinitionFactory()

    event = record(stream="test", actor=None, action="test.system", subject=subject)

    assert (event.actor, event.actor_handle) == (None, "")
    assert event.payload == {}


def test_about_finds_the_events_of_one_subject(olga, bob):
    first, second = DefinitionFactory(slug="first"), DefinitionFactory(slug="second")
    record(stream="test", actor=olga, action="test.a", subject=first)
    record(stream="test", actor=olga, action="test.b", subject=second)
    record(stream="test", actor=bob, action="test.c", subject=first)

    assert list(AuditEvent.objects.about(first).values_list("action", flat=True)) == ["test.a", "test.c"]


def test_canonical_json_is_sorted_compact_and_keeps_unicode():
    assert canonical_json({"b": [1, 2], "a": "é"}) == '{"a":"é","b":[1,2]}'


@pytest.mark.django_db(transaction=True)
def test_record_refuses_to_run_outside_a_transaction():
    user = UserFactory(username="olga")

    with pytest.raises(RuntimeError, match="inside the transaction"):
        record(stream="test", actor=user, action="test.loose", subject=user)

    assert not AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_record_inside_a_transaction_commits_with_it():
    user = UserFactory(username="olga")

    with transaction.atomic():
        record(stream="test", actor=user, action="test.kept", subject=user)
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        record(stream="test", actor=user, action="test.rolled-back", subject=user)
        1 / 0  # noqa: B018 -- the change fails after recording: its event goes with it

    assert list(AuditEvent.objects.values_list("seq", "action")) == [(1, "test.kept")]
