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

    @property
    def codename(self) -> str:
        return self.value.split(".", 1)[1]
