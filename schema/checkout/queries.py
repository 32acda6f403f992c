from uuid import UUID

import strawberry
import strawberry_django
from strawberry import Info

from apps.checkout import models, selectors
from schema.permissions import Public, current_user

from .types import Cart


@strawberry.type
class CheckoutQuery:
    @strawberry_django.field(
        extensions=[Public()], graphql_type=Cart | None,
        description="The cart with this token, in any state: a guest's for anyone holding "
        "the token, a customer's only for that customer (null for anyone else).",
    )
    def cart(self, info: Info, token: UUID) -> models.Cart | None:
        return selectors.cart_by_token(user=current_user(info), token=token)
