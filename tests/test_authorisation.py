"""Every field says who may call it, and the endpoint keeps its word.

The schema is walked, not listed by hand: a new root field without a rule
fails `test_every_root_field_declares_its_rule`, and a new guarded field is
probed anonymously, as a customer and as staff holding other permissions, with
a document built from its own arguments, sent over HTTP, or over WebSocket
for a subscription (schema.permissions explains the rules)."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
import strawberry
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
    get_named_type,
    is_composite_type,
)
from strawberry import relay
from strawberry.types.base import StrawberryObjectDefinition

from apps.accounts import selectors as account_selectors
from apps.accounts.models import User
from apps.accounts.permissions import Perm
from apps.catalog.selectors import (
    ProductFilters,
    product_attributes,
    product_list,
    review_author_name,
)
from apps.inventory import selectors as inventory_selectors
from apps.inventory import services as inventory_services
from apps.inventory.models import StockMovement, Warehouse
from schema.permissions import Public, Rule, SignedIn, StaffPerm
from schema.schema import schema
from tests.conftest import Client, error_codes, make_user, token_for
from tests.factories import make_order, make_product, make_variant
from tests.websocket import first_answer

ROOT_TYPES = ("Query", "Mutation", "Subscription")

# A value of each scalar that passes argument coercion: the rule must refuse
# before anything looks further.
SCALAR_SAMPLES: dict[str, Any] = {
    "ID": "UHJvZHVjdDox",
    "String": "x",
    "Int": 1,
    "Float": 1.0,
    "Boolean": False,
    "Decimal": "1",
    "DateTime": "2020-01-01T00:00:00+00:00",
    "Date": "2020-01-01",
    "Upload": "x",
    "UUID": "00000000-0000-0000-0000-000000000000",
}

# Non-root guarded fields are reached through `node(id:)` on an object that
# anonymous callers and customers can see.
VISIBLE_OBJECTS: dict[str, Callable[[], Any]] = {
    "ProductVariant": lambda: make_variant(product=make_product(is_published=True)),
}


@dataclass(frozen=True)
class Reach:
    """How to reach a guarded field of a type that is not a Node: `make`
    writes an object anyone may reach through the root field `around`
    (with `{ask}` where the field goes) and answers its variables, declared
    as `declared`; `path` leads through `data` to the object holding it."""

    make: Callable[[], dict[str, Any]]
    declared: str
    around: str
    path: tuple[str | int, ...]


def _guest_order_with_an_actor() -> dict[str, Any]:
    order = make_order(lines=[(make_variant(product=make_product()), 1)], allocate=False)
    order.events.update(actor=make_user(perms=[Perm.MANAGE_ORDERS]))
    return {"token": str(order.token)}


REACHED_THROUGH: dict[str, Reach] = {
    "OrderEvent": Reach(make=_guest_order_with_an_actor, declared="$token: UUID!",
                        around="orderByToken(token: $token) {{ events {{ {ask} }} }}",
                        path=("orderByToken", "events", 0)),
}


@dataclass(frozen=True)
class Guarded:
    """A field with a SignedIn or StaffPerm rule, and how to ask for it."""

    type_name: str
    name: str
    rule: Rule

    @property
    def label(self) -> str:
        return f"{self.type_name}.{self.name}"

    @property
    def is_root(self) -> bool:
        return self.type_name in ROOT_TYPES

    @property
    def is_subscription(self) -> bool:
        return self.type_name == "Subscription"


def graphql_name(field: Any) -> str:
    return schema.config.name_converter.from_field(field)


def object_definitions(built: strawberry.Schema) -> Iterator[StrawberryObjectDefinition]:
    for name in sorted(built._schema.type_map):
        definition = built.get_type_by_name(name)
        if isinstance(definition, StrawberryObjectDefinition) and not definition.is_input:
            yield definition


def rules_of(field: Any) -> list[Rule]:
    return [extension for extension in field.extensions if isinstance(extension, Rule)]


def undeclared_root_fields(built: strawberry.Schema) -> list[str]:
    """Root fields with no rule, or more than one (which would be ambiguous)."""
    found = []
    for type_name in ROOT_TYPES:
        definition = built.get_type_by_name(type_name)
        if definition is None:
            continue
        for field in definition.fields:
            if len(rules_of(field)) != 1:
                found.append(f"{type_name}.{graphql_name(field)}")
    return found


def guarded_fields() -> list[Guarded]:
    found = []
    for definition in object_definitions(schema):
        for field in definition.fields:
            for rule in rules_of(field):
                if not isinstance(rule, Public):
                    found.append(Guarded(definition.name, graphql_name(field), rule))
    return found


GUARDED = guarded_fields()
STAFF_ONLY = [field for field in GUARDED if isinstance(field.rule, StaffPerm)]


# --- Minimal documents ----------------------------------------------------------------------------


def sample(type_: GraphQLInputType) -> Any:
    """A value of `type_` that argument coercion accepts, as small as it gets."""
    if isinstance(type_, GraphQLNonNull):
        return sample(type_.of_type)
    if isinstance(type_, GraphQLList):
        return []
    if isinstance(type_, GraphQLScalarType):
        assert type_.name in SCALAR_SAMPLES, f"add a sample of scalar {type_.name}"
        return SCALAR_SAMPLES[type_.name]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    assert isinstance(type_, GraphQLInputObjectType), type_
    fields = type_.fields.items()
    if type_.is_one_of:
        name, field = next(iter(fields))
        return {name: sample(field.type)}
    return {name: sample(field.type) for name, field in fields
            if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined}


def selection(field: GraphQLField) -> str:
    return " { __typename }" if is_composite_type(get_named_type(field.type)) else ""


def probe(guarded: Guarded) -> tuple[str, dict[str, Any]]:
    """A document that asks for just this field, with its required arguments."""
    graphql_schema: GraphQLSchema = schema._schema
    parent = graphql_schema.get_type(guarded.type_name)
    field = parent.fields[guarded.name]
    required = {name: arg for name, arg in field.args.items()
                if isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined}
    variables = {f"a_{name}": sample(arg.type) for name, arg in required.items()}
    declared = [f"$a_{name}: {arg.type}" for name, arg in required.items()]
    passed = ", ".join(f"{name}: $a_{name}" for name in required)
    ask = f"{guarded.name}{f'({passed})' if passed else ''}{selection(field)}"
    if guarded.is_root:
        operation = guarded.type_name.lower()
        header = f"({', '.join(declared)})" if declared else ""
        return f"{operation} Probe{header} {{ {ask} }}", variables
    if guarded.type_name in REACHED_THROUGH:
        reach = REACHED_THROUGH[guarded.type_name]
        variables.update(reach.make())
        header = ", ".join([reach.declared, *declared])
        return f"query Probe({header}) {{ {reach.around.format(ask=ask)} }}", variables
    assert guarded.type_name in VISIBLE_OBJECTS, (
        f"{guarded.label} is guarded: add a visible {guarded.type_name} to VISIBLE_OBJECTS")
    obj = VISIBLE_OBJECTS[guarded.type_name]()
    variables["node_id"] = str(relay.GlobalID(guarded.type_name, str(obj.pk)))
    header = ", ".join(["$node_id: ID!", *declared])
    return (f"query Probe({header}) {{ node(id: $node_id) {{ ... on {guarded.type_name} "
            f"{{ {ask} }} }} }}"), variables


def ask(guarded: Guarded, user: User | None, document: str, variables: dict[str, Any]) -> dict:
    """The probe's answer: over HTTP, or over WebSocket for a subscription
    (tests.websocket.first_answer, which shapes its messages as HTTP's)."""
    token = token_for(user) if user is not None else None
    if guarded.is_subscription:
        return first_answer(token, document, variables)
    return Client(token).post(document, variables)


def answer(guarded: Guarded, result: dict) -> Any:
    data = result.get("data") or {}
    if guarded.type_name in REACHED_THROUGH:
        for step in REACHED_THROUGH[guarded.type_name].path:
            data = data[step] if data else None
        return data[guarded.name] if data else None
    return data.get(guarded.name if guarded.is_root else "node")


# --- The declarations -----------------------------------------------------------------------------


def test_every_root_field_declares_its_rule():
    assert undeclared_root_fields(schema) == []


def test_the_walk_names_a_field_without_a_rule():
    @strawberry.type
    class Query:
        @strawberry.field(extensions=[Public()])
        def declared(self) -> int:
            return 1

        @strawberry.field
        def forgotten(self) -> int:
            return 1

        @strawberry.field(extensions=[Public(), SignedIn()])
        def ambiguous(self) -> int:
            return 1

    assert undeclared_root_fields(strawberry.Schema(query=Query)) == [
        "Query.forgotten", "Query.ambiguous"]


def test_the_guarded_fields_are_found():
    # The walk finds what it must; were it to find nothing, the probes below
    # would pass without asking anything.
    labels = {field.label for field in GUARDED}
    assert {"Mutation.productCreate", "Mutation.stockAdjust", "Query.stockMovements",
            "Mutation.addressCreate", "ProductVariant.stocks", "OrderEvent.actor"} <= labels
    assert "Query.products" not in labels and "Mutation.tokenAuth" not in labels


def test_subscriptions_are_walked_too():
    labels = {field.label for field in GUARDED}
    assert {"Subscription.orderUpdated", "Subscription.orderCreated"} <= labels


# --- The endpoint keeps them ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("guarded", GUARDED, ids=lambda field: field.label)
def test_anonymous_is_unauthenticated_before_anything_runs(guarded):
    document, variables = probe(guarded)
    with CaptureQueriesContext(connection) as queries:
        result = ask(guarded, None, document, variables)
    assert error_codes(result) == ["UNAUTHENTICATED"], result
    assert answer(guarded, result) is None
    if guarded.is_root:
        assert len(queries) == 0, [q["sql"] for q in queries]


@pytest.mark.django_db
@pytest.mark.parametrize("guarded", STAFF_ONLY, ids=lambda field: field.label)
def test_a_customer_is_forbidden(guarded):
    document, variables = probe(guarded)
    customer = make_user()
    with CaptureQueriesContext(connection) as queries:
        result = ask(guarded, customer, document, variables)
    assert error_codes(result) == ["FORBIDDEN"], result
    assert answer(guarded, result) is None
    if guarded.is_root:
        assert len(queries) == 1, [q["sql"] for q in queries]  # the token's user


@pytest.mark.django_db
@pytest.mark.parametrize("guarded", STAFF_ONLY, ids=lambda field: field.label)
def test_staff_with_another_permission_is_forbidden(guarded):
    document, variables = probe(guarded)
    for perm in Perm:
        if perm is guarded.rule.perm:
            continue
        result = ask(guarded, make_user(perms=[perm]), document, variables)
        assert error_codes(result) == ["FORBIDDEN"], (perm, result)
        assert answer(guarded, result) is None


@pytest.mark.django_db
@pytest.mark.parametrize("guarded", STAFF_ONLY, ids=lambda field: field.label)
def test_staff_with_the_permission_get_past_the_rule(guarded):
    # Whatever the made-up arguments then earn (NOT_FOUND, BAD_USER_INPUT),
    # it is not a refusal of the caller.
    document, variables = probe(guarded)
    result = ask(guarded, make_user(perms=[guarded.rule.perm]), document, variables)
    assert not {"UNAUTHENTICATED", "FORBIDDEN"} & set(error_codes(result)), result
    # A subscription past its rule answers (NOT_FOUND, for a made-up order)
    # or listens; first_answer fails when it does neither.
    assert answer(guarded, result) is not None or guarded.is_subscription, result


# --- Rules that live in the selectors -------------------------------------------------------------


@pytest.mark.django_db
def test_filtering_by_publication_is_refused_by_the_selector():
    hidden = make_product(is_published=False)
    nested = ProductFilters(any_of=[ProductFilters(is_published=False)])
    for user in (None, make_user(), make_user(perms=[Perm.MANAGE_ORDERS])):
        with pytest.raises(PermissionDenied):
            product_list(user=user, filters=nested)
    manager = make_user(perms=[Perm.MANAGE_PRODUCTS])
    assert list(product_list(user=manager, filters=nested)) == [hidden]


@pytest.mark.django_db
def test_who_sees_warehouses_and_stock_movements():
    variant = make_variant(product=make_product())
    inventory_services.stock_set_initial(actor=None, variant=variant, quantity_on_hand=3)
    for user in (None, make_user(), make_user(perms=[Perm.MANAGE_CUSTOMERS])):
        assert list(inventory_selectors.warehouses_visible_to(user=user)) == []
        assert list(inventory_selectors.stock_movements_visible_to(user=user)) == []
    manager = make_user(perms=[Perm.MANAGE_PRODUCTS])
    assert list(inventory_selectors.warehouses_visible_to(user=manager)) == list(
        Warehouse.objects.all()) != []
    assert list(inventory_selectors.stock_movements_visible_to(user=manager)) == list(
        StockMovement.objects.all()) != []


@pytest.mark.django_db
def test_who_sees_users_and_addresses():
    ada, bob = make_user(), make_user()
    visible = account_selectors.users_visible_to
    assert list(visible(user=None)) == []
    assert list(visible(user=ada)) == [ada]
    assert list(visible(user=ada, queryset=User.objects.filter(pk=bob.pk))) == []
    support = make_user(perms=[Perm.MANAGE_CUSTOMERS])
    assert set(visible(user=support)) == {ada, bob, support}
    assert list(account_selectors.addresses_visible_to(user=None)) == []


def test_a_review_is_signed_with_a_first_name_and_an_initial():
    def signed(first: str, last: str) -> str:
        review = SimpleNamespace(user=SimpleNamespace(first_name=first, last_name=last))
        return review_author_name(review=review)

    assert signed("Ada", "lovelace") == "Ada L."
    assert signed(" Ada ", "") == "Ada"
    assert signed("", "Lovelace") == "L."
    assert signed("", " ") == "A customer"


def test_attributes_read_whatever_was_stored():
    def read(raw: object) -> list:
        return product_attributes(product=SimpleNamespace(attributes=raw))

    assert read({"Notes": ["rose", 2], "Size": "50 ml"}) == [
        ("Notes", ["rose", "2"]), ("Size", ["50 ml"])]
    assert read(["not", "an", "object"]) == [] and read(None) == []
