"""The Stripe events received, read-only: what Stripe said and what the
shop did about it (support reads it when an order did not move)."""

from django.contrib import admin

from apps.core.admin_bases import ReadOnlyAdmin

from .models import StripeEvent


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "type", "event_id", "handled_at", "outcome")
    list_filter = ("type",)
    search_fields = ("event_id", "outcome")
    readonly_fields = ("event_id", "type", "created_at", "received_at", "handled_at",
                       "outcome", "payload")
