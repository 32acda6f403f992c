"""The customer's choice of emails: a thin resolver over
apps.notifications.services."""

import strawberry
from strawberry import Info

from apps.notifications import models, services
from schema.errors import Payload, payload_mutation
from schema.inputs import provided
from schema.permissions import SignedIn, signed_in_user

from .types import NotificationPreferences


@strawberry.input(description="The opt-in emails to turn on (true) or off (false); "
                  "those left out stay as they are.")
class NotificationPreferencesInput:
    back_in_stock: bool | None = strawberry.UNSET
    price_drop: bool | None = strawberry.UNSET
    marketing: bool | None = strawberry.UNSET


@strawberry.type
class NotificationPreferencesUpdatePayload(Payload):
    preferences: models.NotificationPreferences | None = strawberry.field(
        default=None, graphql_type=NotificationPreferences | None)


@strawberry.type
class NotificationMutation:
    @payload_mutation(
        extensions=[SignedIn()],
        description="Turn the signed-in customer's opt-in emails on or off. Order and "
        "account emails cannot be turned off. null is INVALID.",
    )
    def notification_preferences_update(
        self, info: Info, input: NotificationPreferencesInput
    ) -> NotificationPreferencesUpdatePayload:
        preferences = services.notification_preferences_update(
            user=signed_in_user(info), **provided(input))
        return NotificationPreferencesUpdatePayload(preferences=preferences)
