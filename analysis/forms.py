"""The forms of the decisions page: input shape only; `analysis.decisions` decides what may be written."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import OUTCOME_MAX_LENGTH, STATEMENT_MAX_LENGTH, Objection

WHOLE_BALLOT = ""  # the component field's value for a decision on the whole ballot


class DecisionForm(forms.Form):
    component = forms.ChoiceField(required=False, label=_("Decision on"))
    outcome = forms.CharField(
        max_length=OUTCOME_MAX_LENGTH,
        label=_("What was decided"),
        help_text=_("Filled in with the outcome of the cited run; change it if the decision differs, and say why."),
    )
    statement = forms.CharField(
        max_length=STATEMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Public: the organizers' statement of the decision and its grounds."),
    )
    run = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, components, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["component"].choices = [(WHOLE_BALLOT, "The whole ballot")] + [
            (c.key, f"{c.title} ({c.key})") for c in components
        ]


class ObjectionForm(forms.Form):
    reasoning = forms.CharField(
        max_length=STATEMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Public: why the decision should be revised. The organizers answer on the record."),
    )


class AnswerForm(forms.Form):
    answer = forms.ChoiceField(choices=Objection.Answer.choices, widget=forms.RadioSelect)
    reason = forms.CharField(
        max_length=STATEMENT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2}), help_text=_("Public.")
    )
    outcome = forms.CharField(
        max_length=OUTCOME_MAX_LENGTH,
        required=False,
        label=_("Revised decision"),
        help_text=_("When upheld: what is decided now. It is recorded as a new decision that supersedes this one."),
    )
