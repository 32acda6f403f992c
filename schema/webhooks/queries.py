from collections.abc import Iterable

import strawberry

from apps.accounts.permissions import Perm
from apps.core.errors import ServiceError
from apps.webhooks import models, selectors
from schema.connection_fields import connection
from schema.errors import bad_user_input
from schema.ids import decode_id
from schema.pagination import CountableConnection
from schema.permissions import StaffPerm
from schema.webhooks.types import Webhook, WebhookDelivery, WebhookDeliveryStatus


@strawberry.type
class WebhookQuery:
    @connection(
        CountableConnection[Webhook],
        extensions=[StaffPerm(Perm.MANAGE_APPS)],
        description="Every webhook, newest first. Staff with MANAGE_APPS only.",
    )
    def webhooks(self) -> Iterable[models.WebhookEndpoint]:
        return selectors.webhook_list()

    @connection(
        CountableConnection[WebhookDelivery],
        extensions=[StaffPerm(Perm.MANAGE_APPS)],
        description="Deliveries, newest first, with their status and last response: those "
        "of one webhook and in one status when given (an unknown webhook is an error). Staff "
        "with MANAGE_APPS only.",
    )
    def webhook_deliveries(
        self, webhook_id: strawberry.ID | None = None,
        status: WebhookDeliveryStatus | None = None,
    ) -> Iterable[models.WebhookDelivery]:
        try:
            return selectors.webhook_deliveries(
                endpoint_id=None if webhook_id is None else decode_id(webhook_id, "Webhook"),
                status=None if status is None else status.value,
            )
        except ServiceError as error:
            raise bad_user_input(str(error)) from error
