"""The body of a delivery: Standard Webhooks' shape, `{"type", "timestamp",
"data"}`, with the object the event is about as the API would describe it
(camelCase names, IDs as the API's global IDs, money as a decimal string and
its currency).

The data is read when the delivery is made, just after the change committed,
and kept on the delivery: every attempt sends the same body.

An order whose email was erased (its account deleted, or its record past
its retention: apps.privacy) is told of without the person, and the bodies
kept of it before are rewritten so (`erased_order_data`): the webhooks' log
is no invoice, and has no reason to keep a name the person asked to lose.
"""

import base64
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from apps.catalog.models import Category, Product, ProductVariant
from apps.core import events
from apps.core.erased import KEPT_OF_ADDRESS, erased_email, is_erased
from apps.core.money import Money, shop_currency
from apps.inventory.selectors import variant_quantity_available
from apps.orders.models import Order
from apps.webhooks.event_types import WebhookEventType

JSON = dict[str, Any]


def global_id(type_name: str, pk: int) -> str:
    """The ID the API gives the object (a Relay global ID, base64 of
    "Type:pk"), so that an integration can ask `node(id:)` for more."""
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode("ascii")


def moment(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def money(amount: Decimal, currency: str) -> JSON:
    value = Money.of(amount, currency)
    return {"amount": str(value.amount), "currency": value.currency}


# The order's shipping address as a body has it: its key there, the Order's field.
ADDRESS_FIELDS = {
    "firstName": "shipping_first_name",
    "lastName": "shipping_last_name",
    "company": "shipping_company",
    "streetAddress1": "shipping_street_address_1",
    "streetAddress2": "shipping_street_address_2",
    "city": "shipping_city",
    "postalCode": "shipping_postal_code",
    "countryArea": "shipping_country_area",
    "country": "shipping_country",
    "phone": "shipping_phone",
}
def _without_person(address: JSON) -> JSON:
    return {key: value if key == KEPT_OF_ADDRESS else "" for key, value in address.items()}


def erased_order_data(data: JSON, *, order_id: int) -> JSON:
    """An order's data as a delivery keeps it (`order_data`), without the
    person: the email the order has once erased, the address blank but for
    its country. What a body does not have (one of an order that was gone)
    stays missing."""
    erased = dict(data)
    if "email" in erased:
        erased["email"] = erased_email("order", order_id)
    if isinstance(erased.get("shippingAddress"), dict):
        erased["shippingAddress"] = _without_person(erased["shippingAddress"])
    return erased


def order_id_of(event: events.Event) -> int | None:
    """The order the event is about; None when it is about something else."""
    if isinstance(event, events.OrderPlaced | events.OrderChanged):
        return event.order_id
    return None


def order_data(order_id: int) -> JSON:
    order = Order.objects.prefetch_related("lines").filter(pk=order_id).first()
    if order is None:
        return {"id": global_id("Order", order_id)}

    def price(amount: Decimal) -> JSON:
        return money(amount, order.currency)

    address = {key: getattr(order, field) for key, field in ADDRESS_FIELDS.items()}
    return {
        "id": global_id("Order", order.pk),
        "number": order.number,
        "status": order.status,
        "paymentStatus": order.payment_status,
        "email": order.email,
        "subtotal": price(order.subtotal),
        "discount": price(order.discount),
        "shippingPrice": price(order.shipping_price),
        "tax": price(order.tax),
        "total": price(order.total),
        "totalRefunded": price(order.total_refunded),
        "couponCode": order.coupon_code or None,
        "shippingMethodName": order.shipping_method_name,
        "trackingNumber": order.tracking_number or None,
        "shippingAddress": _without_person(address) if is_erased(order.email) else address,
        "lines": [
            {
                "sku": line.sku,
                "productName": line.product_name,
                "variantName": line.variant_name,
                "quantity": line.quantity,
                "unitPrice": price(line.unit_price),
                "discount": price(line.discount),
                "total": price(line.total),
                "tax": price(line.tax),
            }
            for line in order.lines.all()
        ],
        "createdAt": moment(order.created_at),
        "updatedAt": moment(order.updated_at),
    }


def product_data(product_id: int) -> JSON:
    product = (Product.objects.select_related("category").prefetch_related("variants")
               .filter(pk=product_id).first())
    if product is None:
        return {"id": global_id("Product", product_id)}
    return {
        "id": global_id("Product", product.pk),
        "name": product.name,
        "slug": product.slug,
        "isPublished": product.is_published,
        "isDeleted": product.deleted_at is not None,
        "category": None if product.category is None else product.category.slug,
        "variants": [
            {"id": global_id("ProductVariant", variant.pk), "sku": variant.sku,
             "name": variant.name, "price": money(variant.price, shop_currency())}
            for variant in product.variants.all()
        ],
        "updatedAt": moment(product.updated_at),
    }


def category_data(category_id: int) -> JSON:
    """A category as it is now; one gone was deleted (categories are deleted
    for good, products only softly)."""
    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        return {"id": global_id("Category", category_id), "isDeleted": True}
    parent = Category.objects.get_parent(category, update=True)
    return {
        "id": global_id("Category", category.pk),
        "name": category.name,
        "slug": category.slug,
        "isDeleted": False,
        "parent": None if parent is None else {"id": global_id("Category", parent.pk),
                                               "slug": parent.slug},
        "updatedAt": moment(category.updated_at),
    }


def stock_change_data(event: events.StockChanged) -> JSON:
    """The change itself, as it was (availability before and after, over the
    variant's warehouses), and the variant as it is now."""
    variant = ProductVariant.objects.select_related("product").filter(pk=event.variant_id).first()
    return {
        "variant": {"id": global_id("ProductVariant", event.variant_id),
                    "sku": None if variant is None else variant.sku,
                    "name": None if variant is None else variant.name},
        "product": {"id": global_id("Product", event.product_id),
                    "name": None if variant is None else variant.product.name},
        "availableBefore": event.available_before,
        "availableAfter": event.available_after,
    }


def stock_data(variant_id: int) -> JSON:
    variant = ProductVariant.objects.select_related("product").filter(pk=variant_id).first()
    if variant is None:
        return {"variant": {"id": global_id("ProductVariant", variant_id)}}
    return {
        "variant": {"id": global_id("ProductVariant", variant.pk), "sku": variant.sku,
                    "name": variant.name},
        "product": {"id": global_id("Product", variant.product_id),
                    "name": variant.product.name},
        "quantityAvailable": variant_quantity_available(variant_id=variant.pk),
        "lowStockThreshold": variant.low_stock_threshold,
    }


def event_data(event: events.Event) -> JSON:
    """What the event is about, as it is now."""
    if (order_id := order_id_of(event)) is not None:
        return order_data(order_id)
    if isinstance(event, events.ProductMoved | events.ProductCreated):
        return product_data(event.product_id)
    if isinstance(event, events.ProductChanged):
        # What changed: "product", "variants", "media" or "reviews".
        return {**product_data(event.product_id), "changed": event.part}
    if isinstance(event, events.CategoryChanged):
        return category_data(event.category_id)
    if isinstance(event, events.StockChanged):
        return stock_change_data(event)
    if isinstance(event, events.StockFellLow):
        return stock_data(event.variant_id)
    raise TypeError(f"No webhook data for {type(event).__name__}.")


def payload(*, event_type: WebhookEventType, event: events.Event, occurred_at: datetime) -> JSON:
    return {"type": str(event_type), "timestamp": moment(occurred_at), "data": event_data(event)}
