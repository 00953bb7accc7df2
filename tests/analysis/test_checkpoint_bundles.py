"""`--verify` of a bundle with a signed checkpoint: a rewritten, re-rooted, re-signed history is caught by a pinned
key and by a checkpoint kept from before; a bundle without one verifies as before."""

import pytest

from plenary_tally import notes, verify
from plenary_tally.__main__ import main
from plenary_tally.notes import Signer

from . import handmade, tlog


@pytest.fixture(scope="module")
def log_key():
    return notes.generate_signer(f"{tlog.SITE}/audit")


def text(report):
    return "\n".join(report.lines())


def test_a_signed_bundle_verifies_its_checkpoint(tmp_path, log_key):
    bundle = tlog.write_signed_bundle(tmp_path / "b", log_key)
    report = verify(bundle, log_key=notes.verifier_of(log_key))
    assert report.ok, text(report)
    assert "checkpoint: 16 events, root" in text(report) and "(the pinned key)" in text(report)
    unpinned = verify(bundle)
    assert unpinned.ok and "not pinned" in text(unpinned)


def test_a_bundle_without_a_checkpoint_verifies_as_before_and_says_so(tmp_path):
    report = verify(handmade.write_bundle(tmp_path / "b"))
    assert report.ok, text(report)
    assert "checkpoint: none in this bundle" in text(report)


def test_a_rewritten_history_resigned_with_another_key_is_caught_by_the_pinned_key(tmp_path, log_key):
    events = handmade.audit_events()
    forger = notes.generate_signer(f"{tlog.SITE}/audit")
    forged = tlog.write_signed_bundle(tmp_path / "f", forger, tlog.rewritten(events, at=4))
    assert verify(forged).ok  # consistent in itself, under the key its own manifest names
    report = verify(forged, log_key=notes.verifier_of(log_key))
    assert not report.ok
    assert "checkpoint: FAILED" in text(report) and "no signature by plenary.example.org/audit" in text(report)


def test_a_rewritten_history_is_caught_by_a_checkpoint_kept_from_before(tmp_path, log_key):
    events = handmade.audit_events()
    kept = tmp_path / "kept.txt"
    kept.write_text(tlog.signed(events, 6, Signer(log_key)))
    honest = tlog.write_signed_bundle(tmp_path / "b", log_key)
    assert verify(honest, checkpoint=kept, log_key=notes.verifier_of(log_key)).ok
    assert "extends the kept checkpoint of 6 events" in text(verify(honest, checkpoint=kept))

    forger = notes.generate_signer(f"{tlog.SITE}/audit")
    forged_events = tlog.rewritten(events, at=4)
    forged = tlog.write_signed_bundle(tmp_path / "f", forger, forged_events)
    report = verify(forged, checkpoint=kept, log_key=notes.verifier_of(log_key))
    assert not report.ok
    # the operator re-signed with its own key too: the kept checkpoint is checked with the pinned key
    # and the forged log's first 6 events are named with the kept root
    assert "the log was rewritten since" in text(report)
    from plenary_tally import merkle

    assert merkle.root(tlog.leaves(forged_events)[:6]).hex() in text(report)
    assert merkle.root(tlog.leaves(events)[:6]).hex() in text(report)


def test_a_checkpoint_that_does_not_match_the_log_is_caught(tmp_path, log_key):
    events = handmade.audit_events()
    bundle = tlog.write_signed_bundle(tmp_path / "b", log_key)
    (bundle / "checkpoint.txt").write_text(tlog.signed(events, len(events) - 1, Signer(log_key)))
    report = verify(handmade.rehash(bundle))
    assert "covers 15 events, but audit.jsonl holds 16" in text(report)
    (bundle / "checkpoint.txt").write_text(tlog.signed(tlog.rewritten(events, 4), len(events), Signer(log_key)))
    report = verify(handmade.rehash(bundle))
    assert "but audit.jsonl's events have root" in text(report)


def test_a_checkpoint_missing_from_the_manifest_is_caught(tmp_path, log_key):
    bundle = tlog.write_signed_bundle(tmp_path / "b", log_key)
    (bundle / "checkpoint.txt").write_text((bundle / "checkpoint.txt").read_text())
    (bundle / "checkpoint.txt").write_text("tampered\n" + (bundle / "checkpoint.txt").read_text())
    report = verify(bundle)
    assert not report.ok and "checkpoint.txt: its SHA-256" in text(report)


def test_the_command_takes_the_pinned_key_and_the_kept_checkpoint(tmp_path, log_key, capsys):
    events = handmade.audit_events()
    kept = tmp_path / "kept.txt"
    kept.write_text(tlog.signed(events, 6, Signer(log_key)))
    bundle = tlog.write_signed_bundle(tmp_path / "b", log_key)
    vkey = notes.verifier_of(log_key)
    assert main([str(bundle), "--verify", "--log-key", vkey, "--checkpoint", str(kept)]) == 0
    other = notes.verifier_of(notes.generate_signer(f"{tlog.SITE}/audit"))
    assert main([str(bundle), "--verify", "--log-key", other]) == 1
    assert main([str(bundle), "--verify", "--checkpoint", str(tmp_path / "missing.txt")]) == 1
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main([str(bundle), "--log-key", vkey])
    assert "--log-key goes with --verify" in capsys.readouterr().err
