"""Shipping zones and methods: the selectors the checkout will call, the
services, and the admin API through the endpoint."""

from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from strawberry.relay import to_base64

from apps.accounts.permissions import Perm
from apps.core.errors import ServiceError
from apps.core.money import Money
from apps.shipping import selectors, services
from apps.shipping.models import ShippingMethod, ShippingZone, ShippingZoneCountry
from tests.conftest import WHO, Client, client_for, client_of, error_codes, make_user, problems

pytestmark = pytest.mark.django_db


def zone(name: str = "Europe", countries: tuple[str, ...] = ("FR", "DE")) -> ShippingZone:
    return services.shipping_zone_create(actor=None, name=name, countries=list(countries))


def method(zone: ShippingZone, name: str = "Standard", price: str = "5.00",
           **fields) -> ShippingMethod:
    return services.shipping_method_create(actor=None, zone=zone, name=name,
                                           price=Decimal(price), **fields)


@pytest.fixture
def shipping_client() -> Client:
    return client_for(make_user(perms=[Perm.MANAGE_SHIPPING]))


# ------------------------------------------------------------ selectors


def quotes(country: str, subtotal: str, weight: int) -> list[tuple[str, Decimal]]:
    return [(q.method.name, q.price.amount) for q in selectors.shipping_methods_for(
        country=country, subtotal=Money.of(subtotal), weight_grams=weight)]


def test_methods_follow_the_country_the_weight_and_the_subtotal():
    europe, us = zone(), zone("US", ("US",))
    method(europe, "Standard", "5.00", free_above=Decimal("50.00"))
    method(europe, "Express", "15.00", max_weight_grams=2000)
    method(europe, "Freight", "40.00", min_weight_grams=2001)
    method(us, "Ground", "7.00")

    assert quotes("FR", "20.00", 500) == [("Standard", Decimal("5.00")),
                                          ("Express", Decimal("15.00"))]
    # At the threshold it is free (and so first); the limits are inclusive.
    assert quotes("de", "50.00", 2000) == [("Standard", Decimal("0.00")),
                                           ("Express", Decimal("15.00"))]
    assert quotes("FR", "49.99", 2001) == [("Standard", Decimal("5.00")),
                                           ("Freight", Decimal("40.00"))]
    assert quotes("US", "100.00", 0) == [("Ground", Decimal("7.00"))]
    assert quotes("JP", "100.00", 0) == []


def test_a_method_serves_or_not(django_assert_num_queries):
    express = method(zone(), "Express", max_weight_grams=1000)
    with django_assert_num_queries(1):
        assert selectors.shipping_method_serves(method=express, country="FR", weight_grams=1000)
    assert not selectors.shipping_method_serves(method=express, country="FR", weight_grams=1001)
    assert not selectors.shipping_method_serves(method=express, country="US", weight_grams=10)


def test_methods_for_is_one_query_however_many(django_assert_num_queries):
    europe = zone()
    for n in range(6):
        method(europe, f"Method {n}", f"{n}.00")
    with django_assert_num_queries(1):
        assert len(selectors.shipping_methods_for(country="FR", subtotal=Money.of(1),
                                                  weight_grams=1)) == 6


# ------------------------------------------------------------ services


def test_a_country_ships_from_one_zone():
    zone("Europe", ("FR", "DE"))
    with pytest.raises(ServiceError) as refused:
        zone("France", ("BE", "FR"))
    [error] = refused.value.errors
    assert (error.field, error.code) == ("countries.1", "UNIQUE")
    assert "Europe" in error.message
    assert not ShippingZone.objects.filter(name="France").exists()


def test_the_unique_column_backs_the_check_against_a_concurrent_zone():
    # What a second writer meets when the first added the country between
    # its check and its insert: UNIQUE, not an IntegrityError.
    zone("Europe", ("FR",))
    france = ShippingZone.objects.create(name="France")
    with pytest.raises(ServiceError) as refused:
        services._set_countries(france, ["FR"])
    assert [(e.field, e.code) for e in refused.value.errors] == [("countries", "UNIQUE")]


def test_zone_input_is_checked_all_at_once():
    with pytest.raises(ServiceError) as refused:
        services.shipping_zone_create(actor=None, name=" ", countries=["FR", "XX", "fr", ""])
    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("name", "REQUIRED"), ("countries.1", "INVALID"), ("countries.2", "UNIQUE"),
        ("countries.3", "REQUIRED"),
    ]


