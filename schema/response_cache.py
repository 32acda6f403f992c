"""The response cache of catalog reads, and HTTP caching of its answers.

Before execution the view asks `lookup`: a request whose answer is in the
shared cache, built for the same document, operation, variables, URL base and
visibility class, and whose tags are all still current (apps.core.cache_tags),
is answered from it without executing anything (`Answered`), after paying its
cost from the caller's budget as an execution would. Otherwise the request
goes on, noting what it shows (schema.cacheable), and `ResponseCacheStore`
keeps its answer when the document is cacheable and the answer has no errors.
`finish` gives GET answers their HTTP caching headers.

Visibility classes: the catalog's one rule (apps.catalog.selectors.
may_see_unpublished) splits callers in two, anonymous callers, customers and
staff without MANAGE_PRODUCTS, who all see the same catalog, and catalog
managers, who also see unpublished products. Their entries never mix.

GRAPHQL_RESPONSE_CACHE turns it off (0), for `make bench` to measure both.
"""

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotModified
from django.utils.http import parse_etags
from strawberry.extensions import SchemaExtension
from strawberry.http import GraphQLRequestData

from apps.catalog.selectors import may_see_unpublished
from apps.core import cache_tags, request_context
from schema import cacheable, encoding
from schema.cost_limits import charge, cost_extensions, operation_cost, shows_cost

PREFIX = "rc:"
ATTRIBUTE = "graphql_response_cache"  # where a request keeps its Lookup
PUBLIC, CATALOG = "public", "catalog"
PRIVATE = "private, no-store"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"  # as schema.views negotiates


class Answered(Exception):
    """Raised by `lookup` with the answer of a hit, for the view to send."""

    def __init__(self, response: HttpResponseBase):
        super().__init__("answered from the response cache")
        self.response = response


@dataclass(frozen=True)
class Entry:
    data: bytes  # the answer's `data`, as JSON
    versions: dict[str, int]  # the tags' versions it was built with
    cost: int  # what executing it costs, charged again on each hit
    digest: str  # of `data`, for the ETag
    # The operation's name, which a request may leave out when its document
    # has one operation (an APQ GET does): its hits' log line and span name it.
    operation_name: str | None = None


@dataclass
class Lookup:
    """A request the cache may answer, or keep the answer of."""

    key: str
    document: str  # the document's sha256
    operation_name: str | None
    clock: int  # cache_tags' clock before anything was read
    public: bool  # an anonymous caller, who is told no cost: the answer is everyone's
    shown: cacheable.Shown = field(default_factory=cacheable.Shown)
    entry: Entry | None = None  # the entry answered or stored


# An answer runs no schema extension, so no operation span: while traces are
# on, schema.telemetry sets this to make the answer's span, given the
# lookup's start (ns). None while they are off: an answer costs nothing more.
trace_hit: Callable[[int], None] | None = None


def enabled() -> bool:
    return bool(settings.GRAPHQL_RESPONSE_CACHE)


def _lookup_of(request: Any) -> Lookup | None:
    return getattr(request, ATTRIBUTE, None)


def _shown_of(context: Any) -> cacheable.Shown | None:
    lookup = _lookup_of(getattr(context, "request", None))
    return None if lookup is None or lookup.entry is not None else lookup.shown


# Documents (sha256, operation name) found not cacheable, skipped at once
# afterwards; and the shapes of those that are.
_shapes: OrderedDict[tuple[str, str | None], cacheable.Shape | None] = OrderedDict()
MAX_SHAPES = 1024


def _remember(key: tuple[str, str | None], shape: cacheable.Shape | None) -> None:
    _shapes[key] = shape
    _shapes.move_to_end(key)
    while len(_shapes) > MAX_SHAPES:
        _shapes.popitem(last=False)


def operation_shape(context: Any, document: str) -> cacheable.Shape | None:
    """The Shape of the operation `context` runs, `document` being the sha256
    of its text: walked once per document and operation, then remembered
    (for the replicas' routing too, schema/replicas.py)."""
    key = (document, context.operation_name)
    if key not in _shapes:
        _remember(key, cacheable.shape_of(
            context.schema._schema, context.graphql_document, context.operation_name))
    return _shapes[key]


