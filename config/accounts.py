"""allauth's hooks into Plenary: which handles a new account may take, whose address a sign-in counts against, and
the site its e-mails speak for (`SITE_NAME`, links to `SITE_URL`), not the host a request happened to name."""

from types import SimpleNamespace
from urllib.parse import quote, urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
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
