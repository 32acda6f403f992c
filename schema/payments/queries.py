import strawberry

from apps.payments import registry
from schema.cost import list_size
from schema.permissions import Public

from .types import PaymentGateway


def payment_gateways() -> list[PaymentGateway]:
    return [PaymentGateway.of(gateway) for gateway in registry.enabled_gateways()]


@strawberry.type
class PaymentQuery:
    payment_gateways: list[PaymentGateway] = strawberry.field(
        resolver=payment_gateways,
        extensions=[Public()],
        description="The gateways a customer may pay with, in the order to offer them, "
        "each with what its payment form needs.",
        directives=list_size(5),
    )
