"""Read replicas: anonymous and customer catalog reads go to a replica, and
nothing else does (apps.core.replicas, schema/replicas.py). The replica alias
mirrors the primary (commerce/settings_test.py), so what a replica would
answer is what the primary holds; the queries each connection ran tell
where a request read. Committed for real (transactional tests): another
connection sees only committed rows."""

from datetime import timedelta

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from strawberry import relay

from apps.accounts.permissions import Perm
from apps.core import cache_tags, replicas
from tests.conftest import Client, client_for, make_user
from tests.factories import make_category, make_order, make_product, make_variant

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica_0"])

CARDS = "query Cards { products(first: 5) { edges { node { name priceRange { start { amount } } } } } }"
RENAME = 'mutation Rename { accountUpdate(input: {firstName: "Grace"}) { errors { code } } }'


@pytest.fixture(autouse=True)
def with_replica(settings):
    settings.DATABASE_REPLICAS = ["replica_0"]
    settings.GRAPHQL_RESPONSE_CACHE = False
    settings.REPLICA_READ_YOUR_WRITES_SECONDS = 5


@pytest.fixture
def shop():
    product = make_product(name="Green", slug="green", category=make_category(name="Tea"))
    make_variant(product=product, price="5.00", stock=3)
    return product


def where(send) -> tuple[int, int, object]:
    """(queries on the primary, queries on the replica, the answer)."""
    with CaptureQueriesContext(connections["default"]) as primary, CaptureQueriesContext(
            connections["replica_0"]) as replica:
        answer = send()
    return len(primary), len(replica), answer


def cards(client: Client) -> tuple[int, int, object]:
    return where(lambda: client.execute(CARDS))


def test_an_anonymous_catalog_read_uses_the_replica(shop):
    on_primary, on_replica, data = cards(Client())
    assert data["products"]["edges"][0]["node"]["name"] == "Green"
    assert (on_primary, on_replica > 0) == (0, True)


def test_a_customers_catalog_read_uses_the_replica_but_its_token_is_read_on_the_primary(shop):
    on_primary, on_replica, _ = cards(client_for(make_user()))
    assert on_replica > 0
    assert 0 < on_primary <= 2  # the access token's user (and its permissions)


def test_a_mutation_never_touches_a_replica(shop):
    customer = client_for(make_user())
    on_primary, on_replica, data = where(lambda: customer.execute(RENAME))
    assert data["accountUpdate"]["errors"] == []
    assert (on_primary > 0, on_replica) == (True, 0)


def test_a_client_that_wrote_reads_the_primary_for_a_while(shop, time_machine):
    time_machine.move_to("2026-12-02 12:00:00", tick=False)
    user = make_user()
    customer = client_for(user)
    customer.execute(RENAME)
    _, on_replica, _ = cards(customer)
    assert on_replica == 0
    # Another client is not held to the primary by it.
    assert cards(Client())[1] > 0
    time_machine.shift(timedelta(seconds=6))
    customer = client_for(user)  # a fresh access token, past the window
    assert cards(customer)[1] > 0


@pytest.mark.parametrize("document", [
    "query { me { email } }",
    "query { me { email } products(first: 1) { edges { node { name } } } }",
])
def test_anything_personal_reads_the_primary(shop, document):
    customer = client_for(make_user())
    assert where(lambda: customer.execute(document))[1] == 0


def test_staff_read_the_primary(shop):
    manager = client_for(make_user(perms=[Perm.MANAGE_PRODUCTS]))
    assert cards(manager)[1] == 0


def test_a_node_lookup_reads_the_replica_only_for_a_catalog_object(shop):
    user = make_user()
    order = make_order(user=user, lines=[(shop.variants.get(), 1)])
    customer = client_for(user)
    lookup = "query($id: ID!) { node(id: $id) { id } }"
    product_id = str(relay.GlobalID("Product", str(shop.pk)))
    order_id = str(relay.GlobalID("Order", str(order.pk)))
    assert where(lambda: customer.execute(lookup, {"id": product_id}))[1] > 0
    on_primary, on_replica, data = where(lambda: customer.execute(lookup, {"id": order_id}))
    assert (on_replica, data["node"]["id"]) == (0, order_id)


def test_a_replica_behind_the_last_change_is_not_read(shop, monkeypatch):
    monkeypatch.setattr(replicas, "_caught_up", lambda alias, position: False)
    assert cards(Client())[1] == 0


def test_without_replicas_everything_reads_the_primary(shop, settings):
    settings.DATABASE_REPLICAS = []
    assert cards(Client())[1] == 0


@pytest.mark.postgresql
def test_an_invalidation_records_where_the_primary_is_and_a_mirror_has_it(shop):
    from django.core.cache import cache

    cache_tags.bump(["products"])
    position = cache.get(replicas.CHANGED_AT)
    assert position and "/" in position  # a WAL position, such as 0/1A2B3C4
    # The mirror is not in recovery: it is the primary, and has everything.
    assert replicas._caught_up("replica_0", position)
    assert cards(Client())[1] > 0


def test_a_cache_miss_read_on_the_replica_is_kept_and_served(shop, settings):
    settings.GRAPHQL_RESPONSE_CACHE = True
    from tests.contract import document

    storefront = document("storefront/catalog.graphql")
    client = Client()
    first = where(lambda: client.execute(storefront, {"first": 5}, operation_name="ProductList"))
    assert first[1] > 0
    again = where(lambda: client.execute(storefront, {"first": 5}, operation_name="ProductList"))
    assert (again[0], again[1], again[2]) == (0, 0, first[2])
