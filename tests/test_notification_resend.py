"""A FAILED notification sent again (apps.notifications.services.
notification_resend and its Django admin action): the same kind, for the
same recipient and event, on the same log row; a SENT one never twice."""

import uuid

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client

from apps.accounts.permissions import Perm
from apps.core.errors import ErrorCode, ServiceError
from apps.core.models import OutboxEvent
from apps.core import events
from apps.notifications import tasks
from apps.notifications.models import Kind, Notification
from apps.notifications.services import notification_resend
from tests.conftest import make_user
from tests.factories import make_order, make_product, make_variant
from tests.test_checkout import stocked
from tests.test_notifications import FlakySMTP, _shop, logged  # noqa: F401 - _shop: autouse

pytestmark = pytest.mark.django_db

ADMIN = "/admin/notifications/notification/"


def failed_confirmation(monkeypatch, email: str = "unlucky@example.com") -> Notification:
    """An order confirmation whose retries ran out while the mail server was
    down (it is up again now)."""
    FlakySMTP(monkeypatch, failures=1)
    order = make_order(lines=[(stocked(), 1)], email=email)
    with pytest.raises(ConnectionRefusedError):
        tasks.send_order_email.apply(args=(str(uuid.uuid4()), order.pk, "ORDER_CONFIRMATION"),
                                     retries=settings.NOTIFICATIONS_MAX_RETRIES, throw=True)
    notification = Notification.objects.get(recipient=email)
    assert notification.status == Notification.Status.FAILED and mail.outbox == []
    return notification


def test_a_failed_notification_is_sent_again_on_its_row(monkeypatch,
                                                        django_capture_on_commit_callbacks):
    notification = failed_confirmation(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        notification_resend(notification=notification)
    [message] = mail.outbox
    assert message.to == ["unlucky@example.com"] and "order #" in message.subject
    notification.refresh_from_db()
    assert (notification.status, notification.attempts, notification.error) == ("SENT", 2, "")
    assert logged() == [("ORDER_CONFIRMATION", "unlucky@example.com", "SENT", 2)]
    assert OutboxEvent.objects.filter(type="NotificationResendRequested").count() == 1


def test_a_sent_or_pending_notification_is_not_sent_again(monkeypatch,
                                                          django_capture_on_commit_callbacks):
    notification = failed_confirmation(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        notification_resend(notification=notification)
    for status in ("SENT", "PENDING"):
        Notification.objects.filter(pk=notification.pk).update(status=status)
        with pytest.raises(ServiceError) as refused:
            notification_resend(notification=notification)
        assert refused.value.errors[0].code == ErrorCode.INVALID
        assert f"this one is {status.lower()}" in str(refused.value)
    assert len(mail.outbox) == 1


def test_two_resends_asked_at_once_send_one_email(monkeypatch,
                                                  django_capture_on_commit_callbacks):
    notification = failed_confirmation(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        notification_resend(notification=notification)
        notification_resend(notification=notification)  # still FAILED until the send
    assert len(mail.outbox) == 1 and logged()[0][2:] == ("SENT", 2)


def low_stock_alert_failing_once(monkeypatch, variant) -> None:
    """StockFellLow in the outbox, and its alert's last retry failing for the
    first manager (the mail server is up again afterwards)."""
    (event_id,) = events.publish(events.StockFellLow(variant_id=variant.pk))
    FlakySMTP(monkeypatch, failures=1)
    with pytest.raises(ConnectionRefusedError):
        tasks.send_low_stock_alert.apply(args=(str(event_id), variant.pk),
                                         retries=settings.NOTIFICATIONS_MAX_RETRIES, throw=True)


def test_a_staff_alert_goes_again_only_to_the_one_who_missed_it(
        monkeypatch, django_capture_on_commit_callbacks):
    managers = [make_user(perms=[Perm.MANAGE_PRODUCTS]) for _ in range(3)]
    variant = make_variant(product=make_product(name="Vetiver"), stock=3, low_stock_threshold=3)
    low_stock_alert_failing_once(monkeypatch, variant)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in managers[1:])
    missed = Notification.objects.get(status=Notification.Status.FAILED)
    assert missed.recipient == managers[0].email
    make_user(perms=[Perm.MANAGE_PRODUCTS])  # joined since: not this alert's recipient
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notification_resend(notification=missed)
    assert [m.to for m in mail.outbox] == [[managers[0].email]]
    assert mail.outbox[0].subject.startswith("Low stock: Vetiver")
    assert sorted(row[1:3] for row in logged(Kind.LOW_STOCK)) == sorted(
        (u.email, "SENT") for u in managers)


def test_one_whose_event_is_no_longer_kept_is_refused(monkeypatch,
                                                      django_capture_on_commit_callbacks):
    make_user(perms=[Perm.MANAGE_PRODUCTS])
    variant = make_variant(product=make_product(), stock=3, low_stock_threshold=3)
    low_stock_alert_failing_once(monkeypatch, variant)
    missed = Notification.objects.get(status=Notification.Status.FAILED)
    OutboxEvent.objects.all().delete()  # forgotten after EVENTS_KEEP_SENT
    with pytest.raises(ServiceError, match="no longer kept"):
        notification_resend(notification=missed)
    assert not OutboxEvent.objects.exists()


# --- The Django admin ---------------------------------------------------------------------------


def staff_browser(*perms: Perm) -> Client:
    user = make_user(perms=list(perms))
    user.user_permissions.add(Permission.objects.get(codename="view_notification"))
    browser = Client()
    browser.force_login(user)
    return browser


def test_the_admin_action_sends_the_failed_ones_again_and_says_which_were_not(
        monkeypatch, django_capture_on_commit_callbacks):
    failed = failed_confirmation(monkeypatch)
    sent = Notification.objects.create(kind=Kind.ORDER_SHIPPED, event_id=uuid.uuid4(),
                                       recipient="done@example.com", status="SENT")
    browser = staff_browser(Perm.MANAGE_CUSTOMERS)
    with django_capture_on_commit_callbacks(execute=True):
        answer = browser.post(ADMIN, {"action": "send_again",
                                      "_selected_action": [failed.pk, sent.pk]}, follow=True)
    assert answer.status_code == 200
    shown = [str(m) for m in answer.context["messages"]]
    assert "Sending 1 notification(s) again." in shown
    assert any("done@example.com" in m and "this one is sent" in m for m in shown)
    assert [m.to for m in mail.outbox] == [["unlucky@example.com"]]
    failed.refresh_from_db()
    assert failed.status == Notification.Status.SENT


def test_only_staff_who_look_after_customers_may_send_again(monkeypatch,
                                                            django_capture_on_commit_callbacks):
    failed = failed_confirmation(monkeypatch)
    browser = staff_browser(Perm.MANAGE_PRODUCTS)
    listing = browser.get(ADMIN)
    assert listing.status_code == 200 and b"send_again" not in listing.content
    with django_capture_on_commit_callbacks(execute=True):
        browser.post(ADMIN, {"action": "send_again", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert failed.status == Notification.Status.FAILED and mail.outbox == []
    assert b"send_again" in staff_browser(Perm.MANAGE_CUSTOMERS).get(ADMIN).content
