"""Refuse an operation that costs too much, or more than its client has left,
before anything of it runs; tell signed-in callers (and anyone who asks)
what it cost.

Over the maximum (GRAPHQL_MAX_COST, or the bucket's size when that is
smaller, since a larger cost could never be paid): QUERY_TOO_COMPLEX. Over
the client's budget (apps.core.budget; user for signed-in callers, address
otherwise): THROTTLED, HTTP 429 with Retry-After. The cost is reported in
`extensions.cost` with the shape Shopify's Admin API uses, to signed-in
callers, and to anonymous ones only when they send COST_HEADER: a storefront's
anonymous answers, which CDNs cache, stay the same bytes for everyone.
"""

import logging
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from apps.core import budget, request_context
from schema.cost import CompiledCosts, evaluate

COST_HEADER = "X-GraphQL-Cost"
THROTTLED_STATUS = 429

compiled_costs = CompiledCosts(maxsize=512)
logger = logging.getLogger("commerce.graphql")


def maximum_cost() -> int:
    size = settings.GRAPHQL_COST_BUCKET_SIZE
    return min(settings.GRAPHQL_MAX_COST, size) if size > 0 else settings.GRAPHQL_MAX_COST


class QueryCostLimits(SchemaExtension):
    cost: int | None = None
    spend: budget.Spend | None = None

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and context.query:
            self.cost = operation_cost(context)
            request_context.note(cost=self.cost)
            self._check(self.cost)
        yield

    def _check(self, cost: int) -> None:
        maximum = maximum_cost()
        if cost > maximum:
            raise GraphQLError(
                f"This operation costs {cost} points; at most {maximum} are allowed. "
                "Ask for smaller pages (first/last) or fewer nested lists.",
                extensions={"code": "QUERY_TOO_COMPLEX", "cost": cost, "maximumCost": maximum},
            )
        self.spend = charge(self.execution_context.context, cost)
        if self.spend is None or self.spend.spent:
            return
        retry_after = self.spend.retry_after
        response = getattr(self.execution_context.context, "response", None)
        if response is not None and hasattr(response, "status_code"):
            response.status_code = THROTTLED_STATUS
            response["Retry-After"] = str(retry_after)
        raise GraphQLError(
            f"Throttled: this operation costs {cost} points and "
            f"{int(self.spend.available)} are available; try again in {retry_after} s.",
            extensions={"code": "THROTTLED", "retryAfter": retry_after},
        )

    def get_results(self) -> dict:
        if self.cost is None or not shows_cost(self.execution_context.context):
            return {}
        return cost_extensions(self.cost, self.spend)


def operation_cost(context: ExecutionContext) -> int:
    """The cost of the operation with its variables (the document's cost
    expression is compiled once)."""
    assert context.graphql_document is not None and context.query
    expr = compiled_costs.get(
        schema=context.schema._schema, query=context.query,
        document=context.graphql_document, operation_name=context.operation_name,
        max_page_size=settings.GRAPHQL_MAX_PAGE_SIZE,
    )
    return evaluate(expr, context.variables)


def charge(context: Any, cost: int) -> budget.Spend | None:
    """Take `cost` from the caller's budget (their user, else their address);
    None when there is no budget to take it from. The response cache charges
    a hit as this extension charges an execution."""
    size = settings.GRAPHQL_COST_BUCKET_SIZE
    key = client_key(context)
    if size <= 0 or key is None:
        return None
    try:
        return budget.spend(key=key, cost=cost, size=size,
                            rate=settings.GRAPHQL_COST_RESTORE_RATE)
    except budget.BudgetUnavailable as error:
        # Better to serve without a budget than to fail every request
        # while the cache is down (/healthz reports it).
        logger.warning("Query cost budget unavailable: %s", error)
        return None


def client_key(context: Any) -> str | None:
    user = getattr(context, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    address = getattr(context, "client_ip", None)
    return f"address:{address}" if address is not None else None


def shows_cost(context: Any) -> bool:
    """Whether the answer tells its cost. Over HTTP only: over a WebSocket the
    cost is paid once, when a subscription starts, and repeating it in every
    event would mislead."""
    request = getattr(context, "request", None)
    if not isinstance(request, HttpRequest):
        return False
    user = getattr(context, "user", None)
    return bool((user is not None and user.is_authenticated)
                or request.headers.get(COST_HEADER))


def cost_extensions(cost: int, spend: budget.Spend | None) -> dict:
    """`extensions.cost` in the shape of Shopify's Admin API."""
    report: dict = {"requestedQueryCost": cost}
    if spend is not None:
        report["throttleStatus"] = {
            "maximumAvailable": float(settings.GRAPHQL_COST_BUCKET_SIZE),
            "currentlyAvailable": round(spend.available, 2),
            "restoreRate": float(settings.GRAPHQL_COST_RESTORE_RATE),
        }
    return {"cost": report}
