"""A webhook receiver the tests start: a threaded HTTP server on a free port
of 127.0.0.1 that records what it is sent and checks each signature the way
an integration would, from the Standard Webhooks specification rather than
from apps.webhooks.signing (which it must agree with, not share code with);
the `receiver` fixture that starts one, and what the tests point at it."""

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.factories import make_order, make_product, make_variant, make_webhook

# How far a timestamp may be from the receiver's clock (the libraries' default).
TOLERANCE = 5 * 60


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signed: bool

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def timestamp(self) -> int:
        return int(self.headers["webhook-timestamp"])


def signature_is_valid(secret: str, headers: dict[str, str], body: bytes) -> bool:
    try:
        message_id = headers["webhook-id"]
        timestamp = headers["webhook-timestamp"]
        signatures = headers["webhook-signature"].split(" ")
    except KeyError:
        return False
    if abs(time.time() - int(timestamp)) > TOLERANCE:
        return False
    key = base64.b64decode(secret.split("_", 1)[1])
    expected = base64.b64encode(
        hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    ).decode()
    return any(version == "v1" and hmac.compare_digest(value, expected)
               for version, _, value in (item.partition(",") for item in signatures))


@dataclass
class Receiver:
    """`answers` are the statuses it gives, one a request, then 200s; with
    `echo`, a refusal answers the body it was sent, as some error pages do."""

    secret: str = ""
    answers: list[int] = field(default_factory=list)
    echo: bool = False
    requests: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver.requests.append(Received(
                    self.path, headers, body, signature_is_valid(receiver.secret, headers, body)))
                status = receiver.answers.pop(0) if receiver.answers else 200
                answer = b"ok" if status < 300 else (
                    body if receiver.echo else b"receiver trouble")
                self.send_response(status)
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks/shop"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True  # it listens on 127.0.0.1
    started = Receiver()
    yield started
    started.stop()


def listening(receiver: Receiver, **fields):
    """An endpoint at the receiver, written directly; the receiver knows its secret."""
    endpoint = make_webhook(url=receiver.url + fields.pop("path", ""), **fields)
    receiver.secret = endpoint.secret
    return endpoint


def placed_order():
    variant = make_variant(product=make_product(name="Candle"), price="12.50", stock=5)
    return make_order(lines=[(variant, 2)])
