"""Events: what happened, told to whoever must act on it, through a
transactional outbox so that no side effect is lost.

A service that changes something calls `publish(SomethingHappened(...))`
inside its transaction. `publish` writes the event to the outbox table in that
same transaction: the event exists if and only if the change committed. After
the commit a dispatcher hands it to each handler registered for its type and
marks it sent. When a handler fails (the Celery broker is down, say) the event
stays unsent and `dispatch_pending`, run by Celery beat every
EVENTS_RETRY_AFTER, hands it over again. So a handler may run more than once
for one event; `once_per_event` makes the work it starts act once.

Outside a transaction `publish` opens its own (the event is then the only
write, as in a password-reset request), so publishing never needs the caller
to remember `transaction.atomic`.

Events are small frozen dataclasses of ids and plain values, never model
instances: a handler reads the current state when it runs, which may be much
later and in another process.
"""

import dataclasses
import functools
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, ClassVar, Concatenate, ParamSpec, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.core.models import HandledEvent, OutboxEvent

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Event:
    """Something that happened. Subclasses are frozen dataclasses whose fields
    JSON holds as they are (ints, strings, booleans, None); the class name is
    the event's type in the outbox, so renaming one is a data migration."""

    types: ClassVar[dict[str, type["Event"]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        known = Event.types.setdefault(cls.__name__, cls)
        if known is not cls:
            raise TypeError(f"Two events are named {cls.__name__}.")


# --- Accounts ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class AccountRegistered(Event):
    user_id: int


@dataclasses.dataclass(frozen=True)
class PasswordResetRequested(Event):
    user_id: int


@dataclasses.dataclass(frozen=True)
class NewDeviceSignIn(Event):
    """A sign-in from a user agent the account had not signed in from
    (apps.accounts.services.history.is_new_device): the customer is told."""

    user_id: int
    attempt_id: int


@dataclasses.dataclass(frozen=True)
class TwoFactorChanged(Event):
    """Two-factor sign-in was turned on or off (by the user, or off by staff):
    the owner is told, in case it was not them."""

    user_id: int
    enabled: bool


@dataclasses.dataclass(frozen=True)
class StaffInvited(Event):
    """A staff account was made (staffCreate): its owner is emailed a link
    to set the password."""

    user_id: int


@dataclasses.dataclass(frozen=True)
class AccountNameChanged(Event):
    """The user's first or last name changed: what signs their reviews."""

    user_id: int


# --- Privacy: apps.privacy ------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class AccountDataExportRequested(Event):
    """accountDataExport: build the customer's export and email its link."""

    user_id: int
    export_id: int


@dataclasses.dataclass(frozen=True)
class AccountDeleteRequested(Event):
    """accountDeleteRequest: email the customer a confirmation token."""

    user_id: int


@dataclasses.dataclass(frozen=True)
class AccountDeleted(Event):
    """accountDelete erased the account: its row is gone, its orders kept
    unlinked, its reviews signed by a former customer."""

    user_id: int


# --- Inventory ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class StockFellLow(Event):
    """A change took the variant's availability down to its threshold."""

    variant_id: int


@dataclasses.dataclass(frozen=True)
class VariantBackInStock(Event):
    """A change took the variant's availability from none to some (not its
    first stock: a new variant is not back)."""

    variant_id: int


# --- Catalog: the moves of apps.catalog.transitions -------------------------------------


@dataclasses.dataclass(frozen=True)
class ProductMoved(Event):
    """The shape of the four below; handlers register for those, one by one."""

    product_id: int
    actor_id: int | None


@dataclasses.dataclass(frozen=True)
class ProductPublished(ProductMoved):
    pass


@dataclasses.dataclass(frozen=True)
class ProductUnpublished(ProductMoved):
    pass


@dataclasses.dataclass(frozen=True)
class ProductDeleted(ProductMoved):
    pass


@dataclasses.dataclass(frozen=True)
class ProductRestored(ProductMoved):
    pass


# --- Catalog: prices ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class VariantPriceDropped(Event):
    """variant_update lowered the variant's price; the prices as decimal
    strings, in the shop's currency."""

    variant_id: int
    old_price: str
    new_price: str
# --- Catalog: what a storefront page shows ---------------------------------------------
#
# Published by the catalog, inventory and reviews services for every committed
# change that can alter what a product or category page answers. Their
# handlers: outgoing webhooks (product.created, product.updated,
# category.changed, stock.changed) and the response cache's invalidation.


@dataclasses.dataclass(frozen=True)
class ProductCreated(Event):
    product_id: int
    actor_id: int | None


@dataclasses.dataclass(frozen=True)
class ProductChanged(Event):
    """Something the product's pages show changed. `part` names what, for
    webhooks and logs: "product" (its own fields, categories, attributes),
    "variants" (a variant made, changed or removed, its price included),
    "media", or "reviews" (its rating and review count)."""

    product_id: int
    part: str
    actor_id: int | None


@dataclasses.dataclass(frozen=True)
class CategoryChanged(Event):
    """A category was made, changed, moved or deleted."""

    category_id: int
    actor_id: int | None


@dataclasses.dataclass(frozen=True)
class StockChanged(Event):
    """A stock movement changed the variant's availability (summed over its
    warehouses). Lists that filter or sort by availability change only when
    it crosses zero, which `crossed_zero` tells."""

    variant_id: int
    product_id: int
    available_before: int
    available_after: int

    @property
    def crossed_zero(self) -> bool:
        return (self.available_before > 0) != (self.available_after > 0)


# --- Catalog: productsImport's jobs (apps.catalog.services.import_jobs) -----------------


@dataclasses.dataclass(frozen=True)
class ImportJobQueued(Event):
    """productsImport stored a file: its job is to be run (a Celery task)."""

    job_id: int


@dataclasses.dataclass(frozen=True)
class ImportJobChanged(Event):
    """An import job started, succeeded or failed (importJobUpdated); its
    progress in between is told straight to the channel layer."""

    job_id: int
    status: str


# --- Orders: what apps.orders.services.transitions.order_transition does -----------------


@dataclasses.dataclass(frozen=True)
class OrderPlaced(Event):
    """checkoutComplete made the order (orderCreated, the confirmation)."""

    order_id: int


@dataclasses.dataclass(frozen=True)
class OrderChanged(Event):
    """The order's status or payment status moved, or it gained tracking:
    one OrderEvent row, whose type (apps.orders.models.OrderEvent.Type) this
    carries (orderUpdated, the customer's emails)."""

    order_id: int
    event_type: str
    actor_id: int | None


# --- Payments: what Stripe tells the shop -----------------------------------------------


@dataclasses.dataclass(frozen=True)
class StripeEventReceived(Event):
    """POST /webhooks/stripe/ recorded a verified event for the first time
    (apps.payments.models.StripeEvent); its handling comes after."""

    stripe_event_id: str


@dataclasses.dataclass(frozen=True)
class OrderDisputed(Event):
    """The customer's bank disputes the order's payment (opened), or the
    dispute ended (closed, with Stripe's status: won, lost...)."""

    order_id: int
    dispute_id: str
    status: str


@dataclasses.dataclass(frozen=True)
class RefundFailed(Event):
    """A refund did not go through at the gateway: refused when it was asked
    for, or reported failed afterwards (a Stripe refund updated to `failed`,
    given back to what may be refunded); for the order desk's alert, with
    the gateway's reason in words."""

    order_id: int
    refund_id: int
    reason: str


# --- Notifications ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class NotificationResendRequested(Event):
    """Staff asked for a FAILED notification to be sent again
    (apps.notifications.services.notification_resend)."""

    notification_id: int
    actor_id: int | None


# --- Webhooks ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class WebhookDeliveryRetried(Event):
    """Staff asked for a delivery to be sent again (webhookDeliveryRetry)."""

    delivery_id: int
    actor_id: int | None


# --- Handlers ------------------------------------------------------------------------

H = TypeVar("H", bound=Callable[[uuid.UUID, Any], None])

_handlers: defaultdict[type[Event], dict[str, Callable[[uuid.UUID, Any], None]]] = (
    defaultdict(dict)
)


def handler(event_type: type[Event]) -> Callable[[H], H]:
    """Register the decorated function as a handler of `event_type`.

    Handlers live in each app's `handlers.py`, imported when Django starts
    (apps.core.apps). A handler is called with the event's id and the event
    after the publishing transaction commits, and again on a retry if any
    handler of the event failed: it must be quick (enqueue a Celery task with
    the event id) and harmless to repeat.
    """

    def register(function: H) -> H:
        _handlers[event_type][f"{function.__module__}.{function.__qualname__}"] = function
        return function

    return register


def handlers_of(event_type: type[Event]) -> list[str]:
    return list(_handlers.get(event_type, {}))


P = ParamSpec("P")
R = TypeVar("R")


def once_per_event(
    function: Callable[Concatenate[str, P], R],
) -> Callable[Concatenate[str, P], R | None]:
    """Make work started by a handler (a Celery task whose first argument is
    the event id) act once per event, however often it is delivered.

    The record that it ran is written in the same transaction as the work's
    own writes: work that fails leaves no record and runs again on the retry;
    a second delivery finds the record and returns None. A concurrent second
    delivery waits on the record's unique index and then finds it.
    """
    key = f"{function.__module__}.{function.__qualname__}"

    def run(event_id: str, /, *args: P.args, **kwargs: P.kwargs) -> R | None:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    HandledEvent.objects.create(event_id=event_id, handler=key)
            except IntegrityError:
                logger.info("%s already handled event %s.", key, event_id)
                return None
            return function(event_id, *args, **kwargs)

    functools.update_wrapper(run, function)  # Celery names the task after it
    return run


# --- Publishing and dispatching ------------------------------------------------------------


def publish(*events: Event) -> list[uuid.UUID]:
    """Write the events to the outbox in the caller's transaction (or a
    transaction of their own) and dispatch them once it commits. Returns
    their ids."""
    if not events:
        return []
    now = timezone.now()
    rows = [
        OutboxEvent(id=uuid.uuid4(), type=type(event).__name__,
                    payload=dataclasses.asdict(event), created_at=now)
        for event in events
    ]
    ids = [row.id for row in rows]
    with transaction.atomic(savepoint=False):
        OutboxEvent.objects.bulk_create(rows)
        # robust: the change has committed; a failing dispatch must not turn
        # it into an error. The event stays unsent and is retried.
        transaction.on_commit(functools.partial(dispatch, ids), robust=True)
    return ids


def event_of(row: OutboxEvent) -> Event:
    return Event.types[row.type](**row.payload)


def _deliver(row: OutboxEvent) -> str:
    """Call each handler of the row's event; what failed, or "" when none did."""
    try:
        event = event_of(row)
    except (KeyError, TypeError) as error:
        logger.error("Outbox event %s of unknown shape %s: %r", row.pk, row.type, error)
        return f"unknown event: {error!r}"
    failures = []
    for name, function in _handlers.get(type(event), {}).items():
        try:
            # Its own transaction (or savepoint): a handler's database error
            # must not break the caller's transaction for the handlers after it.
            with transaction.atomic():
                function(row.pk, event)
        except Exception as error:  # noqa: BLE001 - any failure means "try again later"
            logger.exception("Handler %s failed on event %s %s; it will be retried.",
                             name, row.type, row.pk)
            failures.append(f"{name}: {error!r}")
    return "\n".join(failures)


def dispatch(event_ids: Iterable[uuid.UUID]) -> int:
    """Hand the unsent ones of these events to their handlers and mark sent
    those every handler took; returns how many were sent."""
    rows = list(OutboxEvent.objects.filter(pk__in=list(event_ids), sent_at__isnull=True))
    sent = []
    for row in rows:
        failure = _deliver(row)
        if failure:
            OutboxEvent.objects.filter(pk=row.pk).update(
                attempts=F("attempts") + 1, last_error=failure[:2000])
        else:
            sent.append(row.pk)
    if sent:
        OutboxEvent.objects.filter(pk__in=sent, sent_at__isnull=True).update(
            sent_at=timezone.now(), attempts=F("attempts") + 1)
    return len(sent)


def dispatch_pending(*, batch: int = 500) -> int:
    """Dispatch again what is still unsent EVENTS_RETRY_AFTER after it was
    published (a failed handler, a process that died between commit and
    dispatch), oldest first; returns how many were sent.

    It stops at the first batch that does not go through completely: the
    broker is most likely still down, and the next run tries again.
    """
    total = 0
    while True:
        due = timezone.now() - settings.EVENTS_RETRY_AFTER
        ids = list(
            OutboxEvent.objects.filter(sent_at__isnull=True, created_at__lte=due)
            .order_by("created_at").values_list("pk", flat=True)[:batch]
        )
        sent = dispatch(ids)
        total += sent
        if len(ids) < batch or sent < len(ids):
            return total


def events_delete_sent(*, before: datetime | None = None) -> int:
    """Forget events sent, and handler records made, more than
    EVENTS_KEEP_SENT ago. By then no retry can deliver them again; the records
    of an event still unsent stay, for its retries."""
    before = before or timezone.now() - settings.EVENTS_KEEP_SENT
    unsent = OutboxEvent.objects.filter(sent_at__isnull=True).values("pk")
    HandledEvent.objects.filter(handled_at__lt=before).exclude(event_id__in=unsent).delete()
    deleted, _ = OutboxEvent.objects.filter(sent_at__lt=before).delete()
    return deleted
