"""Requests refused before any view runs."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

NUL = "\x00"


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
