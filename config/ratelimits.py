"""Per-person limits on what one account may save in a short time, and the sentence that says one is spent.

django-ratelimit rather than allauth: allauth's counters serve its own views, and the one module that exposes
them (allauth.core.ratelimit) is marked in its source for deprecation. The counters live in the cache
(`CACHE_URL`), so a limit holds across every web worker.
"""

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext, ngettext
from django_ratelimit.core import get_usage


def spent(request: HttpRequest, *, group: str, rate: str, what: str) -> str:
    """Count this save against the acting user's `rate` for `group`; once it is spent, say so and when to come back.
    `what` names the saves counted, translated ("comments and edits")."""
    usage = get_usage(request, group=group, key="user", rate=rate, increment=True)
    if usage is None or not usage["should_limit"]:
        return ""
    minutes = max(1, -(-usage["time_left"] // 60))
    limit = gettext("Plenary takes at most %(limit)s %(what)s from one person in a short time.")
    wait = ngettext(
        "This one was not saved; try again in %(minutes)s minute.",
        "This one was not saved; try again in %(minutes)s minutes.",
        minutes,
    )
    return f"{limit} {wait}" % {"limit": usage["limit"], "what": what, "minutes": minutes}


def vote_saves(request: HttpRequest) -> str:
    """Count a vote save (cast, change or withdraw, from the grid or the API) against VOTE_RATE_LIMIT."""
    return spent(request, group="votes.save", rate=settings.VOTE_RATE_LIMIT, what=gettext("vote saves"))


def comment_saves(request: HttpRequest) -> str:
    """Count a comment posted or edited (on the pages or through the API) against COMMENT_RATE_LIMIT."""
    return spent(request, group="comments.save", rate=settings.COMMENT_RATE_LIMIT, what=gettext("comments and edits"))


def spent_by_address(request: HttpRequest, *, group: str, rate: str, what: str) -> str:
    """As `spent`, counted per client address (`config.proxy.client_address`): for what anyone may post unsigned in."""
    usage = get_usage(request, group=group, key="ip", rate=rate, increment=True)
    if usage is None or not usage["should_limit"]:
        return ""
    minutes = max(1, -(-usage["time_left"] // 60))
    return (
        f"Plenary takes at most {usage['limit']} {what} from one address in a short time. "
        f"This one was not taken; try again in {minutes} minute{'s' if minutes > 1 else ''}."
    )


def spent_by_token(request: HttpRequest, *, token_key: str, rate: str) -> str:
    """As `spent`, counted per personal access token (its public key): every API request made with it counts."""
    usage = get_usage(request, group="api.token", key=lambda group, request: token_key, rate=rate, increment=True)
    if usage is None or not usage["should_limit"]:
        return ""
    minutes = max(1, -(-usage["time_left"] // 60))
    return (
        f"Plenary answers at most {usage['limit']} requests made with one token in a short time. "
        f"This one was not answered; try again in {minutes} minute{'s' if minutes > 1 else ''}."
    )
