"""Forms check the shape of input, row by row where a ballot lists its criteria and choices."""

import json
import re
import zoneinfo
from datetime import datetime
from functools import cached_property
from typing import cast

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deliberation.forms import RowsField
from deliberation.models import Component, DraftVersion, WorkingGroup
from plenary_tally import presets, rules

from .models import (
    DESCRIPTION_MAX_LENGTH,
    RATIONALE_MAX_LENGTH,
    REASON_MAX_LENGTH,
    REMIND_BEFORE_MAX_HOURS,
    STATEMENT_MAX_LENGTH,
    Ballot,
    Choice,
    Criterion,
    Dispute,
    choice_value,
)

BANDS_HELP = "One per line, highest first: a multiple of the mean score μ, then the outcome's label."
ROWS_MAX = 24  # criteria, and choices on a scale: more than any ballot asks, few enough to read
EXTRA_ROWS = 3  # blank rows offered after the filled ones, to add to the list without a script
TIME_ZONES = sorted(zoneinfo.available_timezones())
METHODOLOGY_MAX_LENGTH = 10_000  # characters of a methodology written as JSON: a body's rules fit in far fewer


def _lines(text: str) -> list[tuple[int, str]]:
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]


def person_zone(*names: object) -> zoneinfo.ZoneInfo:
    """The first of `names` that is a time zone (the one the form sent, the browser's from its cookie), else UTC."""
    for name in names:
        if isinstance(name, str) and name in TIME_ZONES:
            return zoneinfo.ZoneInfo(name)
    return zoneinfo.ZoneInfo("UTC")


def zone_label(zone: zoneinfo.ZoneInfo) -> str:
    """ "Europe/Paris (UTC+01:00)": the zone and its offset now."""
    offset = datetime.now(zone).strftime("%z") or "+0000"
    return f"{zone.key} (UTC{offset[:3]}:{offset[3:]})"


def _key_error(key: str) -> str | None:
    """Why `key` cannot name a criterion or a choice, or None."""
    try:
        validate_slug(key)
    except forms.ValidationError:
        return f"“{key[:40]}” is not a valid key: use letters, digits and hyphens, such as use."
    if len(key) > 32:
        return f"The key is {len(key)} characters long; at most 32."
    return None


class _Row(forms.Form):
    """One criterion or choice. Every field may be left blank, and a blank row is left out; a row half filled in
    says, on the field itself, what it lacks."""

    key = forms.CharField(required=False, max_length=80, widget=forms.TextInput(attrs={"size": 12}))
    label = forms.CharField(required=False, max_length=64, widget=forms.TextInput(attrs={"size": 20}))
    kind, example = "row", ""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        number = (self.prefix or "").rpartition("-")[2]
        row = int(number) + 1 if number.isdigit() else ""
        for field in self.fields.values():  # a cell of the table names itself: "criterion 2, key"
            field.widget.attrs["aria-label"] = f"{self.kind} {row}, {str(field.label or '').lower()}"

    def filled(self) -> bool:
        return any(v not in ("", None, False) for v in self.cleaned_data.values())

    def clean(self) -> dict:
        data = super().clean()
        assert data is not None  # Form.clean gives cleaned_data
        if not self.filled():
            return data
        key, label = data.get("key", ""), data.get("label", "")
        if "key" in data:
            error = _key_error(key) if key else f"Give this {self.kind} a key, such as {self.example}."
            if error:
                self.add_error("key", error)
        if "label" in data and not label:
            self.add_error("label", _("Give this %(kind)s a label, as voters will read it.") % {"kind": self.kind})
        return data


class CriterionRow(_Row):
    kind, example = "criterion", "use"


