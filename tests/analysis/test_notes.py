"""Signed notes: Go's published keys and signatures read and written alike, and every malformed key or note refused."""

import pytest

from plenary_tally import notes
from plenary_tally.notes import NoteError, Signer, Verifier, open_note

# Keys, text and signatures copied (data only) from golang.org/x/mod, sumdb/note/note_test.go
# (TestNewVerifier, TestSign, TestOpen).
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
# The example of c2sp.org/signed-note ("Verifier keys").
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = (
    "This is an example message.\n\n— example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)


def test_signing_gos_text_with_gos_key_gives_gos_signature():
    signer = Signer(PETER_SKEY)
    assert (signer.name, signer.key_id) == ("PeterNeumann", 0xC74F20A3)
    assert signer.verifier_key == PETER_VKEY
    assert notes.verifier_of(PETER_SKEY) == PETER_VKEY
    assert signer.sign(TEXT) == TEXT + "\n" + PETER_SIG


def test_signing_a_signed_note_again_adds_one_line_and_replaces_its_own():
    signed = Signer(PETER_SKEY).sign(TEXT + "\n" + ENOCH_SIG)
    assert signed == TEXT + "\n" + ENOCH_SIG + PETER_SIG
    assert Signer(PETER_SKEY).sign(signed) == signed


def test_opening_gos_note_checks_the_known_key_and_lists_every_signature():
    note = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [Verifier(PETER_VKEY)])
    assert note.text == TEXT
    assert note.verified == ["PeterNeumann"]
    assert [(name, kid) for name, kid, _ in note.signatures] == [
        ("PeterNeumann", 0xC74F20A3),
        ("EnochRoot", 0xAF0CFE78),
    ]
    both = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [Verifier(PETER_VKEY), Verifier(ENOCH_VKEY)])
    assert both.verified == ["PeterNeumann", "EnochRoot"]


def test_the_c2sp_example_note_verifies():
    assert open_note(C2SP_NOTE, [Verifier(C2SP_VKEY)]).verified == ["example.com/foo"]


def test_a_changed_text_fails_the_known_signature():
    changed = TEXT.replace("answer", "Answer") + "\n" + PETER_SIG
    with pytest.raises(NoteError, match="signature by PeterNeumann .* does not hold"):
        open_note(changed, [Verifier(PETER_VKEY)])
    assert open_note(changed, []).verified == []


def test_a_generated_key_signs_and_verifies():
    skey = notes.generate_signer("plenary.example.org/audit")
    signer = Signer(skey)
    note = signer.sign("hello\n")
    assert open_note(note, [Verifier(notes.verifier_of(skey))]).verified == ["plenary.example.org/audit"]
    other = Verifier(notes.verifier_of(notes.generate_signer("plenary.example.org/audit")))
    assert open_note(note, [other]).verified == []  # same name, another key id: ignored, as the spec says


def test_every_mangled_verifier_key_is_refused():
    # As Go's TestNewVerifier: every proper substring and every one-character change.
    for i in range(len(PETER_VKEY) + 1):
        for j in range(i + 1, len(PETER_VKEY) + 1):
            if (i, j) != (0, len(PETER_VKEY)) and PETER_VKEY[i:j].strip() != PETER_VKEY:
                with pytest.raises(NoteError):
                    Verifier(PETER_VKEY[i:j])
    for i, c in enumerate(PETER_VKEY):
        with pytest.raises(NoteError):
            Verifier(PETER_VKEY[:i] + chr(ord(c) + 1) + PETER_VKEY[i + 1 :])


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==", "32 bytes"),
        ("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "supported type"),
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match its name and key"),
        ("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 lowercase hex digits"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "spaces"),
        ("PeterNeumann+c74f20a3", "three parts"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T!", "base64"),
        (PETER_SKEY, "give its verifier key instead"),
        ("x" * 2000, "longer than"),
    ],
)
def test_a_bad_verifier_key_says_what_is_wrong(key, says):
    with pytest.raises(NoteError, match=says):
        Verifier(key)


def test_a_bad_signer_key_says_what_is_wrong():
    with pytest.raises(NoteError, match="starts with PRIVATE"):
        Signer(PETER_VKEY)
    with pytest.raises(NoteError, match="does not match"):
        Signer(PETER_SKEY.replace("c74f20a3", "c74f20a4"))
    for i, c in enumerate(PETER_SKEY):
        with pytest.raises(NoteError):
            Signer(PETER_SKEY[:i] + chr(ord(c) + 1) + PETER_SKEY[i + 1 :])


@pytest.mark.parametrize(
    ("note", "says"),
    [
        (TEXT + PETER_SIG, "blank line"),
        (TEXT + "\n", "no signature lines"),
        (TEXT + "\n" + PETER_SIG.rstrip("\n"), "end with a newline"),
        (TEXT + "\n" + PETER_SIG.replace("—", "-"), "em dash"),
        (TEXT + "\n" + PETER_SIG.replace("x08go", "x08go "), "key name"),
        (TEXT + "\n" + "— PeterNeumann AAAA\n", "too short"),
        (TEXT + "\n" + "— PeterNeumann ***\n", "base64"),
        (TEXT + "\n" + PETER_SIG + PETER_SIG, "repeats"),
        ("tab\there\n\n" + PETER_SIG, "control characters"),
        (TEXT + "\n" + ENOCH_SIG * 0 + "".join(f"— k{i} AAAAAAA=\n" for i in range(101)), "at most 100"),
        ("x" * (1 << 20) + "\n\n" + PETER_SIG, "at most 1048576 bytes"),
        (b"\xff\n\n" + PETER_SIG.encode(), "UTF-8"),
    ],
)
def test_a_malformed_note_is_refused_with_a_reason(note, says):
    with pytest.raises(NoteError, match=says):
        open_note(note, [Verifier(PETER_VKEY)])
