"""Cross-site request forgery prevention (schema/csrf.py), Apollo Server's
rule: a request a browser could send from another site without a preflight
is refused unless it carries Apollo-Require-Preflight or
X-Apollo-Operation-Name."""

import json

import pytest

from apps.accounts.models import User
from schema.csrf import media_type_essence, may_be_cross_site
from tests.conftest import Client, error_codes

pytestmark = pytest.mark.django_db

REGISTER = ('mutation { accountRegister(input: {email: "victim@example.com", '
            'password: "correct-horse-battery"}) { errors { code } } }')


def assert_refused(response) -> None:
    assert response.status_code == 400, response.text[:300]
    body = response.json()
    assert list(body) == ["errors"]
    assert error_codes(body) == ["BAD_REQUEST"]
    message = body["errors"][0]["message"]
    assert "cross-site request forgery" in message
    assert "Apollo-Require-Preflight" in message and "X-Apollo-Operation-Name" in message


def form_post(client: Client, query: str, headers: dict | None = None):
    """What a form on another site can send: multipart/form-data, no custom header."""
    return client.request(
        "POST", data={"operations": json.dumps({"query": query}), "map": "{}"},
        files={"unused": ("a.txt", b"x", "text/plain")}, headers=headers or {},
    )


@pytest.fixture(params=["anonymous", "customer"])
def caller(request, customer_client):
    return Client() if request.param == "anonymous" else customer_client


def test_a_multipart_form_from_another_site_writes_nothing(caller):
    before = User.objects.count()
    assert_refused(form_post(caller, REGISTER, {"Origin": "https://evil.example"}))
    assert User.objects.count() == before
    # The same request from the storefront, which sends the header, registers.
    sent = form_post(caller, REGISTER, {"Apollo-Require-Preflight": "true"})
    assert sent.json()["data"] == {"accountRegister": {"errors": []}}
    assert "errors" not in sent.json()
    assert User.objects.count() == before + 1


@pytest.mark.parametrize("header", ["Apollo-Require-Preflight", "X-Apollo-Operation-Name"])
def test_multipart_with_a_preflight_header_runs(caller, header):
    response = form_post(caller, "{ __typename }", {header: "anything"})
    assert response.json()["data"] == {"__typename": "Query"}
    assert "errors" not in response.json()


def test_an_empty_preflight_header_does_not_count(caller):
    assert_refused(form_post(caller, "{ __typename }", {"Apollo-Require-Preflight": ""}))


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "TEXT/Plain; charset=utf-8",
     " multipart/form-data ; boundary=x"],
)
def test_post_with_a_form_content_type_is_refused(caller, content_type):
    body = json.dumps({"query": REGISTER})
    before = User.objects.count()
    assert_refused(caller.request("POST", content=body, headers={"Content-Type": content_type}))
    assert User.objects.count() == before


def test_post_without_a_content_type_is_refused(caller):
    assert_refused(caller.request("POST", content=json.dumps({"query": "{ __typename }"})))


def test_json_post_needs_no_header(caller):
    response = caller.request("POST", json={"query": "{ __typename }"})
    assert response.json()["data"] == {"__typename": "Query"}
    assert "errors" not in response.json()


def test_get_without_a_content_type_is_refused(caller):
    response = caller.request("GET", params={"query": "{ __typename }"},
                              headers={"Accept": "application/json"})
    assert_refused(response)


@pytest.mark.parametrize(
    "headers",
    [{"Content-Type": "application/json"}, {"Apollo-Require-Preflight": "true"},
     {"X-Apollo-Operation-Name": "Q"}, {"Content-Type": "not a media type"}],
    ids=["json-content-type", "require-preflight", "operation-name", "unparsable-type"],
)
def test_get_that_a_browser_would_preflight_runs(caller, headers):
    response = caller.request("GET", params={"query": "query Q { __typename }"},
                              headers={"Accept": "application/json", **headers})
    assert response.json()["data"] == {"__typename": "Query"}
    assert "errors" not in response.json()


def test_get_with_a_form_content_type_is_refused(caller):
    response = caller.request("GET", params={"query": "{ __typename }"},
                              headers={"Content-Type": "text/plain"})
    assert_refused(response)


def test_a_browser_still_gets_graphiql_and_graphiql_still_runs_queries(client):
    page = client.request("GET", headers={"Accept": "text/html,application/xhtml+xml,*/*"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    # GraphiQL's fetcher POSTs JSON.
    response = client.request("POST", json={"query": "{ __typename }"},
                              headers={"Accept": "application/graphql-response+json, "
                                                 "application/json, multipart/mixed"})
    assert response.json()["data"] == {"__typename": "Query"}
    assert "errors" not in response.json()


def test_media_type_essence():
    assert media_type_essence("Text/Plain; charset=UTF-8") == "text/plain"
    assert media_type_essence(" multipart/form-data ;boundary=x") == "multipart/form-data"
    for value in ["", "text", "text/", "/plain", "text /plain", "te xt/plain", "tëxt/plain"]:
        assert media_type_essence(value) is None, value


def test_may_be_cross_site():
    assert may_be_cross_site({})
    assert may_be_cross_site({"Content-Type": "text/plain"})
    assert may_be_cross_site({"Content-Type": "text/plain", "X-Apollo-Operation-Name": ""})
    assert not may_be_cross_site({"Content-Type": "application/json"})
    assert not may_be_cross_site({"Content-Type": "application/graphql-response+json"})
    assert not may_be_cross_site({"Content-Type": "text/plain", "X-Apollo-Operation-Name": "Q"})
    assert not may_be_cross_site({"Content-Type": ""})  # unparsable: browsers preflight it