def _document_hash(data: GraphQLRequestData) -> str | None:
    if data.query:
        return hashlib.sha256(data.query.encode()).hexdigest()
    persisted = (data.extensions or {}).get("persistedQuery")
    sent = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
    return sent.lower() if isinstance(sent, str) and len(sent) == 64 else None


async def _visibility_class(user: Any) -> str:
    if not getattr(user, "is_staff", False):
        return PUBLIC  # the rule needs staff: no permission is read
    return CATALOG if await sync_to_async(may_see_unpublished)(user) else PUBLIC


def _generation() -> str:
    """What else an answer depends on: the schema, and the limits it was
    validated and costed under (a deploy that changes them starts afresh)."""
    return ":".join(str(value) for value in (
        SCHEMA_DIGEST, settings.GRAPHQL_MAX_COST, settings.GRAPHQL_MAX_DEPTH,
        settings.GRAPHQL_MAX_ALIASES, settings.GRAPHQL_MAX_SELECTIONS,
        settings.GRAPHQL_MAX_TOKENS, settings.GRAPHQL_INTROSPECTION,
        settings.GRAPHQL_MAX_PAGE_SIZE, settings.GRAPHQL_TOTAL_COUNT_CAP,
    ))


def entry_key(*, document: str, operation_name: str | None, variables: Any,
              url_base: str, visibility: str) -> str:
    """sha256 of everything the answer depends on besides the data: the
    document, operation, canonical variables, the scheme and host that media
    URLs start with, and the visibility class."""
    try:
        canonical = json.dumps(variables or {}, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        canonical = repr(variables)
    material = json.dumps([_generation(), document, operation_name, canonical, url_base])
    return f"{PREFIX}{visibility}:{hashlib.sha256(material.encode()).hexdigest()}"


async def lookup(*, request: HttpRequest, data: Any, context: Any) -> None:
    """Answer the request from the cache (raising Answered), or note it for
    `ResponseCacheStore` to keep its answer, when it may be either."""
    if not enabled() or not isinstance(data, GraphQLRequestData) or context.auth_error:
        return
    document = _document_hash(data)
    if document is None or _shapes.get((document, data.operation_name), True) is None:
        return
    started = time.time_ns() if trace_hit is not None else 0
    visibility = await _visibility_class(context.user)
    key = entry_key(document=document, operation_name=data.operation_name,
                    variables=data.variables, url_base=context.absolute_url("/").rstrip("/"),
                    visibility=visibility)
    found = cache.get_many([key, cache_tags.CLOCK])
    public = visibility == PUBLIC and not context.user.is_authenticated and (
        not shows_cost(context))
    noted = Lookup(key=key, document=document, operation_name=data.operation_name,
                   clock=cache_tags.clock_of(found.get(cache_tags.CLOCK)), public=public)
    setattr(request, ATTRIBUTE, noted)
    entry = found.get(key)
    if isinstance(entry, Entry) and cache_tags.current(entry.versions):
        response = _answer(request, context, noted, entry)
        if response is not None:
            if trace_hit is not None:
                trace_hit(started)
            raise Answered(response)


def _answer(request: HttpRequest, context: Any, noted: Lookup,
            entry: Entry) -> HttpResponseBase | None:
    """The answer from `entry`, its facts noted as an execution's would be
    (only queries are kept: schema.cacheable), or None to execute."""
    operation = entry.operation_name or noted.operation_name
    if noted.public and request.method == "GET" and _matches(request, etag(request, entry)):
        noted.entry = entry
        request_context.note(operation=operation, operation_type="query",
                             response_cache="not_modified")
        return HttpResponseNotModified()
    spend = charge(context, entry.cost)
    if spend is not None and not spend.spent:
        return None  # executed, to be refused THROTTLED as any execution is
    user = context.user
    request_context.note(operation=operation, operation_type="query", cost=entry.cost,
                         user_id=user.pk if user.is_authenticated else None,
                         response_cache="hit")
    noted.entry = entry
    body = b'{"data":' + entry.data
    if shows_cost(context):
        body += b',"extensions":' + encoding.dumps(cost_extensions(entry.cost, spend))
    return HttpResponse(body + b"}", content_type="application/json")


def _matches(request: HttpRequest, current: str) -> bool:
    sent = parse_etags(request.headers.get("If-None-Match", ""))
    return "*" in sent or current in [tag.removeprefix("W/") for tag in sent]


def etag(request: HttpRequest, entry: Entry) -> str:
    """Strong: one entry, one media type, the same bytes."""
    media = "g" if GRAPHQL_RESPONSE_JSON in request.headers.get("Accept", "") else "j"
    return f'"{entry.digest}-{media}"'


def public_cache_control() -> str:
    """Browsers and CDNs revalidate every time (a 304 costs no execution);
    a shop that accepts some staleness at its CDN lets it keep answers a
    few seconds (GRAPHQL_HTTP_SHARED_MAX_AGE)."""
    value = "public, max-age=0, must-revalidate"
    shared = settings.GRAPHQL_HTTP_SHARED_MAX_AGE
    if shared > 0:
        value += f", s-maxage={shared}"
        if settings.GRAPHQL_HTTP_STALE_WHILE_REVALIDATE > 0:
            value += f", stale-while-revalidate={settings.GRAPHQL_HTTP_STALE_WHILE_REVALIDATE}"
    return value


def finish(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """A GET answer's caching headers: public with its ETag when it is the
    shared entry, else private and never stored."""
    if request.method != "GET" or not enabled():
        return response
    noted = _lookup_of(request)
    entry = noted.entry if noted is not None and noted.public else None
    if entry is None or response.status_code not in (200, 304):
        response["Cache-Control"] = PRIVATE
        return response
    if response.status_code == 200 and isinstance(response, HttpResponse):
        # A miss's answer as a hit sends it: the ETag names these bytes.
        response.content = b'{"data":' + entry.data + b"}"
    response["ETag"] = etag(request, entry)
    response["Cache-Control"] = public_cache_control()
    return response


class ResponseCacheStore(SchemaExtension):
    """Keep the answer of a noted request when its document is cacheable,
    it has no errors, and nothing it shows changed while it was built."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        noted = _lookup_of(getattr(context.context, "request", None))
        result = context.result
        if (noted is None or noted.entry is not None or result is None or result.errors
                or not isinstance(result.data, dict) or context.graphql_document is None
                or noted.shown.unknown):
            return
        shape = operation_shape(context, noted.document)
        if shape is None:
            return
        found_nodes = cacheable.node_tags(shape, context.variables, result.data)
        if found_nodes is None:
            return
        tags = set(noted.shown.tags) | shape.tags | found_nodes
        tags |= {tag for response_key, root in shape.lookups
                 if result.data.get(response_key) is None
                 for tag in [cacheable.CATALOG_ROOTS[root]]}
        if shape.shows_stock:
            tags |= {cacheable.tags.stock_tag(pk) for pk in noted.shown.product_ids}
        versions = cache_tags.stamp(tags, since=noted.clock)
        if versions is None:
            return
        data = encoding.dumps(result.data)
        noted.entry = Entry(data=data, versions=versions, cost=operation_cost(context),
                            operation_name=context.operation_name,
                            digest=hashlib.sha256(data).hexdigest()[:32])
        cache.set(noted.key, noted.entry, timeout=settings.GRAPHQL_RESPONSE_CACHE_TIMEOUT)


def install(schema: Any) -> None:
    """Have the schema's catalog types note what answers show."""
    global SCHEMA_DIGEST
    SCHEMA_DIGEST = hashlib.sha256(str(schema).encode()).hexdigest()[:16]
    cacheable.note_shown_objects(schema._schema, _shown_of)


SCHEMA_DIGEST = ""
