import strawberry_django
from strawberry import relay

from apps.inventory import models


@strawberry_django.type(models.Warehouse, name="Warehouse")
class Warehouse(relay.Node):
    id: relay.NodeID[int]
    name: str
    slug: str
    is_default: bool
