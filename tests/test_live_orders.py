"""Live order events over a real WebSocket, in both protocols: orderUpdated
for the order's customer and the order desk, orderCreated for the desk, fed
by the events the order's transactions publish once they commit (through
the channel layer, apps.orders.live), and refusals as the operation's own
`error` message on a socket that stays open."""

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import channel_layers, get_channel_layer
from channels_redis.utils import create_pool
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from strawberry import relay

from apps.accounts.permissions import Perm
from apps.core import events
from apps.orders import live
from apps.orders.services.transitions import order_transition
from apps.orders.transitions import Move
import schema.live
from tests import contract
from tests.conftest import make_user, token_for
from tests.factories import make_order, make_product, make_variant
from tests.websocket import LEGACY_WS, PROTOCOLS, TRANSPORT_WS, Socket, joins, socket

pytestmark = pytest.mark.django_db


def order_updated() -> str:
    return contract.operations("storefront/orders.graphql", "OrderUpdated")


def order_created() -> str:
    return contract.operations("admin/orders.graphql", "OrderCreated")


def an_order(**extra: Any):
    variant = make_variant(product=make_product(), stock=5)
    return make_order(lines=[(variant, 1)], **extra)


def global_id(order) -> str:
    return str(relay.GlobalID("Order", str(order.pk)))


def seen(order, **changed: Any) -> dict:
    """orderUpdated's selection of `order`, with what changed since."""
    return {"orderUpdated": {"id": global_id(order), "number": order.number,
                             "status": "PENDING", "paymentStatus": "NOT_CHARGED",
                             "trackingNumber": None, **changed}}


class Rollback(Exception):
    pass


@pytest.fixture
def commit(django_capture_on_commit_callbacks) -> Callable[..., Any]:
    """Run `work` in a transaction that commits (its on-commit callbacks, the
    outbox's dispatch, run), or with rollback=True one that rolls back; from
    a test's event loop, `await sync_to_async(commit)(work)`."""

    def run(work: Callable[[], Any], *, rollback: bool = False) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            try:
                with transaction.atomic():
                    result = work()
                    if rollback:
                        raise Rollback
                    return result
            except Rollback:
                return None

    return run


def move(order, step: Move, **changes: Any) -> Callable[[], Any]:
    return lambda: order_transition(order=order, move=step, **changes)


def placed(order) -> Callable[[], Any]:
    # What checkout will publish when it places an order.
    return lambda: events.publish(events.OrderPlaced(order_id=order.pk))


@contextlib.asynccontextmanager
async def following(order, user, protocol: str = TRANSPORT_WS) -> AsyncIterator[Socket]:
    """A socket of `user` subscribed to orderUpdated of `order` (still
    PENDING), past the first message, the order as it is."""
    async with socket(protocol, token_for(user)) as ws:
        await ws.subscribe(order_updated(), {"id": global_id(order)})
        assert await ws.receive_data() == seen(order)
        yield ws


@contextlib.asynccontextmanager
async def at_the_desk(user, protocol: str = TRANSPORT_WS) -> AsyncIterator[Socket]:
    """A socket of `user` subscribed to orderCreated, once it listens."""
    with joins() as joined:
        async with socket(protocol, token_for(user)) as ws:
            await ws.subscribe(order_created())
            await joined.of(live.CREATED_GROUP)
            yield ws


def codes(message: dict) -> list[str]:
    return [error["extensions"]["code"] for error in message["payload"]]


