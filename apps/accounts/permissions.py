from enum import StrEnum


class Perm(StrEnum):
    """What staff may do. Granted through Django's permissions and groups;
    a superuser has them all. Declared on accounts.User (Meta.permissions)."""

    MANAGE_PRODUCTS = "accounts.manage_products"
    MANAGE_ORDERS = "accounts.manage_orders"
    MANAGE_DISCOUNTS = "accounts.manage_discounts"
    MANAGE_CUSTOMERS = "accounts.manage_customers"
    MANAGE_STAFF = "accounts.manage_staff"
    VIEW_REPORTS = "accounts.view_reports"
    MANAGE_SHIPPING = "accounts.manage_shipping"
    MANAGE_APPS = "accounts.manage_apps"

    @property
    def codename(self) -> str:
        return self.value.split(".", 1)[1]


def staff_has_perm(user, perm: Perm) -> bool:
    """The one rule for what staff may do: a signed-in, active staff member
    holding `perm` (directly, through a group, or as a superuser). A customer
    given a permission by mistake still gets nothing."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_staff
        and user.has_perm(perm.value)
    )
