"""The admin console's staff pages: staff accounts, permission groups and the
audit log, all behind manage_staff. Thin resolvers over
apps.accounts.services.staff, which keeps the rules (no one grants what they
do not hold; someone always manages staff)."""

from collections.abc import Iterable
from typing import Any

import strawberry
from django.contrib.auth.models import Group
from strawberry import Info

from apps.accounts import models, selectors, services
from apps.accounts.permissions import Perm
from schema.connection_fields import connection
from schema.errors import Payload, payload_mutation
from schema.ids import decode_id, get_node, get_nodes, pk_from_global_id
from schema.pagination import CountableConnection, KeysetConnection
from schema.permissions import StaffPerm, signed_in_user

from .staff_types import AUDITED_NODES, AuditEntry, Permission, PermissionGroup
from .types import User

MANAGE_STAFF = Perm.MANAGE_STAFF


@strawberry.input(description="A new staff member, invited by email to set a password.")
class StaffCreateInput:
    email: str
    first_name: str | None = ""
    last_name: str | None = ""
    groups: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="PermissionGroup IDs: the roles to give.")


@strawberry.input(description="Fields left out (or null) are left as they are.")
class StaffUpdateInput:
    is_active: bool | None = strawberry.field(
        default=None, description="False deactivates: sign-in and every session end at once.")
    groups: list[strawberry.ID] | None = strawberry.field(
        default=None, description="PermissionGroup IDs: the whole set of the member's groups.")
    first_name: str | None = None
    last_name: str | None = None


@strawberry.input
class PermissionGroupCreateInput:
    name: str
    permissions: list[Permission] = strawberry.field(default_factory=list)


@strawberry.input(description="Fields left out (or null) are left as they are.")
class PermissionGroupUpdateInput:
    name: str | None = None
    permissions: list[Permission] | None = strawberry.field(
        default=None, description="The whole set of the group's staff permissions.")


@strawberry.input(description="Every condition given must hold.")
class AuditLogFilter:
    action: str | None = strawberry.field(
        default=None, description="An action (`order.fulfil`), or a prefix ending with a dot "
        "(`order.`) for a family of them.")
    actor_id: strawberry.ID | None = strawberry.field(
        default=None, description="The User ID of the staff member who acted.")
    object_id: strawberry.ID | None = strawberry.field(
        default=None, description="The global ID of the object acted on (a User, an Order…).")


@strawberry.type
class StaffCreatePayload(Payload):
    user: models.User | None = strawberry.field(default=None, graphql_type=User | None)


@strawberry.type
class StaffUpdatePayload(Payload):
    user: models.User | None = strawberry.field(default=None, graphql_type=User | None)


@strawberry.type
class PermissionGroupCreatePayload(Payload):
    group: Group | None = strawberry.field(default=None, graphql_type=PermissionGroup | None)


@strawberry.type
class PermissionGroupUpdatePayload(Payload):
    group: Group | None = strawberry.field(default=None, graphql_type=PermissionGroup | None)


@strawberry.type
class PermissionGroupDeletePayload(Payload):
    deleted_id: strawberry.ID | None = None


def _groups(info: Info, ids: Iterable[strawberry.ID]) -> list[Group]:
    return get_nodes(selectors.permission_groups_visible_to(user=signed_in_user(info)),
                     list(ids), type_name="PermissionGroup", field="groups")


def _group(info: Info, id: strawberry.ID) -> Group:
    return get_node(selectors.permission_groups_visible_to(user=signed_in_user(info)), id,
                    type_name="PermissionGroup", field="id")


def _audit_filters(value: AuditLogFilter | None) -> dict[str, Any]:
    """The selector's arguments. An actor ID of another type is
    BAD_USER_INPUT; an object ID of no type the log names finds nothing."""
    if value is None:
        return {}
    found: dict[str, Any] = {"action": value.action}
    if value.actor_id is not None:
        found["actor_id"] = decode_id(value.actor_id, "User")
    if value.object_id is not None:
        found.update(object_type="", object_pk="")
        for label, type_name in AUDITED_NODES.items():
            pk = pk_from_global_id(value.object_id, type_name)
            if pk is not None:
                found.update(object_type=label, object_pk=str(pk))
    return found


