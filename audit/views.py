import json

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from config import ratelimits

from . import tlog
from .models import AuditEvent, Checkpoint, head

PAGE = 50
CHECKPOINTS_SHOWN = 3  # per stream, on /audit/log/
COSIGNATURE_BODY_LIMIT = 16 * 1024  # bytes of a posted cosignature


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


# The transparency log (audit/tlog.py, docs/audit-log.md "Checkpoints") ----------------------------


def _streams() -> list[str]:
    return list(AuditEvent.objects.order_by("stream").values_list("stream", flat=True).distinct())


@require_safe
def checkpoints_page(request: HttpRequest) -> HttpResponse:
    """Each stream's latest checkpoints with their witnesses' cosignatures, the log's key, and how to witness."""
    shown = []
    for stream in _streams():
        tlog.current(stream)
        latest = Checkpoint.objects.of(stream).order_by("-size").prefetch_related("cosignatures")
        shown.append((stream, list(latest[:CHECKPOINTS_SHOWN])))
    context = {"streams": shown, "log_key": tlog.log_key(), "retired": tlog.retired_keys(), "site": tlog.site()}
    return render(request, "audit/log_checkpoints.html", context | {"site_url": settings.SITE_URL.rstrip("/")})


@require_safe
def checkpoints_json(request: HttpRequest) -> JsonResponse:
    """The latest signed checkpoint of every stream: what a witness fetches."""
    streams = []
    for stream in _streams():
        checkpoint = tlog.current(stream)
        if checkpoint is not None:
            streams.append({"stream": stream, "size": checkpoint.size, "checkpoint": checkpoint.note})
    return JsonResponse({"log_key": tlog.log_key(), "site": tlog.site(), "streams": streams})


def _text(body: str, status: int = 200) -> HttpResponse:
    return HttpResponse(body, content_type="text/plain; charset=utf-8", status=status)


@require_safe
def checkpoint(request: HttpRequest) -> HttpResponse:
    """One signed checkpoint as text: the stream's latest, or the one of `size` events if it was signed."""
    try:
        stream = _stream(request)
        size = _whole(request, "size") if "size" in request.GET else None
    except tlog.Refusal as exc:
        return _text(f"{exc}\n", status=400)
    found = tlog.current(stream) if size is None else Checkpoint.objects.of(stream).filter(size=size).first()
    if found is None:
        what = f"of {size} events " if size is not None else ""
        return _text(f"No checkpoint {what}of stream {stream!r} was signed.\n", status=404)
    return _text(found.note)


def _too_many_proofs(request: HttpRequest) -> JsonResponse | None:
    """Count this proof against the address's PROOF_RATE_LIMIT; once it is spent, the refusal."""
    too_many = ratelimits.spent_by_address(request, group="audit.proofs", rate=settings.PROOF_RATE_LIMIT, what="proofs")
    return JsonResponse({"detail": too_many}, status=429) if too_many else None


@require_safe
def consistency_json(request: HttpRequest) -> JsonResponse:
    if refused := _too_many_proofs(request):
        return refused
    try:
        stream, old, new = _stream(request), _whole(request, "from"), _whole(request, "to")
        proof = tlog.consistency(stream, old, new)
    except tlog.Refusal as exc:
        return _refused(exc)
    return JsonResponse({"stream": stream, "from": old, "to": new, "proof": [h.hex() for h in proof]})


@require_safe
def inclusion_json(request: HttpRequest) -> JsonResponse:
    if refused := _too_many_proofs(request):
        return refused
    try:
        stream, seq, size = _stream(request), _whole(request, "seq"), _whole(request, "size")
        proof = tlog.inclusion(stream, seq, size)
    except tlog.Refusal as exc:
        return _refused(exc)
    event_hash = AuditEvent.objects.values_list("hash", flat=True).get(stream=stream, seq=seq)
    return JsonResponse(
        {
            "stream": stream,
            "seq": seq,
            "size": size,
            "leaf_index": seq - 1,
            "event_hash": event_hash,
            "proof": [h.hex() for h in proof],
        }
    )


@csrf_exempt  # a public API for witnesses, which hold no session: the cosignature itself is verified
@require_POST
def cosignatures(request: HttpRequest) -> JsonResponse:
    """A witness's cosignature of one of our checkpoints, stored once it verifies (`tlog.add_cosignature`)."""
    length = request.headers.get("Content-Length", "0")
    if not length.isdigit() or int(length) > COSIGNATURE_BODY_LIMIT or len(request.body) > COSIGNATURE_BODY_LIMIT:
        detail = f"A cosignature is sent in at most {COSIGNATURE_BODY_LIMIT // 1024} KiB of JSON."
        return JsonResponse({"detail": detail}, status=413)
    if too_many := ratelimits.spent_by_address(
        request, group="audit.cosignatures", rate=settings.COSIGNATURE_RATE_LIMIT, what="cosignatures"
    ):
        return JsonResponse({"detail": too_many}, status=429)
    try:
        posted = json.loads(request.body)
    except ValueError:
        posted = None
    fields = ("stream", "checkpoint", "cosignature", "witness_key")
    if not isinstance(posted, dict) or not all(isinstance(posted.get(f), str) for f in fields):
        detail = 'Send JSON: {"stream", "checkpoint", "cosignature", "witness_key"}, each a string.'
        return JsonResponse({"detail": detail}, status=400)
    try:
        _, new = tlog.add_cosignature(
            stream=posted["stream"],
            note=posted["checkpoint"],
            line=posted["cosignature"],
            witness_key=posted["witness_key"],
        )
    except tlog.Refusal as exc:
        return _refused(exc, status=400)
    return JsonResponse({"stored": True, "new": new}, status=201 if new else 200)


@require_safe
def log_key(request: HttpRequest) -> HttpResponse:
    """The verifier key of the log's checkpoints, then those of its earlier keys (`AUDIT_LOG_RETIRED_KEYS`)."""
    return _text("".join(f"{key}\n" for key in [tlog.log_key(), *tlog.retired_keys()]))


def _refused(exc: tlog.Refusal, status: int | None = None) -> JsonResponse:
    return JsonResponse({"detail": str(exc)}, status=status or (404 if isinstance(exc, tlog.NoSuchStream) else 400))


def _stream(request: HttpRequest) -> str:
    stream = request.GET.get("stream", "")
    if not stream or len(stream) > 200 or "\x00" in stream:
        raise tlog.Refusal("Name a stream (stream=…), such as ballot:osd/v1, of at most 200 characters.")
    return stream


def _whole(request: HttpRequest, name: str) -> int:
    value = request.GET.get(name, "")
    if not value.isascii() or not value.isdigit() or len(value) > 18 or int(value) < 1:
        raise tlog.Refusal(f"{name}= takes a whole number of events from 1, such as {name}=1.")
    return int(value)
