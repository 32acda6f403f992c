"""Notifications in the Django admin: the log of what was sent, and each
customer's choice of optional emails, both read-only (they change only
through the tasks, the API and the unsubscribe links)."""

from django.contrib import admin

from apps.core.admin_bases import ReadOnlyAdmin
from apps.notifications.models import Notification, NotificationPreferences


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "recipient", "status", "attempts", "sent_at")
    list_filter = ("status", "kind")
    search_fields = ("recipient", "event_id", "order__number")
    list_select_related = ("user", "order", "product")
    date_hierarchy = "created_at"
    readonly_fields = ("kind", "event_id", "recipient", "user", "order", "product", "status",
                       "attempts", "error", "created_at", "updated_at", "sent_at")


@admin.register(NotificationPreferences)
class NotificationPreferencesAdmin(ReadOnlyAdmin):
    list_display = ("user", "back_in_stock", "price_drop", "marketing", "updated_at")
    list_filter = ("back_in_stock", "price_drop", "marketing")
    search_fields = ("user__email",)
    list_select_related = ("user",)
    readonly_fields = ("user", "back_in_stock", "price_drop", "marketing", "updated_at")
