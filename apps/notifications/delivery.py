"""Sending notifications at least once, and once as far as the log knows.

Every email is first written down (claimed): a Notification row, unique by
event, kind and recipient, committed PENDING before anything is sent. Then,
with that row locked, it is sent and marked SENT in the same transaction.
A second delivery of the event (a retried task, a broker that redelivers, the
outbox dispatching again) finds the row SENT, or waits for the lock and then
finds it, and sends nothing. A send that fails marks the row FAILED with the
error and raises, so Celery tries the task again (autoretry_for, backoff).

What is left is the window between the mail server accepting the message and
the commit of SENT: a process that dies there, or a database that fails
there, leaves the row unsent and the email is sent again. SMTP offers no way
to ask whether a message was accepted, so at least once is the promise.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.accounts.models import User
from apps.core.erased import is_erased

from .emails import compose
from .models import OPT_IN_TOPICS, TOPIC_OF, Kind, Notification
from .unsubscribe import unsubscribe_link

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Letter:
    """One email an event asks for: its kind, its address, what its templates
    read, and who and what it concerns."""

    kind: Kind
    to: str
    context: dict[str, Any]
    user: User | None = None
    order_id: int | None = None
    product_id: int | None = None


def send(event_id: str, letters: Iterable[Letter], *, once_per: timedelta | None = None,
         only: str = "") -> int:
    """Send each letter not sent yet for this event; returns how many went now.

    `only`: the one recipient to send to (a re-send of one notification,
    apps.notifications.services.notification_resend); the others are left.

    `once_per`: a letter whose kind already went to its customer about its
    product within that time (for another event) is not sent. A failing
    letter does not stop the others: the first failure is raised once all
    were tried, and the task's retry skips those that went.
    """
    sent = 0
    failure: Exception | None = None
    for letter in letters:
        if (only and letter.to != only) or is_erased(letter.to):
            continue  # an erased address (a deleted account's order) takes no mail
        notification = _claim(event_id, letter, once_per=once_per)
        if notification is None:
            continue
        try:
            sent += _send(notification, letter)
        except Exception as error:  # noqa: BLE001 - recorded; raised after the others
            failure = failure or error
    if failure is not None:
        raise failure
    return sent


@transaction.atomic
def _claim(event_id: str, letter: Letter, *, once_per: timedelta | None) -> Notification | None:
    """The letter's row, made PENDING if new; None when it must not go."""
    if once_per is not None:
        assert letter.user is not None and letter.product_id is not None
        # One customer's claims take turns, so two events at once cannot
        # both find that nothing went today.
        User.objects.select_for_update().filter(pk=letter.user.pk).values_list("pk").first()
        recent = Notification.objects.filter(
            kind=letter.kind, user=letter.user, product_id=letter.product_id,
            created_at__gt=timezone.now() - once_per,
        ).exclude(event_id=event_id)
        if recent.exists():
            logger.info("%s about product %s went to user %s lately; not again.",
                        letter.kind, letter.product_id, letter.user.pk)
            return None
    notification, _ = Notification.objects.get_or_create(
        event_id=event_id, kind=letter.kind, recipient=letter.to,
        defaults={"user": letter.user, "order_id": letter.order_id,
                  "product_id": letter.product_id},
    )
    return None if notification.status == Notification.Status.SENT else notification


def _send(notification: Notification, letter: Letter) -> int:
    """Send under the row's lock and record the outcome; 1 when it went, 0
    when another delivery had sent it meanwhile."""
    topic = TOPIC_OF[letter.kind]
    unsubscribe_url = None
    if topic in OPT_IN_TOPICS:
        if letter.user is None:
            raise ValueError(f"An opt-in email ({letter.kind}) needs the customer it goes to.")
        unsubscribe_url = unsubscribe_link(user_id=letter.user.pk, topic=topic)
    failure: Exception | None = None
    with transaction.atomic():
        rows = Notification.objects.filter(pk=notification.pk)
        status = rows.select_for_update().values_list("status", flat=True).first()
        if status in (None, Notification.Status.SENT):
            return 0
        try:
            compose(kind=letter.kind, to=letter.to, context=letter.context,
                    unsubscribe_url=unsubscribe_url).send()
        except Exception as error:  # noqa: BLE001 - recorded, then raised for a retry
            failure = error
            rows.update(status=Notification.Status.FAILED, error=repr(error)[:2000],
                        attempts=F("attempts") + 1, updated_at=timezone.now())
        else:
            now = timezone.now()
            rows.update(status=Notification.Status.SENT, error="", sent_at=now,
                        attempts=F("attempts") + 1, updated_at=now)
    if failure is not None:
        logger.warning("%s to %s failed: %r; it will be retried.",
                       letter.kind, letter.to, failure)
        raise failure
    return 1
