"""Notification writes: the customer's choice of optional emails, the
one-click unsubscribe, and a failed notification sent again. All are
harmless to repeat."""

import logging
from typing import Any

from django.conf import settings
from django.db import transaction

from apps.core import events
from apps.core.errors import ErrorCode, ServiceError
from apps.core.validation import Problems, reject_unknown

from .models import Notification, NotificationPreferences
from .tasks import resend_call

logger = logging.getLogger(__name__)
from .selectors import Subscription, subscription_of

PREFERENCE_FIELDS = {"back_in_stock", "price_drop", "marketing"}


@transaction.atomic
def notification_preferences_update(*, user: Any, **fields: Any) -> NotificationPreferences:
    """Turn optional emails on or off; the fields left out stay as they are.
    Order and account emails are not optional and are not among them."""
    reject_unknown(fields, PREFERENCE_FIELDS)
    problems = Problems()
    for name, value in fields.items():
        if not isinstance(value, bool):
            problems.add(name, "Must be true or false.", ErrorCode.INVALID)
    problems.raise_any()
    preferences, _ = NotificationPreferences.objects.select_for_update().get_or_create(
        user_id=user.pk)
    changed = [name for name, value in fields.items() if getattr(preferences, name) != value]
    for name in changed:
        setattr(preferences, name, fields[name])
    if changed:
        preferences.save(update_fields=[*changed, "updated_at"])
    return preferences


def notifications_unsubscribe(*, token: str) -> Subscription:
    """Turn off the topic an unsubscribe link names, for its customer, who
    need not be signed in: the signature is the proof. INVALID_TOKEN for a
    link that does not verify."""
    subscription = subscription_of(token=token)
    with transaction.atomic():
        preferences, _ = NotificationPreferences.objects.select_for_update().get_or_create(
            user_id=subscription.user_id)
        name = subscription.topic.lower()
        if getattr(preferences, name):
            setattr(preferences, name, False)
            preferences.save(update_fields=[name, "updated_at"])
    return Subscription(user_id=subscription.user_id, topic=subscription.topic,
                        subscribed=False)


def notification_resend(*, notification: Notification, actor: Any = None) -> Notification:
    """Send a FAILED notification again (its retries ran out: the mail server
    was down for long, an address was refused): the same kind, for the same
    recipient and the same event, queued after the commit
    (NotificationResendRequested), on the same log row. Only a FAILED one:
    a SENT one is never sent twice (INVALID), and one still PENDING is being
    sent. INVALID too when what its task needs is gone (its event older than
    EVENTS_KEEP_SENT, its order or customer deleted)."""
    with transaction.atomic():
        row = Notification.objects.select_for_update().get(pk=notification.pk)
        if row.status != Notification.Status.FAILED:
            raise ServiceError(f"Only a failed notification is sent again; this one is "
                               f"{row.get_status_display().lower()}.", code=ErrorCode.INVALID)
        if resend_call(row) is None:
            days = settings.EVENTS_KEEP_SENT.days
            raise ServiceError("What it was about is no longer kept (its event is kept for "
                               f"{days} days, its order or customer may be deleted).",
                               code=ErrorCode.INVALID)
        events.publish(events.NotificationResendRequested(
            notification_id=row.pk, actor_id=getattr(actor, "pk", None)))
    logger.info("%s to %s is sent again, asked by %s.", row.kind, row.recipient,
                getattr(actor, "pk", None))
    return row
