"""Staff accounts and permission groups, as the admin console manages them
(staff holding manage_staff; the API checks that before calling here).

Two rules hold whatever the caller:

- **No one hands out more than they hold.** A permission group is within
  the actor's reach when they hold every permission it has (a superuser
  holds them all). Only groups within reach are created, changed, deleted,
  or added to and taken from a staff member; a group is changed only into
  one still within reach; a staff member holding something the actor does
  not (a superuser, above all) is not deactivated by them. Otherwise
  PERMISSION_NOT_HELD, naming what the actor lacks.
- **Someone can always manage staff.** No change may leave no active staff
  member holding manage_staff (LAST_STAFF_MANAGER): not deactivating the
  last one (themself included), taking their group, or taking manage_staff
  from or deleting the group through which the last ones hold it. The
  holders' rows are locked, in id order, before the change and counted
  again after it in the same transaction, so two demotions at once cannot
  both pass: the second waits for the first, then counts what it left.

Every change is one transaction with its audit entry (services.audit).
"""

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, transaction
from django.db.models import Q

from apps.core import events
from apps.core.errors import ErrorCode, ServiceError
from apps.core.validation import Problems, clean_email, clean_text, max_length

from ..models import User
from ..permissions import Perm
from ..selectors import staff_with_perm
from .audit import audit_record
from .sessions import refresh_tokens_revoke_all


def permissions_of(perms: Iterable[Perm]) -> list[Permission]:
    """The permission rows of `perms` (all declared on accounts.User)."""
    codenames = {perm.codename for perm in perms}
    return list(Permission.objects.filter(content_type__app_label="accounts",
                                          codename__in=codenames).order_by("codename"))


def _label(permission: Permission) -> str:
    return f"{permission.content_type.app_label}.{permission.codename}"


def _refuse_unheld(actor: User, permissions: Iterable[Permission], *, field: str | None,
                   doing: str) -> None:
    lacking = sorted({_label(p) for p in permissions} - _held(actor))
    if lacking:
        raise ServiceError(
            f"You cannot {doing}: you do not hold {', '.join(lacking)} yourself.",
            code=ErrorCode.PERMISSION_NOT_HELD, field=field,
        )


def _held(actor: User) -> set[str]:
    if actor.is_active and actor.is_superuser:
        return {_label(p) for p in Permission.objects.select_related("content_type")}
    return set(actor.get_all_permissions()) if actor.is_active else set()


def _group_permissions(group: Group) -> list[Permission]:
    return list(group.permissions.select_related("content_type"))


def _refuse_groups_out_of_reach(actor: User, groups: Iterable[Group], *, field: str,
                                doing: str) -> None:
    for group in groups:
        _refuse_unheld(actor, _group_permissions(group), field=field,
                       doing=f"{doing} {group.name!r}")


def _lock_staff_managers(*also: int) -> None:
    """Lock the rows of the active holders of manage_staff (and `also`), in
    id order, so that concurrent changes of who holds it take turns."""
    ids = set(staff_with_perm(perm=Perm.MANAGE_STAFF).values_list("pk", flat=True)) | set(also)
    list(User.objects.select_for_update().filter(pk__in=ids).order_by("pk")
         .values_list("pk", flat=True))


def _refuse_if_no_staff_manager_left(*, field: str | None) -> None:
    """After the change, in its transaction: someone must still manage staff."""
    if not staff_with_perm(perm=Perm.MANAGE_STAFF).exists():
        raise ServiceError(
            "This would leave no active staff member holding manage_staff; give it to "
            "someone else first.",
            code=ErrorCode.LAST_STAFF_MANAGER, field=field,
        )


def _names(groups: Iterable[Group]) -> list[str]:
    return sorted(group.name for group in groups)


# --- Staff accounts ------------------------------------------------------------------------


def staff_create(*, actor: User, email: str, first_name: str | None = "",
                 last_name: str | None = "", groups: Iterable[Group] = ()) -> User:
    """A staff account, active, with no usable password: its owner is emailed
    a link to set one (StaffInvited, after the commit), which works like a
    password reset and verifies the address."""
    groups = list(groups)
    problems = Problems()
    email = clean_email(problems, "email", email, limit=max_length(User, "email"), required=True)
    first = clean_text(problems, "first_name", first_name, limit=max_length(User, "first_name"))
    last = clean_text(problems, "last_name", last_name, limit=max_length(User, "last_name"))
    problems.raise_any()
    _refuse_groups_out_of_reach(actor, groups, field="groups", doing="give the group")
    taken = ServiceError("An account with this email already exists.",
                         code=ErrorCode.UNIQUE, field="email")
    if User.objects.filter(email=email).exists():
        raise taken
    try:
        with transaction.atomic():
            user: User = User.objects.create_user(
                email=email, password=None, first_name=first, last_name=last, is_staff=True)
            user.groups.set(groups)
            audit_record(actor=actor, action="staff.create", target=user,
                         details={"groups": _names(groups)})
            events.publish(events.StaffInvited(user_id=user.pk))
    except IntegrityError as error:  # a concurrent staffCreate of the address won
        raise taken from error
    return user


