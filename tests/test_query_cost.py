"""The static cost of operations (schema/cost.py) and GRAPHQL_MAX_COST."""

import time
from pathlib import Path

import pytest
from django.test import override_settings
from graphql import OperationDefinitionNode, parse, validate

from schema.cost import DEFAULT_LIST_SIZE, MUTATION_COST, compile_operation, evaluate
from schema.cost import operation_cost as compute
from schema.schema import schema
from tests.conftest import error_codes

SHARED_OPERATIONS = Path(__file__).resolve().parent.parent.parent / "shared" / "operations"


def cost(query: str, variables: dict | None = None, operation_name: str | None = None) -> int:
    document = parse(query)
    assert not validate(schema._schema, document)
    return compute(schema=schema._schema, document=document, operation_name=operation_name,
                   variables=variables)


def test_scalars_are_free_objects_cost_one():
    assert cost("{ product(slug: \"x\") { id name slug } }") == 1
    assert cost("{ product(slug: \"x\") { id category { id name } } }") == 2
    assert cost("{ __typename }") == 0


def test_a_connection_costs_two_plus_its_page_of_nodes():
    # 2 + 10 x (the node, its category); edges and pageInfo are part of the 2.
    query = """query($first: Int) { products(first: $first) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { cursor node { id category { id } } } } }"""
    assert cost(query, {"first": 10}) == 2 + 10 * 2
    assert cost(query, {"first": 0}) == 2
    assert cost(query, {"first": 10.0}) == 2 + 10 * 2  # graphql-core's Int takes it as 10
    # Without a page size, or above the cap (which the resolver refuses): 100.
    assert cost(query, {}) == 2 + 100 * 2
    assert cost(query, {"first": 5000}) == 2 + 100 * 2
    # A literal, and the variable's default.
    assert cost("{ products(first: 3) { edges { node { id } } } }") == 2 + 3
    assert cost("query($n: Int = 7) { products(first: $n) { edges { node { id } } } }") == 9
    # A sent value that is not a number falls back to the cap (coercion refuses it).
    assert cost(query, {"first": "many"}) == 2 + 100 * 2


def test_nested_multipliers_multiply():
    query = """query($first: Int!) { categories(first: $first) { edges { node {
        id children { id } products(first: 5) { edges { node { id variants { id } } } } } } } }"""
    per_category = 1 + DEFAULT_LIST_SIZE + (2 + 5 * (1 + 20))
    assert cost(query, {"first": 4}) == 2 + 4 * per_category


def test_lists_use_their_declared_size():
    # ProductVariant.options is declared @listSize(assumedSize: 5), Product.variants 20.
    assert cost('{ product(slug: "x") { variants { options { name } } } }') == 1 + 20 * (1 + 5)
    # Lists of scalars are free.
    assert cost('{ product(slug: "x") { attributes { values } } }') == 1 + 10


def test_a_slicing_argument_sizes_a_list():
    import strawberry

    from schema.cost import list_size

    @strawberry.type
    class Owner:
        name: str

    @strawberry.type
    class Item:
        name: str
        owner: Owner | None = None

    @strawberry.type
    class Query:
        @strawberry.field(directives=list_size(50, slicing_arguments=["limit"]))
        def items(self, limit: int | None = None) -> list[Item]:
            return []

    small = strawberry.Schema(query=Query)._schema

    def of(query: str, variables: dict | None = None) -> int:
        return compute(schema=small, document=parse(query), variables=variables)

    assert of("{ items(limit: 3) { owner { name } } }") == 3 * 2
    assert of("{ items { name } }") == 50
    assert of("query($n: Int) { items(limit: $n) { name } }", {"n": 7}) == 7
    assert of("query($n: Int) { items(limit: $n) { name } }") == 50


def test_an_abstract_type_costs_its_costliest_possible_type():
    query = """query($id: ID!) { node(id: $id) { id
        ... on Product { category { id } variants { id } }
        ... on Category { parent { id } } } }"""
    assert cost(query, {"id": "x"}) == 1 + 1 + 20


def test_mutations_cost_a_fixed_base_plus_their_selection():
    query = """mutation($id: ID!) { productDelete(id: $id) { errors { field } } }"""
    assert cost(query, {"id": "x"}) == MUTATION_COST + 1 + DEFAULT_LIST_SIZE
    two = """mutation($id: ID!) { a: productDelete(id: $id) { __typename }
        b: productDelete(id: $id) { __typename } }"""
    assert cost(two, {"id": "x"}) == 2 * (MUTATION_COST + 1)


def test_fragments_count_once_per_spread():
    query = """query($first: Int!) { products(first: $first) { edges { node { ...Card } } }
        product(slug: "x") { ...Card } }
        fragment Card on Product { id category { id } }"""
    assert cost(query, {"first": 10}) == (2 + 10 * 2) + 2


