"""One page: /search/?q=…, over everything the person may read (search/engine.py decides what that is)."""

from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from . import engine
from .text import QUERY_MAX_LENGTH, QueryRefused


def search(request: HttpRequest) -> HttpResponse:
    """The hits, best first, twenty a page; with no query, what can be searched and how; an overlong one, refused."""
    text = request.GET.get("q", "")
    context: dict = {"q": text.strip(), "max_length": QUERY_MAX_LENGTH}
    try:
        results = engine.search(request.user, text)
    except QueryRefused as refused:
        return render(request, "search/search.html", context | {"refusal": str(refused)})
    if results.query:
        # Results is lazy as a QuerySet is: the paginator counts it and takes one slice
        paginator: Paginator[engine.Hit] = Paginator(results, engine.PAGE_SIZE)  # type: ignore[arg-type]
        page: Page = paginator.get_page(request.GET.get("page"))
        context |= {"page": page, "query": urlencode({"q": results.query})}
    return render(request, "search/search.html", context)
