"""Storefront catalog reads. Resolvers only translate arguments; visibility,
filtering and ordering live in apps.catalog.selectors."""

from collections.abc import Iterable

import strawberry
import strawberry_django
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from strawberry import Info

from apps.catalog import models, selectors
from apps.core.errors import ServiceError
from schema.catalog.filters import ProductFilter, ProductOrder, product_filters, product_ordering
from schema.catalog.types import Category, Product
from schema.errors import bad_user_input
from schema.connection_fields import connection
from schema.pagination import CountableConnection, KeysetConnection
from schema.permissions import Public, current_user, refusal


@strawberry.type
class CatalogQuery:
    @connection(
        KeysetConnection[Product],
        extensions=[Public()],
        description="Published products; catalog managers also see unpublished ones.",
    )
    def products(
        self,
        info: Info,
        filters: ProductFilter | None = None,
        ordering: list[ProductOrder] | None = None,
    ) -> Iterable[models.Product]:
        try:
            return selectors.product_list(
                user=current_user(info),
                filters=product_filters(filters),
                ordering=product_ordering(ordering),
            )
        except PermissionDenied as error:
            raise refusal(info) from error
        except ServiceError as error:
            raise bad_user_input(str(error)) from error

    @strawberry_django.field(
        extensions=[Public()], description="A visible product by its slug, or null.",
        graphql_type=Product | None,
    )
    def product(self, slug: str) -> QuerySet[models.Product]:
        # The Product type's get_queryset applies the visibility rule.
        return models.Product.objects.filter(slug=slug)

    @connection(
        CountableConnection[Category],
        extensions=[Public()],
        description="Every category, in tree order.",
    )
    def categories(self) -> Iterable[models.Category]:
        return models.Category.objects.order_by("path")

    @strawberry_django.field(extensions=[Public()])
    def category(self, slug: str) -> Category | None:
        return models.Category.objects.filter(slug=slug)
