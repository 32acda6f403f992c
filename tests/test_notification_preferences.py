"""The opt-in emails: back-in-stock and price-drop notices for wishlisted
products (at most one a day per product and customer), the preferences that
turn them on (`me.notificationPreferences`, `notificationPreferencesUpdate`),
and the signed one-click unsubscribe link that turns them off without
signing in."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core import signing
from django.utils import timezone
from strawberry.relay import to_base64

from apps.accounts.permissions import Perm
from apps.catalog import services as catalog_services
from apps.notifications import services
from apps.notifications.models import Notification, NotificationPreferences
from apps.notifications.unsubscribe import SALT, unsubscribe_link
from tests import contract
from tests.conftest import client_for, error_codes, make_user, problems
from tests.factories import make_product, make_variant

pytestmark = pytest.mark.django_db

PREFERENCES = """
fragment Preferences on NotificationPreferences { orderEmails backInStock priceDrop marketing }
query MyPreferences { me { email notificationPreferences { ...Preferences } } }
mutation PreferencesUpdate($input: NotificationPreferencesInput!) {
  notificationPreferencesUpdate(input: $input) {
    preferences { ...Preferences }
    errors { field message code }
  }
}
"""
ALL_OFF = {"orderEmails": True, "backInStock": False, "priceDrop": False, "marketing": False}


@pytest.fixture(autouse=True)
def _shop(settings):
    settings.STOREFRONT_URL = "https://shop.example"
    settings.PUBLIC_URL = "https://api.shop.example"
    settings.DEFAULT_CURRENCY = "USD"


def my_preferences(client) -> dict:
    return client.execute(PREFERENCES, operation_name="MyPreferences")["me"][
        "notificationPreferences"]


def update(client, **fields) -> dict:
    return client.execute(PREFERENCES, {"input": fields},
                          operation_name="PreferencesUpdate")["notificationPreferencesUpdate"]


def wisher(*, product, back_in_stock=True, price_drop=True, **extra):
    """A customer with `product` on their wishlist and the notices they chose."""
    customer = make_user(**extra)
    customer.wishlist_items.create(product=product)
    services.notification_preferences_update(user=customer, back_in_stock=back_in_stock,
                                             price_drop=price_drop)
    return customer


def catalog_document() -> str:
    return contract.operations("admin/catalog.graphql", "StockAdjust", "ProductVariantUpdate")


def stock_adjust(staff, variant, delta: int) -> None:
    # A token of the moment: the tests move the clock by days.
    data = client_for(staff).execute(catalog_document(), {
        "variantId": to_base64("ProductVariant", variant.pk), "delta": delta, "reason": "count"},
        operation_name="StockAdjust")
    assert data["stockAdjust"]["errors"] == []


def reprice(staff, variant, price: str) -> None:
    data = client_for(staff).execute(catalog_document(), {
        "id": to_base64("ProductVariant", variant.pk), "input": {"price": price}},
        operation_name="ProductVariantUpdate")
    assert data["productVariantUpdate"]["errors"] == []


@pytest.fixture
def catalog_staff():
    return make_user(perms=[Perm.MANAGE_PRODUCTS])


# --- Preferences through the endpoint -----------------------------------------------------


def test_opt_in_emails_are_off_until_turned_on(customer_client, customer):
    assert my_preferences(customer_client) == ALL_OFF
    assert not NotificationPreferences.objects.exists()  # reading writes nothing

    answer = update(customer_client, backInStock=True, marketing=True)
    assert answer == {"errors": [], "preferences": {**ALL_OFF, "backInStock": True,
                                                    "marketing": True}}
    # What is left out stays as it is.
    answer = update(customer_client, marketing=False)
    assert answer["preferences"] == {**ALL_OFF, "backInStock": True}
    assert my_preferences(customer_client) == {**ALL_OFF, "backInStock": True}
    stored = NotificationPreferences.objects.get(user=customer)
    assert (stored.back_in_stock, stored.price_drop, stored.marketing) == (True, False, False)


def test_order_emails_cannot_be_turned_off_and_null_is_invalid(customer_client):
    refused = customer_client.post(PREFERENCES, {"input": {"orderEmails": False}},
                                   operation_name="PreferencesUpdate")
    assert error_codes(refused) == ["BAD_USER_INPUT"]  # not a field of the input
    answer = update(customer_client, backInStock=True, priceDrop=None)
    assert problems(answer) == [("priceDrop", "INVALID")] and answer["preferences"] is None
    assert my_preferences(customer_client) == ALL_OFF  # nothing was written


def test_preferences_are_the_signed_in_users_own(client, customer, staff_client):
    anonymous = client.post(PREFERENCES, {"input": {"marketing": True}},
                            operation_name="PreferencesUpdate")
    assert error_codes(anonymous) == ["UNAUTHENTICATED"] and anonymous["data"] is None
    assert client.execute(PREFERENCES, operation_name="MyPreferences") == {"me": None}
    # Staff reading a customer see no preferences of theirs.
    node = staff_client.execute(
        "query($id: ID!) { node(id: $id) { ... on User { email notificationPreferences "
        "{ marketing } } } }", {"id": to_base64("User", customer.pk)})["node"]
    assert node == {"email": customer.email, "notificationPreferences": None}


# --- Back in stock ------------------------------------------------------------------------


def test_back_in_stock_tells_the_customers_who_asked_once_after_commit(
    catalog_staff, django_capture_on_commit_callbacks
):
    product = make_product(name="Oud")
    variant = make_variant(product=product, stock=0)
    asked = wisher(product=product, first_name="Ada")
    wisher(product=product, back_in_stock=False)  # wishes, but did not ask
    make_user()  # asked for nothing, wishes for nothing
    services.notification_preferences_update(user=make_user(), back_in_stock=True)  # not wishing

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        stock_adjust(catalog_staff, variant, 5)
    assert mail.outbox == [] and callbacks
    for callback in callbacks:
        callback()
    (notice,) = mail.outbox
    assert notice.to == [asked.email] and notice.subject == "Oud is back in stock"
    assert notice.body.startswith("Hello Ada,")
    assert f"https://shop.example/products/{product.slug}" in notice.body
    link = unsubscribe_link(user_id=asked.pk, topic="BACK_IN_STOCK")
    assert notice.extra_headers == {"List-Unsubscribe": f"<{link}>",
                                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    assert link in notice.body and link in notice.alternatives[0][0]
    assert Notification.objects.get().product_id == product.pk

    # More stock on top of some is not "back".
    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(catalog_staff, variant, 2)
    assert len(mail.outbox) == 1


def test_back_in_stock_at_most_once_a_day_per_product(
    catalog_staff, django_capture_on_commit_callbacks, time_machine
):
    time_machine.move_to("2026-05-01 09:00:00+00:00", tick=False)
    product = make_product()
    first, second = make_variant(product=product, stock=0), make_variant(product=product, stock=0)
    customer = wisher(product=product)

    def restock(variant) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            stock_adjust(catalog_staff, variant, 1)

    def sell_out(variant) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            stock_adjust(catalog_staff, variant, -1)

    restock(first)
    assert len(mail.outbox) == 1
    sell_out(first)
    time_machine.shift(timedelta(hours=23, minutes=59))
    restock(first)  # back again the same day
    restock(second)  # another variant of the same product
    assert len(mail.outbox) == 1

    time_machine.shift(timedelta(minutes=2))  # a day after the first notice
    sell_out(first)
    restock(first)
    assert [m.to for m in mail.outbox] == [[customer.email], [customer.email]]
    assert Notification.objects.filter(kind="BACK_IN_STOCK", status="SENT").count() == 2


def test_no_back_in_stock_for_an_unpublished_product_or_a_new_variant(
    catalog_staff, django_capture_on_commit_callbacks
):
    hidden = make_product(is_published=False)
    variant = make_variant(product=hidden, stock=0)
    wisher(product=hidden)
    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(catalog_staff, variant, 3)
    live = make_product()
    wisher(product=live)
    with django_capture_on_commit_callbacks(execute=True):
        catalog_services.variant_create(actor=None, product=live, sku="NEW-1",
                                        price=Decimal("5"), stock=4)
    assert mail.outbox == [] and not Notification.objects.exists()


# --- Price drops ------------------------------------------------------------------------------


def test_a_price_drop_is_told_once_a_day_and_not_a_rise(
    catalog_staff, django_capture_on_commit_callbacks, time_machine
):
    time_machine.move_to("2026-05-01 09:00:00+00:00", tick=False)
    product = make_product(name="Vetiver")
    variant = make_variant(product=product, name="100 ml", price="40.00", stock=3)
    customer = wisher(product=product, back_in_stock=False)
    wisher(product=product, price_drop=False)

    with django_capture_on_commit_callbacks(execute=True):
        reprice(catalog_staff, variant, "45.00")
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        reprice(catalog_staff, variant, "35.00")
    (notice,) = mail.outbox
    assert notice.to == [customer.email] and notice.subject == "Vetiver now costs 35.00 USD"
    assert "now costs 35.00 USD instead of 45.00 USD" in notice.body
    assert "Unsubscribe" in notice.alternatives[0][0]
    assert "List-Unsubscribe" in notice.extra_headers

    with django_capture_on_commit_callbacks(execute=True):
        reprice(catalog_staff, variant, "30.00")  # lower again, the same day
    assert len(mail.outbox) == 1
    time_machine.shift(timedelta(days=1, seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        reprice(catalog_staff, variant, "29.00")
    assert len(mail.outbox) == 2


def test_a_price_raised_again_before_the_task_runs_is_not_told(
    django_capture_on_commit_callbacks
):
    product = make_product()
    variant = make_variant(product=product, price="20.00")
    wisher(product=product)
    with django_capture_on_commit_callbacks(execute=False) as late:
        catalog_services.variant_update(actor=None, variant=variant, price=Decimal("15.00"))
    catalog_services.variant_update(actor=None, variant=variant, price=Decimal("20.00"))
    for callback in late:
        callback()
    assert mail.outbox == []


def test_the_admin_form_compares_the_price_with_the_database(django_capture_on_commit_callbacks):
    """A ServiceForm sets the new price on the object before the service runs."""
    product = make_product()
    variant = make_variant(product=product, price="20.00")
    wisher(product=product)
    variant.price = Decimal("12.00")  # what the form leaves in memory
    with django_capture_on_commit_callbacks(execute=True):
        catalog_services.variant_update(actor=None, variant=variant, price=Decimal("12.00"))
    assert len(mail.outbox) == 1 and "instead of 20.00 USD" in mail.outbox[0].body


# --- Unsubscribing --------------------------------------------------------------------------


def link_of(message) -> str:
    return re.fullmatch(r"<(.+)>", message.extra_headers["List-Unsubscribe"]).group(1)


def path_of(link: str) -> str:
    assert link.startswith("https://api.shop.example/")
    return link.removeprefix("https://api.shop.example")


@pytest.fixture
def notice(catalog_staff, django_capture_on_commit_callbacks):
    """A back-in-stock notice a customer received: (the customer, the email)."""
    product = make_product()
    variant = make_variant(product=product, stock=0)
    customer = wisher(product=product)
    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(catalog_staff, variant, 1)
    (message,) = mail.outbox
    return customer, message


def wants(customer) -> tuple[bool, bool]:
    preferences = NotificationPreferences.objects.get(user=customer)
    return preferences.back_in_stock, preferences.price_drop


def test_one_click_unsubscribe_works_without_signing_in(client, notice):
    customer, message = notice
    path = path_of(link_of(message))

    page = client.request("GET", path)  # a mail scanner, or the customer's browser
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "Back in stock" in page.text and '<form method="post">' in page.text
    assert wants(customer) == (True, True)  # a GET changes nothing
    asked = client.request("GET", path, headers={"Accept": "application/json"})
    assert asked.json() == {"topic": "BACK_IN_STOCK", "subscribed": True}

    # What a mail client sends for List-Unsubscribe-Post (RFC 8058).
    done = client.request("POST", path, content=b"List-Unsubscribe=One-Click",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    assert wants(customer) == (False, True)  # only that topic
    again = client.request("POST", path, headers={"Accept": "application/json"})
    assert again.status_code == 200
    assert again.json() == {"topic": "BACK_IN_STOCK", "subscribed": False}
    assert my_preferences(client_for(customer)) == {**ALL_OFF, "priceDrop": True}


def test_an_unsubscribed_customer_gets_no_more_notices(
    client, notice, catalog_staff, django_capture_on_commit_callbacks, time_machine
):
    customer, message = notice
    assert client.request("POST", path_of(link_of(message))).status_code == 200
    time_machine.move_to(timezone.now() + timedelta(days=2), tick=False)  # past the daily limit
    variant = make_variant(product=customer.wishlist_items.get().product, stock=0)
    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(catalog_staff, variant, 1)
    assert len(mail.outbox) == 1


def signed(value) -> str:
    """Signed with the server's key: what only a bug could let through."""
    return signing.Signer(salt=SALT).sign_object(value)