# --- orderUpdated ---------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_customer_follows_their_order(protocol, commit):
    ada = make_user()
    order = an_order(user=ada)

    async def run() -> list[dict]:
        async with following(order, ada, protocol) as ws:  # first, the order as it is
            await sync_to_async(commit)(move(order, Move.PAY))
            answers = [await ws.receive_data()]
            await sync_to_async(commit)(move(order, Move.FULFIL, tracking_number="1Z999"))
            answers.append(await ws.receive_data())
            return answers

    assert async_to_sync(run)() == [
        seen(order, status="PROCESSING", paymentStatus="PAID"),
        seen(order, status="SHIPPED", paymentStatus="PAID", trackingNumber="1Z999"),
    ]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_order_desk_follows_any_order(protocol, commit):
    order = an_order(user=make_user())
    desk = make_user(perms=[Perm.MANAGE_ORDERS])

    async def run() -> dict:
        async with following(order, desk, protocol) as ws:
            await sync_to_async(commit)(move(order, Move.CANCEL))
            return await ws.receive_data()

    assert async_to_sync(run)() == seen(order, status="CANCELLED")


def test_each_subscription_hears_of_its_own_order_only(commit):
    ada = make_user()
    first, second = an_order(user=ada), an_order(user=ada)

    async def run() -> list[tuple[str, str]]:
        async with socket(TRANSPORT_WS, token_for(ada)) as ws:
            for n, order in enumerate((first, second), start=1):
                await ws.subscribe(order_updated(), {"id": global_id(order)}, id=str(n))
                await ws.receive_data()
            await sync_to_async(commit)(move(first, Move.PAY))
            await sync_to_async(commit)(move(second, Move.CANCEL))
            heard = []
            while ("2", second.number) not in heard:
                message = await ws.receive()
                heard.append((message["id"], message["payload"]["data"]["orderUpdated"]["number"]))
            return heard

    # One connection's subscriptions share its channel of the layer.
    assert async_to_sync(run)() == [("1", first.number), ("2", second.number)]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_someone_elses_order_is_not_found_and_the_socket_stays_open(protocol):
    theirs = an_order(user=make_user())
    guests = an_order()
    ids = [global_id(theirs), global_id(guests), str(relay.GlobalID("Order", "999999")),
           str(relay.GlobalID("Product", str(theirs.pk))), "not-an-id"]

    def refusals(user) -> list[list[str]]:
        async def run() -> list[list[str]]:
            found = []
            async with socket(protocol, token_for(user)) as ws:
                for n, order_id in enumerate(ids):
                    await ws.subscribe(order_updated(), {"id": order_id}, id=str(n))
                    message = await ws.receive()
                    assert message["type"] == "error" and message["id"] == str(n), message
                    found.append(codes(message))
                assert await ws.is_open()
            return found

        return async_to_sync(run)()

    # A customer, and staff who do not manage orders, see only their own.
    for user in (make_user(), make_user(perms=[Perm.MANAGE_PRODUCTS])):
        assert refusals(user) == [["NOT_FOUND"]] * len(ids)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_nothing_is_sent_for_a_change_rolled_back(protocol, commit):
    ada = make_user()
    order = an_order(user=ada)

    async def run() -> dict:
        async with following(order, ada, protocol) as ws:
            await sync_to_async(commit)(move(order, Move.PAY), rollback=True)
            await sync_to_async(commit)(move(order, Move.CANCEL))
            # The next message is the cancellation's: the payment never was.
            return await ws.receive_data()

    assert async_to_sync(run)() == seen(order, status="CANCELLED")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_customer_deactivated_hears_no_more(protocol, commit):
    ada = make_user()
    order = an_order(user=ada)

    def deactivate() -> None:
        ada.is_active = False
        ada.save(update_fields=["is_active"])

    async def run() -> list[dict]:
        async with following(order, ada, protocol) as ws:
            await sync_to_async(deactivate)()
            await sync_to_async(commit)(move(order, Move.PAY))
            return [await ws.receive(), await ws.receive()]

    refused, complete = async_to_sync(run)()
    assert refused["type"] == "next" and refused["payload"]["data"] is None
    assert [e["extensions"]["code"] for e in refused["payload"]["errors"]] == [
        "UNAUTHENTICATED"]
    assert complete["type"] == "complete"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_nothing_is_sent_once_the_token_has_expired(protocol, commit, time_machine):
    # The server closes the socket at the token's expiry; an event that comes
    # before the timer's turn (here: the clock moved past it) is not sent on
    # credentials that would no longer be accepted, and the socket closes.
    ada = make_user()
    order = an_order(user=ada)

    async def run() -> dict:
        async with following(order, ada, protocol) as ws:
            time_machine.move_to(timezone.now() + settings.JWT_ACCESS_TOKEN_LIFETIME)
            await sync_to_async(commit)(move(order, Move.PAY))
            return await ws.communicator.receive_output(timeout=5)

    closed = async_to_sync(run)()
    assert (closed["type"], closed["code"]) == ("websocket.close", 4403)


