"""Forms check the shape of input, line by line where a ballot is described in text."""

import re
from functools import cached_property
from typing import cast

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.http import Http404
from django.shortcuts import get_object_or_404

from deliberation.forms import RowsField
from deliberation.models import Component, DraftVersion, WorkingGroup
from plenary_tally import rules

from .models import DESCRIPTION_MAX_LENGTH, RATIONALE_MAX_LENGTH, Ballot, Choice, Criterion, Dispute, choice_value

CRITERIA_HELP = "One per line: key, then its label. For example “use Use”."
CHOICES_HELP = (
    "One per line: key | label | value | flags. Flags, comma-separated: grant (only holders of a veto grant "
    "may use it), blocking (while it stands the component cannot pass), rationale (a vote with it must say why)."
)
BANDS_HELP = "One per line, highest first: a multiple of the mean score μ, then the outcome's label."
FLAGS = {"grant": "requires_grant", "blocking": "blocking", "rationale": "requires_rationale"}


def _lines(text: str) -> list[tuple[int, str]]:
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]


def _check_key_and_label(n: int, key: str, label: str) -> None:
    """A criterion's or choice's key and label, as the database stores them (32 and 64 characters)."""
    try:
        validate_slug(key)
    except forms.ValidationError:
        raise forms.ValidationError(f"Line {n}: “{key}” is not a valid key (letters, digits, hyphens).") from None
    if len(key) > 32:
        raise forms.ValidationError(f"Line {n}: the key “{key}” is longer than 32 characters.")
    if not label:
        raise forms.ValidationError(f"Line {n}: give a label after the key.")
    if len(label) > 64:
        raise forms.ValidationError(f"Line {n}: the label is longer than 64 characters.")


