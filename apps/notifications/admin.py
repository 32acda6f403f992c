"""Notifications in the Django admin: the log of what was sent, and each
customer's choice of optional emails, both read-only (they change only
through the tasks, the API and the unsubscribe links). A FAILED
notification can be sent again (notification_resend) by staff who look
after customers (manage_customers)."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.permissions import Perm, staff_has_perm
from apps.core.admin_bases import ReadOnlyAdmin
from apps.core.errors import ServiceError
from apps.notifications.models import Notification, NotificationPreferences
from apps.notifications.services import notification_resend


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "recipient", "status", "attempts", "sent_at")
    list_filter = ("status", "kind")
    search_fields = ("recipient", "event_id", "order__number")
    list_select_related = ("user", "order", "product")
    date_hierarchy = "created_at"
    readonly_fields = ("kind", "event_id", "recipient", "user", "order", "product", "status",
                       "attempts", "error", "created_at", "updated_at", "sent_at")
    actions = ("send_again",)

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return staff_has_perm(request.user, Perm.MANAGE_CUSTOMERS)

    @admin.action(description="Send the selected failed notifications again",
                  permissions=["resend"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        queued, refused = 0, []
        for notification in queryset.order_by("pk"):
            try:
                notification_resend(notification=notification, actor=request.user)
            except ServiceError as error:
                refused.append(f"{notification}: {error}")
                continue
            queued += 1
        if queued:
            self.message_user(request, f"Sending {queued} notification(s) again.",
                              messages.SUCCESS)
        for reason in refused:
            self.message_user(request, reason, messages.WARNING)


@admin.register(NotificationPreferences)
class NotificationPreferencesAdmin(ReadOnlyAdmin):
    list_display = ("user", "back_in_stock", "price_drop", "marketing", "updated_at")
    list_filter = ("back_in_stock", "price_drop", "marketing")
    search_fields = ("user__email",)
    list_select_related = ("user",)
    readonly_fields = ("user", "back_in_stock", "price_drop", "marketing", "updated_at")
