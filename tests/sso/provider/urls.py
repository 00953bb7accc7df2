"""The test provider's pages: a sign-in form of its own, and django-oauth-toolkit's OAuth 2 and OIDC endpoints
(discovery at /o/.well-known/openid-configuration, keys, authorize, token, userinfo).

`Validator` says what the provider asserts about a person: their handle (`preferred_username`), e-mail address and,
as `email_verified`, whether they belong to the group "email-verified" here, so that a test can sign in both as
someone whose address the provider verified and as someone whose address it did not.
"""

from django.contrib.auth import authenticate, login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import include, path
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.oauth2_validators import OAuth2Validator

VERIFIED_GROUP = "email-verified"
CALLBACK = "/accounts/oidc/idp/login/callback/"  # Plenary's, for the provider id "idp" the tests configure


class Validator(OAuth2Validator):
    oidc_claim_scope = OAuth2Validator.oidc_claim_scope | {"email_verified": "email"}

    def get_additional_claims(self, request) -> dict:
        user = request.user
        return {
            "preferred_username": user.username,
            "name": user.get_full_name(),
            "email": user.email,
            "email_verified": user.groups.filter(name=VERIFIED_GROUP).exists(),
        }

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs) -> bool:
        """Plenary's callback on any loopback port (the live server's is chosen at random) or Django's test client."""
        from urllib.parse import urlsplit

        parts = urlsplit(redirect_uri)
        return parts.hostname in ("127.0.0.1", "localhost", "testserver") and parts.path == CALLBACK

    def get_default_redirect_uri(self, client_id, request, *args, **kwargs):
        return None


FORM = """<!doctype html><title>Test provider: sign in</title><h1>Sign in to the test provider</h1>{error}
<form method="post"><input type="hidden" name="next" value="{next}">
<label>Username <input name="username" autocomplete="username"></label>
<label>Password <input name="password" type="password"></label>
<button type="submit">Sign in to the provider</button></form>"""


@csrf_exempt  # a test fixture's page; the OAuth flow it leads back into carries its own state
def sign_in(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    error = ""
    if request.method == "POST":
        user = authenticate(request, username=request.POST.get("username"), password=request.POST.get("password"))
        if user is not None:
            login(request, user)
            return HttpResponseRedirect(next_url)
        error = "<p role=alert>Wrong username or password.</p>"
    return HttpResponse(FORM.format(error=error, next=escape(next_url)))


urlpatterns = [
    path("login/", sign_in),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
]
