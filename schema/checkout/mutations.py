"""Cart mutations and checkoutComplete: thin resolvers over
apps.checkout.services. Each cart mutation answers the cart as it now is,
priced; a refused one answers `errors` and changes nothing."""

from uuid import UUID

import strawberry
from strawberry import Info

from apps.checkout import models, services
from apps.orders import models as order_models
from schema.errors import Payload, payload_mutation
from schema.ids import pk_from_global_id
from schema.inputs import provided
from schema.orders.types import Order, Payment
from schema.payments.inputs import PaymentInput
from schema.permissions import Public, SignedIn, current_user, signed_in_user
from schema.accounts.inputs import AddressInput

from .inputs import CartCreateInput, CartLineInput, CartLineUpdateInput
from .types import Cart


@strawberry.type
class CartAnswer(Payload):
    """What every cart mutation answers."""

    cart: models.Cart | None = strawberry.field(
        default=None, graphql_type=Cart | None, description="The cart after the change."
    )


@strawberry.type
class CartCreatePayload(CartAnswer):
    pass


@strawberry.type
class CartLinesAddPayload(CartAnswer):
    pass


@strawberry.type
class CartLinesUpdatePayload(CartAnswer):
    pass


@strawberry.type
class CartLinesRemovePayload(CartAnswer):
    pass


@strawberry.type
class CartMergePayload(CartAnswer):
    pass


@strawberry.type
class CartEmailUpdatePayload(CartAnswer):
    pass


@strawberry.type
class CartCouponApplyPayload(CartAnswer):
    pass


@strawberry.type
class CartCouponRemovePayload(CartAnswer):
    pass


@strawberry.type
class CartShippingAddressUpdatePayload(CartAnswer):
    pass


@strawberry.type
class CartShippingMethodUpdatePayload(CartAnswer):
    pass


@strawberry.type
class CheckoutCompletePayload(Payload):
    order: order_models.Order | None = strawberry.field(
        default=None, graphql_type=Order | None, description="The order the cart made."
    )
    payment: order_models.Payment | None = strawberry.field(
        default=None, graphql_type=Payment | None,
        description="Its charge: SUCCEEDED, or PENDING with the clientSecret the gateway's "
        "payment form needs.",
    )


def wanted(lines: list[CartLineInput] | None) -> list[services.LineWanted]:
    return [(pk_from_global_id(line.variant_id, "ProductVariant"), line.quantity)
            for line in lines or []]


@strawberry.type
class CheckoutMutation:
    @payload_mutation(
        extensions=[Public()],
        description="A new cart. A signed-in customer's cart is theirs (me.cart); one who "
        "already has an active cart gets it back with the lines added.",
    )
    def cart_create(self, info: Info, input: CartCreateInput) -> CartCreatePayload:
        cart = services.cart_create(user=current_user(info), email=input.email,
                                    lines=wanted(input.lines))
        return CartCreatePayload(cart=cart)

    @payload_mutation(
        extensions=[Public()],
        description="Add variants; one already in the cart adds to its line. More than is "
        "available is INSUFFICIENT_STOCK and the cart is unchanged.",
    )
    def cart_lines_add(self, info: Info, token: UUID, lines: list[CartLineInput]
                       ) -> CartLinesAddPayload:
        cart = services.cart_lines_add(user=current_user(info), token=token,
                                       lines=wanted(lines))
        return CartLinesAddPayload(cart=cart)

    @payload_mutation(extensions=[Public()], description="Set quantities; 0 removes a line.")
    def cart_lines_update(self, info: Info, token: UUID, lines: list[CartLineUpdateInput]
                          ) -> CartLinesUpdatePayload:
        changes = [(pk_from_global_id(line.line_id, "CartLine"), line.quantity)
                   for line in lines]
        cart = services.cart_lines_update(user=current_user(info), token=token, lines=changes)
        return CartLinesUpdatePayload(cart=cart)

    @payload_mutation(extensions=[Public()])
    def cart_lines_remove(self, info: Info, token: UUID, line_ids: list[strawberry.ID]
                          ) -> CartLinesRemovePayload:
        ids = [pk_from_global_id(line_id, "CartLine") for line_id in line_ids]
        cart = services.cart_lines_remove(user=current_user(info), token=token, line_ids=ids)
        return CartLinesRemovePayload(cart=cart)

    @payload_mutation(
        extensions=[SignedIn()],
        description="Move the guest cart's lines into the signed-in customer's cart "
        "(quantities add up, capped at what is available, with a QUANTITY_CAPPED warning) "
        "and close it; a customer without a cart takes it over. Again changes nothing.",
    )
    def cart_merge(self, info: Info, token: UUID) -> CartMergePayload:
        cart = services.cart_merge(user=signed_in_user(info), token=token)
        return CartMergePayload(cart=cart)

    @payload_mutation(extensions=[Public()])
    def cart_email_update(self, info: Info, token: UUID, email: str) -> CartEmailUpdatePayload:
        cart = services.cart_email_update(user=current_user(info), token=token, email=email)
        return CartEmailUpdatePayload(cart=cart)

    @payload_mutation(
        extensions=[Public()],
        description="Put a coupon on the cart, in place of any other. One that does not apply "
        "is INVALID_COUPON, saying why.",
    )
    def cart_coupon_apply(self, info: Info, token: UUID, code: str) -> CartCouponApplyPayload:
        cart = services.cart_coupon_apply(user=current_user(info), token=token, code=code)
        return CartCouponApplyPayload(cart=cart)

    @payload_mutation(extensions=[Public()])
    def cart_coupon_remove(self, info: Info, token: UUID) -> CartCouponRemovePayload:
        cart = services.cart_coupon_remove(user=current_user(info), token=token)
        return CartCouponRemovePayload(cart=cart)

    @payload_mutation(
        extensions=[Public()],
        description="Replace the shipping address (checked as the address book checks one).",
    )
    def cart_shipping_address_update(self, info: Info, token: UUID, address: AddressInput
                                     ) -> CartShippingAddressUpdatePayload:
        cart = services.cart_shipping_address_update(user=current_user(info), token=token,
                                                     address=provided(address))
        return CartShippingAddressUpdatePayload(cart=cart)

    @payload_mutation(
        extensions=[Public()],
        description="Choose one of availableShippingMethods; a method that does not serve "
        "the address is refused.",
    )
    def cart_shipping_method_update(self, info: Info, token: UUID,
                                    shipping_method_id: strawberry.ID
                                    ) -> CartShippingMethodUpdatePayload:
        method_id = pk_from_global_id(shipping_method_id, "ShippingMethod")
        cart = services.cart_shipping_method_update(user=current_user(info), token=token,
                                                    method_id=method_id)
        return CartShippingMethodUpdatePayload(cart=cart)

    @payload_mutation(
        extensions=[Public()],
        description="Place the cart's order and pay for it, all or nothing: a declined "
        "payment (PAYMENT_DECLINED) leaves the cart, the stock and the coupon as they were. "
        "The same cart completed again answers the same order. Too many declined payments "
        "for one email or from one address are THROTTLED for a while.",
    )
    def checkout_complete(self, info: Info, token: UUID, payment: PaymentInput
                          ) -> CheckoutCompletePayload:
        done = services.checkout_complete(user=current_user(info), token=token,
                                          gateway=payment.gateway, payment_token=payment.token,
                                          client_address=info.context.client_ip)
        return CheckoutCompletePayload(order=done.order, payment=done.payment)
