"""Requests refused before any view runs, and a database that cannot answer in time."""

import logging
from collections.abc import Callable

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

NUL = "\x00"
NOT_SAVED = "That could not be saved just now; please try again."  # the vote cell says it too
RETRY_AFTER = 10  # seconds: what a 503 suggests to wait


class RefuseNulInAddress:
    """An address whose path or query string holds a NUL character: 400 Bad Request.

    Nothing Plenary stores can hold one (a form refuses it with a field error) and PostgreSQL
    refuses it in any query, so such an address names nothing, and saying so beats failing.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = (text for name, values in request.GET.lists() for text in (name, *values))
        if NUL in request.path or any(NUL in text for text in query):
            return HttpResponseBadRequest("This address holds a NUL character, which nothing here can contain.")
        return self.get_response(request)


class DatabaseBusy:
    """A database that cannot answer in time: 503 Service Unavailable with the reason, never a 500.

    On SQLite one write holds the whole database: while a long one runs (a large `import_tally`),
    another write waits out its busy timeout, then fails with "database is locked". On PostgreSQL
    the same comes of a lock timeout or a lost connection. Every change is one transaction, so
    the request's writes were rolled back whole: the page says that nothing was saved, and to try
    again. It is rendered from a template that reads nothing from the database.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError):
            return None
        logger.warning("%s %s: the database did not answer in time (%s)", request.method, request.path, exception)
        page = render_to_string("503.html", {"message": NOT_SAVED})
        response = HttpResponse(page, status=503)
        response["Retry-After"] = str(RETRY_AFTER)
        return response
