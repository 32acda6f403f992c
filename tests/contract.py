"""The frontends' documents (../shared/operations), read when a test runs.

The folder lies beside the repository, not in it, so a clone alone does not
have it. Nothing here reads a document at import: collecting the suite
never depends on the folder. Without it the tests that need it skip, which
under CI=true (where it is always present) is a failure (tests/conftest.py).
"""

import functools
import pathlib

import pytest

OPERATIONS = pathlib.Path(__file__).resolve().parents[2] / "shared" / "operations"

# document -> the issue that will make it validate against our schema. The
# list only shrinks: tests/test_contract.py fails when a listed one validates.
EXPECTED_FAILURES = {
    "storefront/cart.graphql": "cart and checkout (not filed yet)",
    "storefront/orders.graphql": "orders, reviews and wishlist (not filed yet)",
    "admin/orders.graphql": "orders admin, coupons and reports (not filed yet)",
}


def document_names() -> list[str]:
    """Every document's path below OPERATIONS; none without the folder. For
    parametrising, so it lists file names and reads nothing."""
    if not OPERATIONS.is_dir():
        return []
    return sorted(str(path.relative_to(OPERATIONS)) for path in OPERATIONS.rglob("*.graphql"))


def document(name: str) -> str:
    """The text of one document, e.g. "storefront/catalog.graphql"; skips the
    calling test when it is not there."""
    path = OPERATIONS / name
    if not path.is_file():
        pytest.skip(f"no contract document at {path}")
    return _read(path)


@functools.cache
def _read(path: pathlib.Path) -> str:
    return path.read_text()


def operations(name: str, *operation_names: str) -> str:
    """Only the named operations of a document, with the fragments they use:
    for testing what is built of a document that does not validate whole yet."""
    from graphql import DocumentNode, FragmentDefinitionNode, OperationDefinitionNode, parse, print_ast
    from graphql.language import FragmentSpreadNode, Visitor, visit

    parsed = parse(document(name))
    wanted = [d for d in parsed.definitions
              if isinstance(d, OperationDefinitionNode) and d.name and d.name.value in operation_names]
    missing = set(operation_names) - {d.name.value for d in wanted if d.name}
    assert not missing, f"{name} has no operation {missing}"
    fragments = {d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)}
    used: list[str] = []

    class Spreads(Visitor):
        def enter_fragment_spread(self, node: FragmentSpreadNode, *args: object) -> None:
            if node.name.value not in used:
                used.append(node.name.value)
                visit(fragments[node.name.value], self)

    for operation in wanted:
        visit(operation, Spreads())
    return print_ast(DocumentNode(definitions=(*wanted, *(fragments[n] for n in used))))
