"""The one schema: each domain package's `schema.py` contributes its Query,
Mutation (and, from orders on, Subscription) fields, merged here by
inheritance."""

from typing import Annotated

import strawberry
import strawberry_django
from django.conf import settings
from strawberry import Info, relay
from strawberry.schema.config import StrawberryConfig

from schema.accounts.schema import AccountMutation, AccountQuery, TwoFactorMutation
from schema.accounts.social import SocialMutation
from schema.accounts.staff import StaffMutation, StaffQuery
from schema.catalog.schema import CatalogMutation, CatalogQuery, CatalogSubscription
from schema.checkout.schema import CheckoutMutation, CheckoutQuery
from schema.direct_fields import use_direct_resolvers
from schema.discounts.schema import DiscountsMutation, DiscountsQuery
from schema.extensions import schema_extensions
from schema.executor import Executor
from schema.ids import resolve_node
from schema.optimizer import OptimizerExtension, optimize_returned_querysets
from schema.inventory.schema import InventoryMutation, InventoryQuery
from schema.notifications.schema import NotificationMutation
from schema.orders.report import SalesReportQuery
from schema.orders.schema import OrderMutation, OrderQuery, OrderSubscription
from schema.payments.schema import PaymentQuery
from schema.permissions import Public
from schema.privacy.schema import PrivacyMutation
from schema.response_cache import ResponseCacheStore, install
from schema.reviews.schema import ReviewMutation
from schema.shipping.schema import ShippingMutation, ShippingQuery
from schema.taxes.schema import TaxMutation, TaxQuery
from schema.webhooks.schema import WebhookMutation, WebhookQuery
from schema.wishlist.schema import WishlistMutation


@strawberry.type
class Query(AccountQuery, CatalogQuery, CheckoutQuery, DiscountsQuery, InventoryQuery,
            OrderQuery, PaymentQuery, ShippingQuery, TaxQuery, SalesReportQuery, WebhookQuery,
            StaffQuery):
    @strawberry_django.field(
        extensions=[Public()], description="Any object that implements Node, by its global ID."
    )
    def node(
        self, info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The ID of the object.")],
    ) -> relay.Node | None:
        # Not strawberry_django.node(): its GlobalID argument turns a malformed
        # ID into an internal error that repeats the input.
        return resolve_node(info, id)


@strawberry.type
class Mutation(AccountMutation, CatalogMutation, CheckoutMutation, DiscountsMutation,
               InventoryMutation, OrderMutation, ShippingMutation, TaxMutation, WishlistMutation,
               ReviewMutation, WebhookMutation, NotificationMutation, TwoFactorMutation,
               PrivacyMutation, SocialMutation, StaffMutation):
    pass


@strawberry.type
class Subscription(OrderSubscription, CatalogSubscription):
    pass


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[*schema_extensions(), ResponseCacheStore, OptimizerExtension],
    execution_context_class=Executor,
    config=StrawberryConfig(
        relay_max_results=settings.GRAPHQL_MAX_PAGE_SIZE,
    ),
)
use_direct_resolvers(schema._schema)
optimize_returned_querysets(schema._schema)
# The catalog's types note what each answer shows, for the response cache.
install(schema)
