"""The admin shows the deliberation records; changes go through the pages, which audit them.

Only definitions (and their organizers) are set up here, and that is audited too.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db import transaction

from audit.models import record

from .models import Comment, Component, Definition, DraftVersion, Membership, WorkingGroup


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

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        # The slug names the definition's audit streams and those of its ballots: renaming it would cut them.
        return ["slug"] if obj is not None else []

    def get_prepopulated_fields(self, request, obj=None) -> dict:
        return {} if obj is not None else self.prepopulated_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @transaction.atomic
    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        definition = form.instance
        record(
            stream=definition.audit_stream,
            actor=request.user,
            action="definition.changed" if change else "definition.created",
            subject=definition,
            payload={
                "slug": definition.slug,
                "title": definition.title,
                "organizers": sorted(u.get_username() for u in definition.organizers.all()),
            },
        )


@admin.register(DraftVersion)
class DraftVersionAdmin(ReadOnlyAdmin):
    list_display = ["definition", "label", "status", "published_at"]
    list_filter = ["status", "definition"]


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


class AccountAdmin(UserAdmin):
    """Accounts, with the handle fixed once made: votes, grants and the audit log name people by it."""

    def get_readonly_fields(self, request, obj=None) -> tuple[str, ...]:
        fixed = ("username",) if obj is not None else ()
        return (*super().get_readonly_fields(request, obj), *fixed)


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), AccountAdmin)
