"""Account types. Later domains add their fields to `User` (cart, orders,
wishlist, orderCount) here, each with a resolver that stays within the
signed-in user's own data."""

from datetime import datetime
from typing import Any

import strawberry_django
from strawberry import Info, relay
from strawberry_django.optimizer import optimize
from strawberry_django.resolvers import django_resolver

from apps.accounts import models, selectors
from schema.permissions import current_user


def visible_node_resolver(visible_to):
    """A `resolve_node` for `node(id:)` that finds only what `visible_to(user=)`
    lets the caller see: someone else's object reads exactly as one that does
    not exist. (Nested fields are guarded by the object they hang from.)"""

    def resolve_node(cls, node_id: Any, *, info: Info, required: bool = False):
        def resolve():
            queryset = visible_to(user=current_user(info))
            try:
                pk = int(getattr(node_id, "node_id", node_id))
            except (TypeError, ValueError):
                pk = None
            found = optimize(queryset.filter(pk=pk), info).first() if pk is not None else None
            if found is None and required:
                raise queryset.model.DoesNotExist(f"{queryset.model.__name__} not found.")
            return found

        return django_resolver(resolve)()

    return classmethod(resolve_node)


@strawberry_django.type(models.Address, name="Address")
class Address(relay.Node):
    id: relay.NodeID[int]
    first_name: str
    last_name: str
    company: str
    street_address_1: str
    street_address_2: str
    city: str
    postal_code: str
    country_area: str
    country: str = strawberry_django.field(description="ISO 3166-1 alpha-2 code.")
    phone: str

    resolve_node = visible_node_resolver(selectors.addresses_visible_to)


@strawberry_django.type(models.User, name="User")
class User(relay.Node):
    id: relay.NodeID[int]
    email: str
    first_name: str
    last_name: str
    is_staff: bool
    is_active: bool
    is_email_verified: bool
    date_joined: datetime
    default_shipping_address: Address | None
    addresses: list[Address] = strawberry_django.field(
        description="The address book, oldest first."
    )

    resolve_node = visible_node_resolver(selectors.users_visible_to)

