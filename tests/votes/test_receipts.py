"""A voter's receipts: each proves, offline, that the log the operator signed holds their vote.

What a voter relies on: the receipt the cell offers after a save, or the ballot's file of all of them, checks
against the tally bundle exported later with `plenary_tally.receipts.check_receipt`, with the key the site
publishes; nobody else can download it; and if the operator later rewrites the history — the events re-chained,
the tree re-rooted and re-signed with another key — the earlier receipt, and a witness's stored checkpoint, show it.
"""

import json
import re
import zipfile

from django.db import connection
from django.urls import reverse

from audit import guard
from audit.models import AuditEvent, Checkpoint
from notifications.models import Kind, Notification
from plenary_tally import chain, checkpoints, merkle, notes, receipts, verify
from plenary_tally.__main__ import main
from tests.client import HTMX
from tests.votes.pages import ballot_url, cell
from votes import services

STREAM = "ballot:osd/components"


def _save(client, **fields):
    return client.post(ballot_url("vote-grid"), cell(**fields), headers=HTMX)


def _receipt_link(response, cell_id: str = "cell-code-use") -> str:
    found = re.search(rf'id="{cell_id}-receipt" href="([^"]+)"', response.content.decode())
    assert found, "the saved cell offers its receipt"
    return found.group(1)


def _bundle(client, tmp_path, name: str = "bundle.zip"):
    response = client.get(reverse("analysis:tally-download", args=["osd", "components"]))
    assert response.status_code == 200
    path = tmp_path / name
    path.write_bytes(b"".join(response.streaming_content) if response.streaming else response.content)
    return path


def _published_key(client) -> str:
    return client.get(reverse("audit:key")).content.decode().splitlines()[0]


def test_the_receipt_a_saved_cell_offers_checks_offline_against_the_exported_bundle(client, ballot, bob, tmp_path):
    client.force_login(bob)
    saved = _save(client, rationale="Code matters.")
    receipt = client.get(_receipt_link(saved))
    data = receipt.json()

    assert receipt["Content-Disposition"] == 'attachment; filename="osd-components-receipt-code-use.json"'
    assert data["format"] == receipts.RECEIPT_FORMAT and data["stream"] == STREAM
    assert data["event"]["payload"]["voter"] == "bob" and data["event"]["payload"]["rationale"] == "Code matters."
    _save(client, choice="abstain")  # later events: the bundle's log is larger than the receipt's checkpoint
    bundle = _bundle(client, tmp_path)
    report = receipts.check_receipt(data, against=bundle, log_key=_published_key(client))
    assert report.ok, report.lines()


def test_the_ballot_page_gives_a_voter_all_their_receipts_as_one_file(client, ballot, bob, alice, tmp_path):
    client.force_login(alice)
    _save(client, choice="abstain")
    client.force_login(bob)
    _save(client)
    _save(client, choice="abstain")
    _save(client, component="data", criterion="study")

    page = client.get(ballot_url("ballot")).content.decode()
    link = re.search(r'id="receipts-download" href="([^"]+)"', page).group(1)
    data = client.get(link).json()
    bundle = _bundle(client, tmp_path)

    assert data["format"] == receipts.RECEIPT_FORMAT and len(data["receipts"]) == 3  # bob's three saves, not alice's
    assert {r["event"]["payload"]["voter"] for r in data["receipts"]} == {"bob"}
    for receipt in data["receipts"]:
        report = receipts.check_receipt(receipt, against=bundle, log_key=_published_key(client))
        assert report.ok, report.lines()


def test_the_file_of_a_voter_s_receipts_checks_on_the_command_line_each_receipt_named(
    client, ballot, bob, tmp_path, capsys
):
    client.force_login(bob)
    _save(client)
    _save(client, component="data", criterion="study")
    page = client.get(ballot_url("ballot")).content.decode()
    mine = tmp_path / "receipts.json"
    mine.write_bytes(client.get(re.search(r'id="receipts-download" href="([^"]+)"', page).group(1)).content)
    bundle = _bundle(client, tmp_path)
    key = _published_key(client)

    assert main(["receipt", str(mine), "--against", str(bundle), "--log-key", key]) == 0
    assert capsys.readouterr().out.endswith("\n2 receipts verified\n")

    data = json.loads(mine.read_text())
    data["receipts"][1]["event"]["payload"]["choice"] = "abstain"  # a receipt changed after it was handed out
    mine.write_text(json.dumps(data))
    assert main(["receipt", str(mine), "--against", str(bundle), "--log-key", key]) == 1
    out = capsys.readouterr().out
    assert "receipt 2 (event #" in out and "content does not match its hash" in out
    assert out.endswith("\n1 of 2 receipts not verified\n")


def test_nobody_downloads_another_person_s_receipt(client, ballot, bob, alice, olga, dave):
    client.force_login(bob)
    _save(client, rationale="Mine alone.")
    address = reverse("votes:vote-receipt", args=["osd", "components", "code", "use"])

    for other in (alice, olga, dave):
        client.force_login(other)
        answer = client.get(address)
        assert answer.status_code == 404 and b"Mine alone." not in answer.content
        assert client.get(reverse("votes:vote-receipts", args=["osd", "components"])).status_code == 404
    client.logout()
    assert client.get(address).status_code == 302  # sent to sign in
    client.force_login(olga)  # an organizer on bob's behalf sees his grid, never a receipt link
    on_behalf = client.get(reverse("votes:vote-grid-on-behalf", args=["osd", "components", "bob"]))
    assert on_behalf.status_code == 200 and b"-receipt" not in on_behalf.content


