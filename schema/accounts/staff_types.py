"""The staff console's types: the permissions staff hold, permission groups
(Django's groups: the shop's roles) and entries of the audit log."""

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
import strawberry_django
from django.contrib.auth.models import Group
from strawberry import relay
from strawberry.scalars import JSON

from apps.accounts import models, selectors
from apps.accounts.permissions import Perm
from schema.pagination import CountableConnection
from schema.permissions import visible_through

if TYPE_CHECKING:
    from schema.accounts.types import User

# strawberry.enum marks the domain's enum in place: Perm is the GraphQL one.
strawberry.enum(
    Perm, name="Permission",
    description="What staff may do: MANAGE_PRODUCTS (the catalog and stock), MANAGE_ORDERS "
    "(orders, fulfilment, refunds), MANAGE_DISCOUNTS (coupons), MANAGE_CUSTOMERS, "
    "MANAGE_STAFF (staff, permission groups, the audit log), VIEW_REPORTS, "
    "MANAGE_SHIPPING (shipping and tax), MANAGE_APPS (webhooks).",
)
Permission = Perm

LazyUser = Annotated["User", strawberry.lazy("schema.accounts.types")]


@strawberry_django.type(Group, name="PermissionGroup",
                        description="A role: the permissions its members hold through it.")
class PermissionGroup(relay.Node):
    id: relay.NodeID[int]
    name: str

    @strawberry_django.field(prefetch_related=["permissions"], graphql_type=list[Permission],
                             description="The staff permissions the group gives, in "
                             "Permission's order.")
    def permissions(self, root: Group) -> list[Perm]:
        return selectors.group_perms(root)

    @strawberry_django.connection(
        CountableConnection[LazyUser],
        description="The group's members, staff and (by mistake) customers, newest first; "
        "a customer in a group holds nothing.",
    )
    def users(self, root: Group) -> Iterable[models.User]:
        return root.user_set.order_by("-date_joined", "-id")

    get_queryset = visible_through(selectors.permission_groups_visible_to)


# The schema's Node type of each model the audit log names (its model label),
# for a global ID the console can look up; others have none.
AUDITED_NODES = {
    "accounts.User": "User",
    "auth.Group": "PermissionGroup",
    "orders.Order": "Order",
    "catalog.Review": "Review",
}


def audited_object_id(root: models.AuditEntry) -> strawberry.ID | None:
    type_name = AUDITED_NODES.get(root.object_type)
    return None if type_name is None else strawberry.ID(
        relay.to_base64(type_name, root.object_pk))


@strawberry_django.type(models.AuditEntry, name="AuditEntry",
                        description="One staff action: who did what to which object, and "
                        "when.")
class AuditEntry(relay.Node):
    id: relay.NodeID[int]
    actor: LazyUser | None = strawberry_django.field(
        description="Who did it; null once the account is deleted or no longer staff (the "
        "email stays).")
    actor_email: str = strawberry_django.field(
        description="The actor's email at the time.")
    action: str = strawberry_django.field(
        description="What was done: `staff.create`, `staff.update`, `permission_group.create`, "
        "`permission_group.update`, `permission_group.delete`, `order.fulfil`, "
        "`order.deliver`, `order.cancel`, `order.refund`, `customer.set_active`, "
        "`review.hide`, `review.show`.")
    object_type: str = strawberry_django.field(
        description="The model of the object acted on: `accounts.User`, `auth.Group`, "
        "`orders.Order`, `catalog.Review`.")
    object_repr: str = strawberry_django.field(
        description="How the object read then (an email, a group's name, an order's number).")
    object_id: strawberry.ID | None = strawberry_django.field(
        resolver=audited_object_id, only=["object_type", "object_pk"],
        description="The object's global ID (it may since have been deleted).")
    details: JSON = strawberry_django.field(
        description="What changed: states from and to, groups or permissions added and "
        "removed, amounts; never a secret.")
    created_at: datetime

    get_queryset = visible_through(selectors.audit_entries_visible_to)

