"""Review writes: a customer writes one review of a product, and staff hide
or show it again. What a customer wrote is never edited for them; the
product's rating is computed from the shown reviews whenever it is read
(apps.catalog.selectors.cards), so it follows every write at once; only the
average the listing sorts by is kept on the product's row, refreshed here in
the write's own transaction (apps.catalog.sort_keys). Each write that changes
the rating publishes ProductChanged(part="reviews")."""

from typing import Any

from django.db import IntegrityError, transaction

from apps.accounts.models import User
from apps.accounts.services import audit_record
from apps.catalog.models import Review
from apps.catalog.selectors import products_visible_to
from apps.catalog.services import refresh_sort_keys
from apps.catalog.services.changes import Part, product_changed
from apps.core.errors import ErrorCode, NotFound, ServiceError
from apps.core.validation import Problems, clean_text, max_length

from . import selectors

RATINGS = range(1, 6)
# A text column has no length of its own; a review is a paragraph or a few,
# not a document.
BODY_LIMIT = 5000

ALREADY_REVIEWED = "You have already reviewed this product."


def review_create(*, user: User, product_id: int | None, rating: Any, title: str | None = "",
                  body: str | None = "") -> Review:
    """One review per customer and product (UNIQUE on `product_id` for a
    second), of a product the customer can see (NOT_FOUND otherwise, as one
    that does not exist). `verified_purchase` is decided now, once: an order
    paid later does not change a review already written."""
    product = products_visible_to(user=user).filter(pk=product_id).first() if product_id else None
    if product is None:
        raise NotFound("No product with this ID.", field="product_id")
    problems = Problems()
    if isinstance(rating, bool) or rating not in RATINGS:
        problems.add("rating", "A rating is a whole number of stars from 1 to 5.")
    title = clean_text(problems, "title", title, limit=max_length(Review, "title"))
    body = clean_text(problems, "body", body, limit=BODY_LIMIT)
    problems.raise_any()
    if Review.objects.filter(product=product, user=user).exists():
        raise ServiceError(ALREADY_REVIEWED, code=ErrorCode.UNIQUE, field="product_id")
    review = Review(product=product, user=user, rating=rating, title=title, body=body,
                    verified_purchase=selectors.has_bought(user=user, product=product))
    try:
        # Two at once both pass the check above; the database's constraint
        # lets one in.
        with transaction.atomic():
            review.save()
            refresh_sort_keys(product_ids=[product.pk])
            product_changed(actor=user, product_id=product.pk, part=Part.REVIEWS)
    except IntegrityError:
        raise ServiceError(ALREADY_REVIEWED, code=ErrorCode.UNIQUE, field="product_id") from None
    return review


def review_set_hidden(*, actor: Any, review: Review, is_hidden: bool) -> Review:
    """Hide a review from the storefront and from its product's rating, or
    show it again. Repeating either is harmless, and tells of nothing."""
    with transaction.atomic():
        changed = (Review.objects.filter(pk=review.pk).exclude(is_hidden=is_hidden)
                   .update(is_hidden=is_hidden))
        if changed:
            refresh_sort_keys(product_ids=[review.product_id])
            product_changed(actor=actor, product_id=review.product_id, part=Part.REVIEWS)
            audit_record(actor=actor, action="review.hide" if is_hidden else "review.show",
                         target=review, details={"product_id": review.product_id})
        elif not Review.objects.filter(pk=review.pk).exists():
            raise NotFound("No review with this ID.", field="id")
    review.is_hidden = is_hidden
    return review
