"""Account types. Later domains add their fields to `User` (cart, orders,
wishlist, orderCount) here, each with a resolver that stays within the
signed-in user's own data."""

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import strawberry
from asgiref.sync import sync_to_async
import strawberry_django
from strawberry import Info, relay

from apps.accounts import models, selectors
from apps.accounts.permissions import Perm
from django.contrib.auth.models import Group
from django.db.models import Prefetch
from apps.checkout import selectors as checkout_selectors
from apps.notifications import selectors as notification_selectors
from apps.orders import models as order_models
from apps.orders import reports
from apps.orders import selectors as order_selectors
from apps.wishlist.services import MAX_ITEMS as WISHLIST_SIZE
from schema.accounts.staff_types import Permission, PermissionGroup
from schema.cost import list_size
from schema.orders.types import Order
from schema.pagination import CountableConnection
from schema.permissions import current_user, visible_through
from schema.resolvers import async_safe

from .session_types import Session, SignInAttempt
T = TypeVar("T")
HOLDING_GROUPS = "_groups_holding"

if TYPE_CHECKING:
    from schema.checkout.types import Cart
    from schema.notifications.types import NotificationPreferences
    from schema.wishlist.types import WishlistItem


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

    get_queryset = visible_through(selectors.addresses_visible_to)


def default_shipping_address(root: models.User, info: Info) -> models.Address | None:
    # Joined, not filtered through Address.get_queryset (which would make it a
    # query of its own), so the address book's rule is applied here: the user
    # themself and staff managing customers; not staff managing staff, who see
    # their colleagues' accounts but not where they live.
    viewer = current_user(info)
    if viewer is None or not (viewer.pk == root.pk or selectors.manages_customers(viewer)):
        return None
    return root.default_shipping_address


def viewer_if_self(root: models.User, info: Info) -> models.User | None:
    """The signed-in user when `root` is them: what only they may read of
    themself (their cart, their preferences) is null to anyone else."""
    viewer = current_user(info)
    return viewer if viewer is not None and viewer.pk == root.pk else None


def annotated_or(
    root: models.User, name: str, cast: Callable[[Any], T], query: Callable[[], T]
) -> T | Awaitable[T]:
    """The value the optimizer annotated on lists and `me`; a user a mutation
    answers has none, and is asked on its own, in a thread."""
    value = getattr(root, name, None)
    return sync_to_async(query)() if value is None else cast(value)


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
    default_shipping_address: models.Address | None = strawberry_django.field(
        resolver=default_shipping_address, select_related=["default_shipping_address"],
        graphql_type=Address | None,
    )
    addresses: list[Address] = strawberry_django.field(
        description="The address book, oldest first.", directives=list_size(10)
    )
    wishlist: list[Annotated["WishlistItem", strawberry.lazy("schema.wishlist.types")]] = (
        strawberry_django.field(
            field_name="wishlist_items",
            description="Products kept for later, newest first; a product that is no "
            "longer on sale drops out.",
            directives=list_size(WISHLIST_SIZE),
        )
    )

    permission_groups: list[PermissionGroup] = strawberry_django.field(
        # A shop has its five roles and a few of its own; an account is in one or two.
        field_name="groups", directives=list_size(20),
        description="The groups the account is in (the roles of staff): to staff managing "
        "staff all of them, to anyone else those they are in themself.")

    @strawberry_django.field(
        # All the groups, to an attribute of its own: `permissionGroups`
        # prefetches `groups` narrowed to what the viewer may see.
        prefetch_related=["user_permissions", Prefetch(
            "groups", queryset=Group.objects.prefetch_related("permissions"),
            to_attr=HOLDING_GROUPS)],
        only=["is_active", "is_staff", "is_superuser"],
        graphql_type=list[Permission],
        description="What the account may do as staff, directly or through its groups; "
        "every permission for a superuser, none for a customer or a deactivated account.",
    )
    def permissions(self, root: models.User) -> list[Perm]:
        return selectors.perms_held_by(root, groups=getattr(root, HOLDING_GROUPS, None))

    @strawberry_django.field(
        graphql_type=Annotated["Cart", strawberry.lazy("schema.checkout.types")] | None,
        description="The customer's active cart; null when they have none, and on anyone "
        "but the signed-in user themself.",
    )
    def cart(self, root: models.User, info: Info) -> Any:
        viewer = viewer_if_self(root, info)
        return None if viewer is None else checkout_selectors.active_cart_of(user=viewer)

    @strawberry_django.field(
        graphql_type=Annotated["NotificationPreferences",
                               strawberry.lazy("schema.notifications.types")] | None,
        description="Which emails the customer receives; null on anyone but the "
        "signed-in user themself.",
    )
    def notification_preferences(self, root: models.User, info: Info) -> Any:
        viewer = viewer_if_self(root, info)
        return None if viewer is None else notification_selectors.preferences_of(user=viewer)

    @strawberry_django.field(
        graphql_type=list[Session] | None, directives=list_size(20),
        description="The sessions still signed in (devices), most recently used first; "
        "null on anyone but the signed-in user themself, staff included.",
    )
    def sessions(self, root: models.User, info: Info) -> Any:
        viewer = viewer_if_self(root, info)
        return None if viewer is None else selectors.sessions_visible_to(user=viewer)

    @strawberry_django.connection(
        CountableConnection[SignInAttempt], description="Attempts at signing in to this "
        "account, successful or not, newest first, kept SIGN_IN_HISTORY_RETENTION_DAYS: "
        "the user's own, and any customer's for staff with MANAGE_CUSTOMERS.",
    )
    def sign_in_history(self, root: models.User) -> Iterable[models.SignInAttempt]:
        return selectors.sign_in_history_of(user=root)

    @strawberry_django.connection(
        CountableConnection[Order], description="The orders placed from this account, "
        "newest first.",
    )
    def orders(self, root: models.User) -> Iterable[order_models.Order]:
        return order_selectors.orders_of(user=root)

    @strawberry_django.field(
        annotate={"order_count": reports.order_count_per_customer()}, graphql_type=int,
        description="Orders this customer has placed, whatever became of them.",
    )
    @async_safe
    def order_count(self, root: models.User) -> int | Awaitable[int]:
        return annotated_or(root, "order_count", int, root.orders.count)

    @strawberry_django.field(
        annotate={"two_factor_enabled": selectors.two_factor_enabled_per_user()},
        graphql_type=bool,
        description="Whether signing in asks for a code from an authenticator app.",
    )
    @async_safe
    def two_factor_enabled(self, root: models.User) -> bool | Awaitable[bool]:
        return annotated_or(
            root, "two_factor_enabled", bool, lambda: selectors.two_factor_enabled(user=root)
        )

    get_queryset = visible_through(selectors.users_visible_to)

