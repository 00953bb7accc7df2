"""The admin shows the deliberation records; changes go through the pages, which audit them.

Only definitions (and their organizers) are set up here, through the same services, which audit them too.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm

from . import handles, services
from .models import Comment, Component, Definition, DraftRevision, DraftVersion, Membership, WorkingGroup


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Definition)
class DefinitionAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "created_at"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["organizers"]
    fields = ["title", "slug", "summary", "organizers", "drafts_open", "created_at"]

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        # The slug names the definition's audit streams and those of its ballots: renaming it would cut them.
        # When it was created is the services' to say.
        return ["slug", "created_at"] if obj is not None else ["created_at"]

    def get_prepopulated_fields(self, request, obj=None) -> dict:
        return {} if obj is not None else self.prepopulated_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        """Through the service the pages use, which writes the audit event; the admin writes none of its own."""
        fields = {
            "title": obj.title,
            "summary": obj.summary,
            "organizers": list(form.cleaned_data["organizers"]),
            "drafts_open": obj.drafts_open,
        }
        if change:
            services.update_definition(definition=obj, **fields, acting_user=request.user)
        else:
            obj.pk = services.create_definition(slug=obj.slug, **fields, acting_user=request.user).pk
        obj.refresh_from_db()  # as the service saved it: the admin's own log and redirect name this row

    def save_related(self, request, form, formsets, change) -> None:
        """Nothing left: the service set the organizers with the definition (and a definition has no inlines)."""


@admin.register(DraftVersion)
class DraftVersionAdmin(ReadOnlyAdmin):
    list_display = ["definition", "label", "status", "published_at"]
    list_filter = ["status", "definition"]


@admin.register(DraftRevision)
class DraftRevisionAdmin(ReadOnlyAdmin):
    list_display = ["version", "number", "label", "author", "saved_at"]
    list_filter = ["version__definition"]


@admin.register(Component)
class ComponentAdmin(ReadOnlyAdmin):
    list_display = ["key", "title", "category", "version", "aggregate_rule"]
    list_filter = ["version__definition", "category"]


@admin.register(WorkingGroup)
class WorkingGroupAdmin(ReadOnlyAdmin):
    list_display = ["name", "key", "definition"]


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["user", "group", "role", "joined_at", "left_at"]
    list_filter = ["group", "role"]


@admin.register(Comment)
class CommentAdmin(ReadOnlyAdmin):
    list_display = ["author", "version", "component", "created_at", "hidden_at"]


class AccountCreationForm(AdminUserCreationForm):
    def clean_username(self) -> str:
        """A new handle obeys the sign-up page's rules: none that looks like a taken one (deliberation/handles.py)."""
        self.cleaned_data["username"] = handles.normalize(self.cleaned_data["username"])  # as Django's check reads it
        username = super().clean_username()  # taken, in any case
        return username if self.has_error("username") else handles.check_new(username)


class AccountAdmin(UserAdmin):
    """Accounts, with the handle fixed once made: votes, grants and the audit log name people by it."""

    add_form = AccountCreationForm

    def get_readonly_fields(self, request, obj=None) -> tuple[str, ...]:
        fixed = ("username",) if obj is not None else ()
        return (*super().get_readonly_fields(request, obj), *fixed)


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), AccountAdmin)
