"""Review moderation. Customers write reviews (the API to come); staff only
hide or show them: what a customer wrote is never edited for them."""

from typing import Any

from apps.catalog.models import Review


def review_moderate(*, actor: Any, review: Review, is_hidden: bool) -> Review:
    """Hide a review from the storefront (and its ratings), or show it again."""
    Review.objects.filter(pk=review.pk).update(is_hidden=is_hidden)
    review.is_hidden = is_hidden
    return review
