"""A real SMTP server for the tests: aiosmtpd on a free local port, and the mail as it arrived.

`smtp_server` (a fixture of tests/conftest.py) starts one and points Django's SMTP backend at it; `.messages`
are the `email.message.EmailMessage`s received, in order. `.refuse(n)` makes it answer the next n messages
with a temporary failure (451), as a mail server that is down for a while does. `.stall(k)` holds the k-th
message from now unanswered (never accepted) until `.release()`: a sender caught mid-message, as when it is killed.
"""

import asyncio
import email
import email.policy
import socket
import threading
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """The aiosmtpd handler: keeps each message, or refuses it while told to."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refused = 0
        self._refuse = 0
        self._lock = threading.Lock()
        self._stall_at: int | None = None  # the number of the message to hold, counted from the start
        self._seen = 0
        self.stalled = threading.Event()  # set once the held message has come in
        self._released = threading.Event()

    def refuse(self, n: int) -> None:
        with self._lock:
            self._refuse = n

    def stall(self, k: int) -> threading.Event:
        """Hold the k-th message from now without an answer until `release()`; then refuse it (421), never keep it.

        Returns the event set when it has come in."""
        with self._lock:
            self._stall_at, self._released = self._seen + k, threading.Event()
            self.stalled.clear()
        return self.stalled

    def release(self) -> None:
        self._released.set()

    async def handle_DATA(self, server, session, envelope) -> str:
        with self._lock:
            self._seen += 1
            held = self._seen == self._stall_at
        if held:
            self.stalled.set()
            while not self._released.is_set():
                await asyncio.sleep(0.02)
            with self._lock:
                self._stall_at = None
            return "421 4.3.0 Held and dropped by the test"
        with self._lock:
            if self._refuse:
                self._refuse -= 1
                self.refused += 1
                return "451 4.3.0 Try again later"
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["To"]]

    def wait_for(self, n: int, timeout: float = 30.0) -> list[EmailMessage]:
        """The messages once at least n have arrived (or what has, after the timeout)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.messages)


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    return part.get_content() if part is not None else ""


def start(port: int | None = None) -> tuple[Controller, Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port or free_port())
    controller.start()
    return controller, inbox
