"""Order reads. Resolvers translate arguments; who sees what is
apps.orders.selectors'."""

from collections.abc import Iterable
from uuid import UUID

import strawberry
import strawberry_django
from strawberry import Info
from strawberry_django.optimizer import optimize

from apps.accounts.permissions import Perm
from apps.core.errors import ServiceError
from apps.orders import models, selectors
from schema.connection_fields import connection
from schema.errors import bad_user_input
from schema.orders.filters import OrderFilter, order_filters
from schema.orders.types import Order
from schema.pagination import CountableConnection
from schema.permissions import Public, SignedIn, StaffPerm, current_user


@strawberry.type
class OrderQuery:
    @strawberry_django.field(
        extensions=[SignedIn()], graphql_type=Order | None,
        description="One's own order by its number (staff managing orders: anyone's); "
        "null for someone else's, as for one that does not exist.",
    )
    def order(self, info: Info, number: str) -> models.Order | None:
        return selectors.order_by_number(
            user=current_user(info), number=number,
            queryset=optimize(models.Order.objects.all(), info),
        )

    @strawberry_django.field(
        extensions=[Public()], graphql_type=Order | None,
        description="The order whose receipt link holds this token, for whoever has it "
        "(a guest's way to follow their order); null for an unknown token.",
    )
    def order_by_token(self, info: Info, token: UUID) -> models.Order | None:
        return selectors.order_by_token(
            token=token, queryset=optimize(models.Order.objects.all(), info)
        )

    @connection(
        CountableConnection[Order],
        extensions=[StaffPerm(Perm.MANAGE_ORDERS)],
        description="Every order, newest first, for the order desk. Staff with "
        "MANAGE_ORDERS only.",
    )
    def orders(self, filters: OrderFilter | None = None) -> Iterable[models.Order]:
        try:
            return selectors.order_list(filters=order_filters(filters))
        except ServiceError as error:
            raise bad_user_input(str(error)) from error
