"""The one way Plenary calls an address an organizer gave it: checked, bounded, and never somewhere internal.

An organizer types a webhook's address; the server then POSTs to it from inside its own network. So that nobody
can make it call what only it can reach (a database, a cloud's metadata service at 169.254.169.254, an admin port
on localhost), an address is refused when its host resolves to anything but public addresses, unless the site
allows it (`WEBHOOK_ALLOW_PRIVATE`). The check runs when the webhook is saved, for a clear refusal, and again at
every send, on the addresses the send then connects to: a name that resolved to a public address at saving and to
127.0.0.1 since (DNS rebinding) is refused, because the POST goes to the very address that was checked.

urllib3 (already installed with Celery's Redis client; named in pyproject.toml since we use it directly) rather
than hand-written sockets: it connects to the checked IP address while verifying TLS against the host name
(`server_hostname`, `assert_hostname`), has separate connect and read timeouts, follows no redirect when told so,
and reads an answer in bounded pieces.
"""

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.core.exceptions import ValidationError

from .models import WEBHOOK_RESPONSE_KEPT, WEBHOOK_URL_MAX_LENGTH

SCHEMES = ("http", "https")
ANSWER_READ_MAX = 64 * 1024  # bytes of an answer read at most; the rest is never read


class Refused(Exception):
    """An address Plenary will not call, with the reason, in words an organizer can act on."""


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is not None and not _is_public(embedded):
            return False
    return address.is_global and not address.is_multicast


def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, each one allowed; Refused if it resolves to none, or to one not allowed."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise Refused(f"Its host {host} could not be resolved ({error}).") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not addresses:
        raise Refused(f"Its host {host} resolves to no address.")
    if not settings.WEBHOOK_ALLOW_PRIVATE:
        for address in addresses:
            if not _is_public(ipaddress.ip_address(address.split("%", 1)[0])):
                raise Refused(
                    f"Its host {host} resolves to {address}, which is not a public address (loopback, private, "
                    "link-local or reserved); Plenary calls public addresses only."
                )
    return addresses


def check_url(url: str) -> str:
    """The address as it will be called, or a ValidationError that says what is wrong with it."""
    url = (url or "").strip()
    if not url:
        raise ValidationError("Give the address to POST the events to.")
    if len(url) > WEBHOOK_URL_MAX_LENGTH:
        raise ValidationError(
            f"An address can be at most {WEBHOOK_URL_MAX_LENGTH} characters long; this has {len(url)}."
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise ValidationError(f"That is not an address Plenary can call: {error}.") from None
    if parts.scheme not in SCHEMES:
        raise ValidationError("The address must start with https:// (or http://).")
    if not parts.hostname:
        raise ValidationError("The address needs a host name, as in https://example.org/hooks/plenary.")
    if parts.username is not None or parts.password is not None:
        raise ValidationError("Put no user name or password in the address: check the signature instead.")
    if parts.fragment:
        raise ValidationError("An address to POST to has no #fragment.")
    try:
        resolve(parts.hostname, port or (443 if parts.scheme == "https" else 80))
    except Refused as refused:
        raise ValidationError(str(refused)) from None
    return url


@dataclass(frozen=True)
class Answer:
    """What a POST got: the receiver's status and the start of its answer, or why there was none."""

    status: int | None
    text: str
    error: str
    duration_ms: int


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body` to `url`, connecting only to addresses `resolve` allows; never raises for the receiver's sake."""
    started = time.monotonic()

    def answer(status: int | None = None, text: str = "", error: str = "") -> Answer:
        return Answer(status, text[:WEBHOOK_RESPONSE_KEPT], error[:500], int((time.monotonic() - started) * 1000))

    parts = urlsplit(url)
    https = parts.scheme == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if https else 80)
    try:
        address = resolve(host, port)[0]
    except Refused as refused:
        return answer(error=f"Not sent: {refused}")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host_header = parts.netloc.rsplit("@", 1)[-1]
    timeout = urllib3.Timeout(connect=settings.WEBHOOK_CONNECT_TIMEOUT, read=settings.WEBHOOK_READ_TIMEOUT)
    pool: urllib3.HTTPConnectionPool
    if https:  # to the address checked, TLS verified against the host name
        pool = urllib3.HTTPSConnectionPool(
            address,
            port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            server_hostname=host,
            assert_hostname=host,
            cert_reqs="CERT_REQUIRED",
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False, maxsize=1)
    deadline = started + settings.WEBHOOK_CONNECT_TIMEOUT + settings.WEBHOOK_READ_TIMEOUT
    try:
        with pool:
            response = pool.urlopen(
                "POST",
                target,
                body=body,
                headers=headers | {"Host": host_header},
                redirect=False,  # a 3xx is the receiver's answer, not an address to follow
                assert_same_host=False,
                preload_content=False,
            )
            read = b""
            try:
                while len(read) < ANSWER_READ_MAX and time.monotonic() < deadline:
                    chunk = response.read(4096)
                    if not chunk:
                        break
                    read += chunk
            finally:
                response.release_conn()
            return answer(response.status, read.decode("utf-8", errors="replace"))
    except urllib3.exceptions.HTTPError as error:
        return answer(error=f"{type(error).__name__}: {error}")
    except OSError as error:
        return answer(error=f"{type(error).__name__}: {error}")
