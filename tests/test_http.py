"""The /graphql/ transport as API.md fixes it: media types, GET, GraphiQL,
APQ, limits, error codes, and what never leaks."""

import gc
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import strawberry
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from commerce.startup import refuse_development_secret_key
from schema.extensions import schema_extensions
from tests.conftest import error_codes

pytestmark = pytest.mark.django_db

# Apollo Client sends a JSON Content-Type on GET too, which spares it the
# cross-site request check (tests/test_csrf.py).
APOLLO_GET = {"Accept": "application/json", "Content-Type": "application/json"}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_post_json(client):
    response = client.request("POST", json={"query": "{ __typename }"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"data": {"__typename": "Query"}}


def test_graphql_response_media_type(client):
    response = client.request(
        "POST",
        content=json.dumps({"query": "{ __typename }"}),
        headers={"Content-Type": "application/graphql-response+json",
                 "Accept": "application/graphql-response+json"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    assert response.json()["data"] == {"__typename": "Query"}


def test_graphql_response_media_type_answers_400_to_invalid_documents(client):
    response = client.request(
        "POST", json={"query": "{ nope }"},
        headers={"Accept": "application/graphql-response+json"},
    )
    assert response.status_code == 400
    assert error_codes(response.json()) == ["GRAPHQL_VALIDATION_FAILED"]


def test_get_runs_queries(client):
    response = client.request("GET", params={"query": "{ __typename }"},
                              headers=APOLLO_GET)
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}
    vary = {v.strip().lower() for v in response.headers["vary"].split(",")}
    assert {"accept", "authorization"} <= vary


def test_get_refuses_mutations(client):
    response = client.request(
        "GET", params={"query": "mutation { __typename }"}, headers=APOLLO_GET
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "errors" in response.json()


def test_browser_gets_graphiql(client):
    response = client.request("GET", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


def test_malformed_json_is_400_without_traceback(client):
    response = client.request("POST", content=b"{not json",
                              headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "Traceback" not in response.text


def test_batched_requests_are_refused(client):
    response = client.request("POST", json=[{"query": "{ __typename }"}] * 2)
    assert response.status_code == 400


def test_body_over_one_mebibyte_is_413(client):
    padding = " " * (1024 * 1024)
    response = client.request("POST", json={"query": "{ __typename }" + padding})
    assert response.status_code == 413


def test_body_just_under_the_limit_is_accepted(client):
    body = json.dumps({"query": "{ __typename }"})
    body = body[:-2] + " " * (1024 * 1024 - len(body) - 10) + body[-2:]
    response = client.request("POST", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200


def test_unknown_field_is_a_validation_error_without_suggestions(client):
    result = client.post("{ nod(id: \"x\") { id } }")
    assert error_codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Did you mean" not in result["errors"][0]["message"]


@override_settings(GRAPHQL_FIELD_SUGGESTIONS=True)
def test_suggestions_when_enabled(client):
    result = client.post("{ nod(id: \"x\") { id } }")
    assert "Did you mean" in result["errors"][0]["message"]


def test_wrong_variable_type_is_bad_user_input(client):
    result = client.post("query Q($id: ID!) { node(id: $id) { id } }", {"id": {"no": 1}})
    assert error_codes(result) == ["BAD_USER_INPUT"]


def test_syntax_error_is_parse_failed(client):
    result = client.post("{ __typename ")
    assert error_codes(result) == ["GRAPHQL_PARSE_FAILED"]


def test_introspection_is_off_by_default(client):
    result = client.post("{ __schema { queryType { name } } }")
    assert set(error_codes(result)) == {"GRAPHQL_VALIDATION_FAILED"}
    assert "data" not in result or result["data"] is None


@override_settings(GRAPHQL_INTROSPECTION=True)
def test_introspection_when_enabled(client):
    data = client.execute("{ __schema { queryType { name } } }")
    assert data == {"__schema": {"queryType": {"name": "Query"}}}


def test_more_than_thirty_aliases_are_refused(client):
    ok = "{ " + " ".join(f"a{i}: __typename" for i in range(30)) + " }"
    too_many = "{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }"
    assert not client.post(ok).get("errors")
    assert error_codes(client.post(too_many)) == ["GRAPHQL_VALIDATION_FAILED"]


def test_more_than_5000_tokens_are_refused(client):
    fields = " ".join("__typename" for _ in range(5001))
    result = client.post("{ " + fields + " }")
    assert error_codes(result) == ["GRAPHQL_VALIDATION_FAILED"]


class TestPersistedQueries:
    QUERY = "{ __typename }"

    def ext(self, query: str | None = None) -> dict:
        return {"persistedQuery": {"version": 1, "sha256Hash": sha256(query or self.QUERY)}}

    def test_unknown_hash(self, client):
        result = client.request("POST", json={"extensions": self.ext()}).json()
        assert error_codes(result) == ["PERSISTED_QUERY_NOT_FOUND"]

    def test_register_then_use_over_post_and_get(self, client):
        first = client.request("POST", json={"query": self.QUERY, "extensions": self.ext()})
        assert first.json() == {"data": {"__typename": "Query"}}
        again = client.request("POST", json={"extensions": self.ext()})
        assert again.json() == {"data": {"__typename": "Query"}}
        over_get = client.request(
            "GET", params={"extensions": json.dumps(self.ext())},
            headers=APOLLO_GET,
        )
        assert over_get.json() == {"data": {"__typename": "Query"}}

    def test_unknown_hash_over_get(self, client):
        response = client.request("GET", params={"extensions": json.dumps(self.ext())},
                                  headers=APOLLO_GET)
        assert error_codes(response.json()) == ["PERSISTED_QUERY_NOT_FOUND"]

    def test_hash_mismatch_is_400_and_not_stored(self, client):
        wrong = {"persistedQuery": {"version": 1, "sha256Hash": sha256("{ other }")}}
        response = client.request("POST", json={"query": self.QUERY, "extensions": wrong})
        assert response.status_code == 400
        later = client.request("POST", json={"extensions": wrong}).json()
        assert error_codes(later) == ["PERSISTED_QUERY_NOT_FOUND"]


def test_unexpected_errors_are_masked_and_logged(caplog):
    @strawberry.type
    class Query:
        @strawberry.field
        def boom(self) -> int:
            raise RuntimeError("secret internals at /srv/app.py")

    schema = strawberry.Schema(query=Query, extensions=schema_extensions())
    result = schema.execute_sync("{ boom }")
    (error,) = result.errors
    assert error.extensions == {"code": "INTERNAL_SERVER_ERROR"}
    assert "secret" not in error.message
    assert "secret internals" in caplog.text


def test_healthz(client):
    response = client.request("GET", "/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


@override_settings(CORS_ALLOWED_ORIGINS=["https://shop.example"])
def test_cors_preflight_for_the_storefront(client):
    response = client.request(
        "OPTIONS",
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type"},
    )
    assert response.headers["access-control-allow-origin"] == "https://shop.example"
    assert "authorization" in response.headers["access-control-allow-headers"]


def test_post_needs_no_csrf_token(client):
    response = client.request("POST", json={"query": "{ __typename }"},
                              headers={"Cookie": "csrftoken=abc"})
    assert response.status_code == 200


def test_server_refuses_the_development_key_without_debug(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = settings.DEV_SECRET_KEY
    with pytest.raises(ImproperlyConfigured):
        refuse_development_secret_key()
    settings.DEBUG = True
    refuse_development_secret_key()


def nested_category_query(levels: int) -> str:
    """A query whose deepest path has `levels` fields, the root field first."""
    parents = levels - 2
    return '{ category(slug: "x") ' + "{ parent " * parents + "{ id }" + " }" * parents + " }"


def test_sixteen_levels_are_allowed_seventeen_refused(client):
    assert not client.post(nested_category_query(16)).get("errors")
    refused = client.post(nested_category_query(17))
    assert error_codes(refused) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "depth" in refused["errors"][0]["message"]


def test_nul_characters_are_refused_in_variables_and_literals(client):
    query = "query($s: String!) { product(slug: $s) { id } }"
    assert error_codes(client.post(query, {"s": "a\x00b"})) == ["BAD_USER_INPUT"]
    literal = '{ product(slug: "a\\u0000b") { id } }'
    assert error_codes(client.post(literal)) == ["GRAPHQL_VALIDATION_FAILED"]


@pytest.mark.parametrize(
    "form",
    [
        {"operations": "{not json", "map": "{}"},
        {"operations": '{"query": "{ __typename }"}', "map": '{"0": ["variables.file"]}'},
        {"operations": '{"query": "{ __typename }"}', "map": "[1, 2]"},
    ],
    ids=["operations-not-json", "file-missing", "map-not-object"],
)
def test_malformed_multipart_is_400(client, form):
    response = client.request("POST", data=form, files={"unrelated": ("a.txt", b"x")},
                              headers={"Apollo-Require-Preflight": "true"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(
    "body",
    [b"null", b'"query"', b"[]", b"5",
     b'{"query": "{ __typename }", "variables": {"a": ' + b"[" * 100000 + b"]" * 100000 + b"}}"],
    ids=["null", "string", "empty-array", "number", "nested-past-the-recursion-limit"],
)
def test_json_bodies_that_are_not_requests_are_400(client, body):
    response = client.request("POST", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(
    "params",
    [{"query": "{ __typename }", "variables": "{nope"},
     {"query": "{ __typename }", "extensions": "{nope"}],
    ids=["variables", "extensions"],
)
def test_get_with_malformed_json_parameters_is_400(client, params):
    response = client.request("GET", params=params, headers=APOLLO_GET)
    assert response.status_code == 400


@override_settings(SECURE_SSL_REDIRECT=True)
def test_ssl_redirect_spares_the_health_check(rf):
    # SecurityMiddleware reads its settings when it is built, as at start-up.
    from django.http import HttpResponse

    from commerce.middleware import SecurityMiddleware

    middleware = SecurityMiddleware(lambda request: HttpResponse("ok"))
    assert middleware(rf.get("/healthz")).status_code == 200
    assert middleware(rf.post("/graphql/")).status_code == 301


def test_a_web_worker_freezes_its_loaded_heap_and_sets_the_collectors_thresholds():
    """commerce/asgi.py, as gunicorn imports it in each worker (in a process
    of its own: the freeze and the thresholds are the process's)."""
    child = ("import gc, commerce.asgi; "
             "print(*gc.get_threshold(), gc.get_freeze_count() > 10_000)")
    done = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, check=True, timeout=120,
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "commerce.settings_test",
             "GC_THRESHOLDS": "6000,11,12"})
    assert done.stdout.split() == ["6000", "11", "12", "True"]
    assert gc.get_threshold() != (6000, 11, 12)  # this process is left as it was
