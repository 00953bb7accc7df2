from django.contrib import admin

from .models import AccessToken


@admin.register(AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):
    """Read-only: an admin sees who holds which token and may revoke none but through its person's page."""

    list_display = ["name", "user", "key", "scopes", "created_at", "expires_at", "last_used_at", "revoked_at"]
    search_fields = ["name", "user__username", "key"]
    readonly_fields = [f.name for f in AccessToken._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
