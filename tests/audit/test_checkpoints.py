"""Signed checkpoints of each audit stream, their proofs and witnesses' cosignatures, through the public routes.

What an observer relies on: every checkpoint the log serves verifies with the key it publishes and commits to
exactly the stream's events; the proofs it serves verify with `plenary_tally.merkle` alone; and a cosignature is
stored only when it is a real witness's signature of a checkpoint the log itself signed.
"""

import json
import time

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import DatabaseError, transaction
from django.test import Client
from django.urls import reverse

from audit import tlog
from audit.models import AuditEvent, Checkpoint, Cosignature, seal
from config.test_settings import TEST_LOG_VERIFIER_KEY
from plenary_tally import checkpoints, merkle, notes
from plenary_tally.__main__ import main
from plenary_tally.witness import run as witness_run
from votes.models import Ballot

STREAM = "ballot:osd/components"


def _leaves(stream: str = STREAM) -> list[bytes]:
    """The tree's leaves computed here, from the events' hashes, independently of audit/tlog.py."""
    hashes = AuditEvent.objects.filter(stream=stream).order_by("seq").values_list("hash", flat=True)
    return [merkle.leaf_hash(bytes.fromhex(h)) for h in hashes]


def _checkpoint(client, stream: str = STREAM, **query) -> str:
    response = client.get(reverse("audit:checkpoint"), {"stream": stream, **query})
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def _published_key(client) -> notes.Verifier:
    response = client.get(reverse("audit:key"))
    assert response.status_code == 200
    return notes.Verifier(response.content.decode().splitlines()[0])


def test_a_checkpoint_of_the_head_is_signed_after_events_and_verifies_with_the_published_key(client, voted):
    key = _published_key(client)
    signed = checkpoints.verify_checkpoint(_checkpoint(client), key)

    assert key.verifier_key == TEST_LOG_VERIFIER_KEY
    assert signed.origin == f"127.0.0.1:8000/audit/{STREAM}"
    assert signed.size == AuditEvent.objects.filter(stream=STREAM).count()
    assert signed.root == merkle.root(_leaves())
    with pytest.raises(notes.NoteError):
        checkpoints.verify_checkpoint(
            _checkpoint(client), notes.Verifier(notes.verifier_of(notes.generate_signer("x")))
        )


def test_checkpoints_json_gives_every_stream_s_latest_checkpoint(client, voted):
    data = client.get(reverse("audit:checkpoints-json")).json()

    streams = set(AuditEvent.objects.values_list("stream", flat=True))
    assert data["log_key"] == TEST_LOG_VERIFIER_KEY and data["site"] == "127.0.0.1:8000"
    assert {s["stream"] for s in data["streams"]} == streams
    for entry in data["streams"]:
        signed = checkpoints.verify_checkpoint(entry["checkpoint"], notes.Verifier(data["log_key"]))
        assert signed.size == entry["size"] == AuditEvent.objects.filter(stream=entry["stream"]).count()
        assert signed.root == merkle.root(_leaves(entry["stream"]))


def test_later_events_get_a_checkpoint_that_provably_extends_the_earlier_one(client, voted, cast, alice):
    key = _published_key(client)
    old = checkpoints.verify_checkpoint(_checkpoint(client), key)
    cast(alice, "code", "study", "abstain")
    cast(alice, "data", "study", "required")
    new = checkpoints.verify_checkpoint(_checkpoint(client), key)
    proof = client.get(reverse("audit:consistency-json"), {"stream": STREAM, "from": old.size, "to": new.size}).json()

    assert new.size == old.size + 2 and new.root == merkle.root(_leaves())  # the stored frontier, extended
    assert proof["stream"] == STREAM and (proof["from"], proof["to"]) == (old.size, new.size)
    assert merkle.verify_consistency(old.size, new.size, old.root, new.root, [bytes.fromhex(h) for h in proof["proof"]])
    assert not merkle.verify_consistency(
        old.size, new.size, new.root, new.root, [bytes.fromhex(h) for h in proof["proof"]]
    )
    # each checkpoint stays served at its own size
    assert checkpoints.verify_checkpoint(_checkpoint(client, size=old.size), key) == old