def test_a_zone_update_replaces_its_countries_and_a_delete_takes_its_methods():
    europe = zone("Europe", ("FR", "DE"))
    method(europe)
    services.shipping_zone_update(actor=None, zone=europe, countries=["de", "AT"])
    assert list(europe.countries.values_list("country", flat=True)) == ["AT", "DE"]
    zone("France", ("FR",))  # free again
    services.shipping_zone_delete(actor=None, zone=europe)
    assert not ShippingMethod.objects.exists()
    assert list(ShippingZoneCountry.objects.values_list("country", flat=True)) == ["FR"]


def test_method_input_is_checked():
    europe = zone()
    with pytest.raises(ServiceError) as refused:
        services.shipping_method_create(actor=None, zone=europe, name="", price=Decimal("-1"),
                                        free_above=Decimal("1.001"), min_weight_grams=10,
                                        max_weight_grams=5)
    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("name", "REQUIRED"), ("price", "INVALID"), ("free_above", "INVALID"),
        ("max_weight_grams", "INVALID"),
    ]
    standard = method(europe, max_weight_grams=5000)
    with pytest.raises(ServiceError):
        services.shipping_method_update(actor=None, method=standard, min_weight_grams=6000)
    services.shipping_method_update(actor=None, method=standard, max_weight_grams=None,
                                    min_weight_grams=6000)
    standard.refresh_from_db()
    assert (standard.min_weight_grams, standard.max_weight_grams) == (6000, None)


# ------------------------------------------------------------ the permission


def test_order_managers_and_administrators_get_manage_shipping():
    for name in ("Order managers", "Administrators"):
        group = Group.objects.get(name=name)
        assert group.permissions.filter(codename="manage_shipping").exists()


def test_an_order_manager_manages_shipping():
    user = make_user(is_staff=True)
    user.groups.add(Group.objects.get(name="Order managers"))
    result = client_for(user).execute(ZONE_CREATE, {"input": {"name": "US", "countries": ["US"]}})
    assert result["shippingZoneCreate"]["errors"] == []


def test_the_data_migration_grants_it_to_existing_roles():
    from importlib import import_module

    migration = import_module("apps.accounts.migrations.0004_manage_shipping_to_roles")
    group = Group.objects.get(name="Order managers")
    group.permissions.remove(*group.permissions.filter(codename="manage_shipping"))
    migration.grant(django_apps, None)
    assert group.permissions.filter(codename="manage_shipping").exists()


# ------------------------------------------------------------ the endpoint

ZONE_CREATE = """
mutation($input: ShippingZoneInput!) {
  shippingZoneCreate(input: $input) {
    zone { id name countries methods { id } }
    errors { field message code }
  }
}"""

ZONE_UPDATE = """
mutation($id: ID!, $input: ShippingZoneInput!) {
  shippingZoneUpdate(id: $id, input: $input) { zone { name countries } errors { field code } }
}"""

ZONE_DELETE = """
mutation($id: ID!) { shippingZoneDelete(id: $id) { errors { field code } } }"""

METHOD_CREATE = """
mutation($zoneId: ID!, $input: ShippingMethodInput!) {
  shippingMethodCreate(zoneId: $zoneId, input: $input) {
    method { id name price { amount currency } freeAbove { amount } minWeightGrams
             maxWeightGrams }
    errors { field message code }
  }
}"""

METHOD_UPDATE = """
mutation($id: ID!, $input: ShippingMethodInput!) {
  shippingMethodUpdate(id: $id, input: $input) {
    method { name price { amount } freeAbove { amount } }
    errors { field code }
  }
}"""

METHOD_DELETE = """
mutation($id: ID!) { shippingMethodDelete(id: $id) { errors { field code } } }"""

ZONES = """
query($first: Int) {
  shippingZones(first: $first) {
    totalCount
    edges { node { id name countries methods { id name price { amount currency }
                                              freeAbove { amount } minWeightGrams } } }
  }
}"""


