"""The order desk in the Django admin: orders and carts to look up, read-only
(their states change only through their services), and the shipping and tax
pages deleting through their services as they write through them."""

from decimal import Decimal

import pytest

from apps.checkout.models import Cart, CartLine
from apps.orders.models import Order, Payment, Refund
from apps.shipping import services as shipping
from apps.shipping.models import ShippingMethod, ShippingZone
from apps.taxes import services as taxes
from apps.taxes.models import TaxRate
from tests.conftest import make_user
from tests.factories import make_order, make_product, make_variant

pytestmark = pytest.mark.django_db


@pytest.fixture
def variant():
    return make_variant(product=make_product(name="Rose oil"), sku="ROSE-10", stock=20)


@pytest.fixture
def paid(variant):
    order = make_order(lines=[(variant, 2)], email="ada@example.com", status="PROCESSING",
                       payment_status="PARTIALLY_REFUNDED")
    Refund.objects.create(payment=Payment.objects.get(order=order), amount=Decimal("3.00"),
                          status=Refund.Status.SUCCEEDED, idempotency_key="r-1",
                          reason="Scratched box")
    return order


def test_the_order_list_filters_and_searches(admin_client, variant, paid):
    other = make_order(lines=[(variant, 1)], email="grace@example.com")
    response = admin_client.get("/admin/orders/order/")
    assert response.status_code == 200
    assert {o.pk for o in response.context["cl"].result_list} == {paid.pk, other.pk}

    def found(query: str) -> set[int]:
        response = admin_client.get(f"/admin/orders/order/?{query}")
        assert response.status_code == 200
        return {o.pk for o in response.context["cl"].result_list}

    assert found("status__exact=PROCESSING") == {paid.pk}
    assert found("payment_status__exact=NOT_CHARGED") == {other.pk}
    assert found(f"q={paid.number}") == {paid.pk}
    assert found("q=grace@") == {other.pk}


def test_an_order_page_shows_its_lines_events_and_payments(admin_client, paid):
    response = admin_client.get(f"/admin/orders/order/{paid.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    for shown in ("ROSE-10", "Rose oil", "12 Analytical Row", "Placed", "dummy-",
                  "3.00 (Succeeded,", "Standard"):
        assert shown in page, shown
    # A view, not a form: nothing on it can be saved.
    assert 'name="_save"' not in page
    inlines = response.context["inline_admin_formsets"]
    assert [len(inline.formset.forms) for inline in inlines] == [1, 1, 1]


def test_orders_are_not_written_here(admin_client, paid):
    assert admin_client.get("/admin/orders/order/add/").status_code == 403
    response = admin_client.post(f"/admin/orders/order/{paid.pk}/change/",
                                 {"status": "CANCELLED", "email": "x@example.com"})
    assert response.status_code == 403
    assert admin_client.post(f"/admin/orders/order/{paid.pk}/delete/",
                             {"post": "yes"}).status_code == 403
    paid.refresh_from_db()
    assert (paid.status, paid.email) == ("PROCESSING", "ada@example.com")
    # Bulk actions are the order services' moves only, never a delete.
    actions = admin_client.get("/admin/orders/order/").context["action_form"].fields["action"]
    assert [name for name, _ in actions.choices if name] == ["fulfil", "mark_delivered", "cancel"]
    assert Order.objects.count() == 1


def test_the_actions_move_orders_through_the_services(admin_client, variant, paid):
    pending = make_order(lines=[(variant, 1)], email="grace@example.com")

    def act(action: str, *orders: Order) -> list[str]:
        response = admin_client.post("/admin/orders/order/", {
            "action": action, "_selected_action": [o.pk for o in orders]}, follow=True)
        assert response.status_code == 200
        return [str(m) for m in response.context["messages"]]

    said = act("fulfil", paid, pending)
    assert "Shipped 1 order(s)." in said
    assert any(m.startswith(f"#{pending.number}: A pending order") for m in said), said
    paid.refresh_from_db()
    assert paid.status == "SHIPPED"
    assert paid.events.last().actor.is_superuser
    assert act("mark_delivered", paid) == ["Delivered 1 order(s)."]
    assert act("cancel", pending) == ["Cancelled 1 order(s)."]
    pending.refresh_from_db()
    assert pending.status == "CANCELLED"
    assert variant.stocks.get().quantity_allocated == 0
    assert variant.stocks.get().quantity_on_hand == 18


