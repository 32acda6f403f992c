"""The outbox in the Django admin: what is stuck, why, and a way to send it
again now rather than at beat's next run."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.core import events
from apps.core.admin_bases import ReadOnlyAdmin
from apps.core.models import OutboxEvent


class SentFilter(admin.SimpleListFilter):
    title = "sent"
    parameter_name = "sent"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin
    ) -> list[tuple[str, str]]:
        return [("no", "Unsent"), ("yes", "Sent")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[OutboxEvent]
    ) -> QuerySet[OutboxEvent]:
        if self.value() in ("no", "yes"):
            return queryset.filter(sent_at__isnull=self.value() == "no")
        return queryset


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ("type", "id", "created_at", "sent_at", "attempts")
    list_filter = (SentFilter, "type")
    readonly_fields = ("id", "type", "payload", "created_at", "sent_at", "attempts", "last_error")
    actions = ("dispatch_now",)

    @admin.action(description="Dispatch the selected unsent events now", permissions=["view"])
    def dispatch_now(self, request: HttpRequest, queryset: QuerySet[OutboxEvent]) -> None:
        ids = list(queryset.filter(sent_at__isnull=True).values_list("pk", flat=True))
        sent = events.dispatch(ids)
        level = messages.SUCCESS if sent == len(ids) else messages.WARNING
        self.message_user(request, f"Sent {sent} of {len(ids)} unsent event(s).", level)
