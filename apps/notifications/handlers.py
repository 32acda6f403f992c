"""Which events send which notifications: each handler enqueues the task of
its kind with the event's id (apps.notifications.tasks). Quick and harmless
to repeat, as handlers must be: the task sends an email once per event."""

import uuid

from apps.core import events
from apps.orders.models import OrderEvent

from . import tasks
from .models import Kind

# The customer's email for each order change (OrderChanged.event_type); a
# payment that went through needs none beyond the order confirmation.
ORDER_EMAILS = {
    OrderEvent.Type.PAYMENT_FAILED: Kind.PAYMENT_FAILED,
    OrderEvent.Type.FULFILLED: Kind.ORDER_SHIPPED,
    OrderEvent.Type.DELIVERED: Kind.ORDER_DELIVERED,
    OrderEvent.Type.CANCELLED: Kind.ORDER_CANCELLED,
    OrderEvent.Type.REFUNDED: Kind.ORDER_REFUNDED,
}


@events.handler(events.AccountRegistered)
def email_confirmation_link(event_id: uuid.UUID, event: events.AccountRegistered) -> None:
    tasks.send_account_confirmation_email.delay(str(event_id), event.user_id)


@events.handler(events.PasswordResetRequested)
def email_password_reset_link(event_id: uuid.UUID, event: events.PasswordResetRequested) -> None:
    tasks.send_password_reset_email.delay(str(event_id), event.user_id)


@events.handler(events.NewDeviceSignIn)
def email_new_device_sign_in(event_id: uuid.UUID, event: events.NewDeviceSignIn) -> None:
    tasks.send_new_device_email.delay(str(event_id), event.attempt_id)


@events.handler(events.TwoFactorChanged)
def email_two_factor_change(event_id: uuid.UUID, event: events.TwoFactorChanged) -> None:
    tasks.send_two_factor_email.delay(str(event_id), event.user_id, event.enabled)


@events.handler(events.StaffInvited)
def email_staff_invitation(event_id: uuid.UUID, event: events.StaffInvited) -> None:
    tasks.send_staff_invitation_email.delay(str(event_id), event.user_id)


@events.handler(events.OrderPlaced)
def email_order_confirmation(event_id: uuid.UUID, event: events.OrderPlaced) -> None:
    tasks.send_order_email.delay(str(event_id), event.order_id, Kind.ORDER_CONFIRMATION.value)


@events.handler(events.OrderChanged)
def email_order_change(event_id: uuid.UUID, event: events.OrderChanged) -> None:
    kind = ORDER_EMAILS.get(OrderEvent.Type(event.event_type))
    if kind is not None:
        tasks.send_order_email.delay(str(event_id), event.order_id, kind.value)


@events.handler(events.OrderDisputed)
def alert_order_desk(event_id: uuid.UUID, event: events.OrderDisputed) -> None:
    tasks.send_dispute_alert.delay(str(event_id), event.order_id, event.dispute_id,
                                   event.status)


@events.handler(events.RefundFailed)
def alert_order_desk_of_refund(event_id: uuid.UUID, event: events.RefundFailed) -> None:
    tasks.send_refund_failed_alert.delay(str(event_id), event.order_id, event.refund_id,
                                         event.reason)


@events.handler(events.NotificationResendRequested)
def send_notification_again(event_id: uuid.UUID,
                            event: events.NotificationResendRequested) -> None:
    tasks.notification_queue_again(notification_id=event.notification_id)


@events.handler(events.StockFellLow)
def alert_catalog_managers(event_id: uuid.UUID, event: events.StockFellLow) -> None:
    tasks.send_low_stock_alert.delay(str(event_id), event.variant_id)


@events.handler(events.VariantBackInStock)
def tell_wishers_back_in_stock(event_id: uuid.UUID, event: events.VariantBackInStock) -> None:
    tasks.send_back_in_stock_notices.delay(str(event_id), event.variant_id)


@events.handler(events.VariantPriceDropped)
def tell_wishers_price_drop(event_id: uuid.UUID, event: events.VariantPriceDropped) -> None:
    tasks.send_price_drop_notices.delay(str(event_id), event.variant_id, event.old_price)
