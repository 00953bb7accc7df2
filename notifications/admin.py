from django.contrib import admin

from .models import Notification, Preference, Webhook


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Read-only: notifications are written by the services and sent by the workers."""

    list_display = ("created_at", "kind", "recipient", "address", "subject", "delivery", "attempts", "read_at")
    list_filter = ("kind", "delivery")
    search_fields = ("subject", "recipient__username", "address")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "mode")


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    """Read-only, and without the secret: webhooks are managed by the definition's organizers, on its pages."""

    list_display = ("definition", "host", "active", "created_at")
    exclude = ("secret",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
