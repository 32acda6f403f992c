"""What only catalog writes check: descriptions (sanitised HTML), that a
deleted product takes no edits, and a taken slug or SKU caught at the insert.
The checks every write shares (text, slugs, counts, prices, attributes) are
in apps.core.validation."""

from collections.abc import Iterator
from contextlib import contextmanager

import nh3
from django.db import IntegrityError, transaction

from apps.catalog.models import Product
from apps.core.errors import ErrorCode, NotFound, ServiceError

# What a product or category description may contain: text formatting, lists,
# headings, links and simple tables. No images (those are ProductMedia), no
# scripts, styles, forms or event handlers.
DESCRIPTION_TAGS = {
    "p", "br", "hr", "strong", "b", "em", "i", "u", "s", "small", "sub", "sup", "mark",
    "code", "pre", "blockquote", "span", "h2", "h3", "h4", "h5", "h6",
    "ul", "ol", "li", "dl", "dt", "dd", "a",
    "table", "thead", "tbody", "tr", "th", "td", "caption",
}


DESCRIPTION_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"scope"},
                          "td": {"colspan", "rowspan"}}


DESCRIPTION_URL_SCHEMES = {"http", "https", "mailto"}


def sanitize_description(html: str | None) -> str:
    return nh3.clean(
        html or "",
        tags=DESCRIPTION_TAGS,
        clean_content_tags={"script", "style"},
        attributes=DESCRIPTION_ATTRIBUTES,
        url_schemes=DESCRIPTION_URL_SCHEMES,
    ).strip()


@contextmanager
def catalog_write() -> Iterator[None]:
    """One transaction. A slug or SKU taken by a concurrent write between our
    check and our insert is refused as UNIQUE, not an internal error."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as error:
        raise ServiceError("A slug or SKU is already taken; try again.",
                           code=ErrorCode.UNIQUE) from error


def ensure_not_deleted(product: Product) -> None:
    """Edits of a deleted product (its variants, its images) are refused as
    NOT_FOUND: to its editors it is gone until restored."""
    if product.deleted_at is not None:
        raise NotFound("This product was deleted.")
