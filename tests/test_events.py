"""The outbox (apps.core.events): published in the caller's transaction,
dispatched after commit, retried by beat when a handler fails, acted on once."""

import dataclasses
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from apps.notifications import tasks as notification_tasks
from apps.notifications.models import Notification
from apps.core import events
from apps.core import tasks as core_tasks
from apps.core.models import HandledEvent, OutboxEvent
from tests.conftest import make_user
from tests.test_inventory import keeps_default_warehouse  # noqa: F401 - a fixture


@dataclasses.dataclass(frozen=True)
class Pinged(events.Event):
    n: int


acted: list[int] = []  # what the idempotent work did
calls: list[str] = []  # every handler call, repeated or not
broker = {"down": False}


@events.once_per_event
def _count(event_id: str, n: int) -> None:
    acted.append(n)


@events.handler(Pinged)
def count(event_id: uuid.UUID, event: Pinged) -> None:
    calls.append("count")
    _count(str(event_id), event.n)


@events.handler(Pinged)
def enqueue(event_id: uuid.UUID, event: Pinged) -> None:
    calls.append("enqueue")
    if broker["down"]:
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")


@pytest.fixture(autouse=True)
def _fresh():
    acted.clear()
    calls.clear()
    broker["down"] = False


def unsent() -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(sent_at__isnull=True))