class ChoiceRow(_Row):
    kind, example = "choice", "required"
    value = forms.CharField(
        required=False, max_length=16, widget=forms.TextInput(attrs={"size": 4, "inputmode": "numeric"})
    )
    requires_grant = forms.BooleanField(required=False, label=_("Veto grant needed"))
    blocking = forms.BooleanField(required=False, label=_("Blocking"))
    requires_rationale = forms.BooleanField(required=False, label=_("Rationale needed"))

    def clean(self) -> dict:
        data = super().clean()
        if not self.filled() or "value" not in data:
            return data
        text = data["value"]
        if not text:
            self.add_error("value", _("Give the choice a value, a whole number such as 1, 0 or −1."))
            return data
        try:
            data["value"] = int(text.replace("+", "").replace("−", "-"))
        except ValueError:
            self.add_error("value", _("“%(text)s” is not a whole number.") % {"text": text})
            return data
        try:
            choice_value(data.get("key", ""), data["value"])
        except ValidationError as exc:
            self.add_error("value", exc.messages[0])
        return data


class _Rows(forms.BaseFormSet):
    """The filled rows, in order, each key once."""

    def clean(self) -> None:
        if any(self.errors):
            return
        rows = self.rows()
        keys = [r["key"] for r in rows]
        kind = self.form.kind
        if not rows:
            raise forms.ValidationError(_("Give at least one %(kind)s.") % {"kind": kind})
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise forms.ValidationError(
                _("Each %(kind)s key may appear once: %(value)s appears more than once.")
                % {"kind": kind, "value": ", ".join(twice)}
            )

    def rows(self) -> list[dict]:
        return [f.cleaned_data for f in self.forms if f.cleaned_data and f.filled()]


def _rows(form, **kwargs):
    return forms.formset_factory(
        form, formset=_Rows, extra=EXTRA_ROWS, max_num=ROWS_MAX, absolute_max=ROWS_MAX, validate_max=True, **kwargs
    )


CriteriaRows = _rows(CriterionRow)
ChoiceRows = _rows(ChoiceRow)
DEFAULT_CRITERIA = [("use", "Use"), ("study", "Study"), ("modify", "Modify"), ("share", "Share")]
DEFAULT_CHOICES = [
    {"key": "required", "label": "Required", "value": 1},
    {"key": "abstain", "label": "Abstain", "value": 0},
    {"key": "not-necessary", "label": "Not necessary", "value": -1, "requires_grant": True},
]
# The fields an edit of a ballot changes (`services.update_ballot`); its key, version and visibility never do.
FIXED_AT_CREATION = ("key", "version", "results_visibility", "carried_from", "carry_rule", "carry_mapping")
CARRY_MAPPING_MAX_LENGTH = 20_000  # a line per mapped component: hundreds of them


def parse_carry_mapping(text: str) -> dict[str, list[str]]:
    """ "new-key: old-key, old-key" lines as {new key: [old keys]}; refused at the first line that is not one.
    Whether the keys are components of the versions is `services.check_carry`'s to say."""
    mapping: dict[str, list[str]] = {}
    for n, line in _lines(text):
        new, colon, olds = line.partition(":")
        keys = [k.strip() for k in olds.split(",") if k.strip()]
        if not colon or not new.strip() or not keys:
            raise forms.ValidationError(
                _(
                    "Line %(n)s: write a new component's key, a colon, then old keys, "
                    "such as “datasets: training-data, testing-data”."
                )
                % {"n": n}
            )
        if new.strip() in mapping:
            raise forms.ValidationError(
                _("Line %(n)s: %(value)s is mapped on an earlier line already.") % {"n": n, "value": new.strip()[:64]}
            )
        mapping[new.strip()] = keys
    return mapping


class BallotChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Ballot) -> str:
        return f"{obj.title} (on {obj.version.label})"


