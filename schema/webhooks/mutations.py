"""Webhook mutations, for staff with MANAGE_APPS; a refused write comes back
as payload errors (schema.errors)."""

from typing import Any

import strawberry
from strawberry import UNSET, Info

from apps.accounts.permissions import Perm
from apps.webhooks import models, services
from apps.webhooks.event_types import WebhookEventType
from schema.errors import Payload, payload_mutation
from schema.ids import get_node
from schema.inputs import provided
from schema.permissions import StaffPerm, signed_in_user
from schema.webhooks.types import Webhook, WebhookDelivery


@strawberry.input
class WebhookInput:
    """A webhook's settings. On create `url` and `eventTypes` are required;
    on update what is left out stays."""

    url: str | None = strawberry.field(
        default=UNSET, description="http:// or https://; not this server, nor a private, "
        "loopback or link-local address (unless the server allows them).")
    event_types: list[WebhookEventType] | None = strawberry.field(
        default=UNSET, description="At least one. Replaces the list on update.")
    is_active: bool | None = strawberry.field(default=UNSET, description="Default true.")


@strawberry.type
class WebhookCreatePayload(Payload):
    webhook: models.WebhookEndpoint | None = strawberry.field(
        default=None, graphql_type=Webhook | None)


@strawberry.type
class WebhookUpdatePayload(Payload):
    webhook: models.WebhookEndpoint | None = strawberry.field(
        default=None, graphql_type=Webhook | None)


@strawberry.type
class WebhookDeletePayload(Payload):
    pass


@strawberry.type
class WebhookDeliveryRetryPayload(Payload):
    delivery: models.WebhookDelivery | None = strawberry.field(
        default=None, graphql_type=WebhookDelivery | None)


def _settings(input: WebhookInput) -> dict[str, Any]:
    fields = provided(input)
    if fields.get("event_types") is not None:
        fields["event_types"] = [event_type.value for event_type in fields["event_types"]]
    return fields


def _webhook(global_id: str) -> models.WebhookEndpoint:
    return get_node(models.WebhookEndpoint.objects.all(), global_id, type_name="Webhook",
                    field="id")


@strawberry.type
class WebhookMutation:
    @payload_mutation(extensions=[StaffPerm(Perm.MANAGE_APPS)],
                      description="Register a webhook; its signing secret is made here.")
    def webhook_create(self, info: Info, input: WebhookInput) -> WebhookCreatePayload:
        fields = _settings(input)
        webhook = services.webhook_create(
            actor=signed_in_user(info), url=fields.get("url"),
            event_types=fields.get("event_types"),
            is_active=True if fields.get("is_active") is None else fields["is_active"],
        )
        return WebhookCreatePayload(webhook=webhook)

    @payload_mutation(extensions=[StaffPerm(Perm.MANAGE_APPS)])
    def webhook_update(self, info: Info, id: strawberry.ID,
                       input: WebhookInput) -> WebhookUpdatePayload:
        webhook = services.webhook_update(actor=signed_in_user(info), endpoint=_webhook(id),
                                          **_settings(input))
        return WebhookUpdatePayload(webhook=webhook)

    @payload_mutation(extensions=[StaffPerm(Perm.MANAGE_APPS)],
                      description="Deletes the webhook and its deliveries' log.")
    def webhook_delete(self, info: Info, id: strawberry.ID) -> WebhookDeletePayload:
        services.webhook_delete(actor=signed_in_user(info), endpoint=_webhook(id))
        return WebhookDeletePayload()

    @payload_mutation(
        extensions=[StaffPerm(Perm.MANAGE_APPS)],
        description="Send a delivery again now, whatever its status: the same body under the "
        "same webhook-id. Answers it pending; follow it with webhookDeliveries.",
    )
    def webhook_delivery_retry(self, info: Info,
                               id: strawberry.ID) -> WebhookDeliveryRetryPayload:
        delivery = get_node(models.WebhookDelivery.objects.all(), id,
                            type_name="WebhookDelivery", field="id")
        delivery = services.webhook_delivery_retry(actor=signed_in_user(info),
                                                   delivery=delivery)
        return WebhookDeliveryRetryPayload(delivery=delivery)
