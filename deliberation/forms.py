"""Forms check the shape of input; the rules live in services."""

from typing import cast

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import (
    BULK_LINES_MAX,
    DECISION_REASON_MAX_LENGTH,
    DRAFT_BODY_MAX_LENGTH,
    JOIN_NOTE_MAX_LENGTH,
    SUGGESTION_MAX_LENGTH,
    SUGGESTION_REASON_MAX_LENGTH,
    Comment,
    Component,
    Definition,
    DraftVersion,
    Membership,
    Suggestion,
    WorkingGroup,
    category_key,
    label_validator,
    tidy_category,
)


class RowsField(forms.ModelMultipleChoiceField):
    """Several rows chosen by id, where an id no database column can hold is refused like any unknown one.

    Django looks the ids up with `pk__in`, and SQLite fails on an integer that large instead of finding nothing.
    """

    def _check_values(self, value):
        for pk in value if isinstance(value, list | tuple) else ():
            try:
                out_of_range = not -(2**63) <= int(pk) < 2**63
            except (TypeError, ValueError):
                continue  # not a number at all: Django's own check says so
            if out_of_range:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                )
        return super()._check_values(value)


class DraftForm(forms.ModelForm):
    """A draft's label and text, and (hidden) the number of the revision the editor started from."""

    revision = forms.IntegerField(
        min_value=0,
        max_value=2**31 - 1,
        widget=forms.HiddenInput,
        error_messages={
            "required": _("This page does not say which revision it started from; open the editor again."),
            "invalid": _("This page does not say which revision it started from; open the editor again."),
        },
    )

    class Meta:
        model = DraftVersion
        fields = ["label", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 24, "class": "mono"})}


class PublishForm(forms.Form):
    """Release notes, and (hidden) the digest of the draft as the page showed it, so that what is published is
    what was reviewed."""

    release_notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}), help_text=_("Markdown. What changed, and why.")
    )
    reviewed = forms.CharField(
        max_length=64,
        widget=forms.HiddenInput,
        error_messages={"required": _("This page does not say what was reviewed; open the publish page again.")},
    )


class NextDraftForm(forms.Form):
    """A new draft's label; the hidden field `from` names the published version it starts from, if any."""

    label = forms.CharField(max_length=32, validators=[label_validator], help_text=_("Such as 0.0.10 or 1.0-rc2."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Named "from", a Python keyword, so added here rather than declared above.
        self.fields["from"] = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)


class ComponentForm(forms.ModelForm):
    """A component. Its category is chosen from those the definition already uses, or typed as a new one (folded
    into an existing one that differs only in case or spacing); its key, left blank, is made from its title."""

    category = forms.ChoiceField(required=False, help_text=_("One the definition already uses."))
    new_category = forms.CharField(
        max_length=64,
        required=False,
        label=_("Or a new category"),
        help_text=_("Such as Code, Data, Model or Documentation."),
    )
    parts = RowsField(
        queryset=Component.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("For an aggregate: the components whose scores it combines."),
    )

    class Meta:
        model = Component
        fields = ["title", "key", "category", "description", "aggregate_rule"]
        labels = {"aggregate_rule": _("Aggregate rule")}
        help_texts = {"key": _("Stays the same across versions. Left blank, it is made from the title.")}
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    field_order = ["title", "key", "category", "new_category", "description", "aggregate_rule", "parts"]

    def __init__(self, *args, version: DraftVersion, component: Component | None = None, **kwargs):
        # The form edits a detached copy, so a refused change leaves `component` as it was.
        if component is not None:
            kwargs["instance"] = Component(**{f: getattr(component, f) for f in self.Meta.fields})
            kwargs["initial"] = {"parts": list(component.parts.all())}
        super().__init__(*args, **kwargs)
        self.folded: tuple[str, str] | None = None  # (as typed, the existing category it was filed under)
        self.categories = Component.objects.filter(version__definition=version.definition_id).categories()
        category = cast(forms.ChoiceField, self.fields["category"])
        category.choices = [("", "New category (type it below)"), *((c, c) for c in self.categories)]
        self.fields["key"].required = False
        leaves = version.components.leaves()
        parts = cast(RowsField, self.fields["parts"])
        parts.queryset = leaves.exclude(pk=component.pk) if component else leaves

    def clean(self):
        cleaned = super().clean()
        chosen, typed = cleaned.get("category") or "", tidy_category(cleaned.get("new_category") or "")
        if self.has_error("new_category") or self.has_error("category"):
            return cleaned
        if not typed:
            if not chosen:
                self.add_error("category", _("Choose a category from the list, or type a new one below it."))
            return cleaned
        if chosen and category_key(chosen) != category_key(typed):
            self.add_error(
                "new_category",
                _("You chose %(chosen)s and typed %(typed)s: keep one and empty the other.")
                % {"chosen": chosen, "typed": typed},
            )
            return cleaned
        existing = next((c for c in self.categories if category_key(c) == category_key(typed)), None)
        if existing is not None and existing != typed:
            self.folded = (typed, existing)
        cleaned["category"] = existing or typed
        return cleaned


class CommentForm(forms.ModelForm):
    parent = forms.ModelChoiceField(
        queryset=Comment.objects.none(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("The comment you reply to is not part of this discussion.")},
    )
    suggestion = forms.ModelChoiceField(
        queryset=Suggestion.objects.none(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("That suggestion is not on this version.")},
    )
    line_from = forms.IntegerField(required=False, min_value=1, max_value=DRAFT_BODY_MAX_LENGTH, label=_("From line"))
    line_to = forms.IntegerField(required=False, min_value=1, max_value=DRAFT_BODY_MAX_LENGTH, label=_("To line"))

    class Meta:
        model = Comment
        fields = ["body"]
        labels = {"body": _("Comment")}
        widgets = {"body": forms.Textarea(attrs={"rows": 3, "placeholder": _("Markdown is welcome.")})}

    def __init__(self, *args, version: DraftVersion, **kwargs):
        super().__init__(*args, **kwargs)
        parent = cast(forms.ModelChoiceField, self.fields["parent"])
        parent.queryset = version.comments.all()
        cast(forms.ModelChoiceField, self.fields["suggestion"]).queryset = version.suggestions.all()

    def clean(self) -> dict:
        data = super().clean()
        assert data is not None  # Form.clean gives cleaned_data
        first, last = data.get("line_from"), data.get("line_to")
        if first is not None and last is None:
            data["line_to"] = last = first  # one line
        if last is not None and first is None:
            self.add_error("line_from", _("Say from which line the passage runs."))
        data["lines"] = (first, last) if first is not None and last is not None else None
        return data


class SuggestionForm(forms.Form):
    """A suggested change: the passage (from line, to line), its replacement and why."""

    line_from = forms.IntegerField(min_value=1, max_value=DRAFT_BODY_MAX_LENGTH, label=_("From line"))
    line_to = forms.IntegerField(min_value=1, max_value=DRAFT_BODY_MAX_LENGTH, label=_("To line"))
    replacement = forms.CharField(
        required=False,
        strip=False,
        max_length=SUGGESTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Markdown, as the draft's text is written. Leave it empty to suggest removing the lines."),
    )
    reason = forms.CharField(
        max_length=SUGGESTION_REASON_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}), label=_("Why")
    )


class DecideSuggestionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", _("Accept")), ("decline", _("Decline"))], widget=forms.RadioSelect)
    reason = forms.CharField(
        required=False,
        max_length=DECISION_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed to decline; shown with the suggestion."),
    )


class CommentEditForm(forms.ModelForm):
    class Meta:
        model = Comment
        fields = ["body"]
        labels = {"body": _("Comment")}
        widgets = {"body": forms.Textarea(attrs={"rows": 6})}


class HideCommentForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text=_("Shown publicly in place of the comment.")
    )


class WorkingGroupForm(forms.ModelForm):
    class Meta:
        model = WorkingGroup
        fields = ["key", "name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class HandleField(forms.CharField):
    """An active account, named by its handle (an `@` in front is fine)."""

    def __init__(self, **kwargs):
        super().__init__(max_length=151, **kwargs)

    def clean(self, value):
        handle = super().clean(value).strip().removeprefix("@")
        user = get_user_model().objects.filter(username__iexact=handle, is_active=True).first()
        if user is None:
            raise forms.ValidationError(_("No account has the handle %(handle)s.") % {"handle": handle})
        return user


class AddMemberForm(forms.Form):
    """A chair or an organizer adds a member, or a co-chair (only organizers remove a chair)."""

    username = HandleField(label=_("Member's handle"))
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)


class RequiredProviderForm(forms.Form):
    """An organizer chooses the sign-in provider a group's members vote with, among those the site offers."""

    provider = forms.ChoiceField(label="Members vote with", required=False)

    def __init__(self, *args, offered: dict[str, str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "any account of this site")] + [
            (pid, f"a linked {name} account") for pid, name in offered.items()
        ]
        cast(forms.ChoiceField, self.fields["provider"]).choices = choices


class DefinitionForm(forms.ModelForm):
    class Meta:
        model = Definition
        fields = ["title", "slug", "summary", "drafts_open"]
        labels = {"slug": _("Short name"), "drafts_open": _("Draft in the open")}
        help_texts = {
            "slug": _(
                "Letters, digits and hyphens, in its address (/d/short-name/) and its audit log; it never changes."
            ),
            "drafts_open": _(
                "Everyone sees the draft in progress, and members suggest changes to it line by line; "
                "otherwise only its organizers see a draft until it is published."
            ),
        }
        widgets = {"summary": forms.Textarea(attrs={"rows": 3})}


class OrganizerForm(forms.Form):
    username = HandleField(label=_("Organizer's handle"))


class JoinRequestForm(forms.Form):
    note = forms.CharField(
        required=False,
        max_length=JOIN_NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Note to the chairs (optional)"),
        help_text=_("Who you are and why you would like to join."),
    )


class JoinDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", _("Accept")), ("decline", _("Decline"))])
    reason = forms.CharField(
        required=False,
        max_length=DECISION_REASON_MAX_LENGTH,
        label=_("Reason"),
        help_text=_("Needed to decline; the requester reads it."),
    )


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)


class BulkMembersForm(forms.Form):
    lines = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10, "class": "mono"}),
        max_length=BULK_LINES_MAX * 256,
        label=_("Handles or e-mail addresses, one per line"),
        help_text=_("At most %(BULK_LINES_MAX)s lines. An account is added; an address no account has is invited.")
        % {"BULK_LINES_MAX": BULK_LINES_MAX},
    )
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)