# --- orderCreated ---------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_order_desk_hears_of_each_order_placed(protocol, commit):
    desk = make_user(perms=[Perm.MANAGE_ORDERS])
    first, second = an_order(user=make_user()), an_order()

    async def run() -> list[dict]:
        async with at_the_desk(desk, protocol) as ws:
            await sync_to_async(commit)(placed(first))
            await sync_to_async(commit)(placed(second))
            return [await ws.receive_data(), await ws.receive_data()]

    assert async_to_sync(run)() == [
        {"orderCreated": {"id": global_id(order), "number": order.number,
                          "email": order.email,
                          "total": {"amount": str(order.total), "currency": order.currency}}}
        for order in (first, second)
    ]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_an_order_rolled_back_is_never_announced(protocol, commit):
    desk = make_user(perms=[Perm.MANAGE_ORDERS])
    lost, kept = an_order(), an_order()

    async def run() -> dict:
        async with at_the_desk(desk, protocol) as ws:
            await sync_to_async(commit)(placed(lost), rollback=True)
            await sync_to_async(commit)(placed(kept))
            return await ws.receive_data()

    assert async_to_sync(run)()["orderCreated"]["number"] == kept.number


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_who_may_not_subscribe_is_told_and_the_socket_stays_open(protocol):
    order = an_order()
    cases = [
        (None, order_updated(), {"id": global_id(order)}, "UNAUTHENTICATED"),
        (None, order_created(), None, "UNAUTHENTICATED"),
        (make_user(), order_created(), None, "FORBIDDEN"),
        (make_user(perms=[Perm.MANAGE_PRODUCTS]), order_created(), None, "FORBIDDEN"),
    ]
    for user, document, variables, code in cases:
        async def run() -> tuple[dict, bool]:
            async with socket(protocol, token_for(user) if user else None) as ws:
                await ws.subscribe(document, variables)
                return await ws.receive(), await ws.is_open()

        message, still_open = async_to_sync(run)()
        assert message["type"] == "error" and codes(message) == [code], (user, message)
        assert still_open


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_staff_who_lose_the_permission_hear_no_more(protocol, commit):
    desk = make_user(perms=[Perm.MANAGE_ORDERS])
    order = an_order(user=desk)  # even one of their own

    async def run() -> dict:
        async with at_the_desk(desk, protocol) as ws:
            await sync_to_async(desk.user_permissions.clear)()
            await sync_to_async(commit)(placed(order))
            return await ws.receive()

    refused = async_to_sync(run)()
    assert refused["type"] == "next" and refused["payload"]["data"] is None
    assert [e["extensions"]["code"] for e in refused["payload"]["errors"]] == ["FORBIDDEN"]


# --- The channel layer ----------------------------------------------------------------------------


def test_the_order_events_have_their_announcers():
    assert "apps.orders.handlers.announce_order_changed" in events.handlers_of(
        events.OrderChanged)
    assert "apps.orders.handlers.announce_order_placed" in events.handlers_of(
        events.OrderPlaced)


def test_a_long_subscription_keeps_its_place_in_the_group(monkeypatch, commit):
    # The layer forgets members that do not join again within its
    # group_expiry (a day); a desk open for days must still hear.
    monkeypatch.setattr(schema.live, "rejoin_every", lambda layer: 0.01)
    desk = make_user(perms=[Perm.MANAGE_ORDERS])
    order = an_order()

    async def run() -> dict:
        with joins() as joined:
            async with at_the_desk(desk) as ws:
                for _ in range(3):
                    joined.groups[live.CREATED_GROUP].clear()
                    await joined.of(live.CREATED_GROUP)
                await sync_to_async(commit)(placed(order))
                return await ws.receive_data()

    assert async_to_sync(run)()["orderCreated"]["number"] == order.number