def test_publish_writes_the_outbox_row_in_the_callers_transaction(
    db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with transaction.atomic():
            (event_id,) = events.publish(Pinged(n=1))
            row = OutboxEvent.objects.get()
            assert (row.pk, row.type, row.payload, row.sent_at) == (
                event_id, "Pinged", {"n": 1}, None)
    assert len(callbacks) == 1 and calls == []  # nothing before the commit


def test_nothing_is_written_or_dispatched_when_the_transaction_rolls_back(
    db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            events.publish(Pinged(n=1))
            raise RuntimeError("something later failed")
    assert callbacks == [] and calls == []
    assert not OutboxEvent.objects.exists()


def test_after_commit_each_handler_runs_once_and_the_event_is_sent(
    db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        events.publish(Pinged(n=7))
    assert len(callbacks) == 1
    assert calls == ["count", "enqueue"] and acted == [7]
    row = OutboxEvent.objects.get()
    assert row.sent_at is not None and row.attempts == 1 and row.last_error == ""
    # A sent event is not dispatched again.
    assert events.dispatch([row.pk]) == 0 and calls == ["count", "enqueue"]


def test_handlers_are_registered_by_event_type():
    assert events.handlers_of(Pinged) == [f"{__name__}.count", f"{__name__}.enqueue"]
    assert events.handlers_of(events.AccountRegistered) == [
        "apps.notifications.handlers.email_confirmation_link"]
    assert events.handlers_of(events.StockFellLow) == [
        "apps.webhooks.handlers.make_deliveries",
        "apps.notifications.handlers.alert_catalog_managers"]


def test_a_broker_failure_leaves_the_event_unsent_and_beat_sends_it_later(
    db, django_capture_on_commit_callbacks, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    broker["down"] = True
    with django_capture_on_commit_callbacks(execute=True):
        (event_id,) = events.publish(Pinged(n=3))
    (row,) = unsent()
    assert row.pk == event_id and row.attempts == 1 and "Connection refused" in row.last_error
    assert acted == [3]  # the handler that worked did its work

    broker["down"] = False
    time_machine.shift(settings.EVENTS_RETRY_AFTER - timedelta(seconds=1))
    assert core_tasks.dispatch_pending_events.delay().get() == 0  # not due yet
    assert len(unsent()) == 1

    time_machine.shift(timedelta(seconds=1))
    assert core_tasks.dispatch_pending_events.delay().get() == 1
    assert unsent() == [] and OutboxEvent.objects.get().attempts == 2
    assert calls == ["count", "enqueue", "count", "enqueue"]
    assert acted == [3]  # run twice, acted once


def test_the_confirmation_email_survives_a_broker_outage(
    db, client, django_capture_on_commit_callbacks, monkeypatch, time_machine
):
    from tests.test_accounts import register

    time_machine.move_to(timezone.now(), tick=False)

    def down(*args, **kwargs):
        raise OperationalError("Connection refused.")

    monkeypatch.setattr(notification_tasks.send_account_confirmation_email, "delay", down)
    with django_capture_on_commit_callbacks(execute=True):
        payload = register(client, email="patient@example.com")
    assert payload["errors"] == [] and payload["user"]["email"] == "patient@example.com"
    assert mail.outbox == [] and len(unsent()) == 1

    monkeypatch.undo()
    time_machine.shift(settings.EVENTS_RETRY_AFTER)
    assert events.dispatch_pending() == 1
    assert [m.to for m in mail.outbox] == [["patient@example.com"]]
    assert events.dispatch_pending() == 0 and len(mail.outbox) == 1


def test_a_task_delivered_twice_for_one_event_acts_once(db, django_capture_on_commit_callbacks):
    user = make_user(email="twice@example.com")
    event_id = str(uuid.uuid4())
    notification_tasks.send_password_reset_email.delay(event_id, user.pk)
    notification_tasks.send_password_reset_email.delay(event_id, user.pk)
    assert [m.to for m in mail.outbox] == [["twice@example.com"]]
    (notification,) = Notification.objects.filter(event_id=event_id)
    assert (notification.status, notification.attempts) == ("SENT", 1)
    # Another event is other work.
    notification_tasks.send_password_reset_email.delay(str(uuid.uuid4()), user.pk)
    assert len(mail.outbox) == 2


def test_work_that_fails_leaves_no_record_and_runs_again(db):
    event_id = str(uuid.uuid4())
    done: list[str] = []

    @events.once_per_event
    def flaky(event_id: str, fail: bool) -> None:
        done.append(event_id)
        if fail:
            raise OSError("SMTP is down")

    with pytest.raises(OSError):
        flaky(event_id, True)
    assert not HandledEvent.objects.exists()
    flaky(event_id, False)
    flaky(event_id, False)
    assert done == [event_id, event_id] and HandledEvent.objects.count() == 1


def test_redispatching_a_sent_low_stock_event_sends_no_second_alert(
    db, django_capture_on_commit_callbacks
):
    from apps.accounts.permissions import Perm
    from apps.inventory import services as inventory
    from tests.factories import make_product, make_variant

    make_user(perms=[Perm.MANAGE_PRODUCTS])
    item = make_variant(product=make_product(), stock=4, low_stock_threshold=3)
    with django_capture_on_commit_callbacks(execute=True):
        inventory.stock_adjust(actor=None, variant=item, delta=-1, reason="sold")
    assert len(mail.outbox) == 1
    row = OutboxEvent.objects.get(type="StockFellLow")
    assert row.payload == {"variant_id": item.pk}
    OutboxEvent.objects.filter(pk=row.pk).update(sent_at=None)  # as if the mark was lost
    assert events.dispatch([row.pk]) == 1
    assert len(mail.outbox) == 1


def test_an_event_of_an_unknown_type_stays_unsent_with_the_reason(db):
    row = OutboxEvent.objects.create(type="NoSuchEvent", payload={})
    assert events.dispatch([row.pk]) == 0
    row.refresh_from_db()
    assert row.sent_at is None and "unknown event" in row.last_error


def test_publish_outside_a_transaction_commits_and_dispatches_at_once(
    keeps_default_warehouse, transactional_db  # noqa: F811
):
    assert transaction.get_autocommit()
    (event_id,) = events.publish(Pinged(n=5))
    assert acted == [5]
    assert OutboxEvent.objects.get(pk=event_id).sent_at is not None


def test_sent_events_are_forgotten_after_a_while(db, django_capture_on_commit_callbacks,
                                                 time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        events.publish(Pinged(n=1))
    broker["down"] = True
    with django_capture_on_commit_callbacks(execute=True):
        events.publish(Pinged(n=2))
    time_machine.shift(settings.EVENTS_KEEP_SENT + timedelta(seconds=1))
    assert core_tasks.delete_sent_events.delay().get() == 1
    (kept,) = OutboxEvent.objects.all()
    assert kept.payload == {"n": 2} and kept.sent_at is None  # unsent stays, with its record
    assert list(HandledEvent.objects.values_list("event_id", flat=True)) == [kept.pk]


def test_beat_retries_unsent_events_every_retry_delay():
    entry = settings.CELERY_BEAT_SCHEDULE["dispatch-pending-events"]
    assert entry == {"task": core_tasks.dispatch_pending_events.name,
                     "schedule": settings.EVENTS_RETRY_AFTER}
    assert settings.EVENTS_RETRY_AFTER == timedelta(seconds=60)
    cleanup = settings.CELERY_BEAT_SCHEDULE["delete-sent-events"]
    assert cleanup == {"task": core_tasks.delete_sent_events.name,
                       "schedule": timedelta(hours=24)}


def test_the_admin_lists_the_outbox_and_dispatches_what_is_stuck(
    db, admin_client, django_capture_on_commit_callbacks
):
    broker["down"] = True
    with django_capture_on_commit_callbacks(execute=True):
        (event_id,) = events.publish(Pinged(n=9))
    assert admin_client.get("/admin/core/outboxevent/?sent=no").status_code == 200
    assert admin_client.get(f"/admin/core/outboxevent/{event_id}/change/").status_code == 200
    broker["down"] = False
    response = admin_client.post("/admin/core/outboxevent/", {
        "action": "dispatch_now", "_selected_action": [str(event_id)]})
    assert response.status_code == 302 and unsent() == [] and acted == [9]


@pytest.fixture
def dead_broker():
    """Celery as in production (not eager), with a broker no one listens on;
    the connection pools are dropped before and after, so no test shares them."""
    from commerce.celery import app

    def fresh_pools():
        app._pool = None
        app.amqp._producer_pool = None

    saved = app.conf.task_always_eager, app.conf.broker_url
    fresh_pools()
    app.conf.task_always_eager, app.conf.broker_url = False, "redis://127.0.0.1:1/0"
    yield
    app.conf.task_always_eager, app.conf.broker_url = saved
    fresh_pools()


def test_with_the_broker_really_down_a_sign_up_succeeds_and_its_email_waits(
    db, client, django_capture_on_commit_callbacks, time_machine, dead_broker
):
    from commerce.celery import app
    from tests.test_accounts import register

    time_machine.move_to(timezone.now(), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        payload = register(client, email="outage@example.com")
    assert payload["errors"] == []
    (row,) = unsent()
    assert "Connection refused" in row.last_error and mail.outbox == []

    app.conf.task_always_eager = True  # the broker is back
    time_machine.shift(settings.EVENTS_RETRY_AFTER)
    assert events.dispatch_pending() == 1
    assert [m.to for m in mail.outbox] == [["outage@example.com"]]
