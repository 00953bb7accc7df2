"""Signed checkpoints and witness cosignatures: what a log signs, what a witness adds, and what both refuse."""

import base64

import pytest

from plenary_tally import checkpoints, merkle, notes
from plenary_tally.checkpoints import Checkpoint, CosignatureVerifier, Cosigner
from plenary_tally.notes import NoteError, Signer, Verifier

# The example checkpoint of c2sp.org/tlog-checkpoint (its text; the log's key is not published).
C2SP_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SITE = "plenary.example.org"
STREAM = "ballot:open-model/components-0-0-9"


@pytest.fixture(scope="module")
def log_key():
    return notes.generate_signer(f"{SITE}/audit")


@pytest.fixture(scope="module")
def witness_key():
    return checkpoints.generate_cosigner("witness.example.net/w1")


def checkpoint(size=3):
    leaves = [merkle.event_leaf(f"{i:064x}") for i in range(size)]
    return Checkpoint(checkpoints.origin_for(SITE, STREAM), size, merkle.root(leaves))


def test_the_c2sp_example_reads_and_writes_back_the_same():
    parsed = Checkpoint.parse(C2SP_BODY)
    assert (parsed.origin, parsed.size) == ("example.com/behind-the-sofa", 20852163)
    assert parsed.root == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert parsed.body() == C2SP_BODY
    with_extension = C2SP_BODY + "extra line\n"
    assert Checkpoint.parse(with_extension).extensions == ("extra line",)
    assert Checkpoint.parse(with_extension).body() == with_extension


def test_a_streams_origin_names_the_site_and_the_stream():
    assert checkpoints.origin_for(SITE, "definition:open-model") == "plenary.example.org/audit/definition:open-model"


def test_a_signed_checkpoint_verifies_with_the_logs_key_only(log_key):
    cp = checkpoint()
    note = checkpoints.sign_checkpoint(cp, Signer(log_key))
    assert note.startswith(cp.body() + "\n— plenary.example.org/audit ")
    assert checkpoints.verify_checkpoint(note, Verifier(notes.verifier_of(log_key))) == cp
    other = Verifier(notes.verifier_of(notes.generate_signer(f"{SITE}/audit")))
    with pytest.raises(NoteError, match="no signature by plenary.example.org/audit"):
        checkpoints.verify_checkpoint(note, other)
    forged = note.replace(cp.body(), checkpoint(4).body())
    with pytest.raises(NoteError, match="does not hold"):
        checkpoints.verify_checkpoint(forged, Verifier(notes.verifier_of(log_key)))


ROOT = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (f"\n5\n{ROOT}\n", "origin"),
        (f"o\n05\n{ROOT}\n", "without leading zeros"),
        (f"o\n-5\n{ROOT}\n", "without leading zeros"),
        (f"o\n 5\n{ROOT}\n", "without leading zeros"),
        (f"o\n{2**63}\n{ROOT}\n", "without leading zeros"),
        ("o\n5\nAAAA\n", "32 bytes"),
        ("o\n5\n!!!!\n", "base64"),
        (f"o\n5\n{ROOT}", "ends with a newline"),
        ("o\n5\n", "at least three lines"),
        (f"o\n5\n{ROOT}\n\n", "extension lines must not be empty"),
    ],
)
def test_a_malformed_checkpoint_is_refused(body, says):
    with pytest.raises(NoteError, match=says):
        Checkpoint.parse(body)


def test_the_empty_tree_has_a_checkpoint():
    cp = Checkpoint.parse(f"o\n0\n{base64.b64encode(merkle.EMPTY_ROOT).decode()}\n")
    assert (cp.size, cp.root) == (0, merkle.EMPTY_ROOT)


