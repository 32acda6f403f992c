from tests.conftest import error_codes


def test_graphql_answers(db, client):
    assert client.execute("{ __typename }") == {"__typename": "Query"}


def test_bad_token_is_unauthenticated(db, client):
    result = client.post("{ __typename }", headers={"Authorization": "Bearer nope"})
    assert error_codes(result) == ["UNAUTHENTICATED"]
