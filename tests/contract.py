"""The frontends' documents (../shared/operations), read when a test runs.

The folder lies beside the repository, not in it, so a clone alone does not
have it. Nothing here reads a document at import: collecting the suite
never depends on the folder. Without it the tests that need it skip, which
under CI=true (where it is always present) is a failure (tests/conftest.py).
"""

import functools
import pathlib

import pytest
from graphql import (
    DefinitionNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    OperationDefinitionNode,
    Visitor,
    parse,
    print_ast,
    visit,
)

OPERATIONS = pathlib.Path(__file__).resolve().parents[2] / "shared" / "operations"

# document -> the issue that will make it validate against our schema. The
# list only shrinks: tests/test_contract.py fails when a listed one validates.
EXPECTED_FAILURES: dict[str, str] = {}


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


def operations(name: str, *wanted: str) -> str:
    """Only the named operations of a document, with the fragments they use:
    the part of a document that is built while the rest is still to come."""
    definitions = parse(document(name)).definitions
    fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
    kept: list[DefinitionNode] = [
        d for d in definitions
        if isinstance(d, OperationDefinitionNode) and d.name and d.name.value in wanted
    ]
    assert len(kept) == len(wanted), f"{name} lacks one of {wanted}"
    used: set[str] = set()

    class Spreads(Visitor):
        def enter_fragment_spread(self, node: FragmentSpreadNode, *_: object) -> None:
            if node.name.value not in used:
                used.add(node.name.value)
                visit(fragments[node.name.value], self)

    for definition in kept:
        visit(definition, Spreads())
    return "\n\n".join(print_ast(d) for d in [*kept, *(fragments[n] for n in sorted(used))])