def test_a_cosignature_round_trips_with_its_time(log_key, witness_key):
    note = checkpoints.sign_checkpoint(checkpoint(), Signer(log_key))
    cosigner = Cosigner(witness_key)
    line = cosigner.cosign(note, 1_700_000_000)
    assert line.startswith("— witness.example.net/w1 ") and line.endswith("\n")
    verifier = CosignatureVerifier(cosigner.verifier_key)
    assert verifier.verify(note, line) == 1_700_000_000
    cosigned = note + line
    assert verifier.find(cosigned) == 1_700_000_000
    assert checkpoints.cosigned_by(cosigned, [verifier]) == {"witness.example.net/w1": 1_700_000_000}
    # the log's signature still verifies on the cosigned note: a cosignature is one more line
    assert checkpoints.verify_checkpoint(cosigned, Verifier(notes.verifier_of(log_key))) == checkpoint()


def test_a_cosignature_key_id_uses_type_4_not_the_log_keys_type(witness_key):
    cosigner = Cosigner(witness_key)
    public = base64.b64decode(cosigner.verifier_key.split("+", 2)[2])
    assert public[0] == 0x04
    assert cosigner.key_id == notes.key_id("witness.example.net/w1", 0x04, public[1:])
    with pytest.raises(NoteError, match="supported type"):
        Verifier(cosigner.verifier_key)  # a cosignature key is no note key
    # an ordinary Ed25519 signer key may serve as a witness key, under its type-4 key id
    plain = notes.generate_signer("witness.example.net/w2")
    assert Cosigner(plain).verifier_key != notes.verifier_of(plain)
    assert Cosigner(plain).verifier_key == notes.verifier_of(Cosigner.convert(plain))


def test_a_cosignature_of_another_checkpoint_or_time_or_key_does_not_hold(log_key, witness_key):
    signer = Signer(log_key)
    note, other_note = (checkpoints.sign_checkpoint(checkpoint(n), signer) for n in (3, 4))
    cosigner = Cosigner(witness_key)
    verifier = CosignatureVerifier(cosigner.verifier_key)
    line = cosigner.cosign(note, 1_700_000_000)
    assert verifier.verify(other_note, line) is None
    name, kid, raw = notes.parse_signature_line(line)
    later = notes.signature_line(name, kid, (1_700_000_001).to_bytes(8, "big") + raw[8:])
    assert verifier.verify(note, later) is None
    stranger = CosignatureVerifier(Cosigner(checkpoints.generate_cosigner("witness.example.net/w1")).verifier_key)
    assert stranger.verify(note, line) is None


def test_cosigning_refuses_a_bad_time_or_a_note_that_is_no_checkpoint(log_key, witness_key):
    note = checkpoints.sign_checkpoint(checkpoint(), Signer(log_key))
    cosigner = Cosigner(witness_key)
    for when in (-1, 2**63, 1.5, True):
        with pytest.raises(NoteError, match="whole number of seconds"):
            cosigner.cosign(note, when)  # type: ignore[arg-type]
    with pytest.raises(NoteError, match="at least three lines"):
        cosigner.cosign(Signer(log_key).sign("hello\n"), 0)
    with pytest.raises(NoteError, match="em dash"):
        CosignatureVerifier(cosigner.verifier_key).verify(note, "not a line")


def test_a_cosignature_signs_the_message_the_spec_spells_out(log_key, witness_key):
    # No published Ed25519 cosignature vector comes with its key, so the signed bytes are checked
    # with the bare Ed25519 primitive against c2sp.org/tlog-cosignature's "Ed25519 signed message".
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    cp = checkpoint()
    cosigner = Cosigner(witness_key)
    line = cosigner.cosign(checkpoints.sign_checkpoint(cp, Signer(log_key)), 1_679_315_147)
    _, kid, raw = notes.parse_signature_line(line)
    assert kid == cosigner.key_id and len(raw) == 8 + 64
    assert raw[:8] == (1_679_315_147).to_bytes(8, "big")
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(cosigner.verifier_key.split("+", 2)[2])[1:])
    public.verify(raw[8:], ("cosignature/v1\ntime 1679315147\n" + cp.body()).encode())  # raises if not