def test_fragment_fan_out_compiles_in_linear_time():
    """Each fragment spreads the next twice: the cost doubles at every level,
    but each fragment is compiled once and evaluated once."""
    levels = 60
    fragments = [
        f"fragment F{i} on Product {{ category {{ id }} ...F{i + 1} ...F{i + 1} }}"
        for i in range(levels)
    ]
    fragments.append(f"fragment F{levels} on Product {{ category {{ id }} }}")
    query = ("query($first: Int!) { products(first: $first) { edges { node { ...F0 } } } } "
             + " ".join(fragments))
    document = parse(query)
    started = time.process_time()  # this process's work, whatever else runs
    expr = compile_operation(schema=schema._schema, document=document, operation_name=None,
                             max_page_size=100)
    value = evaluate(expr, {"first": 1})
    assert time.process_time() - started < 3.0  # unmemoised it would never end: 2^60 spreads
    # 1 + 2 + 4 + ... categories per product: 2^(levels + 1) - 1, plus the node.
    assert value == 2 + 1 * (1 + 2 ** (levels + 1) - 1)


def contract_operations() -> list[tuple[str, str, OperationDefinitionNode, object]]:
    """(file, name, operation, document) of every shared document that
    validates against the schema today. Later domains' documents count as
    soon as they validate."""
    found = []
    for path in sorted(SHARED_OPERATIONS.rglob("*.graphql")):
        document = parse(path.read_text())
        if validate(schema._schema, document):
            continue
        for node in document.definitions:
            if isinstance(node, OperationDefinitionNode):
                found.append((str(path.relative_to(SHARED_OPERATIONS)), node.name.value,
                              node, document))
    return found


@pytest.fixture
def contract():
    if not SHARED_OPERATIONS.is_dir():
        pytest.skip("../shared/operations is not checked out next to the project")
    return contract_operations()


def test_every_contract_document_fits_at_its_largest_page(contract, settings):
    assert len(contract) >= 30  # storefront catalog and account, admin catalog
    for file, name, operation, document in contract:
        # Every variable at 100: the page variables at their largest page;
        # the others are ignored by the cost.
        variables = {d.variable.name.value: 100 for d in operation.variable_definitions or ()}
        value = compute(schema=schema._schema, document=document, operation_name=name,
                        variables=variables, max_page_size=settings.GRAPHQL_MAX_PAGE_SIZE)
        # With room to spare: twice the largest still fits.
        assert 2 * value <= settings.GRAPHQL_MAX_COST, (file, name, value)


BIG = """query($first: Int!) { products(first: $first) { edges { node {
    variants { stocks { warehouse { id } } } } } } }"""


def test_an_operation_over_the_maximum_is_refused_before_it_runs(
    db, client, django_assert_num_queries
):
    with django_assert_num_queries(0):
        result = client.post(BIG, {"first": 100})
    assert error_codes(result) == ["QUERY_TOO_COMPLEX"]
    assert "data" not in result or result["data"] is None
    error = result["errors"][0]
    assert error["extensions"]["cost"] == 2 + 100 * (1 + 20 * (1 + 5 * 2))
    assert error["extensions"]["maximumCost"] == 5000
    assert "22102" in error["message"]
    # The same document with a small page runs.
    assert client.execute(BIG, {"first": 2}) == {"products": {"edges": []}}


def test_the_maximum_comes_from_the_settings(db, client):
    with override_settings(GRAPHQL_MAX_COST=10):
        result = client.post("{ products(first: 20) { edges { node { id } } } }")
        assert error_codes(result) == ["QUERY_TOO_COMPLEX"]
    with override_settings(GRAPHQL_MAX_COST=10, GRAPHQL_COST_BUCKET_SIZE=0):
        assert client.execute("{ products(first: 8) { edges { node { id } } } }")
    # A cost larger than the bucket could never be paid: refused the same way.
    with override_settings(GRAPHQL_MAX_COST=1000, GRAPHQL_COST_BUCKET_SIZE=10):
        result = client.post("{ products(first: 20) { edges { node { id } } } }")
        assert error_codes(result) == ["QUERY_TOO_COMPLEX"]
        assert result["errors"][0]["extensions"]["maximumCost"] == 10


def test_a_mutation_over_the_maximum_writes_nothing(db, staff_client):
    from apps.catalog.models import Category

    query = """mutation { categoryCreate(input: {name: "Tea"}) { category { id
        products(first: 100) { edges { node { variants { stocks { warehouse { id } } } } } }
    } errors { field } } }"""
    result = staff_client.post(query)
    assert error_codes(result) == ["QUERY_TOO_COMPLEX"]
    assert not Category.objects.exists()
