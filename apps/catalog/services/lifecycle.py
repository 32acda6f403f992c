"""A product's life: publish, unpublish, soft delete and restore, the moves of
apps.catalog.transitions. The row stays for the orders that name it; a deleted
product is hidden everywhere and refuses edits.

Every move goes through `_move`: one conditional UPDATE that changes only the
products still in a state the move is allowed from, a ProductEvent row per
product moved, and an event published to the outbox, all in one transaction.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.catalog.models import Product, ProductEvent
from apps.catalog.search import refresh_search_vector
from apps.catalog.services.sort_keys import refresh_sort_keys
from apps.catalog.services.checks import ensure_not_deleted
from apps.catalog.transitions import DELETED, TRANSITIONS, Move, State, state_of
from apps.core import events
from apps.core.errors import ErrorCode, NotFound, ServiceError

# The rows in each state.
_IN_STATE = {
    State.DRAFT: Q(is_published=False, deleted_at__isnull=True),
    State.PUBLISHED: Q(is_published=True, deleted_at__isnull=True),
    State.DELETED_DRAFT: Q(is_published=False, deleted_at__isnull=False),
    State.DELETED_PUBLISHED: Q(is_published=True, deleted_at__isnull=False),
}

# What each move records: the ProductEvent kind and the event it publishes.
_RECORDS: dict[Move, tuple[str, type[events.ProductMoved]]] = {
    Move.PUBLISH: (ProductEvent.Kind.PUBLISHED, events.ProductPublished),
    Move.UNPUBLISH: (ProductEvent.Kind.UNPUBLISHED, events.ProductUnpublished),
    Move.DELETE: (ProductEvent.Kind.DELETED, events.ProductDeleted),
    Move.RESTORE: (ProductEvent.Kind.RESTORED, events.ProductRestored),
}


def _changes(move: Move, now: datetime) -> dict[str, Any]:
    """The columns a move writes. Publishing stamps published_at the first
    time only: a product unpublished and published again keeps its date."""
    if move is Move.PUBLISH:
        return {"is_published": True, "published_at": Coalesce(F("published_at"), Value(now))}
    if move is Move.UNPUBLISH:
        return {"is_published": False}
    if move is Move.DELETE:
        return {"deleted_at": now}
    return {"deleted_at": None}


def record_moves(
    *, actor: AbstractBaseUser | None, move: Move, product_ids: list[int], at: datetime
) -> None:
    """The ProductEvent rows and the published events of a move just made
    (also of a product created published, which product_create makes so)."""
    kind, event_type = _RECORDS[move]
    actor_id = getattr(actor, "pk", None)
    ProductEvent.objects.bulk_create(
        ProductEvent(product_id=pk, kind=kind, actor_id=actor_id, created_at=at)
        for pk in product_ids
    )
    events.publish(*(event_type(product_id=pk, actor_id=actor_id) for pk in product_ids))


def _move(
    *, actor: AbstractBaseUser | None, move: Move, product_ids: Iterable[int], at: datetime
) -> list[int]:
    """Apply `move` to those of the products in a state it is allowed from;
    returns the ids it moved.

    The rows are locked before they are changed, in id order, and the UPDATE
    repeats the state condition: a concurrent move of the same product waits,
    then finds it no longer in a source state and leaves it alone.
    """
    allowed = Q()
    for state in TRANSITIONS[move]:
        allowed |= _IN_STATE[state]
    # No savepoint of its own: a refusal writes nothing, and an error rolls
    # the caller's transaction back anyway.
    with transaction.atomic(savepoint=False):
        moved = list(
            Product.objects.select_for_update().filter(allowed, pk__in=list(product_ids))
            .order_by("pk").values_list("pk", flat=True)
        )
        if moved:
            Product.objects.filter(allowed, pk__in=moved).update(
                **_changes(move, at), updated_at=at)
            record_moves(actor=actor, move=move, product_ids=moved, at=at)
    return moved


def _refusal(product: Product, move: Move) -> ServiceError:
    """Why `move` did not apply to the product, as it is now. A deleted or
    unknown product is NOT_FOUND to every move but restore; restoring a live
    one is NOT_FOUND too (there is no deleted product to restore)."""
    now = Product.objects.filter(pk=product.pk).values_list("is_published", "deleted_at").first()
    if now is None:
        return NotFound("This product does not exist.")
    state = state_of(is_published=now[0], deleted=now[1] is not None)
    if move is Move.RESTORE:
        return NotFound("This product is not deleted.")
    if state in DELETED:
        return NotFound("This product was deleted.")
    kind, _ = _RECORDS[move]
    return ServiceError(f"A {state} product cannot be {kind}.",
                        code=ErrorCode.INVALID_TRANSITION)


def product_transition(*, actor: AbstractBaseUser | None, product: Product, move: Move) -> Product:
    """Apply one move to one product, or refuse it with a ServiceError. The
    instance is brought up to date with what the move wrote."""
    now = timezone.now()
    if not _move(actor=actor, move=move, product_ids=[product.pk], at=now):
        raise _refusal(product, move)
    product.updated_at = now
    if move is Move.PUBLISH:
        product.is_published = True
        product.published_at = product.published_at or now
    elif move is Move.UNPUBLISH:
        product.is_published = False
    else:
        product.deleted_at = now if move is Move.DELETE else None
    return product


def product_publish(*, actor: AbstractBaseUser | None, product: Product) -> Product:
    """Show the product on the storefront. Publishing a published product is
    INVALID_TRANSITION; product_update only publishes what is not."""
    return product_transition(actor=actor, product=product, move=Move.PUBLISH)


def product_unpublish(*, actor: AbstractBaseUser | None, product: Product) -> Product:
    return product_transition(actor=actor, product=product, move=Move.UNPUBLISH)


def product_delete(*, actor: AbstractBaseUser | None, product: Product) -> None:
    """Soft delete: the product leaves the storefront and the admin lists, but
    its row stays for the orders that name it."""
    ensure_not_deleted(product)
    product_transition(actor=actor, product=product, move=Move.DELETE)


def products_bulk_delete(*, actor: AbstractBaseUser | None, products: Iterable[Product]) -> int:
    """Soft-delete many at once; returns how many were live until now."""
    moved = _move(actor=actor, move=Move.DELETE, product_ids=[p.pk for p in products],
                  at=timezone.now())
    return len(moved)


def product_restore(*, actor: AbstractBaseUser | None, product: Product) -> Product:
    """Undo a soft delete. Nothing can have taken the product's slug or SKUs
    meanwhile (a deleted product keeps them), so it comes back as it was,
    published or not.

    A product that is not deleted is NOT_FOUND, as deleting a deleted one is:
    there is no deleted product to restore. The search document is rebuilt in
    case it went stale while the product was hidden; it is cheap insurance.
    """
    with transaction.atomic():
        product_transition(actor=actor, product=product, move=Move.RESTORE)
        refresh_search_vector(product_ids=[product.pk])
        refresh_sort_keys(product_ids=[product.pk])
    return product
