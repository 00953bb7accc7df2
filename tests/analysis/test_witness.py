"""The witness against a real local HTTP server serving a log's checkpoints and proofs (computed with merkle.py):
a consistent growth is cosigned, and a fork or a rollback is caught with both signed notes as evidence."""

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from plenary_tally import checkpoints, merkle, notes, witness
from plenary_tally.checkpoints import CosignatureVerifier
from plenary_tally.notes import Signer

from . import handmade, tlog

STREAM = handmade.STREAM


class Log:
    """What the site serves: the events of one stream, signed at a size, and the cosignatures it was sent."""

    def __init__(self, log_key: str):
        self.signer = Signer(log_key)
        self.events = handmade.audit_events()
        self.size = 5
        self.posted: list[dict] = []
        self.refuse = False

    def leaves(self):
        return tlog.leaves(self.events)

    def answer(self, path: str, query: dict) -> tuple[int, dict]:
        if path == "/audit/log/checkpoints.json":
            note = tlog.signed(self.events, self.size, self.signer)
            entry = {"stream": STREAM, "size": self.size, "checkpoint": note}
            return 200, {"log_key": self.signer.verifier_key, "site": tlog.SITE, "streams": [entry]}
        if path == "/audit/log/consistency.json":
            old, new = int(query["from"]), int(query["to"])
            proof = merkle.consistency_proof(self.leaves()[:new], old)
            return 200, {"stream": query["stream"], "from": old, "to": new, "proof": [h.hex() for h in proof]}
        return 404, {"detail": "not found"}


@pytest.fixture
def site():
    log = Log(notes.generate_signer(f"{tlog.SITE}/audit"))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, status, data):
            body = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            self._send(*log.answer(url.path, dict(urllib.parse.parse_qsl(url.query))))

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if log.refuse:
                return self._send(400, {"detail": "this witness is not known here"})
            log.posted.append(body)
            self._send(201, {"stored": True})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # polled every 10 ms, not Python's 0.5 s, so that shutting the server down after each test takes no time
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    log.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield log
    server.shutdown()
    server.server_close()


def run(site, state, **options):
    return witness.run(site.url, state, name="witness.example.net/w1", **options)


def stored(state):
    return [p.read_text() for p in (state / "checkpoints").iterdir()]


def test_a_consistent_growth_is_cosigned_and_published(site, tmp_path):
    first = run(site, tmp_path, publish=True, log_key=site.signer.verifier_key)
    assert first.status == 0, first.lines
    assert "pinned the log key given" in "\n".join(first.lines)
    site.size = len(site.events)
    second = run(site, tmp_path, publish=True)
    assert second.status == 0, second.lines
    assert f"grew from 5 to {site.size} events, consistently" in "\n".join(second.lines)
    assert len(site.posted) == 2
    posted = site.posted[-1]
    verifier = CosignatureVerifier(posted["witness_key"])
    assert verifier.verify(posted["checkpoint"], posted["cosignature"]) is not None
    assert checkpoints.verify_checkpoint(posted["checkpoint"], notes.Verifier(site.signer.verifier_key)).size == 16
    assert stored(tmp_path) == [posted["checkpoint"]]


def test_the_first_log_key_is_trusted_on_first_use_and_said_so(site, tmp_path):
    outcome = run(site, tmp_path)
    assert "on trust as it is the first use" in "\n".join(outcome.lines)
    assert (tmp_path / "log_key.txt").read_text().strip() == site.signer.verifier_key
    site.signer = Signer(notes.generate_signer(f"{tlog.SITE}/audit"))  # the site swaps its key
    outcome = run(site, tmp_path)
    assert outcome.status == 1
    assert "announces another log key" in "\n".join(outcome.lines)
    assert "no signature by" in "\n".join(outcome.lines)


def test_a_fork_at_the_same_size_is_reported_with_both_notes(site, tmp_path):
    assert run(site, tmp_path).status == 0
    before = stored(tmp_path)
    honest = tlog.signed(site.events, 5, site.signer)
    site.events = tlog.rewritten(site.events, at=3)
    outcome = run(site, tmp_path)
    assert outcome.status == 1
    assert outcome.evidence and "different roots" in outcome.lines[-2]
    evidence = outcome.evidence[0].read_text()
    assert honest in evidence and tlog.signed(site.events, 5, site.signer) in evidence
    assert stored(tmp_path) == before  # the forked checkpoint is not stored


def test_a_larger_checkpoint_of_another_history_fails_its_consistency_proof(site, tmp_path):
    assert run(site, tmp_path).status == 0
    before = stored(tmp_path)
    site.events = tlog.rewritten(site.events, at=3)
    site.size = len(site.events)
    outcome = run(site, tmp_path, publish=True)
    assert outcome.status == 1
    assert "does not extend the stored one of 5" in "\n".join(outcome.lines)
    assert "the consistency proof served" in outcome.evidence[0].read_text()
    assert stored(tmp_path) == before
    assert site.posted == []  # nothing cosigned


def test_a_rollback_is_reported(site, tmp_path):
    site.size = 10
    assert run(site, tmp_path).status == 0
    site.size = 7
    outcome = run(site, tmp_path)
    assert outcome.status == 1
    assert "a rollback: the log now signs 7 events, after it signed 10" in "\n".join(outcome.lines)
    assert "\n10\n" in stored(tmp_path)[0]


def test_a_refused_cosignature_is_a_failure(site, tmp_path):
    site.refuse = True
    outcome = run(site, tmp_path, publish=True)
    assert outcome.status == 1
    assert "refused the cosignature (400): this witness is not known here" in "\n".join(outcome.lines)


def test_the_command_says_when_the_site_cannot_be_reached(tmp_path, capsys):
    assert witness.main(["http://127.0.0.1:9", "--state", str(tmp_path)]) == 2
    assert "cannot reach http://127.0.0.1:9/audit/log/checkpoints.json" in capsys.readouterr().err


def test_the_command_witnesses_a_site(site, tmp_path, capsys):
    from plenary_tally.__main__ import main

    assert main(["witness", site.url, "--state", str(tmp_path), "--name", "w.example/1", "--publish"]) == 0
    out = capsys.readouterr().out
    assert "created the witness key" in out and "1 checkpoint(s) cosigned, 0 fork(s), 0 failure(s)" in out
    assert (tmp_path / "witness.key").stat().st_mode & 0o077 == 0