def test_a_tampered_or_foreign_link_is_refused_and_changes_nothing(client, notice):
    customer, message = notice
    path = path_of(link_of(message))
    token = path.rstrip("/").rsplit("/", 1)[1]
    other = make_user()
    forged = [
        token[:-1] + ("A" if token[-1] != "A" else "B"),  # a changed signature
        signing.Signer(salt="another.salt").sign_object(
            {"user": other.pk, "topic": "BACK_IN_STOCK"}),
        signing.dumps({"user": other.pk, "topic": "BACK_IN_STOCK"}, salt=SALT),  # timestamped
        signed({"user": customer.pk, "topic": "ORDER"}),  # not opt-in
        signed({"user": 987654321, "topic": "BACK_IN_STOCK"}),  # no one
        signed({"user": "x", "topic": "BACK_IN_STOCK"}),
        signed({"user": customer.pk}),
        signed(["BACK_IN_STOCK"]),
        "garbage",
    ]
    for bad in forged:
        url = f"/notifications/unsubscribe/{bad}/"
        refused = client.request("POST", url, headers={"Accept": "application/json"})
        assert refused.status_code == 400, bad
        assert refused.json() == {"error": "This unsubscribe link is not valid.",
                                  "code": "INVALID_TOKEN"}
        page = client.request("GET", url)
        assert page.status_code == 400 and "This link does not work" in page.text
    assert wants(customer) == (True, True)
    assert client.request("PUT", path).status_code == 405


def test_marketing_has_its_own_link():
    customer = make_user()
    services.notification_preferences_update(user=customer, marketing=True,
                                             back_in_stock=True)
    link = unsubscribe_link(user_id=customer.pk, topic="MARKETING")
    subscription = services.notifications_unsubscribe(token=link.rstrip("/").rsplit("/", 1)[1])
    assert (subscription.topic, subscription.subscribed) == ("MARKETING", False)
    preferences = NotificationPreferences.objects.get(user=customer)
    assert (preferences.marketing, preferences.back_in_stock) == (False, True)