class BallotForm(forms.Form):
    title = forms.CharField(max_length=200)
    key = forms.SlugField(max_length=64, help_text="Part of the ballot's address; never changes.")
    version = forms.ModelChoiceField(queryset=DraftVersion.objects.none(), help_text="A published version.")
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        help_text="Markdown: links, lists, emphasis; shown on the ballot's page.",
    )
    groups = RowsField(
        queryset=WorkingGroup.objects.none(), widget=forms.CheckboxSelectMultiple, label="Enrolled working groups"
    )
    criteria = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "class": "mono"}),
        initial="use Use\nstudy Study\nmodify Modify\nshare Share",
        help_text=CRITERIA_HELP,
    )
    choices = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "class": "mono"}),
        initial="required | Required | 1\nabstain | Abstain | 0\nnot-necessary | Not necessary | -1 | grant",
        help_text=CHOICES_HELP,
        label="Choice scale",
    )
    results_visibility = forms.ChoiceField(choices=Ballot.Visibility.choices, initial=Ballot.Visibility.LIVE)
    rule = forms.ChoiceField(
        choices=[("mean-bands", "mean-bands: bands at multiples of the mean score"), ("majority", "majority")],
        label="Methodology",
    )
    bands = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "class": "mono"}),
        initial="2.0 Yes\n1.5 Lean yes\n1.0 Maybe\n0.5 Lean no",
        help_text=BANDS_HELP,
        required=False,
    )
    otherwise = forms.CharField(initial="No", required=False, help_text="The outcome below every band.")
    threshold = forms.FloatField(
        initial=0.5, required=False, help_text="majority: share of positive votes, more than 0 and at most 1."
    )
    # k and the seed are checked by the clustering rules in `clean`; the widgets show the same bounds.
    k = forms.IntegerField(
        initial=rules.DEFAULT_CLUSTERING["k"],
        widget=forms.NumberInput(attrs={"min": rules.K_RANGE[0], "max": rules.K_RANGE[-1]}),
        label="Clusters (k)",
    )
    seed = forms.IntegerField(
        initial=rules.DEFAULT_CLUSTERING["seed"],
        widget=forms.NumberInput(attrs={"min": rules.SEED_RANGE[0], "max": rules.SEED_RANGE[-1]}),
        label="Clustering seed",
    )
    opens_at = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), help_text="Planned; UTC."
    )
    closes_at = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), help_text="No vote after; UTC."
    )

    def __init__(self, *args, definition, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].queryset = definition.versions.published().order_by("-published_at")
        self.fields["groups"].queryset = definition.working_groups.all()
        self.initial.setdefault("groups", list(definition.working_groups.all()))
        self.initial.setdefault("version", self.fields["version"].queryset.first())

    def clean_criteria(self) -> list[tuple[str, str]]:
        criteria = []
        for n, line in _lines(self.cleaned_data["criteria"]):
            key, _, label = line.partition(" ")
            _check_key_and_label(n, key, label.strip())
            criteria.append((key, label.strip()))
        return criteria

    def clean_choices(self) -> list[dict]:
        choices = []
        for n, line in _lines(self.cleaned_data["choices"]):
            cells = [c.strip() for c in line.split("|")]
            if len(cells) not in (3, 4):
                raise forms.ValidationError(f"Line {n}: write key | label | value, and optionally | flags.")
            key, label, value = cells[:3]
            _check_key_and_label(n, key, label)
            try:
                number = int(value.replace("+", "").replace("−", "-"))
            except ValueError:
                raise forms.ValidationError(f"Line {n}: the value “{value}” is not a whole number.") from None
            try:
                choice_value(key, number)
            except ValidationError as exc:
                raise forms.ValidationError(f"Line {n}: {exc.messages[0]}") from None
            flags = [f.strip() for f in cells[3].split(",") if f.strip()] if len(cells) == 4 else []
            unknown = [f for f in flags if f not in FLAGS]
            if unknown:
                raise forms.ValidationError(
                    f"Line {n}: unknown flag {', '.join(unknown)}; use grant, blocking, rationale."
                )
            choices.append({"key": key, "label": label, "value": number} | {FLAGS[f]: True for f in flags})
        return choices

    def clean_bands(self) -> list[dict]:
        """The bands as numbers and labels; `clean` checks them by the methodology rules."""
        bands, self._band_lines = [], []
        for n, line in _lines(self.cleaned_data["bands"]):
            multiple, _, label = line.partition(" ")
            try:
                minimum = float(multiple)
            except ValueError:
                raise forms.ValidationError(f"Line {n}: start with a number, such as 1.5.") from None
            bands.append({"min": minimum, "label": label.strip()})
            self._band_lines.append(n)
        return bands

    def clean(self) -> dict:
        """The methodology and clustering the form builds, refused as `create_ballot` would refuse them."""
        data = super().clean()
        assert data is not None  # Form.clean gives cleaned_data
        if {"rule", "bands", "otherwise", "threshold"} <= data.keys():  # else a field is refused already
            self._check(rules.check_methodology, self.methodology())
        if {"k", "seed"} <= data.keys():
            self._check(rules.check_clustering, self.clustering())
        return data

    def _check(self, check, settings: dict) -> None:
        """A refusal shown on the field it concerns, and a band's at its line."""
        try:
            check(settings)
        except rules.RulesError as exc:
            match = re.match(r"\w*", exc.path)
            assert match is not None  # \w* matches any string, if only its empty start
            field = match[0]
            message = str(exc) if exc.band is None else f"Line {self._band_lines[exc.band]}: {exc.message}"
            self.add_error(field if field in self.fields else None, message)

    def methodology(self) -> dict:
        data = self.cleaned_data
        if data["rule"] == "majority":
            return {"rule": "majority", "threshold": 0.5 if data["threshold"] is None else data["threshold"]}
        return {"rule": "mean-bands", "bands": data["bands"], "otherwise": data["otherwise"]}

    def clustering(self) -> dict:
        return {"k": self.cleaned_data["k"], "seed": self.cleaned_data["seed"]}