def test_staff_create_update_and_delete_zones_and_methods(shipping_client):
    created = shipping_client.execute(ZONE_CREATE, {"input": {"name": "Europe",
                                                              "countries": ["fr", "DE"]}})
    payload = created["shippingZoneCreate"]
    assert payload["errors"] == []
    assert payload["zone"]["name"] == "Europe"
    assert payload["zone"]["countries"] == ["DE", "FR"]
    zone_id = payload["zone"]["id"]

    made = shipping_client.execute(METHOD_CREATE, {"zoneId": zone_id, "input": {
        "name": "Standard", "price": "4.90", "freeAbove": "60", "maxWeightGrams": 3000}})
    assert made["shippingMethodCreate"] == {"method": {
        "id": made["shippingMethodCreate"]["method"]["id"], "name": "Standard",
        "price": {"amount": "4.90", "currency": "USD"}, "freeAbove": {"amount": "60.00"},
        "minWeightGrams": None, "maxWeightGrams": 3000}, "errors": []}
    method_id = made["shippingMethodCreate"]["method"]["id"]

    updated = shipping_client.execute(METHOD_UPDATE, {"id": method_id, "input": {
        "price": "5.50", "freeAbove": None}})
    assert updated["shippingMethodUpdate"] == {
        "method": {"name": "Standard", "price": {"amount": "5.50"}, "freeAbove": None},
        "errors": []}

    renamed = shipping_client.execute(ZONE_UPDATE, {"id": zone_id, "input": {"name": "EU"}})
    assert renamed["shippingZoneUpdate"] == {"zone": {"name": "EU", "countries": ["DE", "FR"]},
                                             "errors": []}

    assert shipping_client.execute(METHOD_DELETE, {"id": method_id}) == {
        "shippingMethodDelete": {"errors": []}}
    assert shipping_client.execute(ZONE_DELETE, {"id": zone_id}) == {
        "shippingZoneDelete": {"errors": []}}
    assert not ShippingZone.objects.exists()


def test_bad_input_is_a_coded_payload_error(shipping_client):
    zone("Europe", ("FR",))
    taken = shipping_client.execute(ZONE_CREATE, {"input": {"name": "France",
                                                            "countries": ["FR", "ZZ"]}})
    assert problems(taken["shippingZoneCreate"]) == [("countries.1", "INVALID"),
                                                    ("countries.0", "UNIQUE")]
    unknown = to_base64("ShippingZone", 999)
    assert problems(shipping_client.execute(METHOD_CREATE, {"zoneId": unknown, "input": {
        "name": "X", "price": "1"}})["shippingMethodCreate"]) == [("zoneId", "NOT_FOUND")]
    europe_id = to_base64("ShippingZone", ShippingZone.objects.get().pk)
    assert problems(shipping_client.execute(METHOD_CREATE, {"zoneId": europe_id, "input": {
        "price": "1.234", "minWeightGrams": -1}})["shippingMethodCreate"]) == [
        ("name", "REQUIRED"), ("price", "INVALID"), ("minWeightGrams", "INVALID")]
    assert problems(shipping_client.execute(ZONE_DELETE, {"id": "not an id"})[
        "shippingZoneDelete"]) == [("id", "NOT_FOUND")]


@pytest.mark.parametrize("who,code", WHO)
def test_others_may_not_manage_shipping(who, code):
    result = client_of(who).post(ZONE_CREATE, {"input": {"name": "Europe", "countries": ["FR"]}})
    assert error_codes(result) == [code]
    assert not ShippingZone.objects.exists()


def seed_zones(size: int) -> None:
    countries = iter(["FR", "DE", "BE", "NL", "IT", "ES", "PT", "AT", "PL", "SE", "DK", "FI"])
    for n in range(size):
        each = zone(f"Zone {n:02}", (next(countries),))
        method(each, "Standard", "5.00", free_above=Decimal("50"))
        method(each, "Express", "12.00", min_weight_grams=10)


@pytest.mark.parametrize("size", [2, 8])
def test_the_zone_list_costs_the_same(shipping_client, django_assert_num_queries, size):
    seed_zones(size)
    # The token's user, its permissions (2), the page with its count, the
    # countries, the methods.
    with django_assert_num_queries(6):
        data = shipping_client.execute(ZONES, {"first": 50})
    page = data["shippingZones"]
    assert page["totalCount"] == size
    first = page["edges"][0]["node"]
    assert first["name"] == "Zone 00"
    assert first["countries"] == ["FR"]
    assert [(m["name"], m["price"]["amount"]) for m in first["methods"]] == [
        ("Standard", "5.00"), ("Express", "12.00")]


def test_zones_are_hidden_from_others_but_methods_are_not(customer_client):
    europe = zone()
    standard = method(europe)
    node = "query($id: ID!) { node(id: $id) { id ... on ShippingMethod { name } } }"
    assert customer_client.execute(node, {"id": to_base64("ShippingZone", europe.pk)}) == {
        "node": None}
    assert customer_client.execute(node, {"id": to_base64("ShippingMethod", standard.pk)}) == {
        "node": {"id": to_base64("ShippingMethod", standard.pk), "name": "Standard"}}
