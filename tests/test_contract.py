"""The frontends' documents (../shared/operations) against our schema.

Every document must validate against the committed graphql_schema.graphql,
and that file must be what the code prints. Documents of domains not built
yet are expected failures, each with the issue that brings it; the list only
shrinks (a listed document that starts to validate fails here, strict xfail).
"""

import pathlib

import pytest
from graphql import build_schema, parse, validate
from strawberry.printer import print_schema

from tests.contract import EXPECTED_FAILURES, document, document_names

SDL = pathlib.Path(__file__).resolve().parent.parent / "graphql_schema.graphql"


def test_committed_schema_is_current():
    from schema.schema import schema

    assert SDL.read_text().strip() == print_schema(schema).strip(), (
        "graphql_schema.graphql is stale: run `make schema` and commit it."
    )


@pytest.mark.parametrize("name", document_names())
def test_document_validates(name, request):
    if name in EXPECTED_FAILURES:
        request.applymarker(
            pytest.mark.xfail(reason=f"brought by {EXPECTED_FAILURES[name]}", strict=True)
        )
    errors = validate(build_schema(SDL.read_text()), parse(document(name)))
    assert not errors, [e.message for e in errors]


def test_expected_failures_name_real_documents():
    names = document_names()
    if not names:
        pytest.skip("no contract documents")
    assert set(EXPECTED_FAILURES) <= set(names)
