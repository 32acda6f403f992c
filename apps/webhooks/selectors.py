"""Webhook reads: who sees endpoints and deliveries (staff with manage_apps,
and nobody else: to anyone else none exist), the lists staff read, and what
the retry sweep finds due."""

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts.permissions import Perm, staff_has_perm
from apps.core.errors import NotFound
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint


def webhooks_visible_to(*, user: Any, queryset: QuerySet[WebhookEndpoint] | None = None
                        ) -> QuerySet[WebhookEndpoint]:
    queryset = WebhookEndpoint.objects.all() if queryset is None else queryset
    return queryset if staff_has_perm(user, Perm.MANAGE_APPS) else queryset.none()


def webhook_deliveries_visible_to(*, user: Any,
                                  queryset: QuerySet[WebhookDelivery] | None = None
                                  ) -> QuerySet[WebhookDelivery]:
    queryset = WebhookDelivery.objects.all() if queryset is None else queryset
    return queryset if staff_has_perm(user, Perm.MANAGE_APPS) else queryset.none()


def webhook_list() -> QuerySet[WebhookEndpoint]:
    """Every endpoint, newest first."""
    return WebhookEndpoint.objects.order_by("-created_at", "-id")


def webhook_deliveries(*, endpoint_id: int | None = None, status: str | None = None
                       ) -> QuerySet[WebhookDelivery]:
    """Deliveries, newest first, of one endpoint and in one status when
    given. An endpoint that does not exist is NOT_FOUND rather than an empty
    log: "no deliveries" must mean nothing was sent to it."""
    deliveries = WebhookDelivery.objects.all()
    if endpoint_id is not None:
        if not WebhookEndpoint.objects.filter(pk=endpoint_id).exists():
            raise NotFound("No Webhook with this ID.", field="webhook_id")
        deliveries = deliveries.filter(endpoint_id=endpoint_id)
    if status is not None:
        deliveries = deliveries.filter(status=status)
    return deliveries.order_by("-created_at", "-id")


def deliveries_due(*, batch: int = 500) -> list[int]:
    """The pending deliveries of active endpoints whose next attempt is due,
    the longest due first."""
    return list(WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=timezone.now(),
        endpoint__is_active=True,
    ).order_by("next_attempt_at").values_list("pk", flat=True)[:batch])
