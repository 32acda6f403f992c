"""The shop's emails (apps.notifications): each kind sent once, after the
commit, by a Celery task a handler of its outbox event enqueued; logged as a
Notification row; retried with backoff when the mail server fails; never sent
twice for one event. The wishlist notices and the preferences are in
tests/test_notification_preferences.py."""

import uuid

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone
from strawberry.relay import to_base64

from apps.accounts import services as account_services
from apps.accounts.permissions import Perm
from apps.core import events
from apps.core.models import OutboxEvent
from apps.inventory import services as inventory
from apps.notifications import tasks
from apps.notifications.models import Kind, Notification
from apps.orders.services.transitions import order_transition
from apps.orders.transitions import Move
from tests import contract
from tests.concurrency import in_threads, keeps_default_warehouse  # noqa: F401 - a fixture
from tests.conftest import client_for, make_user
from tests.factories import make_order, make_product, make_variant
from tests.test_checkout import complete, ready_cart, stocked

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _shop(settings):
    settings.STOREFRONT_URL = "https://shop.example"
    settings.PUBLIC_URL = "https://api.shop.example"
    settings.DEFAULT_COUNTRY = "US"
    settings.DEFAULT_CURRENCY = "USD"
    settings.ORDER_NUMBER_OFFSET = 1000
    settings.PAYMENT_GATEWAYS = ["dummy"]


def logged(kind: Kind | None = None) -> list[tuple[str, str, str, int]]:
    """The log as (kind, recipient, status, attempts), oldest first."""
    rows = Notification.objects.order_by("created_at", "id")
    if kind is not None:
        rows = rows.filter(kind=kind)
    return list(rows.values_list("kind", "recipient", "status", "attempts"))


def html_of(message) -> str:
    (html, mimetype), = message.alternatives
    assert mimetype == "text/html"
    return html


class FlakySMTP:
    """The locmem backend refusing the first `failures` messages, as a mail
    server that is down and comes back."""

    def __init__(self, monkeypatch, failures: int):
        self.left = failures
        self.calls = 0
        original = EmailBackend.send_messages

        def send_messages(backend, messages):
            self.calls += 1
            if self.left:
                self.left -= 1
                raise ConnectionRefusedError(111, "Connection refused")
            return original(backend, messages)

        monkeypatch.setattr(EmailBackend, "send_messages", send_messages)


# --- Account emails ----------------------------------------------------------------------


