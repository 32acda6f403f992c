"""Webhooks in the Django admin: endpoints written and deleted through
apps.webhooks.services (a URL the API refuses is refused on the form), and
the deliveries' log, read-only but for sending a delivery again."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.core.admin_bases import ReadOnlyAdmin, ServiceAdmin, ServiceDelete, ServiceForm
from apps.core.errors import ServiceError
from apps.webhooks import services
from apps.webhooks.event_types import WebhookEventType
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint


class WebhookEndpointForm(ServiceForm):
    # Text: the service decides what a webhook URL may be (a form URLField
    # would refuse hosts without a dot, as a development receiver may have).
    url = forms.CharField()
    event_types = forms.MultipleChoiceField(choices=WebhookEventType.choices,
                                            widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = WebhookEndpoint
        fields = ("url", "event_types", "is_active")

    def write(self, *, actor: Any) -> WebhookEndpoint:
        data = self.cleaned_data
        if self.instance.pk is None:
            return services.webhook_create(actor=actor, url=data["url"],
                                           event_types=data["event_types"],
                                           is_active=data["is_active"])
        return services.webhook_update(actor=actor, endpoint=self.instance,
                                       **self.changed(services.ENDPOINT_FIELDS))


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ServiceDelete, ServiceAdmin,
                           admin.ModelAdmin):  # type: ignore[type-arg]
    form = WebhookEndpointForm
    list_display = ("url", "event_type_list", "is_active", "created_by", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url",)
    list_select_related = ("created_by",)
    readonly_fields = ("secret", "created_by", "created_at", "updated_at")

    @admin.display(description="Event types")
    def event_type_list(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.event_types)

    def delete_through(self, *, actor: Any, obj: WebhookEndpoint) -> None:
        services.webhook_delete(actor=actor, endpoint=obj)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "event_type", "endpoint", "status", "attempts",
                    "last_response_status", "next_attempt_at")
    list_filter = ("status", "event_type", "endpoint")
    search_fields = ("event_id", "endpoint__url")
    list_select_related = ("endpoint",)
    readonly_fields = ("endpoint", "event_type", "event_id", "status", "attempts",
                       "next_attempt_at", "last_attempt_at", "last_response_status",
                       "last_error", "payload", "created_at", "updated_at")
    actions = ("send_again",)

    @admin.action(description="Send the selected deliveries again", permissions=["view"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        sent, refused = 0, []
        for delivery in queryset:
            try:
                services.webhook_delivery_retry(actor=request.user, delivery=delivery)
                sent += 1
            except ServiceError as error:
                refused.append(f"{delivery}: {error}")
        self.message_user(request, f"Sending {sent} delivery(ies) again.", messages.SUCCESS)
        for reason in refused:
            self.message_user(request, reason, messages.WARNING)
