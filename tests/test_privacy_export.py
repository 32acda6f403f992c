"""accountDataExport: one JSON file of everything the shop holds about the
customer, built by a Celery task after the commit, kept in the private
storage (never under MEDIA_ROOT or its URL) and emailed as a signed link
that expires; the download view refuses forged and expired links."""

import json
import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from apps.accounts import services as account_services
from apps.accounts.models import Address, User
from apps.checkout.models import Cart
from apps.core.models import OutboxEvent
from apps.notifications.models import Kind, Notification, NotificationPreferences
from apps.notifications.unsubscribe import unsubscribe_token
from apps.notifications.models import Topic
from apps.notifications.services import notification_resend
from apps.orders.models import Order
from apps.privacy import links, services, tasks
from apps.privacy.models import AccountDataExport
from apps.privacy.sections import SECTIONS
from apps.privacy.storage import private_storage
from apps.wishlist.models import WishlistItem
from tests.conftest import Client, client_for, error_codes, make_user, problems
from tests.factories import make_order, make_product, make_review, make_variant

pytestmark = pytest.mark.django_db

EXPORT = """
mutation { accountDataExport { requested errors { field message code } } }"""


@pytest.fixture(autouse=True)
def _shop(settings, tmp_path):
    # Each test's exports in a folder of its own, removed with it.
    settings.STORAGES = {**settings.STORAGES, "private": {
        **settings.STORAGES["private"], "OPTIONS": {"location": str(tmp_path / "private")}}}
    settings.STOREFRONT_URL = "https://shop.example"
    settings.PUBLIC_URL = "https://api.shop.example"
    settings.DEFAULT_CURRENCY = "USD"
    settings.ORDER_NUMBER_OFFSET = 1000
    settings.PAYMENT_GATEWAYS = ["dummy"]


def customer_with_data(marker: str, *, status: str = "DELIVERED") -> User:
    """A customer with a row in every section, each carrying `marker`."""
    user = make_user(email=f"{marker}@example.com", first_name=marker.title(),
                     last_name="Tester")
    Address.objects.create(user=user, first_name=marker, last_name="Tester",
                           street_address_1=f"1 {marker} Street", city="London", country="GB")
    product = make_product(name=f"{marker} lamp")
    variant = make_variant(product=product, stock=10)
    order = make_order(lines=[(variant, 1)], user=user, status=status, payment_status="PAID")
    Order.objects.filter(pk=order.pk).update(shipping_street_address_1=f"2 {marker} Road")
    make_review(product=product, user=user, title=f"{marker} review", verified_purchase=True)
    WishlistItem.objects.create(user=user, product=product)
    Cart.objects.create(user=user, email=user.email, shipping_city=f"{marker} town")
    NotificationPreferences.objects.create(user=user, back_in_stock=True)
    Notification.objects.create(kind=Kind.ORDER_CONFIRMATION, event_id=uuid.uuid4(),
                                recipient=user.email, user=user, order=order,
                                status=Notification.Status.SENT)
    account_services.sign_in_complete(user=user, method="password")
    return user


