"""Notification reads: a customer's preferences, whom an event concerns, and
what an unsubscribe link stands for."""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from apps.accounts.models import User
from apps.core.errors import ErrorCode, ServiceError

from .models import OPT_IN_TOPICS, NotificationPreferences, Topic
from .unsubscribe import BadToken, read_unsubscribe_token

BAD_LINK = "This unsubscribe link is not valid."


def preferences_of(*, user: Any) -> NotificationPreferences:
    """The customer's preferences; every optional email off (an unsaved row)
    when they never chose."""
    found = NotificationPreferences.objects.filter(user_id=user.pk).first()
    return found if found is not None else NotificationPreferences(user_id=user.pk)


def customers_wishing(*, product_id: int, topic: Topic) -> QuerySet[User]:
    """Active customers with the product on their wishlist who opted in to
    `topic`, in id order."""
    assert topic in OPT_IN_TOPICS
    return User.objects.filter(
        is_active=True, wishlist_items__product_id=product_id,
        **{f"notification_preferences__{topic.lower()}": True},
    ).order_by("pk")


@dataclass(frozen=True)
class Subscription:
    """What an unsubscribe link names, and whether that email is on."""

    user_id: int
    topic: Topic
    subscribed: bool


def subscription_of(*, token: str) -> Subscription:
    """The subscription an unsubscribe link names; INVALID_TOKEN for a link
    this server did not sign (or whose customer is gone)."""
    try:
        user_id, topic = read_unsubscribe_token(token)
    except BadToken:
        raise ServiceError(BAD_LINK, code=ErrorCode.INVALID_TOKEN, field="token") from None
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise ServiceError(BAD_LINK, code=ErrorCode.INVALID_TOKEN, field="token")
    return Subscription(user_id=user_id, topic=topic,
                        subscribed=preferences_of(user=user).wants(topic))
