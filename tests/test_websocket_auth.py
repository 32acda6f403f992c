"""Authentication over WebSocket (graphql-transport-ws): the access token
travels in the connection_init payload, and the connection lasts as long
as the token."""

import time
from datetime import datetime, timedelta, UTC

import jwt
import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings

from apps.accounts.jwt import encode_access_token
from tests.conftest import make_user, signed_token, token_for
from tests.websocket import PROTOCOLS, TIMEOUT, TRANSPORT_WS, socket

PROTOCOL = "graphql-transport-ws"


def connect(payload: dict | None) -> dict:
    """Open /graphql/, send connection_init, report what the server answered.

    For an acknowledged connection, also ask `{ me { email } }` over it, to
    show whom the connection is signed in as.
    """

    async def run() -> dict:
        from commerce.asgi import application

        communicator = WebsocketCommunicator(application, "/graphql/", subprotocols=[PROTOCOL])
        connected, subprotocol = await communicator.connect()
        assert connected and subprotocol == PROTOCOL
        message = {"type": "connection_init"}
        if payload is not None:
            message["payload"] = payload
        await communicator.send_json_to(message)
        answer = await communicator.receive_output(timeout=5)
        result: dict = {"answer": answer}
        if answer["type"] == "websocket.send":
            import json

            result["message"] = json.loads(answer["text"])
            await communicator.send_json_to(
                {"id": "1", "type": "subscribe", "payload": {"query": "{ me { email } }"}}
            )
            result["next"] = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return result

    return async_to_sync(run)()


@pytest.mark.parametrize(
    "payload",
    [
        lambda token: {"Authorization": f"Bearer {token}"},
        lambda token: {"authorization": f"Bearer {token}"},
        lambda token: {"Authorization": f"JWT {token}"},
        lambda token: {"token": token},
        lambda token: {"token": f"Bearer {token}"},
    ],
    ids=["Authorization", "authorization", "JWT scheme", "token", "token with scheme"],
)
def test_valid_token_is_acknowledged(db, payload):
    user = make_user()
    result = connect(payload(token_for(user)))
    assert result["message"]["type"] == "connection_ack"
    assert result["next"]["payload"] == {"data": {"me": {"email": user.email}}}


def test_no_token_is_anonymous(db):
    for payload in [None, {}]:
        result = connect(payload)
        assert result["message"]["type"] == "connection_ack"
        assert result["next"]["payload"] == {"data": {"me": None}}


@pytest.mark.parametrize(
    "payload",
    [
        lambda user: {"Authorization": "Bearer not-a-jwt"},
        lambda user: {"token": "garbage"},
        lambda user: {"authorization": "Basic dXNlcjpwYXNz"},
        lambda user: {"Authorization": "Bearer " + encode_access_token(
            user_id=user.pk, email=user.email,
            now=datetime.now(tz=UTC) - timedelta(hours=1))},
        lambda user: {"Authorization": ["Bearer", "x"]},
    ],
    ids=["bad jwt", "bad token", "wrong scheme", "expired", "not a string"],
)
def test_invalid_token_is_closed_with_4403(db, payload):
    user = make_user()
    result = connect(payload(user))
    assert result["answer"]["type"] == "websocket.close"
    assert result["answer"]["code"] == 4403


def test_deactivated_users_token_is_refused(db):
    user = make_user(is_active=False)
    result = connect({"Authorization": f"Bearer {token_for(user)}"})
    assert result["answer"] == {"type": "websocket.close", "code": 4403, "reason": "Forbidden"}


def test_legacy_protocol_also_closes_a_bad_token_with_4403(db):
    async def run() -> list:
        from commerce.asgi import application

        communicator = WebsocketCommunicator(application, "/graphql/", subprotocols=["graphql-ws"])
        connected, _ = await communicator.connect()
        assert connected
        await communicator.send_json_to(
            {"type": "connection_init", "payload": {"Authorization": "Bearer not-a-token"}}
        )
        answers = [await communicator.receive_output(timeout=5) for _ in range(2)]
        await communicator.disconnect()
        return answers

    error, close = async_to_sync(run)()
    # graphql-ws says why in a connection_error message, then closes.
    assert '"connection_error"' in error["text"]
    assert close == {"type": "websocket.close", "code": 4403, "reason": "Forbidden"}


@pytest.mark.parametrize("subject", ["abc", "-1", str(2**64), "1.5", "", None],
                         ids=["string", "negative", "past-64-bits", "decimal", "empty", "null"])
def test_signed_token_with_a_bad_subject_is_closed_with_4403(db, subject, server_errors):
    result = connect({"Authorization": f"Bearer {signed_token(subject)}"})
    assert result["answer"] == {"type": "websocket.close", "code": 4403, "reason": "Forbidden"}
    assert server_errors() == []


# --- An access token that expires on an open connection --------------------------------------


def decode_access_token_unverified(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def token_expiring_in(user, seconds: int) -> str:
    """An access token of `user` whose `exp` is `seconds` (whole ones, as a
    JWT counts) from now, give or take the fraction of the current second."""
    expires = datetime.fromtimestamp(int(time.time()) + seconds, tz=UTC)
    return encode_access_token(user_id=user.pk, email=user.email,
                               now=expires - settings.JWT_ACCESS_TOKEN_LIFETIME)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_socket_closes_with_4403_when_its_token_expires(db, protocol):
    user = make_user()
    token = token_expiring_in(user, 2)

    async def run() -> tuple[bool, float, dict]:
        async with socket(protocol, token) as ws:
            still_open = await ws.is_open()  # signed in until then
            closed = await ws.communicator.receive_output(timeout=TIMEOUT)
            return still_open, time.time(), closed

    still_open, at, closed = async_to_sync(run)()
    assert still_open
    assert closed == {"type": "websocket.close", "code": 4403,
                      "reason": "The access token has expired."}
    assert at >= decode_access_token_unverified(token)["exp"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_message_after_the_token_expired_closes_the_socket(db, protocol, time_machine):
    # Whatever the timer's turn: the clock moved past the expiry, and the
    # next message from the client finds the token expired.
    user = make_user()

    async def run() -> tuple[dict, list]:
        async with socket(protocol, token_for(user)) as ws:
            time_machine.move_to(datetime.now(tz=UTC) + settings.JWT_ACCESS_TOKEN_LIFETIME)
            await ws.subscribe("{ me { email } }")
            closed = await ws.communicator.receive_output(timeout=TIMEOUT)
            return closed, [await ws.communicator.receive_nothing(timeout=0.1)]

    closed, after = async_to_sync(run)()
    assert (closed["type"], closed["code"]) == ("websocket.close", 4403)
    assert after == [True]  # and the message was not answered


def test_an_anonymous_connection_does_not_expire(db, time_machine):
    async def run() -> bool:
        async with socket(TRANSPORT_WS) as ws:
            time_machine.move_to(datetime.now(tz=UTC) + timedelta(days=30))
            return await ws.is_open()

    assert async_to_sync(run)()
