"""The one schema: each domain package contributes its Query, Mutation (and
later Subscription) fields, merged here by inheritance."""

import strawberry
import strawberry_django
from django.conf import settings
from strawberry import relay
from strawberry.schema.config import StrawberryConfig
from strawberry_django.optimizer import DjangoOptimizerExtension

from schema.accounts.schema import AccountMutation, AccountQuery
from schema.catalog.mutations import CatalogMutation
from schema.catalog.queries import CatalogQuery
from schema.extensions import schema_extensions
from schema.inventory.mutations import InventoryMutation
from schema.inventory.queries import InventoryQuery
from schema.executor import Executor


@strawberry.type
class Query(AccountQuery, CatalogQuery, InventoryQuery):
    node: relay.Node | None = strawberry_django.node(
        description="Any object that implements Node, by its global ID."
    )


@strawberry.type
class Mutation(AccountMutation, CatalogMutation, InventoryMutation):
    pass


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    extensions=[*schema_extensions(), DjangoOptimizerExtension],
    execution_context_class=Executor,
    config=StrawberryConfig(
        relay_max_results=settings.GRAPHQL_MAX_PAGE_SIZE,
    ),
)
