"""The customer's choice of emails (`me.notificationPreferences`)."""

import strawberry
import strawberry_django

from apps.notifications import models


@strawberry_django.type(
    models.NotificationPreferences, name="NotificationPreferences",
    description="Which emails the customer receives. Order and account emails always "
    "go; the others are opt-in, off until turned on, and each carries a one-click "
    "unsubscribe link.",
)
class NotificationPreferences:
    back_in_stock: bool = strawberry_django.field(
        description="An email when a product on the wishlist is back in stock "
        "(at most one a day per product).")
    price_drop: bool = strawberry_django.field(
        description="An email when a product on the wishlist gets cheaper "
        "(at most one a day per product).")
    marketing: bool = strawberry_django.field(description="News and offers from the shop.")

    @strawberry.field(description="Order and account emails: always true, they always go.")
    def order_emails(self) -> bool:
        return True
