from collections.abc import Iterable

import strawberry

from apps.accounts.permissions import Perm
from apps.shipping import models
from schema.connection_fields import connection
from schema.pagination import CountableConnection
from schema.permissions import StaffPerm
from schema.shipping.types import ShippingZone


@strawberry.type
class ShippingQuery:
    @connection(
        CountableConnection[ShippingZone],
        extensions=[StaffPerm(Perm.MANAGE_SHIPPING)],
        description="The shipping zones by name, with their countries and methods. Staff with "
        "MANAGE_SHIPPING only.",
    )
    def shipping_zones(self) -> Iterable[models.ShippingZone]:
        return models.ShippingZone.objects.all()
