"""allauth's hooks into Plenary: which handles a new account may take, whose address a sign-in counts against, and
the site its e-mails speak for (`SITE_NAME`, links to `SITE_URL`), not the host a request happened to name; and for
single sign-on (docs/sign-in.md), the providers of the settings only, and the handle a provider suggests."""

from types import SimpleNamespace
from urllib.parse import quote, urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.utils import user_username
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter, _build_apps_from_settings
from allauth.socialaccount.models import SocialApp
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.urls import reverse

from deliberation import handles

from .proxy import client_address


class AccountAdapter(DefaultAccountAdapter):
    def clean_username(self, username: str, shallow: bool = False) -> str:
        username = handles.normalize(username)
        if reason := handles.problem(username):
            raise ValidationError(reason, code="handle")
        username = super().clean_username(username, shallow=shallow)  # Django's validators; taken (any case)
        if not shallow and (found := handles.lookalike([username])):
            raise ValidationError(handles.looks_like(*found), code="lookalike")
        return username

    def get_client_ip(self, request: HttpRequest) -> str:
        return client_address(request)

    # E-mails ------------------------------------------------------------------------------------

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """allauth's templates greet from `current_site.name` and cite its domain: the configured site's."""
        site = SimpleNamespace(name=settings.SITE_NAME, domain=urlsplit(settings.SITE_URL).netloc)
        super().send_mail(template_prefix, email, {"current_site": site} | context)

    def format_email_subject(self, subject: str) -> str:
        return f"[{settings.SITE_NAME}] {subject}"

    def get_email_confirmation_url(self, request: HttpRequest, emailconfirmation) -> str:
        """On the site the person signs up on (a host ALLOWED_HOSTS admits); the configured one without a request."""
        path = reverse("account_confirm_email", args=[emailconfirmation.key])
        return request.build_absolute_uri(path) if request is not None else _absolute(path)

    def get_reset_password_from_key_url(self, key: str) -> str:
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        return _absolute(path.replace("UID-KEY", quote(key)))  # as allauth builds it, on the configured site


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(self, request: HttpRequest | None, provider=None, client_id=None) -> list:
        """The providers configured in the environment (config/sso.py) alone, read with no query: a SocialApp row in
        the database is never used, so the admin cannot add a provider the deployment's configuration does not show.
        (allauth's own reader of the settings, as its list_apps calls it after reading the database.)"""
        by_provider = _build_apps_from_settings(provider=provider, client_id=client_id)
        return [app for apps in by_provider.values() for app in apps]

    def get_app(self, request: HttpRequest, provider, client_id=None):
        """A provider this site does not offer is a page that does not exist (404), not an error of the server."""
        try:
            return super().get_app(request, provider, client_id=client_id)
        except SocialApp.DoesNotExist:
            raise Http404("This site offers no such sign-in provider.") from None

    def populate_user(self, request: HttpRequest, sociallogin, data: dict):
        """The provider's handle (GitHub's login, GitLab's username, OIDC's preferred_username) in our stored form."""
        user = super().populate_user(request, sociallogin, data)
        user_username(user, handles.normalize(user_username(user) or ""))
        return user

    def is_auto_signup_allowed(self, request: HttpRequest, sociallogin) -> bool:
        """An account is made at once only with the handle the provider suggests, if our rules let a new account take
        it (`AccountAdapter.clean_username`: free, not a look-alike); otherwise the sign-up form asks for one, the
        suggestion filled in, and says on posting why one will not do. A handle is public and stays in the audit log."""
        if not super().is_auto_signup_allowed(request, sociallogin):
            return False
        try:
            AccountAdapter(request).clean_username(user_username(sociallogin.user) or "")
        except ValidationError:
            return False
        return True
