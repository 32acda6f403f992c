"""The per-client budget (apps/core/budget.py), THROTTLED with 429, the
client's address behind trusted proxies, and `extensions.cost`."""

import json
import threading
from datetime import UTC, datetime

import pytest
import time_machine
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from apps.core import budget
from apps.core.addresses import client_address
from tests.conftest import Client, client_for, error_codes, make_user

# 2 + 10 x (node + category) = 22 points.
PAGE = "{ products(first: 10) { edges { node { id category { id } } } } }"
PAGE_COST = 22
BUCKET = {"GRAPHQL_COST_BUCKET_SIZE": 50, "GRAPHQL_COST_RESTORE_RATE": 2.0}
START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def small_bucket():
    with override_settings(**BUCKET):
        yield


def post(client: Client, query: str = PAGE, **kwargs):
    return client.request("POST", json={"query": query}, **kwargs)


def test_a_spent_budget_is_429_with_retry_after_and_refills(db, clock, small_bucket,
                                                            django_assert_num_queries):
    client = Client()
    assert post(client).status_code == 200  # 50 - 22 = 28 left
    assert post(client).status_code == 200  # 6 left
    with django_assert_num_queries(0):
        refused = post(client)
    assert refused.status_code == 429
    body = refused.json()
    assert error_codes(body) == ["THROTTLED"]
    assert body.get("data") is None
    # 16 points missing at 2 a second.
    assert refused.headers["Retry-After"] == "8"
    assert body["errors"][0]["extensions"]["retryAfter"] == 8
    # A refused request costs nothing; the bucket refills with time.
    clock.shift(7)
    assert post(client).status_code == 429
    assert post(client).headers["Retry-After"] == "1"
    clock.shift(1)
    assert post(client).status_code == 200
    # Never above the bucket's size, however long the wait.
    clock.shift(3600)
    assert [post(client).status_code for _ in range(3)] == [200, 200, 429]


def test_graphql_response_json_keeps_429(db, clock, small_bucket):
    client = Client()
    post(client), post(client)
    refused = post(client, headers={"Accept": "application/graphql-response+json"})
    assert refused.status_code == 429
    assert refused.headers["Content-Type"].startswith("application/graphql-response+json")


def test_buckets_are_per_address_and_per_user(db, clock, small_bucket):
    first, second = Client(address="198.51.100.1"), Client(address="198.51.100.2")
    post(first), post(first)
    assert post(first).status_code == 429
    assert post(second).status_code == 200
    # A signed-in caller has the user's bucket, from whichever address.
    user = make_user()
    signed_in = client_for(user)
    signed_in.address = "198.51.100.1"
    assert post(signed_in).status_code == 200
    elsewhere = client_for(user)
    elsewhere.address = "203.0.113.9"
    assert post(elsewhere).status_code == 200
    assert post(elsewhere).status_code == 429


def test_a_bucket_size_of_zero_turns_the_budget_off(db, clock):
    with override_settings(GRAPHQL_COST_BUCKET_SIZE=0, GRAPHQL_COST_RESTORE_RATE=0.0):
        client = Client()
        assert {post(client).status_code for _ in range(5)} == {200}


def test_the_budget_does_not_charge_what_never_runs(db, clock, small_bucket):
    client = Client()
    for _ in range(5):  # a validation error is refused before the cost is counted
        assert error_codes(post(client, "{ products { nope } }").json()) == [
            "GRAPHQL_VALIDATION_FAILED"
        ]
    assert post(client).status_code == 200


