import logging
import time

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, MiddlewareNotUsed, RequestDataTooBig
from django.core.handlers.exception import response_for_exception
from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.middleware import security
from django.utils.module_loading import import_string

from apps.core import request_context
from apps.core.addresses import peer_is_trusted
from commerce import metrics

request_log = logging.getLogger("commerce.requests")


class SyncAndAsync:
    """A middleware that runs as its `get_response` does: a coroutine
    under ASGI (no thread hop), a plain call under WSGI and in tests."""

    async_capable = True
    sync_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)


class RequestLogMiddleware(SyncAndAsync):
    """One log line per request, and the request id (apps.core.request_context);
    with METRICS_ENABLED, its metrics from the same facts (commerce.metrics).

    Outermost, so a refused request (413, CSRF, a 500) has its line and id
    too. The line: method, path, status, duration, and the facts the layers
    below noted (the GraphQL operation's name and type, the user id, the
    cost, the error codes, whether the response cache answered).
    """

    def __call__(self, request: HttpRequest):
        if iscoroutinefunction(self):
            return self._acall(request)
        started = time.perf_counter()
        with request_context.serving(self.request_id(request)) as record:
            response = self.get_response(request)
            return self._finish(request, response, record, started)

    async def _acall(self, request: HttpRequest):
        started = time.perf_counter()
        with request_context.serving(self.request_id(request)) as record:
            response = await self.get_response(request)
            return self._finish(request, response, record, started)

    @staticmethod
    def request_id(request: HttpRequest) -> str:
        sent = request.headers.get(request_context.HEADER)
        if sent and peer_is_trusted(request.META.get("REMOTE_ADDR", "")):
            accepted = request_context.accepted_request_id(sent)
            if accepted:
                return accepted
        return request_context.new_request_id()

    @staticmethod
    def _finish(request: HttpRequest, response: HttpResponseBase,
                record: request_context.Record, started: float) -> HttpResponseBase:
        response[request_context.HEADER] = record.request_id
        seconds = time.perf_counter() - started
        if settings.METRICS_ENABLED:
            metrics.observe_request(path=request.path, status=response.status_code,
                                    seconds=seconds, record=record)
        if request_log.isEnabledFor(logging.INFO):
            duration = round(seconds * 1000, 1)
            facts = {"method": request.method, "path": request.path,
                     "status": response.status_code, "duration_ms": duration, **record.facts}
            operation = record.facts.get("operation")
            request_log.info(
                "%s %s %s %.1f ms%s", request.method, request.path, response.status_code,
                duration, f" {operation}" if operation else "", extra=facts,
            )
        return response


class RequestBodyLimitMiddleware(SyncAndAsync):
    """Answer 413, not Django's generic 400, to an oversized GraphQL body.

    A JSON body may be GRAPHQL_MAX_BODY_SIZE bytes; a multipart upload may
    carry UPLOAD_MAX_FILES files of UPLOAD_MAX_SIZE each (the per-file limit is
    checked again where the file is read).
    """

    def __call__(self, request: HttpRequest):
        refusal = self.refusal(request)
        if iscoroutinefunction(self):
            return self._acall(request, refusal)
        return refusal or self.get_response(request)

    async def _acall(self, request, refusal):
        return refusal or await self.get_response(request)

    @staticmethod
    def refusal(request: HttpRequest) -> JsonResponse | None:
        if request.method != "POST" or not request.path.startswith("/graphql"):
            return None
        multipart = request.content_type == "multipart/form-data"
        limit = (
            settings.UPLOAD_MAX_SIZE * settings.UPLOAD_MAX_FILES + settings.GRAPHQL_MAX_BODY_SIZE
            if multipart
            else settings.GRAPHQL_MAX_BODY_SIZE
        )
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        too_big = length > limit
        if not too_big and not multipart and not length:
            # No Content-Length (chunked): Django enforces the same limit on read.
            try:
                request.body  # noqa: B018
            except RequestDataTooBig:
                too_big = True
        if too_big:
            return JsonResponse(
                {"errors": [{"message": f"Request body is larger than {limit} bytes.",
                             "extensions": {"code": "PAYLOAD_TOO_LARGE"}}]},
                status=413,
            )
        return None


class SecurityMiddleware(security.SecurityMiddleware):
    """Django's SecurityMiddleware, its hooks called in the event loop under
    ASGI. They read the settings it kept when built and the request's
    scheme, host and path, and set headers: no I/O, no database, nothing
    thread-bound, so the two thread hops MiddlewareMixin makes for them (of
    eight an executed request made, and a cache hit) bought nothing. A hook
    that raises (get_host's DisallowedHost) becomes its error response
    through the handler's wrapper around each middleware, as before."""

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.process_request(request)
        if response is None:
            response = await self.get_response(request)
        return self.process_response(request, response)


class GroupedMiddleware:
    """settings.GROUPED_MIDDLEWARE, in their order, in two thread hops.

    Django's own middleware (sessions, CSRF, auth, messages...) are sync
    hooks behind MiddlewareMixin: under ASGI each hook runs in a thread hop
    of its own (sync_to_async), two per middleware and request, most of the
    hops a cached answer paid for. Here every process_request runs in one
    hop, every process_response in another, process_view in a third, with
    the stack's semantics kept: a middleware that answers early still sees
    its own response, one that raises is skipped on the way out and its
    exception becomes the response the outer ones see (as Django's
    convert_exception_to_response does around each middleware).
    """

    async_capable = True
    sync_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.members = []
        for path in settings.GROUPED_MIDDLEWARE:
            try:
                member = import_string(path)(get_response)
            except MiddlewareNotUsed:
                continue
            unsupported = {"process_exception", "process_template_response"} & set(dir(member))
            if unsupported:
                raise ImproperlyConfigured(f"{path} has {sorted(unsupported)}: not groupable.")
            self.members.append(member)
        # Django's handler adapts process_view to its mode with a hop of its
        # own unless the method already fits: one of each, picked here.
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)
            self.process_view = self._aviews
        else:
            self.process_view = self._views

    def __call__(self, request: HttpRequest):
        if iscoroutinefunction(self):
            return self._acall(request)
        answered, response = self._requests(request)
        if response is None:
            response = self.get_response(request)
        return self._responses(request, response, self.members[:answered])

    async def _acall(self, request: HttpRequest):
        answered, response = await sync_to_async(self._requests)(request)
        if response is None:
            response = await self.get_response(request)
        return await sync_to_async(self._responses)(request, response, self.members[:answered])

    async def _aviews(self, request, view, args, kwargs):
        return await sync_to_async(self._views)(request, view, args, kwargs)

    def _requests(self, request: HttpRequest) -> tuple[int, HttpResponseBase | None]:
        """How many members' process_response apply, and an early response."""
        for index, member in enumerate(self.members):
            if not hasattr(member, "process_request"):
                continue
            try:
                response = member.process_request(request)
            except Exception as error:  # noqa: BLE001 - as Django's handler does
                return index, response_for_exception(request, error)
            if response is not None:
                return index + 1, response
        return len(self.members), None

    def _views(self, request, view, args, kwargs) -> HttpResponseBase | None:
        for member in self.members:
            if hasattr(member, "process_view"):
                response = member.process_view(request, view, args, kwargs)
                if response is not None:
                    return response
        return None

    @staticmethod
    def _responses(request: HttpRequest, response: HttpResponseBase, members: list):
        for member in reversed(members):
            if not hasattr(member, "process_response"):
                continue
            try:
                response = member.process_response(request, response)
            except Exception as error:  # noqa: BLE001 - as Django's handler does
                response = response_for_exception(request, error)
        return response
