"""A voter's receipt, checked offline: alone, against a later bundle, and against a later checkpoint."""

import json

import pytest

from plenary_tally import merkle, notes, receipts
from plenary_tally.__main__ import main
from plenary_tally.notes import Signer

from . import handmade, tlog


@pytest.fixture(scope="module")
def log_key():
    return notes.generate_signer(f"{tlog.SITE}/audit")


@pytest.fixture(scope="module")
def events():
    return handmade.audit_events()


def receipt_for(events, seq, size, log_key):
    note = tlog.signed(events, size, Signer(log_key))
    return receipts.make_receipt(events[seq - 1], tlog.leaves(events), size, note, notes.verifier_of(log_key))


def test_a_receipt_holds_with_the_pinned_key(events, log_key):
    receipt = receipt_for(events, 3, 5, log_key)
    assert receipt["format"] == "plenary-receipt/1" and receipt["leaf_index"] == 2
    report = receipts.check_receipt(json.loads(json.dumps(receipt)), log_key=notes.verifier_of(log_key))
    assert report.ok, report.lines()
    assert not report.notes
    assert report.lines()[-1] == "receipt verified"


def test_without_a_pinned_key_the_receipt_says_its_key_was_its_own(events, log_key):
    report = receipts.check_receipt(receipt_for(events, 3, 5, log_key))
    assert report.ok
    assert "not pinned" in report.notes[0]


def test_a_receipt_signed_by_another_key_fails_the_pinned_one(events, log_key):
    other = notes.generate_signer(f"{tlog.SITE}/audit")
    receipt = receipt_for(events, 3, 5, other)
    report = receipts.check_receipt(receipt, log_key=notes.verifier_of(log_key))
    assert not report.ok
    assert "no signature by plenary.example.org/audit" in "\n".join(report.lines())


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda r: r["event"].update(actor="mallory"), "does not match its hash"),
        (lambda r: r.update(leaf_index=3), "leaf index"),
        (lambda r: r.update(proof=r["proof"][:-1]), "inclusion proof does not lead"),
        (lambda r: r.update(tree_size=6), "checkpoint covers 5 events"),
        (lambda r: r.update(format="x"), "format must be"),
        (lambda r: r.update(proof=["zz"]), "not a hex hash"),
        (lambda r: r.pop("checkpoint"), "missing checkpoint"),
    ],
)
def test_a_changed_receipt_fails(events, log_key, change, says):
    receipt = receipt_for(events, 3, 5, log_key)
    change(receipt)
    report = receipts.check_receipt(receipt, log_key=notes.verifier_of(log_key))
    assert not report.ok
    assert says in "\n".join(report.lines())


def test_a_receipt_holds_against_the_later_bundle_that_extends_it(tmp_path, events, log_key):
    bundle = tlog.write_signed_bundle(tmp_path / "b", log_key)
    report = receipts.check_receipt(receipt_for(events, 3, 5, log_key), against=bundle)
    assert report.ok, report.lines()
    zipped = handmade.zip_dir(bundle, tmp_path / "b.zip")
    assert receipts.check_receipt(receipt_for(events, 3, 5, log_key), against=zipped).ok


def test_a_receipt_is_evidence_against_a_bundle_of_another_history(tmp_path, events, log_key):
    forged = tlog.rewritten(events, at=4)
    bundle = tlog.write_signed_bundle(tmp_path / "b", log_key, forged)
    receipt = receipt_for(events, 3, 5, log_key)
    report = receipts.check_receipt(receipt, against=bundle, log_key=notes.verifier_of(log_key))
    text = "\n".join(report.lines())
    assert not report.ok
    assert "evidence the operator signed another history" in text
    assert merkle.root(tlog.leaves(events)[:5]).hex() in text and merkle.root(tlog.leaves(forged)[:5]).hex() in text
    # the event itself is still there, unchanged: only what came after it was rewritten
    assert "holds the event at its place" in text


def test_a_receipt_against_a_later_checkpoint_needs_and_checks_the_consistency_proof(tmp_path, events, log_key):
    receipt = receipt_for(events, 3, 5, log_key)
    later = tmp_path / "later.txt"
    later.write_text(tlog.signed(events, len(events), Signer(log_key)))
    vkey = notes.verifier_of(log_key)
    assert "needs the server's consistency proof" in "\n".join(
        receipts.check_receipt(receipt, against=later, log_key=vkey).lines()
    )
    proof = {"from": 5, "to": len(events), "proof": [h.hex() for h in merkle.consistency_proof(tlog.leaves(events), 5)]}
    assert receipts.check_receipt(receipt, against=later, log_key=vkey, proof=proof).ok

    forged = tlog.rewritten(events, at=4)
    later.write_text(tlog.signed(forged, len(forged), Signer(log_key)))
    forged_proof = {
        "from": 5,
        "to": len(forged),
        "proof": [h.hex() for h in merkle.consistency_proof(tlog.leaves(forged), 5)],
    }
    report = receipts.check_receipt(receipt, against=later, log_key=vkey, proof=forged_proof)
    assert not report.ok
    assert "does not extend" in "\n".join(report.lines())

    later.write_text(tlog.signed(forged, 5, Signer(log_key)))
    report = receipts.check_receipt(receipt, against=later, log_key=vkey)
    assert "the operator signed two histories" in "\n".join(report.lines())


def test_the_command_checks_a_receipt_file(tmp_path, events, log_key, capsys):
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt_for(events, 3, 5, log_key)))
    bundle = tlog.write_signed_bundle(tmp_path / "b", log_key)
    vkey = notes.verifier_of(log_key)
    assert main(["receipt", str(path), "--against", str(bundle), "--log-key", vkey]) == 0
    assert capsys.readouterr().out.strip().endswith("receipt verified")
    other = notes.verifier_of(notes.generate_signer(f"{tlog.SITE}/audit"))
    assert main(["receipt", str(path), "--against", str(bundle), "--log-key", other]) == 1
    path.write_text("not json")
    assert main(["receipt", str(path), "--against", str(bundle)]) == 2
    assert "a receipt is a JSON object" in capsys.readouterr().err


def test_the_server_cannot_make_a_receipt_for_an_event_outside_its_checkpoint(events, log_key):
    note = tlog.signed(events, 5, Signer(log_key))
    with pytest.raises(ValueError, match="not in a tree of 5 leaves"):
        receipts.make_receipt(events[6], tlog.leaves(events), 5, note, notes.verifier_of(log_key))
    with pytest.raises(ValueError, match="not the one of 6 leaves"):
        receipts.make_receipt(events[2], tlog.leaves(events), 6, note, notes.verifier_of(log_key))
