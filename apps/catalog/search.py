"""Product search: PostgreSQL full-text where available, a case-insensitive
match elsewhere. Writers call refresh_search_vector after changing what a
product's search document holds (name, SKUs, attributes, description)."""

from collections.abc import Iterable


def refresh_search_vector(*, product_ids: Iterable[int]) -> None:
    """Recompute the stored search document of these products (PostgreSQL only)."""
    # Implemented with the storefront search (issue 3).
    return None
