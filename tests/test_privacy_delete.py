"""accountDeleteRequest emails a confirmation token; accountDelete(token)
erases the account: refused while an order is on its way (nothing changed),
otherwise the person's data goes, their sessions end at once, orders stay
for the books with their address snapshot and no link to the person, and
reviews stay, signed "A former customer"."""

import re
from datetime import timedelta
from urllib.parse import unquote

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from apps.accounts import services as account_services
from apps.accounts.models import Address, RefreshToken, User
from apps.catalog.models import Review
from apps.checkout.models import Cart
from apps.core.erased import is_erased
from apps.core.errors import ServiceError
from apps.core.models import OutboxEvent
from apps.notifications import tasks as notification_tasks
from apps.notifications.models import Kind, Notification, NotificationPreferences
from apps.orders.models import Order
from apps.privacy import links, services, tasks
from apps.privacy.models import AccountDataExport
from apps.privacy.storage import private_storage
from apps.wishlist.models import WishlistItem
from tests.concurrency import in_threads, keeps_default_warehouse  # noqa: F401 - a fixture
from tests.conftest import Client, client_for, error_codes, make_user, problems
from tests.factories import make_order, make_product, make_variant
from tests.test_privacy_export import EXPORT, _shop, customer_with_data  # noqa: F401 - _shop: autouse

pytestmark = pytest.mark.django_db

REQUEST = """
mutation { accountDeleteRequest { requested errors { field message code } } }"""
DELETE = """
mutation ($token: String!) { accountDelete(token: $token) { deleted errors { field message code } } }"""
REFRESH = """
mutation ($refreshToken: String!) {
  refreshToken(refreshToken: $refreshToken) { token errors { field message code } }
}"""
ME = "query { me { email } }"
REVIEWS = """
query ($slug: String!) {
  product(slug: $slug) { reviews(first: 10) { edges { node { title authorName } } } }
}"""


def token_in(message) -> str:
    match = re.search(r"https://shop\.example/account/delete\?token=(\S+)", message.body)
    assert match, message.body
    return unquote(match.group(1))


def request_deletion(client: Client, capture) -> dict:
    before = len(mail.outbox)
    with capture(execute=True):
        payload = client.execute(REQUEST)["accountDeleteRequest"]
        assert len(mail.outbox) == before  # sent after the commit
    return payload


def delete(token: str) -> dict:
    return Client().execute(DELETE, {"token": token})["accountDelete"]


def live_tokens(user: User) -> int:
    return RefreshToken.objects.filter(user=user, revoked_at__isnull=True).count()


def test_deletion_keeps_orders_unlinked_and_reviews_by_a_former_customer(
        django_capture_on_commit_callbacks):
    ada = customer_with_data("ada")
    grace = customer_with_data("grace")
    signed_in = account_services.sign_in_complete(user=ada, method="password")
    access = Client(token=signed_in.access_token)
    assert access.execute(ME)["me"]["email"] == "ada@example.com"
    order = Order.objects.get(user=ada)
    old_token = order.token
    review = Review.objects.get(user=ada)
    with django_capture_on_commit_callbacks(execute=True):  # an export waiting to expire
        client_for(ada).execute(EXPORT)
    export_file = AccountDataExport.objects.get(user=ada).file_name
    assert private_storage().exists(export_file)

    assert request_deletion(client_for(ada), django_capture_on_commit_callbacks) == {
        "requested": True, "errors": []}
    message = mail.outbox[-1]
    assert message.to == ["ada@example.com"] and "60 minutes" in message.body
    with django_capture_on_commit_callbacks(execute=True):
        assert delete(token_in(message)) == {"deleted": True, "errors": []}

    assert not User.objects.filter(pk=ada.pk).exists()
    order.refresh_from_db()
    assert order.user_id is None and is_erased(order.email) and order.token != old_token
    assert (order.shipping_first_name, order.shipping_street_address_1,
            order.shipping_country) == ("Ada", "2 ada Road", "GB")
    assert order.lines.count() == 1 and order.payments.count() == 1
    review.refresh_from_db()
    assert review.user_id is None
    shown = Client().execute(REVIEWS, {"slug": review.product.slug})["product"]["reviews"]
    assert [e["node"] for e in shown["edges"]] == [
        {"title": "ada review", "authorName": "A former customer"}]
    # Sessions end at once: the refresh token and the access token are refused.
    assert problems(Client().execute(REFRESH, {"refreshToken": signed_in.refresh_token})[
        "refreshToken"]) == [("refreshToken", "INVALID_TOKEN")]
    assert error_codes(access.post(ME)) == ["UNAUTHENTICATED"]
    assert RefreshToken.objects.filter(user_id=ada.pk).count() == 0
    for model in (Address, WishlistItem, Cart, NotificationPreferences):
        assert not model.objects.filter(user_id=ada.pk).exists(), model
    assert not Notification.objects.filter(recipient="ada@example.com").exists()
    assert Notification.objects.filter(kind=Kind.ORDER_CONFIRMATION, order=order).get().user_id \
        is None
    assert not private_storage().exists(export_file)
    assert not AccountDataExport.objects.filter(file_name=export_file).exists()
    assert OutboxEvent.objects.filter(type="AccountDeleted", payload={"user_id": ada.pk}).exists()
    # The other customer is untouched.
    assert Order.objects.get(user=grace).email == "grace@example.com"
    assert Review.objects.filter(user=grace).count() == 1 and live_tokens(grace) == 1
    # A later email about the kept order (a refund) goes nowhere.
    sent = len(mail.outbox)
    assert notification_tasks.send_order_email(
        "00000000-0000-0000-0000-000000000001", order.pk, Kind.ORDER_REFUNDED.value) == 0
    assert len(mail.outbox) == sent