@strawberry.type
class StaffQuery:
    @connection(
        CountableConnection[User],
        extensions=[StaffPerm(MANAGE_STAFF)],
        description="Staff accounts, newest first, deactivated ones too unless `isActive` "
        "says. `search` keeps those with every word of it in their first name, last name or "
        "email, in any case. Staff with MANAGE_STAFF only.",
    )
    def staff_users(self, search: str | None = None,
                    is_active: bool | None = None) -> Iterable[models.User]:
        return selectors.staff_search(search=search, is_active=is_active)

    @connection(
        CountableConnection[PermissionGroup],
        extensions=[StaffPerm(MANAGE_STAFF)],
        description="Permission groups by name; `search` keeps those whose name contains "
        "it, in any case. Staff with MANAGE_STAFF only.",
    )
    def permission_groups(self, search: str | None = None) -> Iterable[Group]:
        return selectors.permission_group_search(search=search)

    @connection(
        KeysetConnection[AuditEntry],
        extensions=[StaffPerm(MANAGE_STAFF)],
        description="What staff did (these mutations, the order desk's, the Django "
        "admin's order actions), newest first. Staff with MANAGE_STAFF only.",
    )
    def audit_log(self, filter: AuditLogFilter | None = None) -> Iterable[models.AuditEntry]:
        return selectors.audit_log(**_audit_filters(filter))


@strawberry.type
class StaffMutation:
    @payload_mutation(
        extensions=[StaffPerm(MANAGE_STAFF)],
        description="Make a staff account and email its owner a link to set the password "
        "(passwordReset with the link's token). A taken email is UNIQUE; a group holding a "
        "permission the caller lacks is PERMISSION_NOT_HELD.",
    )
    def staff_create(self, info: Info, input: StaffCreateInput) -> StaffCreatePayload:
        user = services.staff_create(
            actor=signed_in_user(info), email=input.email, first_name=input.first_name,
            last_name=input.last_name, groups=_groups(info, input.groups))
        return StaffCreatePayload(user=user)

    @payload_mutation(
        extensions=[StaffPerm(MANAGE_STAFF)],
        description="Deactivate or reactivate a staff member, set their groups or name. "
        "Adding or removing a group holding a permission the caller lacks, or deactivating "
        "someone who holds one (a superuser, unless the caller is one), is "
        "PERMISSION_NOT_HELD; leaving no active staff member with MANAGE_STAFF is "
        "LAST_STAFF_MANAGER. Nothing is changed when anything is refused.",
    )
    def staff_update(self, info: Info, id: strawberry.ID,
                     input: StaffUpdateInput) -> StaffUpdatePayload:
        actor = signed_in_user(info)
        staff = get_node(selectors.users_visible_to(user=actor), id, type_name="User",
                         field="id")
        user = services.staff_update(
            actor=actor, staff=staff, is_active=input.is_active,
            groups=None if input.groups is None else _groups(info, input.groups),
            first_name=input.first_name, last_name=input.last_name)
        return StaffUpdatePayload(user=user)

    @payload_mutation(
        extensions=[StaffPerm(MANAGE_STAFF)],
        description="A new permission group. A taken name (in any case) is UNIQUE; a "
        "permission the caller lacks is PERMISSION_NOT_HELD.",
    )
    def permission_group_create(
        self, info: Info, input: PermissionGroupCreateInput
    ) -> PermissionGroupCreatePayload:
        group = services.permission_group_create(
            actor=signed_in_user(info), name=input.name, perms=input.permissions)
        return PermissionGroupCreatePayload(group=group)

    @payload_mutation(
        extensions=[StaffPerm(MANAGE_STAFF)],
        description="Rename a group or set its permissions. A group holding, or to hold, a "
        "permission the caller lacks is PERMISSION_NOT_HELD; taking MANAGE_STAFF from the "
        "last ones holding it is LAST_STAFF_MANAGER.",
    )
    def permission_group_update(
        self, info: Info, id: strawberry.ID, input: PermissionGroupUpdateInput
    ) -> PermissionGroupUpdatePayload:
        group = services.permission_group_update(
            actor=signed_in_user(info), group=_group(info, id), name=input.name,
            perms=input.permissions)
        return PermissionGroupUpdatePayload(group=group)

    @payload_mutation(
        extensions=[StaffPerm(MANAGE_STAFF)],
        description="Delete a group; its members lose what they held through it. As "
        "permissionGroupUpdate, PERMISSION_NOT_HELD and LAST_STAFF_MANAGER.",
    )
    def permission_group_delete(self, info: Info,
                                id: strawberry.ID) -> PermissionGroupDeletePayload:
        services.permission_group_delete(actor=signed_in_user(info), group=_group(info, id))
        return PermissionGroupDeletePayload(deleted_id=id)
