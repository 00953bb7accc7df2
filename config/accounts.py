"""allauth's hooks into Plenary: which handles a new account may take."""

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import ValidationError

from deliberation import handles


class AccountAdapter(DefaultAccountAdapter):
    def clean_username(self, username: str, shallow: bool = False) -> str:
        username = handles.normalize(username)
        if reason := handles.problem(username):
            raise ValidationError(reason, code="handle")
        username = super().clean_username(username, shallow=shallow)  # Django's validators; taken (any case)
        if not shallow and (found := handles.lookalike([username])):
            raise ValidationError(handles.looks_like(*found), code="lookalike")
        return username
