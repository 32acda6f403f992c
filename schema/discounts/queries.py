from collections.abc import Iterable

import strawberry

from apps.accounts.permissions import Perm
from apps.discounts import models, selectors
from schema.connection_fields import connection
from schema.discounts.types import Coupon
from schema.pagination import CountableConnection
from schema.permissions import StaffPerm


@strawberry.type
class DiscountsQuery:
    @connection(
        CountableConnection[Coupon],
        extensions=[StaffPerm(Perm.MANAGE_DISCOUNTS)],
        description="Every coupon, newest first. Staff with MANAGE_DISCOUNTS only.",
    )
    def coupons(self) -> Iterable[models.Coupon]:
        return selectors.coupon_list()
