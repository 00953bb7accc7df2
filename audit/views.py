from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import AuditEvent, head

PAGE = 50


def log(request: HttpRequest) -> HttpResponse:
    """Every audit event, newest first, filterable by stream, action and actor."""
    events = AuditEvent.objects.with_seals().order_by("-pk")
    stream, action, actor = (request.GET.get(name, "").strip() for name in ("stream", "action", "actor"))
    if stream:
        events = events.filter(stream=stream)
    if action:
        events = events.filter(action__startswith=action)
    if actor:  # a sealed vote must not be found by who cast it
        events = events.filter(actor_handle=actor.lstrip("@"), sealed=False)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/log.html",
        {
            "page": Paginator(events, PAGE).get_page(request.GET.get("page")),
            "streams": AuditEvent.objects.order_by("stream").values_list("stream", flat=True).distinct(),
            "stream": stream,
            "action": action,
            "actor": actor,
            "head": head(stream) if stream else None,
            "query": query.urlencode(),
        },
    )