class BallotForm(forms.Form):
    """A new ballot, or (`ballot`) the changes to one that has not opened. Criteria and choices are rows
    (`criteria_rows`, `choice_rows`); times are read in the zone the form says (`time_zone`), UTC by default."""

    title = forms.CharField(max_length=200)
    key = forms.SlugField(max_length=64, help_text=_("Part of the ballot's address; never changes."))
    version = forms.ModelChoiceField(queryset=DraftVersion.objects.none(), help_text=_("A published version."))
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        help_text=_("Markdown: links, lists, emphasis; shown on the ballot's page."),
    )
    groups = RowsField(
        queryset=WorkingGroup.objects.none(), widget=forms.CheckboxSelectMultiple, label=_("Enrolled working groups")
    )
    eligibility = forms.ChoiceField(
        choices=Ballot.Eligibility.choices,
        initial=Ballot.Eligibility.FROZEN,
        widget=forms.RadioSelect,
        label=_("Who votes"),
    )
    results_visibility = forms.ChoiceField(choices=Ballot.Visibility.choices, initial=Ballot.Visibility.LIVE)
    rule = forms.ChoiceField(
        choices=[("mean-bands", _("mean-bands: bands at multiples of the mean score")), ("majority", _("majority"))],
        label=_("Methodology"),
    )
    bands = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "class": "mono"}),
        initial="2.0 Yes\n1.5 Lean yes\n1.0 Maybe\n0.5 Lean no",
        help_text=BANDS_HELP,
        required=False,
    )
    otherwise = forms.CharField(initial="No", required=False, help_text=_("The outcome below every band."))
    threshold = forms.FloatField(
        initial=0.5, required=False, help_text=_("majority: share of positive votes, more than 0 and at most 1.")
    )
    methodology_json = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8, "class": "mono"}),
        required=False,
        max_length=METHODOLOGY_MAX_LENGTH,
        label=_("Methodology as JSON"),
        help_text=_(
            "Optional, and used instead of the fields above when given: a rule they cannot state, such as "
            "a quorum, a strict threshold, a share of the eligible, a recuse choice or each group's own condition "
            "(see the analysis guide)."
        ),
    )
    # k and the seed are checked by the clustering rules in `clean`; the widgets show the same bounds.
    k = forms.IntegerField(
        initial=rules.DEFAULT_CLUSTERING["k"],
        widget=forms.NumberInput(attrs={"min": rules.K_RANGE[0], "max": rules.K_RANGE[-1]}),
        label=_("Clusters (k)"),
    )
    seed = forms.IntegerField(
        initial=rules.DEFAULT_CLUSTERING["seed"],
        widget=forms.NumberInput(attrs={"min": rules.SEED_RANGE[0], "max": rules.SEED_RANGE[-1]}),
        label=_("Clustering seed"),
    )
    time_zone = forms.ChoiceField(
        choices=[(z, z) for z in TIME_ZONES],
        label=_("Time zone of the times below"),
        widget=forms.Select(attrs={"data-browser-zone": ""}),  # static/js/timezone.js may set it to the browser's
    )
    opens_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S"),
        help_text=_("Voting opens by itself then; leave empty to open it yourself."),
    )
    closes_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S"),
        help_text=_("Voting closes by itself then, and no vote is accepted after; leave empty to close it yourself."),
    )
    carried_from = BallotChoiceField(
        queryset=Ballot.objects.none(),
        required=False,
        label=_("Carry votes from"),
        help_text=_(
            "A closed ballot of this definition on an earlier version: its votes start this one, as the rule "
            "below says, when voting opens; each voter is told and confirms, changes or withdraws them."
        ),
    )
    carry_rule = forms.ChoiceField(
        choices=Ballot.CarryRule.choices,
        initial=Ballot.CarryRule.NONE,
        required=False,  # not sent: nothing carries
        widget=forms.RadioSelect,
        label=_("Which votes carry"),
        help_text=_("A component's text is unchanged when its title and description are; a merged one has changed."),
    )
    carry_mapping = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "class": "mono"}),
        required=False,
        max_length=CARRY_MAPPING_MAX_LENGTH,
        label=_("Components renamed, merged or split"),
        help_text=_(
            "A line each, “new-key: old-key, old-key”, such as “datasets: training-data, testing-data”; a "
            "component not listed takes the votes of the one of the same key. Onto a merged component, a voter's votes "
            "carry only if they agree."
        ),
    )
    remind_before_hours = forms.IntegerField(
        min_value=0,
        max_value=REMIND_BEFORE_MAX_HOURS,
        initial=24,
        required=False,
        label=_("Remind before closing (hours)"),
        help_text=_(
            "Members with cells still without a vote are e-mailed this long before it closes; 0 for no reminder."
        ),
    )

    def __init__(
        self,
        *args,
        definition,
        ballot: Ballot | None = None,
        zone: zoneinfo.ZoneInfo | None = None,
        preset: str | None = None,
        **kw,
    ):
        super().__init__(*args, **kw)
        self.ballot = ballot
        posted = self.data.get("time_zone") if self.is_bound else None
        self.zone = person_zone(posted) if posted else (zone or person_zone())
        self.fields["time_zone"].initial = self.zone.key
        versions = definition.versions.published().order_by("-published_at")
        cast(forms.ModelChoiceField, self.fields["version"]).queryset = versions
        cast(forms.ModelChoiceField, self.fields["groups"]).queryset = definition.working_groups.all()
        if ballot is None:
            closed = definition.ballots.filter(status=Ballot.Status.CLOSED).select_related("version")
            cast(forms.ModelChoiceField, self.fields["carried_from"]).queryset = closed.order_by("-closed_at")
            self.initial.setdefault("groups", list(definition.working_groups.all()))
            self.initial.setdefault("version", versions.first())
            criteria, choices = DEFAULT_CRITERIA, DEFAULT_CHOICES
            if preset in presets.PRESETS:  # a body's rules to start from: its scale and its methodology
                chosen = presets.PRESETS[preset]
                criteria, choices = [tuple(c) for c in chosen["criteria"]], chosen["choices"]
                self.initial.update(_methodology_initial(chosen["methodology"]))
        else:
            for name in FIXED_AT_CREATION:
                del self.fields[name]
            criteria = [(c.key, c.label) for c in ballot.criteria.all()]
            choices = [c.as_data() for c in ballot.choices.all()]
            self.initial.update(self._initial(ballot))
        if self.is_bound:  # the rows as posted, each compared with nothing: a row kept is a row sent
            self.criteria_rows = CriteriaRows(self.data, prefix="criteria")
            self.choice_rows = ChoiceRows(self.data, prefix="choices")
        else:
            initial = [{"key": k, "label": label} for k, label in criteria]
            self.criteria_rows = CriteriaRows(prefix="criteria", initial=initial)
            self.choice_rows = ChoiceRows(prefix="choices", initial=[dict(c) for c in choices])

    def _initial(self, ballot: Ballot) -> dict:
        methodology = ballot.methodology
        local = {
            name: timezone.localtime(getattr(ballot, name), self.zone).replace(tzinfo=None)
            for name in ("opens_at", "closes_at")
            if getattr(ballot, name)
        }
        return local | {
            "title": ballot.title,
            "description": ballot.description,
            "groups": list(ballot.groups.all()),
            "eligibility": ballot.eligibility,
            "remind_before_hours": ballot.remind_before_hours,
            **_methodology_initial(methodology),
            "k": ballot.clustering["k"],
            "seed": ballot.clustering["seed"],
        }

    @property
    def zone_label(self) -> str:
        return zone_label(self.zone)

    def full_clean(self) -> None:
        with timezone.override(self.zone):  # a time without an offset is read in the form's zone
            super().full_clean()

    def is_valid(self) -> bool:
        rows_valid = [self.criteria_rows.is_valid(), self.choice_rows.is_valid()]
        if not (super().is_valid() and all(rows_valid)):
            return False
        groups = [g.key for g in self.cleaned_data["groups"]]
        self._check(lambda m: rules.check_references(m, self.choices, groups), self.methodology())
        return not self.errors

    @property
    def rows_with_captions(self) -> list[tuple[forms.BaseFormSet, str]]:
        return [(self.criteria_rows, "Criteria"), (self.choice_rows, "Choice scale")]

    @property
    def criteria(self) -> list[tuple[str, str]]:
        return [(r["key"], r["label"]) for r in self.criteria_rows.rows()]

    @property
    def choices(self) -> list[dict]:
        return self.choice_rows.rows()

    def clean_bands(self) -> list[dict]:
        """The bands as numbers and labels; `clean` checks them by the methodology rules."""
        bands, self._band_lines = [], []
        for n, line in _lines(self.cleaned_data["bands"]):
            multiple, _space, label = line.partition(" ")
            try:
                minimum = float(multiple)
            except ValueError:
                raise forms.ValidationError(_("Line %(n)s: start with a number, such as 1.5.") % {"n": n}) from None
            bands.append({"min": minimum, "label": label.strip()})
            self._band_lines.append(n)
        return bands

    def clean_remind_before_hours(self) -> int:
        """Left empty: as it was (a ballot edited), else the default; 0 says no reminder."""
        hours = self.cleaned_data["remind_before_hours"]
        if hours is not None:
            return hours
        return self.ballot.remind_before_hours if self.ballot else Ballot._meta.get_field("remind_before_hours").default

    def clean_carry_rule(self) -> str:
        return self.cleaned_data["carry_rule"] or Ballot.CarryRule.NONE

    def clean_carry_mapping(self) -> dict[str, list[str]]:
        return parse_carry_mapping(self.cleaned_data["carry_mapping"])

    def clean_methodology_json(self) -> dict | None:
        """The methodology written as JSON, an object; None when left empty."""
        text = self.cleaned_data["methodology_json"].strip()
        if not text:
            return None
        try:
            methodology = json.loads(text)
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno}, column {exc.colno}"
            raise forms.ValidationError(
                _("This is not JSON: %(msg)s at %(where)s.") % {"msg": exc.msg, "where": where}
            ) from None
        if not isinstance(methodology, dict):
            raise forms.ValidationError(_('Write the methodology as a JSON object, such as {"rule": "majority", …}.'))
        return methodology

    def clean(self) -> dict:
        """The methodology and clustering the form builds, refused as `create_ballot` would refuse them."""
        data = super().clean()
        assert data is not None  # Form.clean gives cleaned_data
        fields = {"rule", "bands", "otherwise", "threshold", "methodology_json"}
        if fields <= data.keys():  # else a field is refused already
            self._check(rules.check_methodology, self.methodology())
        if {"k", "seed"} <= data.keys():
            self._check(rules.check_clustering, self.clustering())
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", _("A ballot closes after it opens."))
        return data

    def _check(self, check, settings: dict) -> None:
        """A refusal shown on the field it concerns, and a band's at its line; in the JSON, at its path."""
        try:
            check(settings)
        except rules.RulesError as exc:
            if self.cleaned_data.get("methodology_json") is not None:
                self.add_error("methodology_json", f"{exc.path}: {exc.message}" if exc.path else exc.message)
                return
            match = re.match(r"\w*", exc.path)
            assert match is not None  # \w* matches any string, if only its empty start
            field = match[0]
            message = str(exc) if exc.band is None else f"Line {self._band_lines[exc.band]}: {exc.message}"
            self.add_error(field if field in self.fields else None, message)

    def methodology(self) -> dict:
        data = self.cleaned_data
        if data.get("methodology_json") is not None:
            return data["methodology_json"]
        if data["rule"] == "majority":
            return {"rule": "majority", "threshold": 0.5 if data["threshold"] is None else data["threshold"]}
        return {"rule": "mean-bands", "bands": data["bands"], "otherwise": data["otherwise"]}

    def clustering(self) -> dict:
        return {"k": self.cleaned_data["k"], "seed": self.cleaned_data["seed"]}


