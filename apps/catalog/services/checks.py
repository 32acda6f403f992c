"""What every catalog write checks: text, slugs, amounts, counts, attributes,
descriptions. Each check reports into Problems so a service refuses an input
once, with everything wrong with it (field names as the client sent them,
e.g. "variants.1.sku")."""

from collections.abc import Mapping
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any

import nh3
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from apps.catalog.models import Product
from apps.core.errors import ErrorCode, FieldError, NotFound, ServiceError

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


class Problems:
    """Collects what is wrong with an input, to refuse it once with all of it."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, field: str | None, message: str, code: ErrorCode = ErrorCode.INVALID) -> None:
        self.errors.append(FieldError(field=field, message=message, code=code))

    def raise_any(self) -> None:
        if self.errors:
            raise ServiceError(errors=self.errors)


def reject_unknown(fields: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"Unexpected fields: {', '.join(sorted(unknown))}")


def clean_text(problems: Problems, field: str, value: Any, *, max_length: int,
          required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        problems.add(field, "This field is required.", ErrorCode.REQUIRED)
    elif len(text) > max_length:
        problems.add(field, f"At most {max_length} characters.")
    return text


def unique_slug(model, source: str, fallback: str, *, exclude_pk: int | None = None) -> str:
    """A slug from `source` that no other row has: "rose-oil", "rose-oil-2"..."""
    base = slugify(source)[:240].strip("-") or fallback
    taken = set(
        model.objects.filter(slug__startswith=base).exclude(pk=exclude_pk)
        .values_list("slug", flat=True)
    )
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def chosen_slug(problems: Problems, model, slug: str | None, *,
                 exclude_pk: int | None = None) -> str:
    slug = (slug or "").strip()
    if not slug:
        problems.add("slug", "This field is required.", ErrorCode.REQUIRED)
        return slug
    try:
        validate_slug(slug)
    except ValidationError:
        problems.add("slug", "Use only letters, numbers, hyphens and underscores.")
        return slug
    if len(slug) > 255:
        problems.add("slug", "At most 255 characters.")
    elif model.objects.filter(slug=slug).exclude(pk=exclude_pk).exists():
        problems.add("slug", f"The slug {slug!r} is taken.", ErrorCode.UNIQUE)
    return slug


def clean_decimal(problems: Problems, field: str, value: Any, *, required: bool) -> Decimal | None:
    if value is None:
        if required:
            problems.add(field, "This field is required.", ErrorCode.REQUIRED)
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        problems.add(field, "Not a number.")
        return None
    if not amount.is_finite():
        problems.add(field, "Not a number.")
    elif amount < 0:
        problems.add(field, "Must not be negative.")
    elif amount.as_tuple().exponent < -2:
        problems.add(field, "At most 2 decimal places.")
    elif amount >= Decimal(10) ** 10:
        problems.add(field, "Too large.")
    else:
        return amount
    return None


def clean_count(problems: Problems, field: str, value: Any) -> int | None:
    """A whole number, zero or more (stock, thresholds, grams)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        problems.add(field, "Must be a whole number.")
        return None
    if value < 0:
        problems.add(field, "Must not be negative.")
        return None
    if value > 2_147_483_647:
        problems.add(field, "Too large.")
        return None
    return value


def clean_attributes(problems: Problems, value: Any) -> dict[str, list[str]]:
    """{"Notes": ["bergamot"]} from that mapping or from [{"name", "values"}]."""
    if value is None:
        return {}
    pairs = value.items() if isinstance(value, Mapping) else (
        (item.get("name"), item.get("values")) for item in value
    )
    result: dict[str, list[str]] = {}
    for index, (name, values) in enumerate(pairs):
        name = (name or "").strip()
        if not name:
            problems.add(f"attributes.{index}.name", "This field is required.",
                         ErrorCode.REQUIRED)
            continue
        if name in result:
            problems.add(f"attributes.{index}.name", f"{name!r} is given twice.", ErrorCode.UNIQUE)
            continue
        result[name] = [v.strip() for v in (values or []) if v and v.strip()]
    return result


def clean_options(problems: Problems, prefix: str, value: Any) -> list[dict[str, str]]:
    result = []
    for index, option in enumerate(value or []):
        name = (option.get("name") or "").strip()
        text = (option.get("value") or "").strip()
        if not name or not text:
            problems.add(f"{prefix}options.{index}", "An option needs a name and a value.",
                         ErrorCode.REQUIRED)
        result.append({"name": name, "value": text})
    return result


@contextmanager
def catalog_write():
    """One transaction. A slug or SKU taken by a concurrent write between our
    check and our insert is refused as UNIQUE, not an internal error."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as error:
        raise ServiceError("A slug or SKU is already taken; try again.",
                           code=ErrorCode.UNIQUE) from error


def ensure_live(product: Product) -> None:
    if product.deleted_at is not None:
        raise NotFound("This product was deleted.")
