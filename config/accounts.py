"""allauth's hooks into Plenary: which handles a new account may take, and whose address a sign-in counts against."""

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import ValidationError
from django.http import HttpRequest

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
