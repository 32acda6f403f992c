"""Staff roles: Django groups made with the permissions a typical shop hands
out together. Staff get a role in /admin/; a shop may change the groups or
add its own, and a role that exists is left as the shop made it."""

from django.contrib.auth.models import Group, Permission

from .permissions import Perm

STAFF_ROLES: dict[str, tuple[Perm, ...]] = {
    "Catalog managers": (Perm.MANAGE_PRODUCTS,),
    "Order managers": (Perm.MANAGE_ORDERS, Perm.MANAGE_SHIPPING),
    "Customer service": (Perm.MANAGE_CUSTOMERS, Perm.MANAGE_ORDERS),
    "Marketing": (Perm.MANAGE_DISCOUNTS, Perm.VIEW_REPORTS),
    "Administrators": tuple(Perm),
}


def staff_roles_ensure() -> list[Group]:
    """Create the roles that do not exist yet (run after every migrate)."""
    created = []
    for name, perms in STAFF_ROLES.items():
        group, is_new = Group.objects.get_or_create(name=name)
        if is_new:
            group.permissions.set(
                Permission.objects.filter(
                    content_type__app_label="accounts",
                    codename__in=[perm.codename for perm in perms],
                )
            )
            created.append(group)
    return created
