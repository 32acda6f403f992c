"""A GraphQL client over a real WebSocket to commerce.asgi.application, in
either protocol of API.md, with the messages of both in one vocabulary.

graphql-transport-ws says subscribe/next/error/complete; the legacy
graphql-ws says start/data/error/complete and sends an error's payload as
one error rather than a list. `Socket.receive` answers
`{"type": "next" | "error" | "complete", "id": ..., "payload": ...}` for
either, an error's payload always a list, so one test covers both.
"""

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from typing import Any
from unittest import mock

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
PROTOCOLS = [TRANSPORT_WS, LEGACY_WS]

TIMEOUT = 5


class Socket:
    def __init__(self, communicator: WebsocketCommunicator, protocol: str):
        self.communicator = communicator
        self.protocol = protocol

    async def send(self, message: dict[str, Any]) -> None:
        await self.communicator.send_json_to(message)

    async def subscribe(self, query: str, variables: dict | None = None, *, id: str = "1",
                        operation_name: str | None = None) -> None:
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        if operation_name is not None:
            payload["operationName"] = operation_name
        kind = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        await self.send({"id": id, "type": kind, "payload": payload})

    async def stop(self, id: str = "1") -> None:
        await self.send({"id": id, "type": "complete" if self.protocol == TRANSPORT_WS
                         else "stop"})

    async def receive(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next operation message, in graphql-transport-ws's words."""
        message = await self.communicator.receive_json_from(timeout=timeout)
        if message["type"] == "data":
            message["type"] = "next"
        if message["type"] == "error" and isinstance(message.get("payload"), dict):
            message["payload"] = [message["payload"]]
        return message

    async def receive_data(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The `data` of the next message, which must be a result without errors."""
        message = await self.receive(timeout)
        assert message["type"] == "next" and not message["payload"].get("errors"), message
        return message["payload"]["data"]

    async def is_open(self) -> bool:
        """Whether the socket still answers: a ping (graphql-transport-ws) or a
        query (graphql-ws has no ping, and refuses a query, but answers)."""
        if self.protocol == TRANSPORT_WS:
            await self.send({"type": "ping"})
            expected = {"type": "pong"}
        else:
            await self.subscribe("{ __typename }", id="open?")
            expected = {"type": "error", "id": "open?"}
        try:
            message = await self.communicator.receive_json_from(timeout=TIMEOUT)
        except AssertionError:  # it closed
            return False
        return expected.items() <= message.items()


@contextlib.asynccontextmanager
async def socket(protocol: str = TRANSPORT_WS, token: str | None = None,
                 ) -> AsyncIterator[Socket]:
    """An acknowledged connection, signed in with `token` when there is one."""
    from commerce.asgi import application

    # Channels closes the thread's old database connections before each
    # handler of the consumer, and its communicator stops it only while a
    # test sends or receives: for the whole session here, as the Client of
    # tests.conftest does for requests, so that the test's connection (and
    # the transaction it rolls back) stays open on PostgreSQL.
    with mock.patch("channels.db.close_old_connections", lambda: None):
        communicator = WebsocketCommunicator(application, "/graphql/", subprotocols=[protocol])
        connected, chosen = await communicator.connect()
        assert connected and chosen == protocol
        init: dict[str, Any] = {"type": "connection_init"}
        if token is not None:
            init["payload"] = {"Authorization": f"Bearer {token}"}
        await communicator.send_json_to(init)
        ack = json.loads((await communicator.receive_output(timeout=TIMEOUT))["text"])
        assert ack["type"] == "connection_ack", ack
        try:
            yield Socket(communicator, protocol)
        finally:
            await communicator.disconnect()


class Joins:
    """The groups of the channel layer that consumers join (see `joins`)."""

    def __init__(self) -> None:
        self.groups: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.any = asyncio.Event()

    async def of(self, group: str) -> None:
        """Wait until a consumer has joined `group`."""
        await asyncio.wait_for(self.groups[group].wait(), TIMEOUT)


@contextlib.contextmanager
def joins() -> Iterator[Joins]:
    """While open, the groups that consumers join: a subscription that sends
    nothing at first listens once it has joined its group, and nothing
    announced before can reach it."""
    layer = get_channel_layer()
    original = layer.group_add
    wrapped = vars(layer).get("group_add")  # by an enclosing joins()
    seen = Joins()

    async def group_add(group: str, channel: str) -> None:
        await original(group, channel)
        seen.groups[group].set()
        seen.any.set()

    layer.group_add = group_add
    try:
        yield seen
    finally:
        if wrapped is None:
            del layer.group_add
        else:
            layer.group_add = wrapped


def first_answer(token: str | None, document: str, variables: dict,
                 protocol: str = TRANSPORT_WS) -> dict[str, Any]:
    """Subscribe and report how the server took it, shaped as an HTTP
    answer: an `error` message as `{"errors": [...]}`, a result as itself,
    and a subscription that started listening (joined a group) without
    sending anything as `{"data": {"listening": True}}`."""

    async def run() -> dict[str, Any]:
        with joins() as seen:
            async with socket(protocol, token) as ws:
                await ws.subscribe(document, variables)
                answer = asyncio.ensure_future(ws.receive())
                listening = asyncio.ensure_future(seen.any.wait())
                done, pending = await asyncio.wait(
                    {answer, listening}, timeout=TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
                for task in pending:
                    task.cancel()
                assert done, "the subscription neither answered nor listened"
                if answer in done:
                    message = answer.result()
                    if message["type"] == "error":
                        return {"errors": message["payload"]}
                    return message["payload"]
                return {"data": {"listening": True}}

    return async_to_sync(run)()
