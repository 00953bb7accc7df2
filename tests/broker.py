"""The real broker for the tests that need one: Redis at 127.0.0.1:6379, or an address where it cannot be reached.

Tests run Celery eagerly; `publishing_to` makes this process publish for real instead, for as long as it lasts.
Each test uses a queue of its own in a Redis database of its own, and deletes only its own keys.
"""

import json
import os
import socket
import threading
from contextlib import contextmanager, suppress

import pytest
import redis
from django.test import override_settings
from kombu import pools

from config.celery import app

REDIS_URL = "redis://127.0.0.1:6379/7"


def redis_or_skip() -> redis.Redis:
    """A client of the test database of Redis; the test skips without one (and fails in CI)."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except (redis.RedisError, OSError) as error:
        reason = f"needs Redis at {REDIS_URL}: {error}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return client


def drop_broker_connections() -> None:
    """Close the pooled broker connections, so the next publish connects to the broker configured now."""
    pools.reset()  # kombu's pools are shared by broker address
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def publishing_to(broker_url: str, queue: str | None = None):
    """This process's Celery app publishes to `broker_url` for real (into `queue`), then goes back to eager."""
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager", "task_routes")}
    routes = (
        {"analysis.tasks.*": {"queue": queue}, "notifications.tasks.*": {"queue": queue}}
        if queue
        else saved["task_routes"]
    )
    with override_settings(CELERY_BROKER_URL=broker_url, CELERY_TASK_ALWAYS_EAGER=False):
        drop_broker_connections()
        app.conf.update(broker_url=broker_url, task_always_eager=False, task_routes=routes)
        try:
            yield
        finally:
            app.conf.update(saved)
            drop_broker_connections()


@contextmanager
def broker_down(how: str):
    """A Redis address where nothing listens (refused), or where something accepts and never answers (silent)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    if how == "refused":
        listener.close()
    else:
        listener.listen(16)  # the kernel completes the handshakes; nobody ever reads
    try:
        with publishing_to(f"redis://127.0.0.1:{port}/0"):
            yield
    finally:
        listener.close()


def delete_queue(client: redis.Redis, queue: str) -> None:
    """The queue's messages and kombu's bindings of it, and what a killed worker held of it unacknowledged."""
    for key in client.scan_iter(match=f"*{queue}*"):
        client.delete(key)
    for tag, raw in client.hgetall("unacked").items():
        if queue in json.loads(raw)[1:]:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


class BrokerLine:
    """A TCP line from a port of its own to the real Redis, which a test can cut and restore on the same port:
    the broker goes away for everyone connected through it, and comes back at the same address."""

    def __init__(self, target: tuple[str, int] = ("127.0.0.1", 6379)):
        self.target = target
        self._lock = threading.Lock()
        self._connections: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.port = self.restore()
        self.url = f"redis://127.0.0.1:{self.port}/{REDIS_URL.rsplit('/', 1)[1]}"

    def restore(self) -> int:
        """Answer on the port again (a free one the first time); return it."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", getattr(self, "port", 0)))
        listener.listen(64)
        listener.settimeout(0.1)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return listener.getsockname()[1]

    def cut(self) -> None:
        """Stop answering on the port and drop every open connection, as a broker that goes down does."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()

    def __enter__(self) -> "BrokerLine":
        return self

    def __exit__(self, *exc_info) -> None:
        self.cut()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                upstream = socket.create_connection(self.target, timeout=2)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._relay, args=(source, sink), daemon=True).start()

    @staticmethod
    def _relay(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            with suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