def _rewrite_history(stream: str, seq: int, choice: str, value: int) -> None:
    """What an operator with the database could do: change one vote event, re-chain every event after it,
    drop the checkpoints and the guard, so that the log agrees with itself again."""
    guard.uninstall(connection)  # rolled back with the test's transaction
    events = list(AuditEvent.objects.filter(stream=stream, seq__gte=seq).order_by("seq"))
    prev = AuditEvent.objects.get(stream=stream, seq=seq - 1).hash
    for event in events:
        if event.seq == seq:
            event.payload = chain.json_roundtrip(event.payload | {"choice": choice, "value": value})
        event.prev_hash = prev
        event.hash = event.compute_hash()
        with connection.cursor() as cursor:  # by hand, as `hash` is unique: a temporary value first
            cursor.execute("UPDATE audit_auditevent SET hash = %s WHERE id = %s", ["x" + event.hash[1:], event.pk])
        AuditEvent.objects.filter(pk=event.pk).update(payload=event.payload, prev_hash=event.prev_hash, hash=event.hash)
        prev = event.hash
    Checkpoint.objects.filter(stream=stream).delete()


def test_a_history_rewritten_and_re_signed_is_caught_by_an_earlier_receipt_and_a_witness_s_checkpoint(
    client, ballot, bob, alice, settings, tmp_path
):
    client.force_login(bob)
    receipt = client.get(_receipt_link(_save(client))).json()
    witnessed = client.get(reverse("audit:checkpoint"), {"stream": STREAM}).content.decode()  # what a witness keeps
    client.force_login(alice)
    _save(client, component="data")
    bobs = receipt["event"]["seq"]

    _rewrite_history(STREAM, bobs, "abstain", 0)  # bob's vote, now "abstain" in the log and in the votes table
    ballot.votes.filter(voter=bob).update(choice=ballot.choices.get(key="abstain"))
    settings.AUDIT_LOG_KEY = notes.generate_signer("127.0.0.1:8000")  # and a new key signs the new history
    rewritten = _bundle(client, tmp_path, "rewritten.zip")
    new_key = _published_key(client)
    kept = tmp_path / "witnessed.txt"
    kept.write_text(witnessed)

    assert verify(str(rewritten), log_key=new_key).ok  # the new history agrees with itself and its new key
    assert new_key != receipt["log_key"]
    by_receipt = receipts.check_receipt(receipt, against=rewritten, log_key=receipt["log_key"])
    assert not by_receipt.ok
    assert any("evidence the operator signed another history" in line for line in by_receipt.lines())
    assert not receipts.check_receipt(receipt, against=rewritten, log_key=new_key).ok
    # The witness checks the new checkpoint against the one it kept, as `plenary_tally.witness` does: no proof holds.
    old = checkpoints.verify_checkpoint(witnessed, notes.Verifier(receipt["log_key"]))
    new = checkpoints.verify_checkpoint(
        client.get(reverse("audit:checkpoint"), {"stream": STREAM}).content.decode(), notes.Verifier(new_key)
    )
    query = {"stream": STREAM, "from": old.size, "to": new.size}
    proof = [bytes.fromhex(h) for h in client.get(reverse("audit:consistency-json"), query).json()["proof"]]
    assert not merkle.verify_consistency(old.size, new.size, old.root, new.root, proof)
    assert not verify(str(rewritten), log_key=new_key, checkpoint=str(kept)).ok


def test_the_bundle_carries_the_checkpoint_of_exactly_its_log_which_verifies_with_the_published_key_only(
    client, ballot, bob, alice, tmp_path, capsys
):
    client.force_login(bob)
    _save(client)
    client.force_login(alice)
    _save(client, choice="abstain")
    path = _bundle(client, tmp_path)
    with zipfile.ZipFile(path) as bundle:
        note, log = bundle.read("checkpoint.txt").decode(), bundle.read("audit.jsonl").decode()
        manifest = json.loads(bundle.read("manifest.json"))
    published = _published_key(client)
    signed = checkpoints.verify_checkpoint(note, notes.Verifier(published))
    hashes = [json.loads(line)["hash"] for line in log.splitlines()]
    another = notes.verifier_of(notes.generate_signer("127.0.0.1:8000"))

    assert manifest["log_key"] == published and "checkpoint.txt" in manifest["files"]
    assert signed.size == len(hashes) and signed.root == merkle.root([merkle.event_leaf(h) for h in hashes])
    assert main([str(path), "--verify", "--log-key", published]) == 0
    assert main([str(path), "--verify", "--log-key", another]) == 1
    assert "checkpoint: FAILED" in capsys.readouterr().out


def test_closing_tells_each_voter_where_their_receipts_are_and_no_one_else(client, ballot, bob, alice, olga):
    client.force_login(bob)
    _save(client)

    services.close_ballot(ballot=ballot, acting_user=olga)

    told = Notification.objects.filter(kind=Kind.BALLOT_CLOSED)
    assert [n.recipient for n in told] == [bob]  # alice, a member who cast no vote, and olga are not told
    assert told[0].path == ballot.get_absolute_url() and "analysis.tally receipt" in told[0].body
