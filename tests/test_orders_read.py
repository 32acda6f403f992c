"""Reading orders through the endpoint with the contract's own operations:
the detail by number, the guest's receipt by token, and who sees which."""

import uuid
from decimal import Decimal

import pytest

from apps.accounts.permissions import Perm
from tests import contract
from tests.conftest import Client, client_for, make_user
from tests.factories import make_order, make_product, make_variant

pytestmark = pytest.mark.django_db


def document() -> str:
    return contract.operations("storefront/orders.graphql", "OrderDetail", "OrderByToken")


def an_order(**extra):
    variant = make_variant(product=make_product(name="Rose"), name="50 ml", sku="ROSE-50",
                           price=Decimal("12.50"), stock=5)
    return make_order(lines=[(variant, 2)], tax_rate="0.2", **extra)


def detail(client, number: str):
    return client.execute(document(), {"number": number}, operation_name="OrderDetail")["order"]


def test_the_owner_reads_their_order_by_number():
    ada = make_user()
    order = an_order(user=ada)
    found = detail(client_for(ada), order.number)
    assert found["number"] == order.number and found["token"] == str(order.token)
    assert (found["status"], found["paymentStatus"]) == ("PENDING", "NOT_CHARGED")
    assert found["lines"] == [{
        "id": found["lines"][0]["id"], "productName": "Rose", "variantName": "50 ml",
        "sku": "ROSE-50", "quantity": 2,
        "unitPrice": {"amount": "12.50", "currency": "USD"},
        "total": {"amount": "25.00", "currency": "USD"},
    }]
    assert found["subtotal"]["amount"] == "25.00"
    assert found["shippingPrice"]["amount"] == "5.00"
    assert found["tax"]["amount"] == "6.00"
    assert found["total"]["amount"] == "36.00"
    assert found["discount"]["amount"] == "0.00"
    assert found["shippingAddress"]["city"] == "London"
    assert found["trackingNumber"] is None
    assert [event["type"] for event in found["events"]] == ["PLACED"]


def test_someone_elses_order_is_null_and_staff_see_it():
    order = an_order(user=make_user())
    assert detail(client_for(make_user()), order.number) is None
    assert detail(client_for(make_user(perms=[Perm.MANAGE_PRODUCTS])), order.number) is None
    assert detail(client_for(make_user()), "no such number") is None
    desk = client_for(make_user(perms=[Perm.MANAGE_ORDERS]))
    assert detail(desk, order.number)["number"] == order.number


def test_an_anonymous_caller_must_sign_in_to_read_by_number():
    order = an_order()
    result = Client().post(document(), {"number": order.number}, operation_name="OrderDetail")
    assert [e["extensions"]["code"] for e in result["errors"]] == ["UNAUTHENTICATED"]


def test_whoever_holds_the_token_reads_the_order():
    order = an_order(email="guest@example.com")
    found = Client().execute(document(), {"token": str(order.token)},
                             operation_name="OrderByToken")["orderByToken"]
    assert found["number"] == order.number and found["email"] == "guest@example.com"
    assert len(found["lines"]) == 1 and found["lines"][0]["sku"] == "ROSE-50"
    unknown = Client().execute(document(), {"token": str(uuid.uuid4())},
                               operation_name="OrderByToken")
    assert unknown["orderByToken"] is None
