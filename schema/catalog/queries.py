"""Storefront catalog reads. Resolvers only translate arguments; visibility,
filtering and ordering live in apps.catalog.selectors."""

from collections.abc import Iterable

import strawberry
import strawberry_django
from django.db.models import QuerySet
from strawberry import Info

from apps.accounts.permissions import Perm
from apps.catalog import models, selectors
from apps.core.errors import ServiceError
from schema.catalog.filters import ProductFilter, ProductOrder, product_filters, product_ordering
from schema.catalog.types import Category, Product
from schema.errors import bad_user_input
from schema.pagination import CountableConnection
from schema.permissions import current_user, require_perm


@strawberry.type
class CatalogQuery:
    @strawberry_django.connection(
        CountableConnection[Product],
        description="Published products; catalog managers also see unpublished ones.",
    )
    def products(
        self,
        info: Info,
        filters: ProductFilter | None = None,
        ordering: list[ProductOrder] | None = None,
    ) -> Iterable[models.Product]:
        wanted = product_filters(filters)
        if wanted.uses_is_published():
            require_perm(info, Perm.MANAGE_PRODUCTS)
        try:
            return selectors.product_list(
                user=current_user(info), filters=wanted, ordering=product_ordering(ordering)
            )
        except ServiceError as error:
            raise bad_user_input(str(error)) from error

    @strawberry_django.field(
        description="A visible product by its slug, or null.", graphql_type=Product | None
    )
    def product(self, slug: str) -> QuerySet[models.Product]:
        # The Product type's get_queryset applies the visibility rule.
        return models.Product.objects.filter(slug=slug)

    @strawberry_django.connection(
        CountableConnection[Category], description="Every category, in tree order."
    )
    def categories(self) -> Iterable[models.Category]:
        return models.Category.objects.order_by("path")

    @strawberry_django.field
    def category(self, slug: str) -> Category | None:
        return models.Category.objects.filter(slug=slug)
