"""Events across processes, through PostgreSQL and Redis as in production.

A real Celery worker (tests/celery_worker.py): a request's task goes
through Redis to `celery -A commerce worker` in another process, which does
the work against the same database; a task the broker could not take at the
commit is sent by the outbox's sweep once it is back; and what the worker
changes reaches a subscriber on this process through the Redis channel
layer. And a second Python process, as another web process, whose order
change reaches a subscriber here the same way.

The PostgreSQL and Redis run of CI executes these (seconds, most of them
the worker's start-up, once for the module). The tests commit what the
other processes read (transactional_db)."""

import re
from urllib.parse import unquote

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.core import mail

from apps.accounts.models import User
from apps.core import tasks as core_tasks
from apps.core.models import OutboxEvent
from apps.notifications.models import Notification
from apps.orders.models import Order, OrderEvent
from apps.orders.services.transitions import order_transition
from apps.orders.transitions import Move
from apps.payments.models import StripeEvent
from tests import contract
from tests.celery_worker import _running_worker, _worker  # noqa: F401 - fixtures
from tests.celery_worker import broker_at, closed_port
from tests.concurrency import in_processes
from tests.concurrency import keeps_default_warehouse  # noqa: F401 - a fixture
from tests.conftest import make_user, token_for
from tests.fake_stripe import use_fake_stripe
from tests.smtp_sink import text_of
from tests.test_live_orders import an_order, following, global_id, order_updated, seen
from tests.test_stripe_webhook import deliver, stripe_order
from tests.websocket import TRANSPORT_WS, socket

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.redis,
    pytest.mark.usefixtures("keeps_default_warehouse"),
]

NEW_PASSWORD = "tangerine-elephant-42"


def account_operation(name: str) -> str:
    return contract.operations("storefront/account.graphql", name)


def request_reset(client, user: User) -> OutboxEvent:
    """passwordResetRequest through the endpoint, as the storefront sends it;
    the event it published."""
    data = client.execute(account_operation("PasswordResetRequest"), {"email": user.email})
    assert data["passwordResetRequest"]["errors"] == []
    return OutboxEvent.objects.get(type="PasswordResetRequested", payload={"user_id": user.pk})


def reset_token_in(message) -> str:
    match = re.search(r"\?token=(\S+)", text_of(message))
    assert match, text_of(message)
    return unquote(match.group(1))


# --- A Celery worker ------------------------------------------------------------------


def test_a_task_enqueued_by_a_request_is_run_by_the_worker(worker, client):
    ada = make_user(first_name="Ada")
    event = request_reset(client, ada)
    # The request's commit handed the task to the broker; nothing ran here
    # (this process's email would be in Django's locmem outbox).
    assert event.sent_at is not None
    assert mail.outbox == []

    # The worker ran it: its record of the event, in the database...
    worker.eventually(
        lambda: Notification.objects.filter(event_id=event.pk, status="SENT").exists())
    # ...and the email it sent, with a link signed as this process signs.
    message = worker.mail.wait_for(ada.email, timeout=10)
    assert message["Subject"] == "Reset your password"
    reset = client.execute(account_operation("PasswordReset"),
                           {"token": reset_token_in(message), "newPassword": NEW_PASSWORD})
    assert reset["passwordReset"]["errors"] == []
    ada.refresh_from_db()
    assert ada.check_password(NEW_PASSWORD)


def test_the_worker_logs_a_requests_task_with_the_requests_id(worker, client):
    ada = make_user(first_name="Ada")
    response = client.request("POST", json={
        "query": account_operation("PasswordResetRequest"), "variables": {"email": ada.email}})
    request_id = response.headers["X-Request-ID"]

    def logged() -> bool:
        return any(request_id in line and "send_password_reset_email" in line
                   and "commerce.tasks" in line for line in worker.output().splitlines())

    worker.eventually(logged)


def test_a_task_the_broker_missed_at_the_commit_is_sent_by_the_sweep(worker, client):
    ada = make_user()
    with broker_at(f"redis://127.0.0.1:{closed_port()}/0"):
        # The broker is down for this process: the request still succeeds,
        # and the event stays in the outbox, unsent, with why.
        event = request_reset(client, ada)
    assert (event.sent_at, event.attempts) == (None, 1)
    assert "OperationalError" in event.last_error
    assert not Notification.objects.filter(event_id=event.pk).exists()

    # Up again. Beat's sweep (enqueued here as beat enqueues it), run by
    # the worker, dispatches the event again; the task it enqueues is run
    # by the worker too, and the email goes out.
    core_tasks.dispatch_pending_events.delay()
    worker.eventually(
        lambda: OutboxEvent.objects.filter(pk=event.pk, sent_at__isnull=False).exists())
    worker.eventually(
        lambda: Notification.objects.filter(event_id=event.pk, status="SENT").exists())
    assert worker.mail.wait_for(ada.email, timeout=10)["Subject"] == "Reset your password"


def test_a_webhook_handled_by_the_worker_reaches_a_subscriber_here(worker, client, settings):
    """Stripe's payment_intent.succeeded, recorded by this process; the worker
    pays the order and announces it on the Redis channel layer; this
    process's subscriber hears of it. The order's change happened only in
    the worker: nothing here dispatched an OrderChanged."""
    stripe_api = use_fake_stripe(settings)
    ada = make_user()
    order, payment = stripe_order(user=ada)
    event = stripe_api.event("payment_intent.succeeded", stripe_api.succeed(payment.reference))

    async def run() -> tuple[dict, int, dict]:
        async with socket(TRANSPORT_WS, token_for(ada)) as ws:
            await ws.subscribe(order_updated(), {"id": global_id(order)})
            first = await ws.receive_data()  # the order as it is, once listening
            response = await sync_to_async(deliver)(client, event)
            return first, response.status_code, await ws.receive_data(timeout=20)

    first, status, heard = async_to_sync(run)()
    assert first == seen(order, paymentStatus="PENDING")
    assert status == 200
    assert heard == seen(order, status="PROCESSING", paymentStatus="PAID")
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("PROCESSING", "PAID")
    assert StripeEvent.objects.get(event_id=event["id"]).handled_at is not None
    assert list(OrderEvent.objects.filter(order=order).values_list("type", flat=True)) == [
        "PLACED", "PAID"]
    assert Order.objects.count() == 1


# --- Another web process -------------------------------------------------------------


def pay_there(index: int, order_id: int) -> str:
    """What tests.concurrency.in_processes runs in another process: the order
    paid there, announced by that process's handlers after its commit."""
    order = Order.objects.get(pk=order_id)
    order_transition(order=order, move=Move.PAY)
    return order.number


def test_an_order_paid_in_another_process_reaches_the_subscriber_here(transactional_db):
    """A separate Python process (a second web process, say) pays the order
    in the same database; its announcement crosses to this one through
    Redis. Nothing here changed the order or announced anything."""
    ada = make_user()
    order = an_order(user=ada)

    async def run() -> tuple[list, dict]:
        async with following(order, ada) as ws:
            outcomes = await sync_to_async(in_processes)(
                1, "tests.test_across_processes:pay_there", order.pk)
            return outcomes, await ws.receive_data()

    outcomes, heard = async_to_sync(run)()
    assert outcomes == [order.number]
    assert heard == seen(order, status="PROCESSING", paymentStatus="PAID")