def test_every_event_has_an_inclusion_proof_that_verifies(client, voted):
    signed = checkpoints.verify_checkpoint(_checkpoint(client), _published_key(client))
    events = AuditEvent.objects.filter(stream=STREAM).order_by("seq")

    for event in events:
        query = {"stream": STREAM, "seq": event.seq, "size": signed.size}
        answer = client.get(reverse("audit:inclusion-json"), query).json()
        proof = [bytes.fromhex(h) for h in answer["proof"]]
        leaf = merkle.leaf_hash(bytes.fromhex(answer["event_hash"]))

        assert answer["event_hash"] == event.hash and answer["leaf_index"] == event.seq - 1
        assert merkle.verify_inclusion(leaf, event.seq - 1, signed.size, proof, signed.root)
        assert not merkle.verify_inclusion(merkle.leaf_hash(b"\0" * 32), event.seq - 1, signed.size, proof, signed.root)


@pytest.mark.parametrize(
    ("route", "query", "status"),
    [
        ("audit:inclusion-json", {"stream": STREAM, "seq": "0", "size": "3"}, 400),
        ("audit:inclusion-json", {"stream": STREAM, "seq": "4", "size": "3"}, 400),
        ("audit:inclusion-json", {"stream": STREAM, "seq": "1", "size": "99999"}, 400),
        ("audit:inclusion-json", {"stream": STREAM, "seq": "x", "size": "3"}, 400),
        ("audit:inclusion-json", {"stream": "ballot:osd/none", "seq": "1", "size": "1"}, 404),
        ("audit:consistency-json", {"stream": STREAM, "from": "3", "to": "2"}, 400),
        ("audit:consistency-json", {"stream": STREAM, "from": "1"}, 400),
        ("audit:consistency-json", {"stream": "x" * 201, "from": "1", "to": "2"}, 400),
    ],
)
def test_a_proof_that_cannot_be_given_is_refused_with_a_sentence(client, voted, route, query, status):
    response = client.get(reverse(route), query)

    assert response.status_code == status
    assert response.json()["detail"].endswith(".")


def test_a_checkpoint_never_signed_is_404_with_a_sentence_and_none_is_signed_for_it(client, voted):
    _checkpoint(client)
    signed = Checkpoint.objects.count()

    at_one = client.get(reverse("audit:checkpoint"), {"stream": STREAM, "size": 1})
    unknown = client.get(reverse("audit:checkpoint"), {"stream": "ballot:osd/none"})

    assert at_one.status_code == unknown.status_code == 404
    assert b"No checkpoint of 1 events of stream" in at_one.content
    assert Checkpoint.objects.count() == signed


