from datetime import timedelta

from django import forms
from django.utils import timezone

from .models import TOKEN_NAME_MAX_LENGTH, Scope

LIFETIMES = [("30", "30 days"), ("90", "90 days"), ("365", "a year"), ("", "never")]


class TokenForm(forms.Form):
    """A new token's name, what it may write, and how long it lasts. The service checks each again."""

    name = forms.CharField(
        max_length=TOKEN_NAME_MAX_LENGTH,
        help_text="What will use it, such as “group spreadsheet sync”: you will tell your tokens apart by it.",
    )
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="It may also write",
        help_text="None: read-only. Each write is one you could make on the pages yourself, and is recorded as yours.",
    )
    lifetime = forms.ChoiceField(choices=LIFETIMES, required=False, initial="90", label="Expires after")

    def expires_at(self):
        days = self.cleaned_data["lifetime"]
        return timezone.now() + timedelta(days=int(days)) if days else None
