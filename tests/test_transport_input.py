"""Bodies and query strings the server cannot read: a 400 with a coded JSON
error, never Django's HTML page or a 500."""

import pytest

from tests.conftest import error_codes

pytestmark = pytest.mark.django_db

PREFLIGHT = {"Apollo-Require-Preflight": "true"}


def assert_bad_request(response, status: int = 400) -> str:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["errors"]
    assert error_codes(body) == ["PAYLOAD_TOO_LARGE" if status == 413 else "BAD_REQUEST"]
    return body["errors"][0]["message"]


@pytest.mark.parametrize(
    "body",
    [b'{"query": "{ __typename \xff }"}', b'{"query": "{ __typename }", "x": "\xc3"}',
     b"\xff\xfe{\x00}\x00", '{"query": "{ __typename }"}'.encode("utf-16")],
    ids=["invalid-byte", "truncated-sequence", "utf-16-bom", "utf-16"],
)
def test_body_that_is_not_utf8_is_400(client, body, server_errors):
    response = client.request("POST", content=body, headers={"Content-Type": "application/json"})
    assert "UTF-8" in assert_bad_request(response)
    assert server_errors() == []


@pytest.mark.parametrize(
    "query_string",
    ["query=%7B__typename%20%FF%7D", "query=%7B__typename%7D&variables=%7B%22a%22%3A%22%C3%22%7D",
     "query=%7B__typename%7D&operationName=%80"],
    ids=["query", "variables", "operation-name"],
)
def test_get_query_string_that_is_not_utf8_is_400(client, query_string, server_errors):
    response = client.request("GET", url=f"/graphql/?{query_string}",
                              headers={"Content-Type": "application/json"})
    assert "UTF-8" in assert_bad_request(response)
    assert server_errors() == []


def test_get_with_utf8_still_works(client):
    response = client.request("GET", params={"query": '{ product(slug: "café ☕") { id } }'},
                              headers={"Content-Type": "application/json"})
    assert response.json() == {"data": {"product": None}}


OPERATIONS = b'{"query": "{ __typename }"}'


def part(boundary: str, name: str, value: bytes, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return (f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
            + value + b"\r\n")


def whole(boundary: str = "xyz") -> bytes:
    return (part(boundary, "operations", OPERATIONS) + part(boundary, "map", b"{}")
            + f"--{boundary}--\r\n".encode())


MULTIPART = {
    "no-boundary": ("multipart/form-data", whole()),
    "empty-boundary": ("multipart/form-data; boundary=", whole()),
    "boundary-too-long": ("multipart/form-data; boundary=" + "x" * 300, whole("x" * 300)),
    "boundary-not-ascii": ("multipart/form-data; boundary=\u00e9".encode(), whole()),
    "other-boundary": ("multipart/form-data; boundary=abc", whole("xyz")),
    "truncated-in-operations": ("multipart/form-data; boundary=xyz", whole()[:60]),
    "truncated-in-a-file": (
        "multipart/form-data; boundary=xyz",
        (part("xyz", "operations", b'{"query": "mutation($f: Upload!) { x }", '
                                   b'"variables": {"f": null}}')
         + part("xyz", "map", b'{"0": ["variables.f"]}')
         + b'--xyz\r\nContent-Disposition: form-data; name="0"; filename="a.png"\r\n\r\nabc')),
    "wrong-part-names": ("multipart/form-data; boundary=xyz",
                         part("xyz", "query", b"{ __typename }") + b"--xyz--\r\n"),
    "no-parts": ("multipart/form-data; boundary=xyz", b"--xyz--\r\n"),
    "empty-body": ("multipart/form-data; boundary=xyz", b""),
    "part-without-name": ("multipart/form-data; boundary=xyz",
                          b"--xyz\r\nContent-Disposition: form-data\r\n\r\nx\r\n--xyz--\r\n"),
    "part-without-headers": ("multipart/form-data; boundary=xyz", b"--xyz\r\n\r\nx\r\n--xyz--\r\n"),
}


@pytest.mark.parametrize("content_type, body", MULTIPART.values(), ids=MULTIPART)
def test_unparsable_multipart_is_a_coded_400(client, content_type, body, server_errors):
    headers = {b"Content-Type": content_type if isinstance(content_type, bytes)
               else content_type.encode(), b"Apollo-Require-Preflight": b"true"}
    response = client.request("POST", content=body, headers=headers)
    message = assert_bad_request(response)
    assert "<" not in message
    assert server_errors() == []


def test_multipart_with_too_much_outside_its_files_is_413(client, settings, server_errors):
    big = b'{"query": "{ __typename }", "x": "' + b"a" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + b'"}'
    body = part("xyz", "operations", big) + part("xyz", "map", b"{}") + b"--xyz--\r\n"
    response = client.request("POST", content=body, headers={
        "Content-Type": "multipart/form-data; boundary=xyz", **PREFLIGHT})
    assert_bad_request(response, status=413)
    assert server_errors() == []


def test_multipart_with_too_many_fields_is_400(client, settings, server_errors):
    body = b"".join(part("xyz", f"f{n}", b"x") for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
                                                              + 1))
    response = client.request("POST", content=body + b"--xyz--\r\n", headers={
        "Content-Type": "multipart/form-data; boundary=xyz", **PREFLIGHT})
    assert_bad_request(response)
    assert server_errors() == []


def test_multipart_fields_that_are_not_utf8_are_read_leniently(client, server_errors):
    # Django decodes form fields with U+FFFD for bytes that are not UTF-8 and
    # keeps no copy of the raw field: the query then fails to parse, with a
    # code, as it would with that character sent on purpose.
    body = (part("xyz", "operations", b'{"query": "{ __typename \xff }"}')
            + part("xyz", "map", b"{}") + b"--xyz--\r\n")
    response = client.request("POST", content=body, headers={
        "Content-Type": "multipart/form-data; boundary=xyz", **PREFLIGHT})
    assert error_codes(response.json()) == ["GRAPHQL_PARSE_FAILED"]
    assert server_errors() == []


def test_a_well_formed_multipart_request_still_runs(client):
    response = client.request("POST", content=whole(), headers={
        "Content-Type": "multipart/form-data; boundary=xyz", **PREFLIGHT})
    assert response.json() == {"data": {"__typename": "Query"}}