def staff_update(*, actor: User, staff: User, is_active: bool | None = None,
                 groups: Iterable[Group] | None = None, first_name: str | None = None,
                 last_name: str | None = None) -> User:
    """Change what is given (None leaves it): active or not, the groups (the
    whole set), the name. Deactivating ends the member's sessions, as for a
    customer (customer_set_active)."""
    problems = Problems()
    names: dict[str, str] = {}
    for field, value in (("first_name", first_name), ("last_name", last_name)):
        if value is not None:
            names[field] = clean_text(problems, field, value, limit=max_length(User, field))
    problems.raise_any()
    if not staff.is_staff:
        raise ServiceError("This is a customer account, not staff.", field="id")
    with transaction.atomic():
        _lock_staff_managers(staff.pk)
        staff = User.objects.get(pk=staff.pk)
        changes: dict[str, Any] = {}
        if groups is not None:
            wanted = {group.pk: group for group in groups}
            current = {group.pk: group for group in staff.groups.all()}
            added = [g for pk, g in wanted.items() if pk not in current]
            removed = [g for pk, g in current.items() if pk not in wanted]
            _refuse_groups_out_of_reach(actor, added, field="groups", doing="give the group")
            _refuse_groups_out_of_reach(actor, removed, field="groups",
                                        doing="take away the group")
            if added or removed:
                staff.groups.remove(*removed)
                staff.groups.add(*added)
                changes["groups_added"], changes["groups_removed"] = _names(added), _names(removed)
        if is_active is not None and is_active != staff.is_active:
            if not is_active:
                _refuse_deactivating(actor, staff)
            changes["is_active"] = [staff.is_active, is_active]
            staff.is_active = is_active
        for field, value in names.items():
            if getattr(staff, field) != value:
                changes[field] = [getattr(staff, field), value]
                setattr(staff, field, value)
        if not changes:
            return staff
        staff.save(update_fields=["is_active", *names, "updated_at"])
        if is_active is False:
            refresh_tokens_revoke_all(user=staff)
        _refuse_if_no_staff_manager_left(field="is_active" if "is_active" in changes
                                         else "groups")
        audit_record(actor=actor, action="staff.update", target=staff, details=changes)
    return staff


def _refuse_deactivating(actor: User, staff: User) -> None:
    """One may lock out only someone holding nothing one lacks: never a
    superuser, unless one is a superuser too."""
    if staff.is_superuser and not actor.is_superuser:
        raise ServiceError("Only a superuser can deactivate a superuser.",
                           code=ErrorCode.PERMISSION_NOT_HELD, field="is_active")
    held = Permission.objects.filter(Q(user=staff) | Q(group__user=staff)).distinct()
    _refuse_unheld(actor, held.select_related("content_type"), field="is_active",
                   doing=f"deactivate {staff.email}")


# --- Permission groups ---------------------------------------------------------------------


def _clean_group_name(name: str | None, *, group: Group | None = None) -> str:
    problems = Problems()
    name = clean_text(problems, "name", name, limit=max_length(Group, "name"), required=True)
    problems.raise_any()
    others = Group.objects.filter(name__iexact=name)
    if group is not None:
        others = others.exclude(pk=group.pk)
    if others.exists():
        raise ServiceError("A permission group with this name already exists.",
                           code=ErrorCode.UNIQUE, field="name")
    return name


def _saved(group: Group) -> Group:
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError as error:  # a concurrent write of the same name won
        raise ServiceError("A permission group with this name already exists.",
                           code=ErrorCode.UNIQUE, field="name") from error
    return group


@transaction.atomic
def permission_group_create(*, actor: User, name: str, perms: Iterable[Perm] = ()) -> Group:
    permissions = permissions_of(perms)
    group = Group(name=_clean_group_name(name))
    _refuse_unheld(actor, permissions, field="permissions", doing="make a group with these")
    _saved(group)
    group.permissions.set(permissions)
    audit_record(actor=actor, action="permission_group.create", target=group,
                 details={"permissions": [p.codename for p in permissions]})
    return group


@transaction.atomic
def permission_group_update(*, actor: User, group: Group, name: str | None = None,
                            perms: Iterable[Perm] | None = None) -> Group:
    """Rename, or set the group's staff permissions (the whole set of them;
    other Django permissions given in /admin/ are left as they are)."""
    _lock_staff_managers()
    group = Group.objects.select_for_update().get(pk=group.pk)
    current = _group_permissions(group)
    _refuse_unheld(actor, current, field="id", doing=f"change the group {group.name!r}")
    changes: dict[str, Any] = {}
    if name is not None:
        cleaned = _clean_group_name(name, group=group)
        if cleaned != group.name:
            changes["name"] = [group.name, cleaned]
            group.name = cleaned
            _saved(group)
    if perms is not None:
        wanted = {p.pk: p for p in permissions_of(perms)}
        _refuse_unheld(actor, wanted.values(), field="permissions", doing="give the group")
        staff_perms = {p.pk: p for p in current if p.content_type.app_label == "accounts"
                       and p.codename in {perm.codename for perm in Perm}}
        added = [p for pk, p in wanted.items() if pk not in staff_perms]
        removed = [p for pk, p in staff_perms.items() if pk not in wanted]
        if added or removed:
            group.permissions.remove(*removed)
            group.permissions.add(*added)
            changes["permissions_added"] = sorted(p.codename for p in added)
            changes["permissions_removed"] = sorted(p.codename for p in removed)
    if changes:
        _refuse_if_no_staff_manager_left(field="permissions")
        audit_record(actor=actor, action="permission_group.update", target=group,
                     details=changes)
    return group


@transaction.atomic
def permission_group_delete(*, actor: User, group: Group) -> None:
    """Its members lose what they held through it. The default roles come
    back at the next migrate (apps.accounts.roles), as the shop first had them."""
    _lock_staff_managers()
    group = Group.objects.select_for_update().get(pk=group.pk)
    permissions = _group_permissions(group)
    _refuse_unheld(actor, permissions, field="id", doing=f"delete the group {group.name!r}")
    audit_record(actor=actor, action="permission_group.delete", target=group,
                 details={"name": group.name,
                          "permissions": sorted(p.codename for p in permissions),
                          "members": group.user_set.count()})
    group.delete()
    _refuse_if_no_staff_manager_left(field="id")
