"""Webhook writes: endpoints (registered, changed, deleted by staff with
manage_apps), the deliveries an event makes, a delivery sent again, and
what deliveries keep of a person erased (apps.privacy calls it).

Where a delivery may go is decided here, for the API, the Django admin and
every attempt alike (`url_problem`): http or https, and, unless
WEBHOOKS_ALLOW_PRIVATE_URLS, neither this server nor any address that is not
public, whatever the host's name resolves to. Otherwise a webhook would let
whoever registers it make the server call its own private network.
"""

import ipaddress
import socket
import uuid
from collections.abc import Collection, Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.http.request import validate_host
from django.utils import timezone

from apps.core import events
from apps.core.errors import ErrorCode, ServiceError
from apps.core.models import OutboxEvent
from apps.core.validation import Problems, max_length, reject_unknown
from apps.webhooks import payloads
from apps.webhooks.event_types import WebhookEventType, webhook_event_type
from apps.orders.models import Order
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint, refusal

ENDPOINT_FIELDS = {"url", "event_types", "is_active"}
# Deliveries rewritten by one statement of an erasure.
ERASE_BATCH = 500

# --- Where deliveries may go ------------------------------------------------------------------


def resolve(host: str, port: int) -> list[str]:
    """The addresses a connection to `host` may reach (OSError when none)."""
    return [str(info[4][0])
            for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone is not the address
    judged: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 address inside (::ffff:10.0.0.1, 6to4) is where it leads.
        judged += [inner for inner in (ip.ipv4_mapped, ip.sixtofour) if inner is not None]
    return all(one.is_global and not (one.is_multicast or one.is_reserved) for one in judged)


def _is_this_server(host: str) -> bool:
    # The names the server answers to ("*" would mean every name), which
    # write an IPv6 address in brackets, as a Host header does.
    names = [name for name in settings.ALLOWED_HOSTS if name != "*"]
    return validate_host(f"[{host}]" if ":" in host else host, names)


def url_problem(url: str) -> str | None:
    """Why deliveries may not go to `url`, in a sentence; None when they may."""
    if any(character.isspace() or not character.isprintable() for character in url):
        return "A URL has no spaces or control characters."
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "This is not a valid URL."
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "Use an http:// or https:// URL."
    host = parts.hostname
    if not host:
        return "The URL names no host."
    if settings.WEBHOOKS_ALLOW_PRIVATE_URLS:
        return None
    if _is_this_server(host):
        return "The URL points at this server."
    try:
        addresses = resolve(host, port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError):
        return f"The host {host} cannot be resolved."
    for address in addresses:
        if not _is_public(address):
            return (f"The host {host} is at {address}, a private, loopback or link-local "
                    "address; webhooks go to public addresses only.")
    return None


# --- Endpoints --------------------------------------------------------------------------------


def _clean(problems: Problems, endpoint: WebhookEndpoint, fields: dict[str, Any]) -> None:
    if "url" in fields:
        url = (fields["url"] or "").strip()
        limit = max_length(WebhookEndpoint, "url")
        if not url:
            problems.add("url", "This field is required.", ErrorCode.REQUIRED)
        elif len(url) > limit:
            problems.add("url", f"At most {limit} characters.")
        elif (problem := url_problem(url)) is not None:
            problems.add("url", problem)
        endpoint.url = url
    if "event_types" in fields:
        endpoint.event_types = _clean_event_types(problems, fields["event_types"])
    if "is_active" in fields:
        endpoint.is_active = bool(fields["is_active"])


def _clean_event_types(problems: Problems, value: Any) -> list[str]:
    if not isinstance(value, list | tuple) or not value:
        problems.add("event_types", "Choose at least one event type.", ErrorCode.REQUIRED)
        return []
    chosen: list[str] = []
    for index, item in enumerate(value):
        if item not in WebhookEventType.values:
            problems.add(f"event_types.{index}", f"{item!r} is not a webhook event type.")
        elif item not in chosen:
            chosen.append(str(item))
    return chosen


@transaction.atomic
def webhook_create(*, actor: Any, url: str | None, event_types: Iterable[str] | None,
                   is_active: bool = True) -> WebhookEndpoint:
    """An endpoint with a new secret (signing.generate_secret)."""
    endpoint = WebhookEndpoint(created_by=actor if getattr(actor, "pk", None) else None)
    problems = Problems()
    _clean(problems, endpoint, {"url": url, "event_types": list(event_types or []),
                                "is_active": is_active})
    problems.raise_any()
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_update(*, actor: Any, endpoint: WebhookEndpoint, **fields: Any) -> WebhookEndpoint:
    """Change what is given. Pending deliveries go to the new URL; those of an
    endpoint made inactive wait until it is active again."""
    reject_unknown(fields, ENDPOINT_FIELDS)
    if fields.get("is_active", True) is None:
        fields.pop("is_active")
    problems = Problems()
    _clean(problems, endpoint, fields)
    problems.raise_any()
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_delete(*, actor: Any, endpoint: WebhookEndpoint) -> None:
    """The endpoint goes with its deliveries' log."""
    endpoint.delete()


# --- Deliveries -------------------------------------------------------------------------------


def deliveries_create(*, event_id: uuid.UUID, event: events.Event) -> list[int]:
    """The deliveries of an outbox event to the active endpoints that want
    it, made once each (a repeated call finds them made); the ids of those
    of them still pending, to be attempted."""
    event_type = webhook_event_type(event)
    if event_type is None:
        return []
    endpoints = [e for e in WebhookEndpoint.objects.filter(is_active=True) if e.wants(event_type)]
    if not endpoints:
        return []
    now = timezone.now()
    occurred_at = (OutboxEvent.objects.filter(pk=event_id).values_list("created_at", flat=True)
                   .first()) or now
    with transaction.atomic():
        order_id = _order_locked(payloads.order_id_of(event))
        body = payloads.payload(event_type=event_type, event=event, occurred_at=occurred_at)
        WebhookDelivery.objects.bulk_create(
            [WebhookDelivery(endpoint=endpoint, event_type=event_type, event_id=event_id,
                             payload=body, order_id=order_id, next_attempt_at=now)
             for endpoint in endpoints],
            ignore_conflicts=True,
        )
    return list(WebhookDelivery.objects.filter(
        event_id=event_id, endpoint__in=endpoints, status=WebhookDelivery.Status.PENDING,
    ).values_list("pk", flat=True))


def _order_locked(order_id: int | None) -> int | None:
    """The order's id, its row locked until the deliveries about it are
    written (None when there is no such order). An erasure of the order
    (deliveries_erase, in an account's deletion) takes the same lock first:
    deliveries made meanwhile are either written before it, and erased by
    it, or read from the erased order after its commit, never read before
    and written after."""
    if order_id is None:
        return None
    return Order.objects.select_for_update().filter(pk=order_id).values_list(
        "pk", flat=True).first()


def deliveries_erase(*, order_ids: Collection[int]) -> int:
    """Take the person out of what the deliveries about these orders keep,
    in the caller's transaction, which holds the orders' locks (an account's
    deletion, old order records' retention: apps.privacy): the body's email
    and address (payloads.erased_order_data), and the text of a refusal,
    which may echo the body (its status stays). A pending one goes out so.
    How many deliveries were rewritten."""
    now = timezone.now()
    erased = []
    about = (WebhookDelivery.objects.filter(order_id__in=list(order_ids))
             .only("pk", "order_id", "payload", "last_error", "last_response_status"))
    for delivery in about.iterator(chunk_size=ERASE_BATCH):
        assert delivery.order_id is not None
        delivery.payload = {**delivery.payload, "data": payloads.erased_order_data(
            delivery.payload.get("data") or {}, order_id=delivery.order_id)}
        if delivery.last_error and delivery.last_response_status is not None:
            delivery.last_error = refusal(delivery.last_response_status)
        delivery.updated_at = now
        erased.append(delivery)
    WebhookDelivery.objects.bulk_update(erased, ["payload", "last_error", "updated_at"],
                                        batch_size=ERASE_BATCH)
    return len(erased)


@transaction.atomic
def webhook_delivery_retry(*, actor: Any, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again now, whatever became of it: the same body under
    the same webhook-id, so a receiver that has it already can tell. It
    goes on being retried while its day lasts (README, "Outgoing webhooks")."""
    endpoint = WebhookEndpoint.objects.get(pk=delivery.endpoint_id)
    if not endpoint.is_active:
        raise ServiceError("The endpoint is inactive: make it active to send to it again.",
                           code=ErrorCode.INVALID, field="id")
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.PENDING, next_attempt_at=now, updated_at=now)
    events.publish(events.WebhookDeliveryRetried(delivery_id=delivery.pk,
                                                 actor_id=getattr(actor, "pk", None)))
    delivery.refresh_from_db()
    return delivery
