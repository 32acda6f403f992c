"""The Webhook (an apps.webhooks WebhookEndpoint) and WebhookDelivery types:
for staff with MANAGE_APPS, to whom alone they exist (apps.webhooks.selectors)."""

import uuid
from datetime import datetime

import strawberry
import strawberry_django
from strawberry import relay
from strawberry.scalars import JSON

from apps.webhooks import models, selectors
from apps.webhooks.event_types import WebhookEventType
from schema.permissions import visible_through
from schema.resolvers import async_safe

# strawberry.enum marks the model's choices in place: the model's enums are
# the GraphQL ones (names like ORDER_PAID; the value, "order.paid", is what
# a delivery's `type` says).
strawberry.enum(
    WebhookEventType, name="WebhookEventType",
    description="What a webhook can be told of; a delivery's body names it in its `type` "
    "as the value in lower case with a dot (ORDER_PAID is `order.paid`).",
)
strawberry.enum(
    models.WebhookDelivery.Status, name="WebhookDeliveryStatus",
    description="PENDING: not yet answered 2xx, with attempts to come (or under way); "
    "SUCCEEDED: the endpoint answered 2xx; FAILED: retried for a day without success.",
)
WebhookDeliveryStatus = models.WebhookDelivery.Status


@strawberry_django.type(models.WebhookEndpoint, name="Webhook")
class Webhook(relay.Node):
    id: relay.NodeID[int]
    url: str
    secret: str = strawberry_django.field(
        description="The signing secret, in Standard Webhooks' form (`whsec_` and base64); "
        "the receiver verifies `webhook-signature` with it. Shown to whoever may see the "
        "webhook at all: they could point its URL anywhere and read what it is sent anyway."
    )
    is_active: bool = strawberry_django.field(
        description="Inactive: no deliveries are made for it, and its pending ones wait."
    )
    created_at: datetime
    updated_at: datetime

    get_queryset = visible_through(selectors.webhooks_visible_to)

    @strawberry_django.field(only=["event_types"], description="What it is told of.")
    @async_safe
    def event_types(self, root: models.WebhookEndpoint) -> list[WebhookEventType]:
        return [WebhookEventType(value) for value in root.event_types
                if value in WebhookEventType.values]


@strawberry_django.type(models.WebhookDelivery, name="WebhookDelivery")
class WebhookDelivery(relay.Node):
    id: relay.NodeID[int]
    webhook: models.WebhookEndpoint = strawberry_django.field(
        field_name="endpoint", graphql_type=Webhook)
    event_type: WebhookEventType
    event_id: uuid.UUID = strawberry_django.field(
        description="The outbox event it tells of: its requests' `webhook-id`, the same on "
        "every attempt and re-send, so that a receiver can drop repeats."
    )
    payload: JSON = strawberry_django.field(
        description="The body sent, `{type, timestamp, data}`, the same on every attempt."
    )
    status: WebhookDeliveryStatus
    attempts: int
    next_attempt_at: datetime | None = strawberry_django.field(
        description="When it is tried next; null once it succeeded or failed."
    )
    last_attempt_at: datetime | None
    last_response_status: int | None = strawberry_django.field(
        description="The HTTP status of the last answer; null when there was none (a "
        "timeout, a refused connection, an address no longer allowed)."
    )
    last_error: str = strawberry_django.field(
        description="What went wrong last time (the status and the start of the answer's "
        "body, or the network error); empty after a success."
    )
    created_at: datetime

    get_queryset = visible_through(selectors.webhook_deliveries_visible_to)
