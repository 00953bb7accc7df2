from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import AuditEvent, head

PAGE = 50


def log(request: HttpRequest) -> HttpResponse:
    """Every audit event, newest first, filterable by stream, action and actor."""
    stream, action, actor = (request.GET.get(name, "").strip() for name in ("stream", "action", "actor"))
    events = AuditEvent.objects.with_seals().matching(stream=stream, action=action, actor=actor).order_by("-pk")
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