def _methodology_initial(methodology: dict) -> dict:
    """The form's methodology fields for a methodology: the JSON too where the fields cannot state it."""
    plain = methodology["rule"] == "mean-bands" or (
        set(methodology) <= {"rule", "threshold"} and isinstance(methodology.get("threshold", 0.5), int | float)
    )
    return {
        "rule": methodology["rule"],
        "bands": "\n".join(f"{b['min']} {b['label']}" for b in methodology.get("bands", [])),
        "otherwise": methodology.get("otherwise", ""),
        "threshold": methodology.get("threshold", 0.5) if plain else 0.5,
        "methodology_json": "" if plain else json.dumps(methodology, indent=2, ensure_ascii=False),
    }


class RescheduleForm(forms.Form):
    """An open ballot's new closing time, in the person's zone, and why it moves."""

    time_zone = BallotForm.base_fields["time_zone"]
    closes_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S"),
        help_text=_("Leave empty for no closing time: an organizer then closes it."),
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=REASON_MAX_LENGTH,
        help_text=_("Shown on the ballot's page and in its audit log."),
    )

    def __init__(self, *args, ballot: Ballot, zone: zoneinfo.ZoneInfo | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        posted = self.data.get("time_zone") if self.is_bound else None
        self.zone = person_zone(posted) if posted else (zone or person_zone())
        self.fields["time_zone"].initial = self.zone.key
        if ballot.closes_at:
            self.initial["closes_at"] = timezone.localtime(ballot.closes_at, self.zone).replace(tzinfo=None)

    @property
    def zone_label(self) -> str:
        return zone_label(self.zone)

    def full_clean(self) -> None:
        with timezone.override(self.zone):
            super().full_clean()


class CloseBallotForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=REASON_MAX_LENGTH,
        required=False,
        help_text=_("Shown on the ballot's page and in its audit log; needed before the planned closing time."),
    )


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
    choice: "forms.ModelChoiceField[Choice]" = forms.ModelChoiceField(queryset=None, label=_("Restricted choice"))
    group: "forms.ModelChoiceField[WorkingGroup]" = forms.ModelChoiceField(
        queryset=None, required=False, label=_("To a working group")
    )
    member = forms.CharField(required=False, max_length=150, label=_("…or to one member (handle)"))
    category = forms.ChoiceField(required=False, label=_("Only for components of category"))
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text=_("Shown publicly with the grant."))

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
            raise forms.ValidationError(_("No account has the handle %(handle)s.") % {"handle": handle})
        return user


class RevokeGrantForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label=_("Why revoke it"))


class DisputeForm(forms.Form):
    voter = forms.CharField(required=False, max_length=150, help_text=_("A voter's handle, or empty for any voter."))
    group: "forms.ModelChoiceField[WorkingGroup]" = forms.ModelChoiceField(
        queryset=None, required=False, empty_label=_("any group")
    )
    choice: "forms.ModelChoiceField[Choice]" = forms.ModelChoiceField(
        queryset=None, required=False, empty_label=_("any choice")
    )
    component: "forms.ModelChoiceField[Component]" = forms.ModelChoiceField(
        queryset=None, required=False, empty_label=_("any component")
    )
    criterion: "forms.ModelChoiceField[Criterion]" = forms.ModelChoiceField(
        queryset=None, required=False, empty_label=_("any criterion")
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text=_("Public. Why these votes?"))

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
            raise forms.ValidationError(_("No account has the handle %(handle)s.") % {"handle": handle})
        return user


class ResolveDisputeForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(Dispute.Status.UPHELD, _("Uphold")), (Dispute.Status.DISMISSED, _("Dismiss"))],
        widget=forms.RadioSelect,
    )
    resolution = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text=_("Public."))


class ConflictForm(forms.Form):
    """A member's declaration of a conflict of interest: in the whole ballot, or in one component voted on."""

    component: "forms.ModelChoiceField[Component]" = forms.ModelChoiceField(
        queryset=None, required=False, empty_label=_("the whole ballot"), label=_("In")
    )
    statement = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": STATEMENT_MAX_LENGTH}),
        help_text=_("Public. What your interest is: an employer, a client, a project of yours…"),
    )

    def __init__(self, *args, ballot: Ballot, **kwargs):
        super().__init__(*args, **kwargs)
        leaves = ballot.version.components.leaves().order_by("category", "position", "key")
        cast(forms.ModelChoiceField, self.fields["component"]).queryset = leaves


class WithdrawConflictForm(forms.Form):
    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": STATEMENT_MAX_LENGTH}),
        label=_("Why withdraw it (optional, public)"),
    )
