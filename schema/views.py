"""The /graphql/ endpoint: HTTP (Django's async view) and WebSocket (Channels)."""

import asyncio
import hashlib
import json
from collections.abc import AsyncGenerator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.cache import patch_vary_headers
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from strawberry.channels import GraphQLWSConsumer
from strawberry.channels.handlers.ws_handler import ChannelsWebSocketAdapter
from strawberry.django.views import AsyncGraphQLView
from strawberry.exceptions import ConnectionRejectionError
from cross_web import AsyncDjangoHTTPRequestAdapter, HTTPException
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result

from apps.core.addresses import client_address, request_client_address
from schema import encoding
from schema.context import Context
from schema.cost_limits import COST_HEADER
from schema.csrf import MESSAGE as CSRF_MESSAGE
from schema.csrf import may_be_cross_site
from schema import response_cache
from schema.extensions import apq_key
from schema.schema import schema

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


def _websocket_user_agent(scope: dict) -> str:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"user-agent":
            return value.decode("latin-1")[:255]
    return ""


def _websocket_client_ip(scope: dict) -> str:
    forwarded = [value.decode("latin-1") for name, value in scope.get("headers", ())
                 if name.lower() == b"x-forwarded-for"]
    return client_address(peer=(scope.get("client") or ("",))[0], forwarded_for=forwarded)


def _check_query_string(query_string: str) -> None:
    """Django decodes a query string's percent-escapes leniently, turning bytes
    that are not UTF-8 into U+FFFD; refuse them instead of running a query
    that differs from the one sent."""
    try:
        unquote_to_bytes(query_string.replace("+", " ")).decode("utf-8")
    except UnicodeDecodeError as error:
        raise HTTPException(400, "The query string is not valid UTF-8.") from error


def error_response(status: int, message: str, code: str = "BAD_REQUEST") -> JsonResponse:
    return JsonResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]}, status=status
    )


class RequestAdapter(AsyncDjangoHTTPRequestAdapter):
    """Read a body sent as application/graphql-response+json as JSON too."""

    @property
    def content_type(self) -> str | None:
        value = super().content_type
        if value and value.split(";")[0].strip() == GRAPHQL_RESPONSE_JSON:
            return "application/json"
        return value