def test_a_message_of_another_shape_is_ignored(commit):
    ada = make_user()
    order = an_order(user=ada)

    async def run() -> dict:
        async with following(order, ada) as ws:
            layer = get_channel_layer()
            for junk in ({}, {"order_id": "1"}, {"order_id": True}, {"order_id": None}):
                await layer.group_send(live.order_group(order.pk),
                                       {"type": live.UPDATED, **junk})
            await sync_to_async(commit)(move(order, Move.PAY))
            return await ws.receive_data()

    assert async_to_sync(run)() == seen(order, status="PROCESSING", paymentStatus="PAID")


def test_an_unexpected_failure_mid_stream_is_coded_and_logged(commit, monkeypatch,
                                                              server_errors):
    ada = make_user()
    order = an_order(user=ada)

    def broken(**kwargs: Any):
        raise RuntimeError("the database went away at 10.0.0.7")

    async def run() -> dict:
        async with following(order, ada) as ws:
            monkeypatch.setattr(live, "order_for_subscriber", broken)
            await sync_to_async(commit)(move(order, Move.PAY))
            return await ws.receive()

    message = async_to_sync(run)()
    assert message["payload"]["errors"] == [
        {"message": "Internal server error.", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]
    assert len(server_errors()) == 1


@pytest.mark.redis
def test_an_announcement_from_another_process_reaches_the_subscriber():
    """Through Redis, a message sent by another instance of the channel layer
    (as another server process, or a Celery worker, holds) reaches a
    subscriber of this one."""
    ada = make_user()
    order = an_order(user=ada)
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == (
        "channels_redis.core.RedisChannelLayer")

    def pay_elsewhere() -> None:
        # Committed here without dispatching (the test's transaction never
        # commits): only the other process's announcement can tell.
        order_transition(order=order, move=Move.PAY)
        other = channel_layers.make_backend("default")
        assert other is not get_channel_layer()
        live.announce_order_changed(order_id=order.pk, layer=other)

    async def run() -> dict:
        async with following(order, ada) as ws:
            await sync_to_async(pay_elsewhere)()
            return await ws.receive_data()

    assert async_to_sync(run)() == seen(order, status="PROCESSING", paymentStatus="PAID")


@pytest.mark.redis
def test_a_quiet_subscriber_outwaits_the_layers_blocking_reads():
    """A consumer waits for its messages in BZPOPMIN calls that Redis ends
    after the layer's brpop_timeout (5 s, give or take its timer's 100 ms);
    redis-py 8 gives up on a read after 5 s by default, and its TimeoutError
    ended the WebSocket of every subscriber that heard nothing for 5 s.
    The pool the layer makes must wait longer than the blocking call."""
    layer = channel_layers.make_backend("default")
    pool = create_pool(layer.hosts[0])
    connection = pool.connection_class(**pool.connection_kwargs)  # not connected
    assert connection.socket_timeout >= 2 * layer.brpop_timeout


# --- Transport ------------------------------------------------------------------------------------


def test_a_subscription_over_http_is_a_bad_request(client, server_errors):
    response = client.request("POST", json={"query": order_created()},
                              headers={"Accept": "application/graphql-response+json"})
    assert response.status_code == 400
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["BAD_REQUEST"]
    assert server_errors() == []


def test_a_query_over_legacy_graphql_ws_is_a_bad_request(server_errors):
    # graphql-ws's `start` takes subscriptions only (strawberry's handler).
    async def run() -> dict:
        async with socket(LEGACY_WS) as ws:
            await ws.subscribe("{ __typename }")
            return await ws.receive()

    message = async_to_sync(run)()
    assert message["type"] == "error" and codes(message) == ["BAD_REQUEST"]
    assert server_errors() == []