def test_spending_is_atomic_under_concurrency(db, clock):
    """Twenty threads spend 5 points each from a bucket of 50 at once:
    exactly ten get through, on local memory and on Redis alike."""
    barrier = threading.Barrier(20)
    outcomes = []

    def spend():
        barrier.wait()
        outcomes.append(budget.spend(key="race", cost=5, size=50, rate=0.001).spent)

    threads = [threading.Thread(target=spend) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(True) == 10
    assert budget.spend(key="race", cost=1, size=50, rate=0.001).available < 1


def test_budget_state_survives_between_calls(db, clock):
    first = budget.spend(key="k", cost=30, size=50, rate=2.0)
    assert (first.spent, first.available, first.retry_after) == (True, 20.0, 0)
    clock.shift(2.5)
    second = budget.spend(key="k", cost=30, size=50, rate=2.0)
    assert (second.spent, second.available, second.retry_after) == (False, 25.0, 3)


# --- extensions.cost ------------------------------------------------------------------------


def test_signed_in_callers_see_the_cost_and_the_bucket(db, clock, small_bucket):
    client = client_for(make_user())
    body = post(client).json()
    assert body["extensions"]["cost"] == {
        "requestedQueryCost": PAGE_COST,
        "throttleStatus": {"maximumAvailable": 50.0, "currentlyAvailable": 28.0,
                           "restoreRate": 2.0},
    }
    post(client)
    refused = post(client).json()
    assert refused["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 6.0


def test_anonymous_answers_carry_the_cost_only_when_asked(db, clock):
    client = Client()
    plain = post(client)
    assert "extensions" not in plain.json()
    assert "X-GraphQL-Cost" in plain.headers["Vary"]
    asked = post(client, headers={"X-GraphQL-Cost": "1"}).json()
    assert asked["extensions"]["cost"]["requestedQueryCost"] == PAGE_COST
    assert asked["extensions"]["cost"]["throttleStatus"]["maximumAvailable"] == 10000.0
    # Byte-identical without the header, whatever the bucket holds.
    assert post(client).content == plain.content


def test_without_a_budget_only_the_requested_cost_is_shown(db, clock):
    with override_settings(GRAPHQL_COST_BUCKET_SIZE=0):
        body = post(client_for(make_user())).json()
    assert body["extensions"]["cost"] == {"requestedQueryCost": PAGE_COST}


def test_cors_lets_browsers_ask_for_the_cost_and_read_retry_after(db, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://shop.example"]
    preflight = Client().request(
        "OPTIONS", headers={"Origin": "https://shop.example",
                            "Access-Control-Request-Method": "POST",
                            "Access-Control-Request-Headers": "x-graphql-cost"})
    assert "x-graphql-cost" in preflight.headers["access-control-allow-headers"]
    answer = Client().request("POST", json={"query": "{ __typename }"},
                              headers={"Origin": "https://shop.example"})
    assert "retry-after" in answer.headers["access-control-expose-headers"]


# --- The client's address ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "peer", "forwarded", "expected"),
    [
        ([], "10.0.0.1", ["1.2.3.4"], "10.0.0.1"),  # no trusted proxy: the peer
        (["10.0.0.0/8"], "192.0.2.7", ["1.2.3.4"], "192.0.2.7"),  # peer not trusted
        (["10.0.0.0/8"], "10.0.0.1", [], "10.0.0.1"),  # nothing forwarded
        (["10.0.0.0/8"], "10.0.0.1", ["1.2.3.4"], "1.2.3.4"),
        # The right-most untrusted hop; what the client wrote on the left is ignored.
        (["10.0.0.0/8"], "10.0.0.1", ["6.6.6.6, 1.2.3.4, 10.0.0.2"], "1.2.3.4"),
        (["10.0.0.0/8"], "10.0.0.1", ["6.6.6.6, 1.2.3.4", "10.0.0.2"], "1.2.3.4"),
        # A single trusted address, IPv6, ports, IPv4-mapped IPv6.
        (["10.0.0.1"], "10.0.0.1", ["[2001:db8::1]:443"], "2001:db8::1"),
        (["::1"], "::1", ["1.2.3.4:5678"], "1.2.3.4"),
        (["::1"], "::1", ["::ffff:1.2.3.4"], "1.2.3.4"),
        # Garbage from a trusted proxy: nothing left of it is believed.
        (["10.0.0.0/8"], "10.0.0.1", ["1.2.3.4, unknown"], "10.0.0.1"),
        # Every hop trusted: the left-most.
        (["10.0.0.0/8"], "10.0.0.1", ["10.0.0.3, 10.0.0.2"], "10.0.0.3"),
    ],
)
def test_client_address(settings, proxies, peer, forwarded, expected):
    settings.GRAPHQL_TRUSTED_PROXIES = proxies
    assert client_address(peer=peer, forwarded_for=forwarded) == expected


def test_a_bad_trusted_proxy_setting_is_a_configuration_error(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.GRAPHQL_TRUSTED_PROXIES = ["10.0.0.0/8", "proxy.internal"]
    with pytest.raises(ImproperlyConfigured, match="proxy.internal"):
        client_address(peer="10.0.0.1", forwarded_for=["1.2.3.4"])


def test_forwarded_buyers_of_a_trusted_storefront_have_their_own_buckets(db, clock,
                                                                          small_bucket):
    storefront = Client(address="10.1.2.3")

    def as_buyer(address: str):
        return post(storefront, headers={"X-Forwarded-For": address}).status_code

    with override_settings(GRAPHQL_TRUSTED_PROXIES=["10.0.0.0/8"]):
        assert [as_buyer("198.51.100.1") for _ in range(3)] == [200, 200, 429]
        assert as_buyer("198.51.100.2") == 200
    # Not trusted: X-Forwarded-For is ignored; the sender is one client.
    stranger = Client(address="192.0.2.50")
    assert [post(stranger, headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
            for i in range(10, 13)] == [200, 200, 429]


def test_the_sign_in_throttle_counts_the_forwarded_address(db, settings):
    settings.GRAPHQL_TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.LOGIN_THROTTLE_IP_LIMIT = 2
    settings.LOGIN_THROTTLE_EMAIL_LIMIT = 100
    query = """mutation($email: String!) { tokenAuth(email: $email, password: "wrong") {
        token errors { code } } }"""
    proxy = Client(address="10.0.0.5")

    def sign_in(buyer: str, n: int) -> str:
        body = proxy.post(query, {"email": f"nobody{n}@example.com"},
                          headers={"X-Forwarded-For": buyer})
        return body["data"]["tokenAuth"]["errors"][0]["code"]

    assert [sign_in("198.51.100.1", n) for n in range(3)] == [
        "INVALID_CREDENTIALS", "INVALID_CREDENTIALS", "THROTTLED"]
    assert sign_in("198.51.100.2", 9) == "INVALID_CREDENTIALS"


def test_websocket_clients_are_counted_by_their_forwarded_address(db, clock, small_bucket):
    async def subscribe(forwarded: str) -> dict:
        from commerce.asgi import application

        communicator = WebsocketCommunicator(
            application, "/graphql/", subprotocols=["graphql-transport-ws"],
            headers=[(b"x-forwarded-for", forwarded.encode())],
        )
        communicator.scope["client"] = ("10.0.0.7", 5000)
        await communicator.connect()
        await communicator.send_json_to({"type": "connection_init"})
        await communicator.receive_json_from(timeout=5)
        answers = []
        for n in range(3):
            await communicator.send_json_to(
                {"id": str(n), "type": "subscribe", "payload": {"query": PAGE}})
            answers.append(await communicator.receive_json_from(timeout=5))
            if answers[-1]["type"] == "next":
                await communicator.receive_json_from(timeout=5)  # complete
        await communicator.disconnect()
        return answers

    with override_settings(GRAPHQL_TRUSTED_PROXIES=["10.0.0.0/8"]):
        answers = async_to_sync(subscribe)("198.51.100.77")
        assert [a["type"] for a in answers[:2]] == ["next", "next"]
        last = json.dumps(answers[2])
        assert "THROTTLED" in last
        assert "extensions" not in answers[0]["payload"]  # no cost over WebSocket
        assert async_to_sync(subscribe)("198.51.100.78")[0]["type"] == "next"


@pytest.mark.redis
def test_on_redis_the_bucket_is_one_hash_spent_by_the_script(db, clock):
    from django.core.cache import caches

    backend = caches["default"]
    budget.spend(key="hash", cost=5, size=50, rate=2.0)
    key = backend.make_and_validate_key(budget.PREFIX + "hash")
    client = backend._cache.get_client(key)
    assert client.hgetall(key) == {b"points": b"45", b"at": str(START.timestamp()).encode()
                                   .removesuffix(b".0")}
    assert 0 < client.ttl(key) <= 26


def test_a_cache_that_does_not_answer_leaves_the_request_unbudgeted(db, clock, small_bucket,
                                                                    monkeypatch, caplog):
    def down(**kwargs):
        raise budget.BudgetUnavailable("Connection refused")

    monkeypatch.setattr(budget, "spend", down)
    answer = post(client_for(make_user()))
    assert answer.status_code == 200
    assert answer.json()["extensions"]["cost"] == {"requestedQueryCost": PAGE_COST}
    assert "budget unavailable" in caplog.text


def test_redis_errors_are_budget_unavailable(db, monkeypatch):
    from django.core.cache.backends.redis import RedisCache
    from redis.exceptions import ConnectionError as RedisConnectionError

    class Unreachable:
        def __call__(self, **kwargs):
            raise RedisConnectionError("Connection refused")

    backend = RedisCache("redis://127.0.0.1:1/0", {})
    monkeypatch.setattr(budget, "_script", Unreachable())
    monkeypatch.setattr(budget, "caches", {"default": backend})
    with pytest.raises(budget.BudgetUnavailable):
        budget.spend(key="x", cost=1, size=10, rate=1.0)


def test_make_bench_runs_with_the_budget_off():
    from bench.run import server_environment

    environment = server_environment("postgres://x", "redis://x")
    assert environment["GRAPHQL_COST_BUCKET_SIZE"] == "0"