def test_checkpoints_and_cosignatures_are_append_only_in_the_database(voted):
    checkpoint = tlog.current(STREAM)
    for change in (
        lambda: Checkpoint.objects.filter(pk=checkpoint.pk).update(root="0" * 64),
        lambda: Checkpoint.objects.filter(pk=checkpoint.pk).delete(),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            change()

    assert Checkpoint.objects.get(pk=checkpoint.pk).root == checkpoint.root


def test_a_sealed_stream_s_checkpoint_counts_no_more_than_its_public_log_shows(client, ballot, olga, cast, bob, dave):
    Ballot.objects.filter(pk=ballot.pk).update(results_visibility=Ballot.Visibility.AFTER_CLOSE)
    seal(STREAM)
    cast(bob)
    cast(dave, "data", "use", "abstain")
    log = client.get(reverse("audit:log"), {"stream": STREAM}).content.decode()
    size = checkpoints.Checkpoint.parse(notes.open_note(_checkpoint(client), ()).text).size

    assert f"#{size}</td>" in log  # the head's place in the stream, shown on the public log already
    assert f"#{size + 1}</td>" not in log
    inclusion = client.get(reverse("audit:inclusion-json"), {"stream": STREAM, "seq": size, "size": size}).json()
    assert set(inclusion) == {"stream", "seq", "size", "leaf_index", "event_hash", "proof"}  # no payload, no voter


# Witnesses ----------------------------------------------------------------------------------------


def _post(client, data, **extra):
    return client.post(reverse("audit:cosignatures"), json.dumps(data), content_type="application/json", **extra)


@pytest.fixture
def witness():
    return checkpoints.Cosigner(checkpoints.generate_cosigner("witness.example.org"))


def _cosignature(client, witness, note: str) -> dict:
    return {
        "stream": STREAM,
        "checkpoint": note,
        "cosignature": witness.cosign(note, int(time.time())),
        "witness_key": witness.verifier_key,
    }


def test_a_witness_s_cosignature_is_verified_stored_once_and_shown_on_the_page(client, voted, witness):
    note = _checkpoint(client)

    first = _post(client, _cosignature(client, witness, note))
    again = _post(client, _cosignature(client, witness, note))
    page = client.get(reverse("audit:checkpoints")).content.decode()

    assert first.status_code == 201 and first.json()["stored"] is True
    assert again.status_code == 200 and again.json() == {"stored": True, "new": False}
    [stored] = Cosignature.objects.all()
    assert stored.witness == "witness.example.org" and stored.checkpoint.note == note
    assert checkpoints.CosignatureVerifier(stored.witness_key).verify(note, stored.line) == stored.timestamp
    assert "witness.example.org" in page and witness.verifier_key in page
    assert TEST_LOG_VERIFIER_KEY in page and "python -m analysis.tally witness http" in page


def test_a_cosignature_of_a_checkpoint_the_log_never_signed_is_refused_and_nothing_stored(client, voted, witness):
    note = _checkpoint(client)
    body = notes.open_note(note, ()).text
    forged_key = notes.generate_signer("127.0.0.1:8000")
    by_another_key = checkpoints.sign_checkpoint(checkpoints.Checkpoint.parse(body), notes.Signer(forged_key))
    parsed = checkpoints.Checkpoint.parse(body)
    other_root = checkpoints.Checkpoint(parsed.origin, parsed.size, b"\1" * 32)
    never_served = checkpoints.sign_checkpoint(other_root, tlog.signer())  # our key, a tree we never published
    other_stream = checkpoints.sign_checkpoint(
        checkpoints.Checkpoint(parsed.origin + "x", 1, b"\1" * 32), tlog.signer()
    )

    answers = [_post(client, _cosignature(client, witness, n)) for n in (by_another_key, never_served, other_stream)]

    assert [a.status_code for a in answers] == [400, 400, 400]
    assert [a.json()["detail"] for a in answers] == [
        "This checkpoint is not signed by this log's key.",
        "This log never published this checkpoint.",
        f"This checkpoint is of '{parsed.origin}x', not of stream '{STREAM}'.",
    ]
    assert not Cosignature.objects.exists()


def test_a_cosignature_that_does_not_hold_for_the_given_key_is_refused(client, voted, witness):
    note = _checkpoint(client)
    impostor = checkpoints.Cosigner(checkpoints.generate_cosigner("witness.example.org"))
    posted = _cosignature(client, witness, note) | {"witness_key": impostor.verifier_key}
    tampered = _cosignature(client, witness, note)
    tampered["cosignature"] = tampered["cosignature"][:-6] + (
        "AAAAA=" if not tampered["cosignature"].endswith("AAAAA=") else "BBBBB="
    )

    answers = [_post(client, posted), _post(client, tampered), _post(client, posted | {"witness_key": "nonsense"})]

    assert [a.status_code for a in answers] == [400, 400, 400]
    assert answers[0].json()["detail"] == "This cosignature does not hold for this checkpoint and witness key."
    assert not Cosignature.objects.exists()


def test_an_oversized_or_malformed_cosignature_post_is_refused_before_it_is_read(client, voted, witness):
    note = _checkpoint(client)
    huge = _cosignature(client, witness, note) | {"padding": "x" * 17000}

    too_big = _post(client, huge)
    not_json = client.post(reverse("audit:cosignatures"), "stream=x", content_type="application/x-www-form-urlencoded")
    wrong_shape = _post(client, {"stream": STREAM, "checkpoint": note})

    assert too_big.status_code == 413 and "16 KiB" in too_big.json()["detail"]
    assert not_json.status_code == wrong_shape.status_code == 400
    assert not Cosignature.objects.exists()


def test_cosignatures_are_limited_per_address(client, voted, witness, settings):
    settings.COSIGNATURE_RATE_LIMIT = "2/m"
    note = _checkpoint(client)

    statuses = [_post(client, _cosignature(client, witness, note)).status_code for _ in range(3)]
    elsewhere = _post(client, _cosignature(client, witness, note), REMOTE_ADDR="10.0.0.9")

    assert statuses == [201, 200, 429] and elsewhere.status_code == 200


def test_proofs_are_limited_per_address_with_a_sentence(client, voted, settings):
    settings.PROOF_RATE_LIMIT = "2/m"
    query = {"stream": STREAM, "seq": "1", "size": "2"}

    answers = [client.get(reverse("audit:inclusion-json"), query) for _ in range(2)]
    consistency = client.get(reverse("audit:consistency-json"), {"stream": STREAM, "from": "1", "to": "2"})
    elsewhere = client.get(reverse("audit:inclusion-json"), query, REMOTE_ADDR="10.0.0.9")

    assert [a.status_code for a in answers] == [200, 200] and elsewhere.status_code == 200
    assert consistency.status_code == 429 and "proofs" in consistency.json()["detail"]


def test_a_checkpoint_keeps_at_most_fifty_cosignatures(client, voted):
    note = _checkpoint(client)
    witnesses = [checkpoints.Cosigner(checkpoints.generate_cosigner(f"w{i}.example.org")) for i in range(51)]

    statuses = [_post(client, _cosignature(client, w, note)).status_code for w in witnesses]

    assert statuses == [201] * 50 + [400]
    assert Cosignature.objects.count() == 50


def test_after_a_rotation_the_old_key_s_checkpoints_still_verify_and_take_cosignatures(
    client, voted, witness, settings
):
    old_note = _checkpoint(client)
    new_key = notes.generate_signer("127.0.0.1:8000")
    settings.AUDIT_LOG_KEY = new_key
    settings.AUDIT_LOG_RETIRED_KEYS = [TEST_LOG_VERIFIER_KEY]

    keys = client.get(reverse("audit:key")).content.decode().splitlines()
    stored = _post(client, _cosignature(client, witness, old_note))

    assert keys == [notes.verifier_of(new_key), TEST_LOG_VERIFIER_KEY]
    assert stored.status_code == 201


def test_embedded_a_key_is_made_on_first_use_for_the_site_and_kept(settings, tmp_path):
    settings.AUDIT_LOG_KEY = ""
    settings.AUDIT_LOG_KEY_GENERATED = True
    settings.AUDIT_LOG_KEY_FILE = str(tmp_path / "var" / "audit-log.key")
    settings.SITE_URL = "https://plenary.example.org"

    first, second = tlog.signer_key(), tlog.signer_key()

    assert first == second and notes.Signer(first).name == "plenary.example.org"
    assert (tmp_path / "var" / "audit-log.key").stat().st_mode & 0o777 == 0o600
    assert settings.AUDIT_LOG_KEY_FILE.endswith("audit-log.key")


def test_a_witness_run_against_the_live_site_cosigns_every_stream_and_its_cosignature_is_shown(
    live_server, voted, cast, alice, tmp_path
):
    state = tmp_path / "witness"
    first = witness_run(live_server.url, state, name="witness.example.net", publish=True, log_key=TEST_LOG_VERIFIER_KEY)
    cast(alice, "code", "modify", "abstain")  # the stream grows: the witness now checks a consistency proof
    second = witness_run(live_server.url, state, publish=True, log_key=TEST_LOG_VERIFIER_KEY)
    page = Client().get(reverse("audit:checkpoints")).content.decode()

    streams = AuditEvent.objects.values_list("stream", flat=True).distinct().count()
    assert first.status == second.status == 0, first.lines + second.lines
    assert first.cosigned == streams and second.cosigned >= 1
    latest = Checkpoint.objects.latest_of(STREAM)
    [cosignature] = latest.cosignatures.all()
    assert (
        cosignature.witness == "witness.example.net" and latest.size == AuditEvent.objects.filter(stream=STREAM).count()
    )
    assert Cosignature.objects.filter(witness="witness.example.net").count() == streams + second.cosigned
    assert 'Cosigned by <strong class="witness">witness.example.net</strong>' in page


def test_a_key_that_cannot_be_read_fails_the_start_up_checks_with_a_sentence(settings, tmp_path):
    settings.AUDIT_LOG_KEY = "PRIVATE+KEY+127.0.0.1:8000+00000000+AA"
    with pytest.raises(SystemCheckError, match="The audit log's signing key in AUDIT_LOG_KEY cannot be read"):
        call_command("check")
    settings.AUDIT_LOG_KEY = ""
    settings.AUDIT_LOG_KEY_FILE = str(tmp_path / "missing.key")
    settings.AUDIT_LOG_RETIRED_KEYS = ["not a key"]
    with pytest.raises(SystemCheckError, match=r"AUDIT_LOG_KEY_FILE .*missing.key.* cannot be read") as failed:
        call_command("check")
    assert "AUDIT_LOG_RETIRED_KEYS holds 'not a key'" in str(failed.value)


def test_keygen_prints_a_new_key_that_signs_checkpoints_and_its_verifier_key(capsys):
    assert main(["keygen", "plenary.example.org"]) == 0
    first = capsys.readouterr()
    assert main(["keygen", "plenary.example.org"]) == 0
    second = capsys.readouterr()

    key = first.out.strip()
    signed = checkpoints.sign_checkpoint(
        checkpoints.Checkpoint("plenary.example.org/audit/x", 1, b"r" * 32), notes.Signer(key)
    )
    assert notes.Signer(key).name == "plenary.example.org" and notes.verifier_of(key) in first.err
    assert checkpoints.verify_checkpoint(signed, notes.Verifier(notes.verifier_of(key))).size == 1
    assert second.out != first.out  # a new key each time
