"""The JSON API: each app's router, mounted at /api/, with its OpenAPI schema at /api/openapi.json and its docs at
/api/docs.

Who asks is told by `tokens.auth`: a personal access token (`Authorization: Bearer …`), else the browser's session,
else the public; reads take any of them, writes a token with the write's scope or a session with its CSRF token.
Errors are JSON: `{"detail": "…"}`, with the sentence the pages would show.
"""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.openapi.docs import DocsBase

from analysis.api import router as analysis
from audit.api import router as audit
from deliberation.api import router as deliberation
from search.api import router as search
from tokens.auth import READ, SIGN_IN
from votes.api import router as votes

from .middleware import NOT_SAVED, RETRY_AFTER

logger = logging.getLogger(__name__)

NOT_FOUND = "There is no such address in the API; its endpoints are listed at /api/docs and /api/openapi.json."


class Docs(DocsBase):
    """ninja's Swagger UI page, drawn from our own copy of its files (static/vendor/swagger-ui/) by a script of our
    own, so that nothing is loaded from a CDN and no inline script needs the CSP relaxed. ninja's own template does
    either (a CDN without "ninja" in INSTALLED_APPS) or reads the files of whichever ninja is installed."""

    def render_page(self, request: HttpRequest, api: "NinjaAPI", **kwargs) -> HttpResponse:
        openapi_url = self.get_openapi_url(api, kwargs)
        swagger_settings = {
            "url": openapi_url,
            "layout": "BaseLayout",
            "deepLinking": True,
            "validatorUrl": None,  # Swagger UI would otherwise ask validator.swagger.io for a badge
            "persistAuthorization": False,  # a token typed under "Authorize" is forgotten with the page
        }
        context = {"api": api, "swagger_settings": swagger_settings, "openapi_url": openapi_url}
        return render(request, "api_docs.html", context)


class PlenaryAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        """Every read may also be sent with no token at all (the public's view, or the session's): say so, as
        OpenAPI does, with an empty security requirement beside the bearer token."""
        schema = super().get_openapi_schema(*args, **kwargs)
        for operations in schema["paths"].values():
            if "get" in operations:
                operations["get"]["security"] = [*operations["get"].get("security", []), {}]
        return schema


api = PlenaryAPI(
    title="Plenary",
    version="1",
    description="Definitions, versions, components, working groups, comments, ballots, votes, veto grants, disputes, "
    "audit events and outcomes, with the same visibility as the pages, and search over them; and, with a personal "
    "access token of the right scope (or the browser's session), casting and withdrawing votes, commenting and "
    "raising disputes, through the same rules as the pages. Lists are paged with `limit` (at most 500) and "
    "`offset`, and give the total `count`. See docs/api.md.",
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs=Docs(),
    docs_url="/docs",
    auth=READ,
)
api.add_router("", deliberation)
api.add_router("", votes)
api.add_router("", analysis)
api.add_router("", audit)
api.add_router("", search)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    """ninja says "Unauthorized" when no way in was offered; a refused token says why itself."""
    message = str(exc) if exc.message != "Unauthorized" else SIGN_IN
    response = api.create_response(request, {"detail": message}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="Plenary"'
    return response


@api.exception_handler(ValidationError)
def refused(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """A service's refusal (a vote after closing, a reason too long): 400, with the sentence the page shows."""
    return api.create_response(request, {"detail": " ".join(exc.messages)}, status=400)


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "You may not do this."}, status=403)


@api.exception_handler(OperationalError)
def busy(request: HttpRequest, exc: OperationalError) -> HttpResponse:
    """As config.middleware.DatabaseBusy does for the pages: the transaction was rolled back whole, say so."""
    logger.warning("%s %s: the database did not answer in time (%s)", request.method, request.path, exc)
    response = api.create_response(request, {"detail": NOT_SAVED}, status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    return response


def index(request: HttpRequest) -> JsonResponse:
    """/api/ itself: where the docs and the schema are (ninja's own root answers an HTML 404)."""
    return JsonResponse({"docs": reverse("api:openapi-view"), "openapi": reverse("api:openapi-json")})


@csrf_exempt  # writes nothing, whatever the method: a POST with a token and no cookie gets its JSON 404 too
def not_found(request: HttpRequest, rest: str) -> JsonResponse:
    """Any other address under /api/: a JSON 404, never the site's HTML page (or, with DEBUG, Django's)."""
    detail = f"{NOT_FOUND} ({request.path})" if settings.DEBUG else NOT_FOUND
    return JsonResponse({"detail": detail}, status=404)