def test_the_actions_need_the_orders_permission(paid):
    from django.contrib.auth.models import Permission
    from django.test import Client

    from apps.accounts.permissions import Perm

    client = Client()

    clerk = make_user(email="clerk@example.com", perms=[Perm.MANAGE_PRODUCTS])
    clerk.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(clerk)
    page = client.get("/admin/orders/order/")
    assert page.status_code == 200
    assert page.context["action_form"] is None
    client.post("/admin/orders/order/", {"action": "cancel", "_selected_action": [paid.pk]})
    paid.refresh_from_db()
    assert paid.status == "PROCESSING"


def test_refunds_are_listed_with_their_order(admin_client, paid):
    response = admin_client.get("/admin/orders/refund/?q=" + paid.number)
    assert response.status_code == 200
    assert f"#{paid.number}" in response.content.decode()
    refund = Refund.objects.get()
    assert admin_client.get(f"/admin/orders/refund/{refund.pk}/change/").status_code == 200


def test_carts_with_their_lines(admin_client, variant):
    ada = make_user(email="ada@example.com")
    cart = Cart.objects.create(user=ada, email=ada.email, shipping_city="London",
                               shipping_country="GB")
    CartLine.objects.create(cart=cart, variant=variant, quantity=3,
                            price_when_added=variant.price)
    Cart.objects.create(email="guest@example.com", state="ABANDONED")
    response = admin_client.get("/admin/checkout/cart/?state__exact=ACTIVE")
    assert response.status_code == 200
    assert [c.pk for c in response.context["cl"].result_list] == [cart.pk]
    assert response.context["cl"].result_list[0].line_count == 1
    assert admin_client.get(f"/admin/checkout/cart/?q={cart.token}").context[
        "cl"].result_count == 1
    response = admin_client.get(f"/admin/checkout/cart/{cart.pk}/change/")
    assert response.status_code == 200
    assert "ROSE-10" in response.content.decode() and "London" in response.content.decode()
    assert admin_client.get("/admin/checkout/cart/add/").status_code == 403
    assert admin_client.post(f"/admin/checkout/cart/{cart.pk}/change/",
                             {"email": "x@example.com"}).status_code == 403


def test_shipping_and_tax_are_deleted_through_their_services(admin_client, monkeypatch):
    calls = []
    for module, name in ((shipping, "shipping_zone_delete"), (shipping, "shipping_method_delete"),
                         (taxes, "tax_rate_delete")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda real=real, name=name, **kwargs: (
            calls.append(name), real(**kwargs))[1])
    europe = shipping.shipping_zone_create(actor=None, name="Europe", countries=["FR"])
    asia = shipping.shipping_zone_create(actor=None, name="Asia", countries=["JP"])
    method = shipping.shipping_method_create(actor=None, zone=asia, name="Standard",
                                             price=Decimal("4.00"))
    rate = taxes.tax_rate_create(actor=None, country="FR", rate=Decimal("20"))

    response = admin_client.post(f"/admin/shipping/shippingmethod/{method.pk}/delete/",
                                 {"post": "yes"})
    assert response.status_code == 302
    response = admin_client.post("/admin/shipping/shippingzone/", {
        "action": "delete_selected", "_selected_action": [europe.pk, asia.pk], "post": "yes"})
    assert response.status_code == 302
    response = admin_client.post(f"/admin/taxes/taxrate/{rate.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert calls == ["shipping_method_delete", "shipping_zone_delete", "shipping_zone_delete",
                     "tax_rate_delete"]
    assert not (ShippingZone.objects.exists() or ShippingMethod.objects.exists()
                or TaxRate.objects.exists())
