"""Who may call what. Checks raise top-level errors; they never hide data by
returning empty results (an empty list would read as "there is nothing")."""

from typing import Any

from strawberry import Info
from strawberry.permission import BasePermission

from apps.accounts.permissions import Perm, staff_has_perm
from schema.errors import forbidden, unauthenticated


def current_user(info: Info):
    """The signed-in user, or None for an anonymous caller."""
    user = info.context.user
    return user if user.is_authenticated else None


def require_user(info: Info):
    user = current_user(info)
    if user is None:
        raise unauthenticated()
    return user


def require_perm(info: Info, perm: Perm):
    user = require_user(info)
    if not staff_has_perm(user, perm):
        raise forbidden()
    return user


def has_perm(info: Info, perm: Perm) -> bool:
    return staff_has_perm(current_user(info), perm)


class IsAuthenticated(BasePermission):
    message = "Sign in to do this."

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        require_user(info)
        return True


_staff_permissions: dict[Perm, type[BasePermission]] = {}


def HasPerm(perm: Perm) -> type[BasePermission]:  # noqa: N802 - reads as a class
    """A permission class for `permission_classes=[HasPerm(Perm.X)]`."""
    if perm not in _staff_permissions:

        def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
            require_perm(info, perm)
            return True

        _staff_permissions[perm] = type(
            f"Has{perm.name.title().replace('_', '')}",
            (BasePermission,),
            {"message": "You do not have permission to do this.",
             "has_permission": has_permission},
        )
    return _staff_permissions[perm]