@pytest.mark.parametrize("status", ["PENDING", "PROCESSING", "SHIPPED"])
def test_an_open_order_refuses_the_deletion_and_nothing_changes(
        status, django_capture_on_commit_callbacks):
    ada = customer_with_data("ada")
    product = make_product()
    open_order = make_order(lines=[(make_variant(product=product, stock=5), 1)], user=ada,
                            status=status,
                            payment_status="NOT_CHARGED" if status == "PENDING" else "PAID")
    payload = request_deletion(client_for(ada), django_capture_on_commit_callbacks)
    assert payload["requested"] is False
    assert problems(payload) == [(None, "ORDER_OPEN")]
    assert f"#{open_order.number}" in payload["errors"][0]["message"]
    assert mail.outbox == []

    # A token asked for before the order was placed is refused the same way.
    with django_capture_on_commit_callbacks(execute=True):
        payload = delete(links.delete_token(ada))
    assert payload["deleted"] is False and problems(payload) == [(None, "ORDER_OPEN")]
    assert User.objects.filter(pk=ada.pk, email="ada@example.com").exists()
    assert Order.objects.filter(user=ada).count() == 2
    assert Address.objects.filter(user=ada).count() == 1 and live_tokens(ada) == 1
    assert Review.objects.filter(user=ada).count() == 1
    assert not OutboxEvent.objects.filter(type="AccountDeleted").exists()


def test_bad_expired_and_used_tokens_are_invalid(django_capture_on_commit_callbacks,
                                                 time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    ada = make_user(email="ada@example.com")
    token = links.delete_token(ada)
    for bad in ["", "nonsense", token[:-3] + "abc", links.export_link_token(export_id=ada.pk)]:
        assert problems(delete(bad)) == [("token", "INVALID_TOKEN")], bad

    time_machine.shift(timedelta(seconds=settings.ACCOUNT_DELETE_TOKEN_MAX_AGE + 1))
    assert problems(delete(token)) == [("token", "INVALID_TOKEN")]
    assert User.objects.filter(pk=ada.pk).exists()

    token = links.delete_token(ada)
    with django_capture_on_commit_callbacks(execute=True):
        assert delete(token)["deleted"] is True
    assert problems(delete(token)) == [("token", "INVALID_TOKEN")]  # used


def test_a_password_change_spends_the_token():
    ada = make_user(email="ada@example.com")
    token = links.delete_token(ada)
    account_services.password_change(user=ada, old_password="correct-horse-battery",
                                      new_password="tangerine-elephant-42")
    assert problems(delete(token)) == [("token", "INVALID_TOKEN")]
    assert User.objects.filter(pk=ada.pk).exists()


def test_staff_accounts_are_not_deleted_this_way(django_capture_on_commit_callbacks):
    staff = make_user(email="sam@example.com", is_staff=True)
    payload = request_deletion(client_for(staff), django_capture_on_commit_callbacks)
    assert problems(payload) == [(None, "INVALID")] and mail.outbox == []
    with pytest.raises(ServiceError):
        services.account_delete(token=links.delete_token(staff))
    assert User.objects.filter(pk=staff.pk).exists()


def test_anonymous_callers_may_not_ask_for_a_deletion(client):
    assert error_codes(client.post(REQUEST)) == ["UNAUTHENTICATED"]


def test_order_records_lose_their_snapshot_after_the_retention(settings, time_machine):
    settings.ORDER_RECORDS_RETENTION_DAYS = 30
    time_machine.move_to(timezone.now(), tick=False)
    ada = make_user(email="ada@example.com")
    variant = make_variant(product=make_product(), stock=10)
    delivered = dict(status="DELIVERED", payment_status="PAID")
    old = timezone.now() - timedelta(days=31)
    guest_old = make_order(lines=[(variant, 1)], created_at=old, **delivered)
    guest_new = make_order(lines=[(variant, 1)], **delivered)
    customer_old = make_order(lines=[(variant, 1)], user=ada, created_at=old, **delivered)

    assert tasks.anonymise_old_order_records() == 1
    guest_old.refresh_from_db()
    assert is_erased(guest_old.email)
    assert (guest_old.shipping_first_name, guest_old.shipping_street_address_1,
            guest_old.shipping_country) == ("", "", "GB")
    assert guest_old.total > 0 and guest_old.lines.count() == 1
    for kept in (guest_new, customer_old):
        kept.refresh_from_db()
        assert kept.shipping_first_name == "Ada" and not is_erased(kept.email)
    assert tasks.anonymise_old_order_records() == 0  # once


@pytest.mark.postgresql
@pytest.mark.usefixtures("keeps_default_warehouse", "transactional_db")
def test_one_token_used_twice_at_once_deletes_once():
    ada = customer_with_data("ada")
    token = links.delete_token(ada)

    def use(index: int):
        return services.account_delete(token=token)

    results = in_threads(3, use)
    assert results.count(ada.pk) == 1, results
    refused = [result for result in results if isinstance(result, ServiceError)]
    assert [r.errors[0].code for r in refused] == ["INVALID_TOKEN", "INVALID_TOKEN"]
    assert not User.objects.filter(pk=ada.pk).exists()
    assert OutboxEvent.objects.filter(type="AccountDeleted").count() == 1