class CellForm(forms.Form):
    """One cell of the vote grid: a choice (empty to withdraw) and an optional rationale.

    `cell` resolves what was posted against the ballot: the component on its version, the criterion and the
    choice of its scale (`criteria` and `choices`, as the grid read them).
    """

    component = forms.SlugField()
    criterion = forms.SlugField()
    choice = forms.SlugField(required=False)
    rationale = forms.CharField(required=False, max_length=RATIONALE_MAX_LENGTH)
    group = forms.SlugField(required=False)
    withdraw = forms.BooleanField(required=False)

    def __init__(self, *args, ballot: Ballot, criteria: list, choices: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.ballot, self.criteria, self.choices = ballot, criteria, choices

    def cell(self):
        """The component and criterion posted, None if the post names no cell; 404 for one the ballot has not."""
        data = self.cleaned_data
        if "component" not in data or "criterion" not in data:
            return None
        component = get_object_or_404(self.ballot.version.components, key=data["component"])
        criterion = next((k for k in self.criteria if k.key == data["criterion"]), None)
        if criterion is None:
            raise Http404("No such criterion on this ballot.")
        return component, criterion

    @cached_property
    def chosen(self):
        """The choice posted, None to withdraw (or when it is not on the scale: `refusal` says so)."""
        key = self.cleaned_data.get("choice")
        return next((c for c in self.choices if c.key == key), None) if key else None

    def refusal(self) -> str:
        """Why nothing is saved, said in the cell: a rationale too long, a choice not on the scale; or nothing."""
        if self.cleaned_data.get("choice") and self.chosen is None and "choice" not in self.errors:
            return "That choice is not on this ballot's scale."
        return " ".join(f"{name.capitalize()}: {e}" for name, errors in self.errors.items() for e in errors)

    @property
    def withdraws(self) -> bool:
        return self.cleaned_data["withdraw"] or self.chosen is None


class GrantForm(forms.Form):
    choice: "forms.ModelChoiceField[Choice]" = forms.ModelChoiceField(queryset=None, label="Restricted choice")
    group: "forms.ModelChoiceField[WorkingGroup]" = forms.ModelChoiceField(
        queryset=None, required=False, label="To a working group"
    )
    member = forms.CharField(required=False, max_length=150, label="…or to one member (handle)")
    category = forms.ChoiceField(required=False, label="Only for components of category")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text="Shown publicly with the grant.")

    def __init__(self, *args, ballot: Ballot, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["choice"]).queryset = ballot.choices.filter(requires_grant=True)
        cast(forms.ModelChoiceField, self.fields["group"]).queryset = ballot.groups.all()
        categories = sorted(set(ballot.version.components.values_list("category", flat=True)))
        category = cast(forms.ChoiceField, self.fields["category"])
        category.choices = [("", "every category")] + [(c, c) for c in categories]

    def clean_member(self):
        handle = self.cleaned_data["member"].strip().lstrip("@")
        if not handle:
            return None
        user = get_user_model().objects.filter(username__iexact=handle).first()
        if user is None:
            raise forms.ValidationError(f"No account has the handle {handle}.")
        return user


class RevokeGrantForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Why revoke it")


class DisputeForm(forms.Form):
    voter = forms.CharField(required=False, max_length=150, help_text="A voter's handle, or empty for any voter.")
    group: "forms.ModelChoiceField[WorkingGroup]" = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="any group"
    )
    choice: "forms.ModelChoiceField[Choice]" = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="any choice"
    )
    component: "forms.ModelChoiceField[Component]" = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="any component"
    )
    criterion: "forms.ModelChoiceField[Criterion]" = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="any criterion"
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="Public. Why these votes?")

    def __init__(self, *args, ballot: Ballot, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["group"]).queryset = ballot.groups.all()
        cast(forms.ModelChoiceField, self.fields["choice"]).queryset = ballot.choices.all()
        cast(forms.ModelChoiceField, self.fields["component"]).queryset = ballot.version.components.leaves()
        cast(forms.ModelChoiceField, self.fields["criterion"]).queryset = ballot.criteria.all()

    def clean_voter(self):
        handle = self.cleaned_data["voter"].strip().lstrip("@")
        if not handle:
            return None
        user = get_user_model().objects.filter(username__iexact=handle).first()
        if user is None:
            raise forms.ValidationError(f"No account has the handle {handle}.")
        return user


class ResolveDisputeForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(Dispute.Status.UPHELD, "Uphold"), (Dispute.Status.DISMISSED, "Dismiss")], widget=forms.RadioSelect
    )
    resolution = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text="Public.")