def test_account_emails_are_logged_and_have_an_html_part(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        user = account_services.account_register(email="ada@example.com",
                                                 password="analytical-engine-1843",
                                                 first_name="Ada")
    assert mail.outbox == [] and not Notification.objects.exists()  # not before the commit
    callbacks[0]()
    with django_capture_on_commit_callbacks(execute=True):
        account_services.password_reset_request(email="ada@example.com")
    assert logged() == [("ACCOUNT_CONFIRMATION", "ada@example.com", "SENT", 1),
                        ("PASSWORD_RESET", "ada@example.com", "SENT", 1)]
    confirmation, reset = mail.outbox
    assert confirmation.body.startswith("Hello Ada,\n\nThank you for signing up.")
    assert "https://shop.example/account/confirm?token=" in html_of(confirmation)
    assert "https://shop.example/account/reset-password?token=" in reset.body
    assert (confirmation.from_email, reset.to) == (settings.DEFAULT_FROM_EMAIL, [user.email])
    # Account emails always go: no unsubscribe link.
    assert "List-Unsubscribe" not in confirmation.extra_headers
    assert "unsubscribe" not in reset.body.lower()


def test_no_confirmation_for_an_address_verified_before_the_task_ran(
    django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        user = account_services.account_register(email="quick@example.com",
                                                 password="analytical-engine-1843")
    user.is_email_verified = True
    user.save(update_fields=["is_email_verified"])
    callbacks[0]()
    assert mail.outbox == [] and logged() == []


# --- Order emails ------------------------------------------------------------------------


def order_document() -> str:
    return contract.operations("admin/orders.graphql", "OrderFulfill", "OrderMarkDelivered",
                               "OrderAdminCancel", "OrderRefund")


def desk(client, operation: str, **variables) -> dict:
    data = client.execute(order_document(), variables, operation_name=operation)
    (payload,) = data.values()
    assert payload["errors"] == [], payload["errors"]
    return payload


def test_an_order_tells_its_customer_each_step_once(client, django_capture_on_commit_callbacks):
    rose = stocked("20.00", sku="ROSE-50", stock=10)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answer = complete(client, ready_cart(lines=[(rose, 2)], email="buyer@example.com"))
    assert answer["errors"] == [] and mail.outbox == []
    for callback in callbacks:
        callback()
    (confirmation,) = mail.outbox
    number = answer["order"]["number"]
    assert confirmation.to == ["buyer@example.com"]
    assert confirmation.subject == f"Your order #{number}"
    assert f"2 × {rose.product.name}, SKU ROSE-50: 40.00 USD" in confirmation.body
    assert "Total: 49.50 USD" in confirmation.body  # 40 + 5 shipping + 10% tax
    assert "Your payment was received" in confirmation.body
    link = f"https://shop.example/orders?token={answer['order']['token']}"
    assert link in confirmation.body and link in html_of(confirmation)
    assert "<td>2 × " in html_of(confirmation)

    staff = client_for(make_user(perms=[Perm.MANAGE_ORDERS]))
    order_id = answer["order"]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        desk(staff, "OrderFulfill", id=order_id, trackingNumber="1Z999AA10123456784")
    shipped = mail.outbox[-1]
    assert shipped.subject == f"Order #{number} is on its way"
    assert "Tracking number: 1Z999AA10123456784" in shipped.body
    assert "1Z999AA10123456784" in html_of(shipped)

    with django_capture_on_commit_callbacks(execute=True):
        desk(staff, "OrderMarkDelivered", id=order_id)
    with django_capture_on_commit_callbacks(execute=True):
        desk(staff, "OrderRefund", id=order_id, amount="10.00")
    delivered, refunded = mail.outbox[-2:]
    assert delivered.subject == f"Order #{number} was delivered"
    assert refunded.subject == f"A refund for order #{number}"
    assert "10.00 USD of 49.50 USD has been given back" in refunded.body
    assert [kind for kind, *_ in logged()] == [
        "ORDER_CONFIRMATION", "ORDER_SHIPPED", "ORDER_DELIVERED", "ORDER_REFUNDED"]
    assert {row[1:] for row in logged()} == {("buyer@example.com", "SENT", 1)}
    assert set(Notification.objects.values_list("order__number", flat=True)) == {number}


def test_a_cancelled_paid_order_is_told_cancelled_then_refunded(
    django_capture_on_commit_callbacks
):
    customer = make_user(email="changed.mind@example.com")
    order = make_order(lines=[(stocked("8.00"), 1)], user=customer, status="PROCESSING",
                       payment_status="PAID")
    staff = client_for(make_user(perms=[Perm.MANAGE_ORDERS]))
    with django_capture_on_commit_callbacks(execute=True):
        desk(staff, "OrderAdminCancel", id=to_base64("Order", order.pk), reason="Out of stock")
    cancelled, refunded = mail.outbox
    assert cancelled.subject == f"Order #{order.number} was cancelled"
    assert "refunded in full" in cancelled.body
    assert "13.00 USD of 13.00 USD has been given back" in refunded.body
    assert [row[:2] for row in logged()] == [("ORDER_CANCELLED", customer.email),
                                            ("ORDER_REFUNDED", customer.email)]


def test_a_failed_payment_is_told_unless_paid_before_the_task_runs(
    django_capture_on_commit_callbacks
):
    order = make_order(lines=[(stocked(), 1)], email="card@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        order_transition(order=order, move=Move.PAYMENT_FAIL)
    (failed,) = mail.outbox
    assert failed.subject == f"The payment for order #{order.number} did not go through"
    assert "nothing was charged" in failed.body and failed.to == ["card@example.com"]

    second = make_order(lines=[(stocked(), 1)], email="retried@example.com")
    with django_capture_on_commit_callbacks(execute=False) as late:
        order_transition(order=second, move=Move.PAYMENT_FAIL)
    order_transition(order=second, move=Move.PAY)  # another card went through meanwhile
    for callback in late:
        callback()
    assert len(mail.outbox) == 1 and logged(Kind.PAYMENT_FAILED) == [
        ("PAYMENT_FAILED", "card@example.com", "SENT", 1)]


def test_a_guest_order_goes_to_its_email_without_an_unsubscribe_link(
    django_capture_on_commit_callbacks
):
    order = make_order(lines=[(stocked(), 1)], email="guest@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        events.publish(events.OrderPlaced(order_id=order.pk))
    (message,) = mail.outbox
    assert message.to == ["guest@example.com"] and "List-Unsubscribe" not in message.extra_headers
    assert "as soon as your payment is through" in message.body  # not paid yet
    assert Notification.objects.get().user is None


def test_a_dispute_alerts_the_order_desk(django_capture_on_commit_callbacks):
    desk_staff = make_user(perms=[Perm.MANAGE_ORDERS])
    make_user(perms=[Perm.MANAGE_PRODUCTS])  # staff, not for orders
    order = make_order(lines=[(stocked(), 1)], status="PROCESSING", payment_status="PAID")
    with django_capture_on_commit_callbacks(execute=True):
        events.publish(events.OrderDisputed(order_id=order.pk, dispute_id="dp_1",
                                            status="needs_response"))
    (alert,) = mail.outbox
    assert alert.to == [desk_staff.email]
    assert alert.subject == f"Payment dispute on order #{order.number}: needs_response"
    assert "Dispute dp_1" in alert.body and not alert.body.startswith("Hello")


def test_the_low_stock_alert_is_logged_per_catalog_manager(django_capture_on_commit_callbacks):
    first, second = make_user(perms=[Perm.MANAGE_PRODUCTS]), make_user(perms=[Perm.MANAGE_PRODUCTS])
    variant = make_variant(product=make_product(name="Vetiver"), sku="VET-1", stock=4,
                           low_stock_threshold=3)
    with django_capture_on_commit_callbacks(execute=True):
        inventory.stock_adjust(actor=None, variant=variant, delta=-1, reason="sold")
    assert sorted(m.to[0] for m in mail.outbox) == sorted([first.email, second.email])
    assert mail.outbox[0].subject == "Low stock: Vetiver (VET-1)"
    assert "has 3 available" in mail.outbox[0].body
    assert "<strong>3 available</strong>" in html_of(mail.outbox[0])
    assert {row[0] for row in logged()} == {"LOW_STOCK"} and len(logged()) == 2


# --- Delivery: once per event, retried with backoff ---------------------------------------


def test_a_redelivered_event_sends_nothing_again(django_capture_on_commit_callbacks):
    order = make_order(lines=[(stocked(), 1)], email="once@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        (event_id,) = events.publish(events.OrderPlaced(order_id=order.pk))
    assert len(mail.outbox) == 1
    OutboxEvent.objects.filter(pk=event_id).update(sent_at=None)  # as if the mark was lost
    assert events.dispatch([event_id]) == 1
    tasks.send_order_email.delay(str(event_id), order.pk, Kind.ORDER_CONFIRMATION)  # a redelivery
    assert len(mail.outbox) == 1 and logged() == [("ORDER_CONFIRMATION", "once@example.com",
                                                   "SENT", 1)]
    # Another event is another email.
    tasks.send_order_email.delay(str(uuid.uuid4()), order.pk, Kind.ORDER_CONFIRMATION)
    assert len(mail.outbox) == 2


def test_the_tasks_retry_smtp_errors_with_backoff():
    for task in (tasks.send_account_confirmation_email, tasks.send_password_reset_email,
                 tasks.send_order_email, tasks.send_dispute_alert, tasks.send_low_stock_alert,
                 tasks.send_back_in_stock_notices, tasks.send_price_drop_notices):
        assert task.autoretry_for == (OSError,), task.name
        assert task.retry_backoff == settings.NOTIFICATIONS_RETRY_BACKOFF == 30
        assert task.max_retries == settings.NOTIFICATIONS_MAX_RETRIES == 10
        assert task.retry_backoff_max == 600 and task.retry_jitter is True


@pytest.fixture
def celery_retries():
    """Eager tasks that retry as a worker's do (one after the other, without
    the countdown) instead of raising at the first failure."""
    from commerce.celery import app

    saved = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = saved


def test_a_mail_server_that_fails_twice_is_retried_and_the_email_sent_once(
    monkeypatch, django_capture_on_commit_callbacks, celery_retries
):
    smtp = FlakySMTP(monkeypatch, failures=2)
    order = make_order(lines=[(stocked(), 1)], email="patient@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        (event_id,) = events.publish(events.OrderPlaced(order_id=order.pk))
    assert smtp.calls == 3 and [m.to for m in mail.outbox] == [["patient@example.com"]]
    notification = Notification.objects.get()
    assert (notification.status, notification.attempts, notification.error) == ("SENT", 3, "")
    assert notification.sent_at is not None
    assert OutboxEvent.objects.get(pk=event_id).sent_at is not None


def test_a_failed_attempt_is_logged_with_its_error(monkeypatch):
    FlakySMTP(monkeypatch, failures=1)
    order = make_order(lines=[(stocked(), 1)], email="later@example.com")
    event_id = str(uuid.uuid4())
    with pytest.raises(ConnectionRefusedError):  # its last retry: Celery gives up
        tasks.send_order_email.apply(args=(event_id, order.pk, "ORDER_CONFIRMATION"),
                                     retries=settings.NOTIFICATIONS_MAX_RETRIES, throw=True)
    notification = Notification.objects.get()
    assert (notification.status, notification.attempts) == ("FAILED", 1)
    assert "Connection refused" in notification.error and mail.outbox == []
    # A later delivery of the event sends it, on the same row.
    assert tasks.send_order_email.delay(event_id, order.pk, "ORDER_CONFIRMATION").get() == 1
    notification.refresh_from_db()
    assert (notification.status, notification.attempts, notification.error) == ("SENT", 2, "")


def test_when_the_retries_run_out_the_email_stays_failed_in_the_log(
    monkeypatch, django_capture_on_commit_callbacks, celery_retries
):
    smtp = FlakySMTP(monkeypatch, failures=1 + settings.NOTIFICATIONS_MAX_RETRIES)
    order = make_order(lines=[(stocked(), 1)], email="gone@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        events.publish(events.OrderPlaced(order_id=order.pk))
    assert mail.outbox == [] and smtp.calls == 11
    notification = Notification.objects.get()
    assert (notification.status, notification.attempts) == ("FAILED", 11)
    assert "Connection refused" in notification.error


def test_without_a_worker_a_failure_waits_for_the_outbox(
    monkeypatch, django_capture_on_commit_callbacks, time_machine
):
    """Eager Celery (no REDIS_URL, `make run`): the task's failure is the
    handler's, so the outbox keeps the event and sends it again later."""
    time_machine.move_to(timezone.now(), tick=False)
    smtp = FlakySMTP(monkeypatch, failures=1)
    order = make_order(lines=[(stocked(), 1)], email="outage@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        (event_id,) = events.publish(events.OrderPlaced(order_id=order.pk))
    assert mail.outbox == [] and smtp.calls == 1
    row = OutboxEvent.objects.get(pk=event_id)
    assert row.sent_at is None and "Connection refused" in row.last_error
    time_machine.shift(settings.EVENTS_RETRY_AFTER)
    assert events.dispatch_pending() >= 1  # and the StockChanged of the order's allocation
    assert OutboxEvent.objects.get(pk=event_id).sent_at is not None
    assert [m.to for m in mail.outbox] == [["outage@example.com"]]
    assert logged() == [("ORDER_CONFIRMATION", "outage@example.com", "SENT", 1)]


def test_one_recipient_failing_does_not_stop_the_others(monkeypatch):
    managers = [make_user(perms=[Perm.MANAGE_PRODUCTS]) for _ in range(3)]
    variant = make_variant(product=make_product(), stock=1, low_stock_threshold=3)
    FlakySMTP(monkeypatch, failures=1)  # the first manager's email
    event_id = str(uuid.uuid4())
    with pytest.raises(ConnectionRefusedError):
        tasks.send_low_stock_alert.apply(args=(event_id, variant.pk),
                                         retries=settings.NOTIFICATIONS_MAX_RETRIES, throw=True)
    assert [m.to[0] for m in mail.outbox] == [u.email for u in managers[1:]]
    # The retry sends only the one that failed.
    assert tasks.send_low_stock_alert.delay(event_id, variant.pk).get() == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in managers)
    assert {row[2] for row in logged()} == {"SENT"}


@pytest.mark.postgresql
def test_two_deliveries_at_once_send_one_email(keeps_default_warehouse,  # noqa: F811
                                               transactional_db):
    order = make_order(lines=[(make_variant(product=make_product(), stock=3), 1)],
                       email="race@example.com")
    event_id = str(uuid.uuid4())
    sent = in_threads(4, lambda _: tasks.send_order_email.apply(
        args=(event_id, order.pk, "ORDER_CONFIRMATION")).result)
    assert sorted(sent) == [0, 0, 0, 1] and len(mail.outbox) == 1
    assert logged() == [("ORDER_CONFIRMATION", "race@example.com", "SENT", 1)]


# --- The admin ----------------------------------------------------------------------------------


def test_the_admin_shows_the_log_read_only(admin_client, django_capture_on_commit_callbacks):
    order = make_order(lines=[(stocked(), 1)], email="shown@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        events.publish(events.OrderPlaced(order_id=order.pk))
    notification = Notification.objects.get()
    listing = admin_client.get("/admin/notifications/notification/?status__exact=SENT")
    assert listing.status_code == 200 and b"shown@example.com" in listing.content
    page = admin_client.get(f"/admin/notifications/notification/{notification.pk}/change/")
    assert page.status_code == 200 and b"Save" not in page.content
    assert admin_client.get("/admin/notifications/notification/add/").status_code == 403
    assert admin_client.post(f"/admin/notifications/notification/{notification.pk}/delete/",
                             {"post": "yes"}).status_code == 403
    assert admin_client.get("/admin/notifications/notificationpreferences/").status_code == 200


def test_every_kind_has_its_templates():
    from django.template.loader import get_template

    for kind in Kind:
        for part in ("subject.txt", "body.txt", "body.html"):
            get_template(f"notifications/{kind.lower()}/{part}")