def export_link_in(message) -> str:
    match = re.search(r"https://api\.shop\.example(/privacy/exports/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def request_export(client: Client, capture) -> dict:
    before = len(mail.outbox)
    with capture(execute=True):
        payload = client.execute(EXPORT)["accountDataExport"]
        assert len(mail.outbox) == before  # nothing is sent before the commit
    return payload


def download(path: str):
    return Client().request("GET", path)


def test_the_export_holds_every_section_of_the_customer_and_nothing_of_another(
        django_capture_on_commit_callbacks):
    ada = customer_with_data("ada")
    customer_with_data("grace")
    payload = request_export(client_for(ada), django_capture_on_commit_callbacks)
    assert payload == {"requested": True, "errors": []}

    (message,) = mail.outbox
    assert message.to == ["ada@example.com"]
    assert "2 days" in message.body
    assert Notification.objects.filter(kind=Kind.ACCOUNT_DATA_EXPORT, recipient=ada.email,
                                       status=Notification.Status.SENT).exists()
    response = download(export_link_in(message))
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Content-Type"] == "application/json"
    data = json.loads(response.content)

    assert set(data) == {"format", "generated_at", "shop", *(name for name, _ in SECTIONS)}
    assert data["profile"]["email"] == "ada@example.com"
    assert "password" not in data["profile"]
    assert [a["street_address_1"] for a in data["addresses"]] == ["1 ada Street"]
    (order,) = data["orders"]
    assert order["shipping_street_address_1"] == "2 ada Road"
    assert [line["product_name"] for line in order["lines"]] == ["ada lamp"]
    assert order["history"] and order["payments"][0]["gateway"] == "dummy"
    assert [r["title"] for r in data["reviews"]] == ["ada review"]
    assert [w["product__name"] for w in data["wishlist"]] == ["ada lamp"]
    assert [c["shipping_city"] for c in data["carts"]] == ["ada town"]
    assert data["notification_preferences"]["back_in_stock"] is True
    (session,) = data["sessions"]
    assert session["active"] is True and "token_hash" not in session
    assert session["method"] == "password"
    assert [(a["reason"], a["succeeded"]) for a in data["sign_in_history"]] == [("OK", True)]
    assert data["two_factor"] == {"enabled": False, "enabled_at": None,
                                  "recovery_codes_left": 0}
    assert data["external_identities"] == []
    assert {n["kind"] for n in data["notifications"]} == {"ORDER_CONFIRMATION"}
    assert "grace" not in response.text.lower()


def test_the_file_is_in_the_private_storage_not_under_the_media_root(
        django_capture_on_commit_callbacks):
    ada = customer_with_data("ada")
    request_export(client_for(ada), django_capture_on_commit_callbacks)
    export = AccountDataExport.objects.get(user=ada)
    assert export.status == AccountDataExport.Status.READY and export.size > 0
    path = Path(private_storage().path(export.file_name)).resolve()
    assert path.is_file()
    assert not path.is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    with pytest.raises(ValueError):
        private_storage().url(export.file_name)
    assert settings.MEDIA_URL.strip("/") not in export_link_in(mail.outbox[0])
    # The random name in the storage is not what the customer's link carries.
    assert Path(export.file_name).stem not in mail.outbox[0].body


def test_an_expired_link_is_refused_and_the_file_is_deleted_by_beat(
        django_capture_on_commit_callbacks, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    ada = customer_with_data("ada")
    request_export(client_for(ada), django_capture_on_commit_callbacks)
    link = export_link_in(mail.outbox[0])
    export = AccountDataExport.objects.get(user=ada)

    time_machine.shift(timedelta(seconds=settings.ACCOUNT_EXPORT_LINK_MAX_AGE - 60))
    assert tasks.delete_expired_exports() == 0
    assert download(link).status_code == 200

    time_machine.shift(timedelta(seconds=120))
    response = download(link)
    assert response.status_code == 403
    assert response.json()["code"] == "INVALID_TOKEN"
    name = export.file_name
    assert tasks.delete_expired_exports() == 1
    export.refresh_from_db()
    assert export.status == AccountDataExport.Status.EXPIRED and export.file_name == ""
    assert not private_storage().exists(name)
    assert download(link).status_code == 403


def test_forged_and_foreign_links_are_not_found(django_capture_on_commit_callbacks):
    ada = customer_with_data("ada")
    request_export(client_for(ada), django_capture_on_commit_callbacks)
    link = export_link_in(mail.outbox[0])
    token = link.removeprefix("/privacy/exports/").rstrip("/")
    export = AccountDataExport.objects.get(user=ada)
    forged = [
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # the signature changed
        links.export_link_token(export_id=export.pk).replace(":", "x", 1),
        unsubscribe_token(user_id=ada.pk, topic=Topic.BACK_IN_STOCK),  # another salt
        links.export_link_token(export_id=export.pk + 1000),  # no such export
        "nonsense",
    ]
    for bad in forged:
        response = download(f"/privacy/exports/{bad}/")
        assert response.status_code == 404, bad
        assert response.json()["code"] == "INVALID_TOKEN"
    assert download(link).status_code == 200


def test_one_export_at_a_time_and_each_event_builds_once(django_capture_on_commit_callbacks):
    ada = customer_with_data("ada")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.account_data_export_request(user=ada)
        payload = client_for(ada).execute(EXPORT)["accountDataExport"]
    assert payload["requested"] is False
    assert problems(payload) == [(None, "THROTTLED")]
    assert AccountDataExport.objects.filter(user=ada).count() == 1
    assert mail.outbox == []
    for callback in callbacks:
        callback()

    export = AccountDataExport.objects.get(user=ada)
    assert export.status == AccountDataExport.Status.READY and len(mail.outbox) == 1
    # The outbox handing the event over again builds nothing and sends nothing more.
    event = OutboxEvent.objects.get(type="AccountDataExportRequested")
    assert tasks.send_account_data_export(str(event.pk), export.pk) == 0
    export.refresh_from_db()
    assert len(mail.outbox) == 1 and export.status == AccountDataExport.Status.READY
    # Once it is ready, another may be asked for.
    request_export(client_for(ada), django_capture_on_commit_callbacks)
    assert AccountDataExport.objects.filter(user=ada).count() == 2 and len(mail.outbox) == 2


def test_anonymous_callers_are_refused(client):
    assert error_codes(client.post(EXPORT)) == ["UNAUTHENTICATED"]
    assert AccountDataExport.objects.count() == 0


def test_a_failed_export_email_is_sent_again_from_the_log(django_capture_on_commit_callbacks):
    ada = customer_with_data("ada")
    request_export(client_for(ada), django_capture_on_commit_callbacks)
    notification = Notification.objects.get(kind=Kind.ACCOUNT_DATA_EXPORT)
    Notification.objects.filter(pk=notification.pk).update(status=Notification.Status.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        notification_resend(notification=notification)
    assert len(mail.outbox) == 2 and mail.outbox[1].to == ["ada@example.com"]
    assert download(export_link_in(mail.outbox[1])).status_code == 200
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT
    assert AccountDataExport.objects.filter(user=ada).count() == 1  # not built again