# No session cookie authenticates a GraphQL request (only the bearer token
# does), so cross-site request forgery has nothing to ride on.
@method_decorator(csrf_exempt, name="dispatch")
class GraphQLView(AsyncGraphQLView[Context, None]):
    request_adapter_class = RequestAdapter

    def __init__(self, **kwargs: Any):
        super().__init__(
            schema=schema,
            graphql_ide="graphiql" if settings.GRAPHQL_IDE else None,
            allow_queries_via_get=True,
            multipart_uploads_enabled=True,
            **kwargs,
        )

    async def get_context(self, request: HttpRequest, response: HttpResponse) -> Context:
        context = Context(request=request, response=response, client_ip=request_client_address(request.META),
                          user_agent=request.META.get("HTTP_USER_AGENT", "")[:255])
        await context.authenticate(request.headers.get("Authorization"))
        return context

    def _refuse_cross_site(self, request: HttpRequest) -> bool:
        """Apollo Server's CSRF prevention (schema.csrf), checked before anything
        runs, as Apollo does: after the IDE page, which runs nothing."""
        if request.method not in ("GET", "POST"):
            return False
        if self.should_render_graphql_ide(self.request_adapter_class(request)):
            return False
        return may_be_cross_site(request.headers)

    # django-stubs types View.dispatch as sync; Django awaits an async view's.
    async def dispatch(  # type: ignore[override]
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        if self._refuse_cross_site(request):
            return error_response(400, CSRF_MESSAGE)
        try:
            response = await self.run(request=request)
        except response_cache.Answered as answered:
            response = answered.response
        except HTTPException as error:
            if request.method == "GET" and "not allowed when using GET" in error.reason:
                # GraphQL over HTTP: a mutation over GET is 405, POST allowed.
                response = error_response(405, error.reason, code="METHOD_NOT_ALLOWED")
                response["Allow"] = "POST"
                return response
            code = "PAYLOAD_TOO_LARGE" if error.status_code == 413 else "BAD_REQUEST"
            return error_response(error.status_code, error.reason, code=code)
        # The answer depends on who asks and which media type they accept:
        # caches (browsers, CDNs on GET queries) must key on both.
        # (and on whether the cost was asked for).
        patch_vary_headers(response, ("Accept", "Authorization", COST_HEADER))
        return response_cache.finish(request, self._negotiate(request, response))

    async def execute_operation(self, **kwargs: Any) -> Any:  # type: ignore[override]
        # A catalog read the response cache holds is answered from it
        # (response_cache.Answered, caught in dispatch), nothing executed.
        await response_cache.lookup(request=kwargs["request"], data=kwargs["request_data"],
                                    context=kwargs["context"])
        return await super().execute_operation(**kwargs)

    async def process_result(self, request: HttpRequest, result) -> GraphQLHTTPResponse:
        """GraphQL over HTTP: a request that failed before execution (its
        errors are request errors, which have no path) has no `data` entry."""
        body = process_result(result)
        if isinstance(body, dict) and body.get("data") is None and body.get("errors") and not any(
            error.path for error in result.errors
        ):
            del body["data"]
        return body

    @staticmethod
    def _negotiate(request: HttpRequest, response):
        """GraphQL over HTTP: a client that accepts application/graphql-response+json
        gets it, with 400 for a request that never reached execution."""
        if GRAPHQL_RESPONSE_JSON not in request.headers.get("Accept", ""):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            response["Content-Type"] = GRAPHQL_RESPONSE_JSON
            if response.status_code == 200:
                try:
                    body = json.loads(response.content)
                except ValueError:
                    return response
                if isinstance(body, dict) and body.get("errors") and "data" not in body:
                    response.status_code = 400
        return response

    async def parse_multipart(self, request):
        # Django refuses a body it cannot split (no boundary, a bad one, a
        # truncated body) with its own HTML 400 page; strawberry assumes
        # `operations` and `map` have the spec's shapes. Either way the client
        # gets a coded JSON 400, never a page or a 500.
        try:
            return await super().parse_multipart(request)
        except RequestDataTooBig as error:
            raise HTTPException(413, "The multipart body has too many bytes outside "
                                     "its files.") from error
        except (MultiPartParserError, SuspiciousOperation, BadRequest, UnicodeDecodeError,
                AttributeError, TypeError, ValueError, IndexError) as error:
            raise HTTPException(400, "Malformed multipart request.") from error

    def encode_json(self, data: object) -> bytes:
        return encoding.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        # json.loads would guess UTF-16 or UTF-32 from the first bytes and let
        # any other undecodable byte escape as a 500; GraphQL over HTTP is UTF-8.
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError as error:
                raise HTTPException(400, "The request body is not valid UTF-8.") from error
        return super().decode_json(data)

    async def parse_http_body(
        self, request_adapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request_adapter.method == "GET":
            _check_query_string(request_adapter.request.META.get("QUERY_STRING", ""))
        try:
            data = await super().parse_http_body(request_adapter)
        except (RecursionError, AttributeError, TypeError) as error:
            # A body of `null`, a string, or JSON nested past Python's limit.
            raise HTTPException(400, "The body must be a JSON object with a `query`.") from error
        if isinstance(data, GraphQLRequestData):
            self._persist_query(data)
        return data

    @staticmethod
    def _persist_query(data: GraphQLRequestData) -> None:
        """Apollo APQ: store a sent query under its hash, after checking the hash."""
        persisted = (data.extensions or {}).get("persistedQuery")
        if not isinstance(persisted, dict) or not data.query:
            return
        sent_hash = str(persisted.get("sha256Hash", ""))
        if hashlib.sha256(data.query.encode()).hexdigest() != sent_hash:
            raise HTTPException(400, "provided sha does not match query")
        cache.set(apq_key(sent_hash), data.query, timeout=settings.GRAPHQL_APQ_TIMEOUT)


FORBIDDEN_CLOSE = 4403


class WebSocketAdapter(ChannelsWebSocketAdapter):
    """What strawberry's protocol handlers read and send: neither, once the
    connection's access token has expired (the consumer closes it then)."""

    ws_consumer: "GraphQLWebSocketConsumer"

    async def iter_json(self, *, ignore_parsing_errors: bool = False
                        ) -> AsyncGenerator[object, None]:
        async for message in super().iter_json(ignore_parsing_errors=ignore_parsing_errors):
            if await self.ws_consumer.closed_if_expired():
                return
            yield message

    async def send_json(self, message: Mapping[str, object]) -> None:
        # Also what a subscription sends between the token's expiry and the
        # timer's turn on a busy event loop.
        if not await self.ws_consumer.closed_if_expired():
            await super().send_json(message)

    async def close(self, code: int, reason: str) -> None:
        # The legacy graphql-ws handler closes a refused connection_init with
        # 1011 (after its connection_error message); API.md promises 4403 on
        # both protocols.
        if self.ws_consumer.refused_credentials:
            code, reason = FORBIDDEN_CLOSE, "Forbidden"
        await super().close(code, reason)


class GraphQLWebSocketConsumer(GraphQLWSConsumer[Context, None]):
    """Subscriptions over graphql-transport-ws (and the legacy graphql-ws).

    The token travels in the connection_init payload; a bad one closes the
    socket with 4403. A good one is checked once, so the connection lives
    as long as the token: when it expires the socket is closed with 4403
    too (by a timer, and before any message is read or sent after it), and
    the client connects again with a fresh token, as it refreshes one for
    HTTP. Nothing is sent on credentials that would no longer be accepted.
    """

    websocket_adapter_class = WebSocketAdapter
    refused_credentials = False
    access_expires_at: datetime | None = None
    expired = False
    _expiry: asyncio.Task[None] | None = None

    def __init__(self, **kwargs: Any):
        super().__init__(schema=schema, **kwargs)

    async def get_context(self, request, response) -> Context:
        return Context(request=request, response=response,
                       client_ip=_websocket_client_ip(request.scope),
                       user_agent=_websocket_user_agent(request.scope))

    async def on_ws_connect(self, context: Context) -> None:
        params = context.connection_params or {}
        header = next(
            (params[key] for key in ("Authorization", "authorization", "token") if params.get(key)),
            None,
        )
        if header and isinstance(header, str) and " " not in header.strip():
            header = f"Bearer {header}"
        await context.authenticate(header if isinstance(header, str) else None)
        if context.auth_error or (header is not None and not isinstance(header, str)):
            self.refused_credentials = True
            raise ConnectionRejectionError()
        if context.access_expires_at is not None:
            self.access_expires_at = context.access_expires_at
            self._expiry = asyncio.create_task(self._close_at_expiry())
        return None

    async def _close_at_expiry(self) -> None:
        assert self.access_expires_at is not None
        await asyncio.sleep(max(0.0, (self.access_expires_at - timezone.now()).total_seconds()))
        await self.close_expired()

    async def closed_if_expired(self) -> bool:
        """Close the socket if its token has expired; whether it is closed so."""
        if not self.expired and self.access_expires_at is not None and (
                timezone.now() >= self.access_expires_at):
            await self.close_expired()
        return self.expired

    async def close_expired(self) -> None:
        if self.expired:
            return
        self.expired = True
        if self._expiry is not None and self._expiry is not asyncio.current_task():
            self._expiry.cancel()
        await self.close(code=FORBIDDEN_CLOSE, reason="The access token has expired.")

    async def disconnect(self, code: int) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        await super().disconnect(code)
