"""A real webhook receiver for the tests: an HTTP server on 127.0.0.1 in a thread, which checks each POST's
signature as docs/webhooks.md tells a receiver to (`verify`, the documentation's example) and answers as told."""

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def verify(secret: str, body: bytes, header: str, tolerance: int = 300, now: float | None = None) -> bool:
    """docs/webhooks.md's check, as a receiver writes it: the HMAC matches and the timestamp is recent."""
    fields = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    timestamp, signature = fields.get("t", ""), fields.get("v1", "")
    if not timestamp.isdigit() or abs((now or time.time()) - int(timestamp)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    def signed_with(self, secret: str) -> bool:
        return verify(secret, self.body, self.headers.get("Plenary-Signature", ""))


@dataclass
class Receiver:
    """`answers`: the status of each POST in turn (then 200); `received`: every POST, in order."""

    answers: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # sent with every answer (a Location, say)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/plenary?token=receivers-own"


def start() -> tuple[ThreadingHTTPServer, Receiver]:
    receiver = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                status = receiver.answers.pop(0) if receiver.answers else 200
            self.send_response(status)
            for name, value in receiver.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"thanks" if status < 300 else b"receiver says no" * 500)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, receiver
