"""A local stand-in for the part of Stripe's HTTP API the shop uses, so that
the tests drive the real `stripe` library (STRIPE_API_BASE points at it)
rather than a mock of it.

It answers as Stripe does, in form-encoded requests and JSON answers:
PaymentIntents created (for the bearer of its secret key, honouring the
Idempotency-Key: the same key and parameters replay the first answer, the
same key with other parameters is an idempotency_error), retrieved and
cancelled, and Refunds of a succeeded PaymentIntent, idempotent the same
way. What the customer does in the browser, the test does by hand:
`succeed`, `fail` and `process` a PaymentIntent, `settle` a refund. And
`down = True` makes it unreachable (a connection closed without an
answer), `broken = True` answer 500, `mute = True` do the work and lose the
answer; `lose = "drop" | "timeout" | "500"` does the work of each POST to a
path in `lose_on` (all of them by default) and then loses its answer: the
connection dropped, held until the client gives up waiting (released by
`reset`), or a 500 in place of the answer. Refunds are listed
(`GET /v1/refunds?payment_intent=`), newest first, as Stripe lists them.

`use_fake_stripe(settings)` hands it to a test: one server for the
session, emptied for each test, with the settings pointing at it and the
gateway enabled.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fake_http import JsonHandler, LocalServer


SECRET_KEY = "sk_test_fake"
PUBLISHABLE_KEY = "pk_test_fake"
WEBHOOK_SECRET = "whsec_test_fake"

# Stripe's smallest charge where it has one (0.50 in these currencies).
MINIMUM = {"usd": 50, "eur": 50, "gbp": 30}
CANCELLABLE = {"requires_payment_method", "requires_confirmation", "requires_action",
               "requires_capture"}

_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_{next(_ids):08d}{hashlib.sha256(str(time.time_ns()).encode()).hexdigest()[:12]}"


def unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """`metadata[order_number]=1001` back into {"metadata": {"order_number": "1001"}}."""
    params: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        target = params
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return params


class ApiError(Exception):
    def __init__(self, status: int, type_: str, message: str, *, code: str = "",
                 param: str = ""):
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": type_, "message": message, "code": code or None,
                               "param": param or None}}


class FakeStripe(LocalServer):
    def __init__(self) -> None:
        self.start(_Handler)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.intents: dict[str, dict[str, Any]] = {}
            self.refunds: dict[str, dict[str, Any]] = {}
            self.charges: dict[str, dict[str, Any]] = {}
            # Idempotency-Key -> (method and path, parameters, status, answer)
            self.keys: dict[str, tuple[str, dict[str, Any], int, dict[str, Any]]] = {}
            # Every request as (method, path, parameters, Idempotency-Key).
            self.requests: list[tuple[str, str, dict[str, Any], str | None]] = []
            self.down = False
            self.broken = False
            # Does the work, then drops the connection: Stripe made the
            # object but the answer never arrived (a timeout).
            self.mute = False
            # Called with (method, path) before each request is answered, in
            # the server's thread: what the shop holds while it waits.
            self.on_request: Callable[[str, str], None] | None = None
            # What a new refund answers (Stripe: pending for some methods).
            self.refund_status = "succeeded"
            self.lose: str | None = None
            self.lose_on: set[str] | None = None
            released = getattr(self, "released", None)
            if released is not None:
                released.set()  # a held answer of the test before lets go
            self.released = threading.Event()

    # --- What the customer (or the bank) does, driven by the test ---------------

    def succeed(self, intent_id: str) -> dict[str, Any]:
        """The customer confirmed and the payment went through."""
        with self.lock:
            intent = self.intents[intent_id]
            charge = {"id": new_id("ch"), "object": "charge", "payment_intent": intent_id,
                      "amount": intent["amount"], "currency": intent["currency"],
                      "amount_refunded": 0, "refunded": False,
                      "refunds": {"object": "list", "data": []}}
            self.charges[charge["id"]] = charge
            intent.update(status="succeeded", amount_received=intent["amount"],
                          latest_charge=charge["id"], last_payment_error=None)
            return dict(intent)

    def fail(self, intent_id: str, message: str = "Your card was declined.") -> dict[str, Any]:
        """The customer's attempt failed: back to requires_payment_method, with
        the error, so that another card may be tried on the same intent."""
        with self.lock:
            intent = self.intents[intent_id]
            intent.update(status="requires_payment_method",
                          last_payment_error={"code": "card_declined", "message": message,
                                              "type": "card_error"})
            return dict(intent)

    def process(self, intent_id: str) -> dict[str, Any]:
        """A bank debit on its way: neither paid nor failed yet."""
        with self.lock:
            intent = self.intents[intent_id]
            intent.update(status="processing")
            return dict(intent)

    def settle(self, refund_id: str, status: str) -> dict[str, Any]:
        """A pending refund went through (succeeded) or did not (failed)."""
        with self.lock:
            refund = self.refunds[refund_id]
            if status == "failed" and refund["status"] != "failed":
                # As Stripe does: a failed refund's amount is refundable again.
                self._uncount(refund)
                refund["failure_reason"] = "expired_or_canceled_card"
            refund["status"] = status
            return dict(refund)

    def _uncount(self, refund: dict[str, Any]) -> None:
        charge = self.charges[refund["charge"]]
        charge["amount_refunded"] -= refund["amount"]
        charge["refunded"] = False

    def charge_of(self, intent_id: str) -> dict[str, Any]:
        with self.lock:
            return json.loads(json.dumps(self.charges[self.intents[intent_id]["latest_charge"]]))

    def event(self, type_: str, obj: dict[str, Any], *, event_id: str | None = None,
              created: int | None = None) -> dict[str, Any]:
        """An Event as Stripe sends it to a webhook endpoint."""
        return {"id": event_id or new_id("evt"), "object": "event", "type": type_,
                "api_version": "2025-01-01", "created": created or int(time.time()),
                "livemode": False, "pending_webhooks": 1, "data": {"object": obj}}

    # --- The API ------------------------------------------------------------------

    def answer(self, method: str, path: str, params: dict[str, Any],
               headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        key = headers.get("idempotency-key")
        with self.lock:
            self.requests.append((method, path, params, key))
            if headers.get("authorization") != f"Bearer {SECRET_KEY}":
                return 401, ApiError(401, "invalid_request_error",
                                     "Invalid API Key provided.").body
            if method == "POST" and key:
                seen = self.keys.get(key)
                if seen is not None:
                    if seen[:2] != (f"{method} {path}", params):
                        return 400, ApiError(
                            400, "idempotency_error",
                            "Keys for idempotent requests can only be used with the same "
                            "parameters they were first used with.").body
                    return seen[2], seen[3]
            try:
                status, body = 200, self.route(method, path, params)
            except ApiError as error:
                status, body = error.status, error.body
            if method == "POST" and key:
                self.keys[key] = (f"{method} {path}", params, status, body)
            return status, body

    def route(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        if (method, path) == ("POST", "/v1/payment_intents"):
            return self.create_intent(params)
        if (method, path) == ("POST", "/v1/refunds"):
            return self.create_refund(params)
        if (method, path) == ("GET", "/v1/refunds"):
            listed = [dict(r) for r in reversed(self.refunds.values())
                      if r["payment_intent"] == params.get("payment_intent", r["payment_intent"])]
            return {"object": "list", "url": "/v1/refunds", "has_more": False, "data": listed}
        found = re.fullmatch(r"/v1/payment_intents/([^/]+)(/cancel)?", path)
        if found:
            intent = self.intents.get(found[1])
            if intent is None:
                raise ApiError(404, "invalid_request_error",
                               f"No such payment_intent: '{found[1]}'",
                               code="resource_missing", param="intent")
            if method == "GET" and not found[2]:
                return dict(intent)
            if method == "POST" and found[2]:
                if intent["status"] not in CANCELLABLE:
                    raise ApiError(
                        400, "invalid_request_error",
                        "You cannot cancel this PaymentIntent because it has a status of "
                        f"{intent['status']}.", code="payment_intent_unexpected_state")
                intent.update(status="canceled", canceled_at=int(time.time()))
                return dict(intent)
        raise ApiError(404, "invalid_request_error", f"Unrecognized request URL ({path}).")

    def create_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        amount, currency = int(params["amount"]), params["currency"]
        if amount < MINIMUM.get(currency, 1):
            raise ApiError(400, "invalid_request_error", "Amount must be at least $0.50 usd",
                           code="amount_too_small", param="amount")
        method = params.get("payment_method")
        if method is not None and not method.startswith("pm_"):
            raise ApiError(400, "invalid_request_error", f"No such PaymentMethod: '{method}'",
                           code="resource_missing", param="payment_method")
        intent_id = new_id("pi")
        intent = {
            "id": intent_id, "object": "payment_intent", "amount": amount,
            "amount_received": 0, "currency": currency,
            "client_secret": f"{intent_id}_secret_{hashlib.sha256(intent_id.encode()).hexdigest()[:16]}",
            "status": "requires_confirmation" if method else "requires_payment_method",
            "payment_method": method, "metadata": params.get("metadata", {}),
            "last_payment_error": None, "latest_charge": None,
            "created": int(time.time()), "livemode": False,
        }
        self.intents[intent_id] = intent
        return dict(intent)

    def create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        intent = self.intents.get(params.get("payment_intent", ""))
        if intent is None:
            raise ApiError(404, "invalid_request_error", "No such payment_intent",
                           code="resource_missing", param="payment_intent")
        if intent["status"] != "succeeded":
            raise ApiError(400, "invalid_request_error",
                           "This PaymentIntent does not have a successful charge to refund.",
                           code="payment_intent_unexpected_state")
        charge = self.charges[intent["latest_charge"]]
        left = charge["amount"] - charge["amount_refunded"]
        if left == 0:
            raise ApiError(400, "invalid_request_error",
                           f"Charge {charge['id']} has already been refunded.",
                           code="charge_already_refunded")
        amount = int(params.get("amount", left))
        if amount > left:
            raise ApiError(400, "invalid_request_error",
                           "Refund amount is greater than the unrefunded amount on the charge.",
                           code="amount_too_large", param="amount")
        refund = {"id": new_id("re"), "object": "refund", "amount": amount,
                  "currency": intent["currency"], "payment_intent": intent["id"],
                  "charge": charge["id"], "status": self.refund_status,
                  "metadata": params.get("metadata", {}), "failure_reason": None,
                  "created": int(time.time())}
        self.refunds[refund["id"]] = refund
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        charge["refunds"]["data"].append(refund)
        if refund["status"] == "failed":  # failed at once (refund_status)
            refund["failure_reason"] = "lost_or_stolen_card"
            self._uncount(refund)
        return dict(refund)


class _Handler(JsonHandler):
    def _serve(self) -> None:
        fake: FakeStripe = self.server.fake  # type: ignore[attr-defined]
        body = self.body()
        if fake.down:
            # Unreachable: the connection is dropped without an answer.
            self.close_connection = True
            return
        url = urlsplit(self.path)
        params = unflatten(parse_qsl(body or url.query, keep_blank_values=True))
        headers = self.headers_lower()
        if fake.on_request is not None:
            fake.on_request(self.command, url.path)
        if fake.broken:
            status, answer = 500, ApiError(500, "api_error", "An unknown error occurred").body
        else:
            status, answer = fake.answer(self.command, url.path, params, headers)
        if fake.mute:
            self.close_connection = True
            return
        if fake.lose and self.command == "POST" and (fake.lose_on is None
                                                     or url.path in fake.lose_on):
            if fake.lose == "timeout":  # answered only after the client gave up
                fake.released.wait(30)
            if fake.lose in ("drop", "timeout"):
                self.close_connection = True
                return
            status, answer = 500, ApiError(500, "api_error", "An unknown error occurred").body
        self.send_json(status, answer, **{"Request-Id": new_id("req")})

    do_GET = do_POST = _serve


def sign(payload: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A Stripe-Signature header made as Stripe makes it: t=<unix time>,
    v1=<hex HMAC-SHA256 of "<t>.<payload>" keyed with the endpoint's secret>."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


_server: FakeStripe | None = None


def use_fake_stripe(settings) -> FakeStripe:
    """The fake (one server for the session), emptied, with the settings
    (pytest-django's `settings` fixture) pointing the server at it and stripe
    enabled beside dummy. A test module makes it its fixture:

        @pytest.fixture
        def stripe_api(settings):
            return use_fake_stripe(settings)
    """
    fake = server()
    fake.reset()
    for name, value in settings_for(fake).items():
        setattr(settings, name, value)
    return fake


def server() -> FakeStripe:
    """The fake, started at the first call, for the session."""
    global _server
    if _server is None:
        _server = FakeStripe()
    return _server


def settings_for(fake: FakeStripe) -> dict[str, Any]:
    """The settings that point a server at `fake` (another process takes
    them as environment variables, tests/celery_worker.py)."""
    return {
        "STRIPE_API_BASE": fake.url,
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_MAX_NETWORK_RETRIES": 0,
        "STRIPE_TIMEOUT": 5,
        "PAYMENT_GATEWAYS": ["dummy", "stripe"],
    }
