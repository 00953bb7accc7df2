from django import forms
from django.utils.translation import gettext_lazy as _

from .models import FIXED, WEBHOOK_URL_MAX_LENGTH, Event, Kind, Mode, modes_of


class SettingsForm(forms.Form):
    """One choice per kind a person can turn off: at once, in a daily digest, or not by e-mail."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        modes = modes_of(user)
        for kind in Kind:
            if kind in FIXED:
                continue
            self.fields[kind.value] = forms.ChoiceField(
                choices=Mode.choices, initial=modes[kind.value], label=kind.label, widget=forms.RadioSelect
            )


class NameForm(forms.Form):
    """How Plenary names the person in e-mails ("Hello Ada Lovelace,") and on rosters; empty: by @handle."""

    first_name = forms.CharField(max_length=150, required=False, label=_("First name"))
    last_name = forms.CharField(max_length=150, required=False, label=_("Last name"))


class WebhookForm(forms.Form):
    """The shape of a webhook; whether Plenary will call the address is the service's to say (`egress.check_url`)."""

    url = forms.CharField(
        max_length=WEBHOOK_URL_MAX_LENGTH,
        label="Payload address",
        help_text="Plenary POSTs each event here as JSON (https://… or http://…, a public address).",
        widget=forms.URLInput(attrs={"size": 80}),
    )
    events = forms.MultipleChoiceField(
        choices=Event.choices, widget=forms.CheckboxSelectMultiple, label="Events", initial=Event.values
    )
    active = forms.BooleanField(required=False, initial=True, label="Active (deliver events)")
