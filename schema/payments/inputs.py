import strawberry


@strawberry.input(
    description="How checkoutComplete takes the payment. Gateway dummy: token success "
    "pays at once, decline fails with PAYMENT_DECLINED; stripe: the PaymentMethod the "
    "storefront's Stripe form made."
)
class PaymentInput:
    gateway: str = strawberry.field(description="The id of one of paymentGateways.")
    token: str = strawberry.field(description="What the gateway's payment form gave.")
