"""Notification writes: the customer's choice of optional emails, and the
one-click unsubscribe. Both are harmless to repeat."""

from typing import Any

from django.db import transaction

from apps.core.errors import ErrorCode
from apps.core.validation import Problems, reject_unknown

from .models import NotificationPreferences
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
