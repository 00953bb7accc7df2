"""The client's address, the one rule every per-address limit counts by (allauth's sign-in and sign-up limits).

`X-Forwarded-For` is anyone's to write: a client that reaches the app directly can put any address
there. So it is read only when `TRUSTED_PROXY_COUNT` says how many proxies of ours append to it, and
then only the hop the outermost of them appended; otherwise the address is the connection's own
(`REMOTE_ADDR`). Counting on the header is safe only while the app's port is reachable through those
proxies alone: docker-compose.yml publishes it on the host's loopback for that.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The address of the client that sent `request`, as far as our proxies (if any) can vouch for it."""
    connection = request.META.get("REMOTE_ADDR", "")
    trusted = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not trusted or not forwarded:
        return connection
    hops = [hop.strip() for hop in forwarded.split(",")]
    # Our proxies appended the last `trusted` hops; with fewer, the request skipped the outer ones, and the first
    # hop is the one the outermost proxy that saw it appended.
    hop = hops[max(0, len(hops) - trusted)]
    try:
        return str(ipaddress.ip_address(hop))
    except ValueError:  # not an address our proxies would write: the connection is all that is known
        return connection
