"""Catalog writes: categories, products, variants and their images.

Every service checks its whole input before writing anything and reports all
it found at once (field names as the client sent them, e.g. "variants.1.sku").
Writes spanning rows are one transaction: a product with its variants and
their starting stock is made completely or not at all.
"""

from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any

import nh3
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from apps.catalog import images
from apps.catalog.models import Category, Product, ProductMedia, ProductVariant
from apps.catalog.search import refresh_search_vector
from apps.core.errors import ErrorCode, FieldError, NotFound, ServiceError
from apps.inventory.services import stock_set_initial

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

PRODUCT_FIELDS = {"name", "slug", "description", "category", "is_published", "seo_title",
                  "seo_description", "attributes"}
VARIANT_FIELDS = {"sku", "name", "price", "compare_at_price", "low_stock_threshold",
                  "options", "weight_grams"}
CATEGORY_FIELDS = {"name", "slug", "description", "parent", "position"}


def sanitize_description(html: str | None) -> str:
    return nh3.clean(
        html or "",
        tags=DESCRIPTION_TAGS,
        clean_content_tags={"script", "style"},
        attributes=DESCRIPTION_ATTRIBUTES,
        url_schemes=DESCRIPTION_URL_SCHEMES,
    ).strip()


class _Problems:
    """Collects what is wrong with an input, to refuse it once with all of it."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, field: str | None, message: str, code: ErrorCode = ErrorCode.INVALID) -> None:
        self.errors.append(FieldError(field=field, message=message, code=code))

    def raise_any(self) -> None:
        if self.errors:
            raise ServiceError(errors=self.errors)


def _reject_unknown(fields: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"Unexpected fields: {', '.join(sorted(unknown))}")


def _text(problems: _Problems, field: str, value: Any, *, max_length: int,
          required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        problems.add(field, "This field is required.", ErrorCode.REQUIRED)
    elif len(text) > max_length:
        problems.add(field, f"At most {max_length} characters.")
    return text


def _unique_slug(model, source: str, fallback: str, *, exclude_pk: int | None = None) -> str:
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


def _chosen_slug(problems: _Problems, model, slug: str | None, *,
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


def _decimal(problems: _Problems, field: str, value: Any, *, required: bool) -> Decimal | None:
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


def _count(problems: _Problems, field: str, value: Any) -> int | None:
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


def _attributes(problems: _Problems, value: Any) -> dict[str, list[str]]:
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


def _options(problems: _Problems, prefix: str, value: Any) -> list[dict[str, str]]:
    result = []
    for index, option in enumerate(value or []):
        name = (option.get("name") or "").strip()
        text = (option.get("value") or "").strip()
        if not name or not text:
            problems.add(f"{prefix}options.{index}", "An option needs a name and a value.",
                         ErrorCode.REQUIRED)
        result.append({"name": name, "value": text})
    return result


def _check_variant(problems: _Problems, data: Mapping[str, Any], *, prefix: str = "",
                   instance: ProductVariant | None = None) -> dict[str, Any]:
    """The cleaned fields of a variant to create (instance None) or update
    (only the fields given). SKU uniqueness against the database is checked
    here; within one input by the caller."""
    creating = instance is None
    clean: dict[str, Any] = {}
    if creating or "sku" in data:
        sku = _text(problems, f"{prefix}sku", data.get("sku"), max_length=64, required=True)
        if sku and ProductVariant.objects.filter(sku=sku).exclude(
            pk=getattr(instance, "pk", None)
        ).exists():
            problems.add(f"{prefix}sku", f"The SKU {sku!r} is taken.", ErrorCode.UNIQUE)
        clean["sku"] = sku
    if "name" in data:
        clean["name"] = _text(problems, f"{prefix}name", data["name"], max_length=255)
    if creating or "price" in data:
        clean["price"] = _decimal(problems, f"{prefix}price", data.get("price"), required=True)
    if "compare_at_price" in data:
        clean["compare_at_price"] = _decimal(
            problems, f"{prefix}compare_at_price", data["compare_at_price"], required=False
        )
    if "low_stock_threshold" in data:
        threshold = _count(problems, f"{prefix}low_stock_threshold", data["low_stock_threshold"])
        if threshold is not None:  # None keeps (or, new, takes) the default
            clean["low_stock_threshold"] = threshold
    if "options" in data:
        clean["options"] = _options(problems, prefix, data["options"])
    if "weight_grams" in data:
        clean["weight_grams"] = _count(problems, f"{prefix}weight_grams", data["weight_grams"])
    if creating:
        clean["stock"] = _count(problems, f"{prefix}stock", data.get("stock")) or 0
    return clean


@contextmanager
def _writing():
    """One transaction. A slug or SKU taken by a concurrent write between our
    check and our insert is refused as UNIQUE, not an internal error."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as error:
        raise ServiceError("A slug or SKU is already taken; try again.",
                           code=ErrorCode.UNIQUE) from error


def _mark_published(product: Product) -> None:
    if product.is_published and product.published_at is None:
        product.published_at = timezone.now()


def _alive(product: Product) -> None:
    if product.deleted_at is not None:
        raise NotFound("This product was deleted.")


# --- Categories -------------------------------------------------------------------


def _check_parent(problems: _Problems, category: Category | None, parent: Category | None) -> None:
    if category is None or parent is None:
        return
    if parent.pk == category.pk or parent.path.startswith(category.path):
        problems.add("parent_id", "A category cannot move under itself or its descendants.")


def _check_position(problems: _Problems, position: int | None) -> None:
    if position is not None and position < 0:
        problems.add("position", "The position must be 0 or more.")


def _place(category: Category, position: int) -> Category:
    """Move `category` to `position` among its siblings (past the end: last)."""
    siblings = [node for node in Category.objects.get_siblings(category) if node.pk != category.pk]
    if not siblings:
        return category
    if position < len(siblings):
        Category.objects.move(category, siblings[position], "left")
    else:
        Category.objects.move(category, siblings[-1], "right")
    category.refresh_from_db()
    return category


@transaction.atomic
def category_create(*, actor, name: str, slug: str | None = None, description: str = "",
                    parent: Category | None = None, position: int | None = None) -> Category:
    problems = _Problems()
    name = _text(problems, "name", name, max_length=255, required=True)
    slug = (_chosen_slug(problems, Category, slug) if slug
            else _unique_slug(Category, name, "category"))
    _check_position(problems, position)
    problems.raise_any()
    category = Category(name=name, slug=slug, description=sanitize_description(description))
    if parent is None:
        category = Category.objects.add_root(instance=category)
    else:
        category = Category.objects.add_child(parent, instance=category)
    return category if position is None else _place(category, position)


@transaction.atomic
def category_update(*, actor, category: Category, **fields: Any) -> Category:
    """Rename, re-describe or move a category (with its subtree). `parent`
    given as None moves it to the top level; `position` places it among its
    (new) siblings."""
    _reject_unknown(fields, CATEGORY_FIELDS)
    problems = _Problems()
    if "name" in fields:
        category.name = _text(problems, "name", fields["name"], max_length=255, required=True)
    if "slug" in fields:
        category.slug = _chosen_slug(problems, Category, fields["slug"], exclude_pk=category.pk)
    if "description" in fields:
        category.description = sanitize_description(fields["description"])
    parent = fields.get("parent")
    _check_parent(problems, category, parent)
    position = fields.get("position")
    _check_position(problems, position)
    problems.raise_any()
    category.save(update_fields=["name", "slug", "description", "updated_at"])
    if "parent" in fields:
        current = Category.objects.get_parent(category, update=True)
        if parent is None and current is not None:
            Category.objects.move(category, Category.objects.get_last_root_node(), "last-sibling")
        elif parent is not None and (current is None or current.pk != parent.pk):
            Category.objects.move(category, parent, "last-child")
        category.refresh_from_db()
    if position is not None:
        category = _place(category, position)
    return category


@transaction.atomic
def category_delete(*, actor, category: Category) -> None:
    """Delete a category and its whole subtree, but only while none of them
    holds a live product: a category still selling something is IN_USE, and
    its products must move or be deleted first. Soft-deleted products keep no
    category (they are no longer shown anywhere)."""
    if category_holds_products(category=category):
        raise ServiceError(
            "This category or one below it still holds products; move or delete them first.",
            code=ErrorCode.IN_USE,
        )
    subtree = Category.objects.filter(path__startswith=category.path)
    Product.objects.filter(category__in=subtree).update(category=None)
    category.delete()


def category_holds_products(*, category: Category) -> bool:
    """Whether the category or one below it holds a live product."""
    return Product.objects.alive().filter(category__path__startswith=category.path).exists()


# --- Products -----------------------------------------------------------------------


def product_create(
    *, actor, name: str, slug: str | None = None, description: str = "",
    category: Category | None = None, is_published: bool = False, seo_title: str = "",
    seo_description: str = "", attributes: Any = None, variants: Iterable[Mapping] = (),
) -> Product:
    """A product with its variants, each with its starting stock in the
    default warehouse (a movement of kind INITIAL). A slug left out is made
    from the name."""
    problems = _Problems()
    name = _text(problems, "name", name, max_length=255, required=True)
    slug = (_chosen_slug(problems, Product, slug) if slug
            else _unique_slug(Product, name, "product"))
    fields = {
        "name": name,
        "slug": slug,
        "description": sanitize_description(description),
        "category": category,
        "is_published": bool(is_published),
        "seo_title": _text(problems, "seo_title", seo_title, max_length=255),
        "seo_description": _text(problems, "seo_description", seo_description, max_length=500),
        "attributes": _attributes(problems, attributes),
    }
    cleaned_variants = []
    seen_skus: set[str] = set()
    for index, data in enumerate(variants):
        clean = _check_variant(problems, data, prefix=f"variants.{index}.")
        if clean["sku"] in seen_skus:
            problems.add(f"variants.{index}.sku", f"The SKU {clean['sku']!r} is given twice.",
                         ErrorCode.UNIQUE)
        seen_skus.add(clean["sku"])
        cleaned_variants.append(clean)
    problems.raise_any()
    with _writing():
        product = Product(**fields)
        _mark_published(product)
        product.save()
        for sort_order, clean in enumerate(cleaned_variants):
            _variant_insert(actor=actor, product=product, clean=clean, sort_order=sort_order)
        refresh_search_vector(product_ids=[product.pk])
    return product


def _variant_insert(*, actor, product: Product, clean: dict, sort_order: int) -> ProductVariant:
    stock = clean.pop("stock")
    variant = ProductVariant.objects.create(product=product, sort_order=sort_order, **clean)
    stock_set_initial(actor=actor, variant=variant, quantity=stock)
    return variant


def product_update(*, actor, product: Product, **fields: Any) -> Product:
    """Change any of a product's own fields (not its variants). Publishing it
    for the first time stamps published_at; unpublishing keeps the stamp."""
    _reject_unknown(fields, PRODUCT_FIELDS)
    _alive(product)
    problems = _Problems()
    if "name" in fields:
        product.name = _text(problems, "name", fields["name"], max_length=255, required=True)
    if "slug" in fields:
        product.slug = _chosen_slug(problems, Product, fields["slug"], exclude_pk=product.pk)
    if "description" in fields:
        product.description = sanitize_description(fields["description"])
    if "category" in fields:
        product.category = fields["category"]
    if "is_published" in fields:
        product.is_published = bool(fields["is_published"])
    for field, limit in (("seo_title", 255), ("seo_description", 500)):
        if field in fields:
            setattr(product, field, _text(problems, field, fields[field], max_length=limit))
    if "attributes" in fields:
        product.attributes = _attributes(problems, fields["attributes"])
    problems.raise_any()
    _mark_published(product)
    with _writing():
        product.save()
        refresh_search_vector(product_ids=[product.pk])
    return product


def product_delete(*, actor, product: Product) -> None:
    """Soft delete: the product leaves the storefront and the admin lists, but
    its row stays for the orders that name it."""
    _alive(product)
    product.deleted_at = timezone.now()
    product.save(update_fields=["deleted_at", "updated_at"])


def products_bulk_delete(*, actor, products: Iterable[Product]) -> int:
    """Soft-delete many at once; returns how many were live until now."""
    ids = [product.pk for product in products]
    now = timezone.now()
    return Product.objects.alive().filter(pk__in=ids).update(deleted_at=now, updated_at=now)


def product_restore(*, actor, product: Product) -> Product:
    """Undo a soft delete. Nothing can have taken the product's slug or SKUs
    meanwhile (a deleted product keeps them), so it comes back as it was.

    A product that is not deleted is NOT_FOUND, as deleting a deleted one is:
    there is no deleted product to restore. The check and the write are one
    conditional UPDATE, so a concurrent restore or delete cannot slip between
    them. The search document is rebuilt in case it went stale while the
    product was hidden; it is cheap insurance.
    """
    now = timezone.now()
    with transaction.atomic():
        restored = Product.objects.filter(pk=product.pk, deleted_at__isnull=False).update(
            deleted_at=None, updated_at=now)
        if not restored:
            raise NotFound("This product is not deleted.")
        refresh_search_vector(product_ids=[product.pk])
    product.deleted_at, product.updated_at = None, now
    return product


# --- Variants -----------------------------------------------------------------------------


def variant_create(
    *, actor, product: Product, sku: str, price: Decimal, name: str = "",
    compare_at_price: Decimal | None = None, stock: int = 0,
    low_stock_threshold: int | None = None, options: list | None = None,
    weight_grams: int | None = None,
) -> ProductVariant:
    """Add a variant, last in order, with its starting stock."""
    _alive(product)
    problems = _Problems()
    clean = _check_variant(problems, {
        "sku": sku, "price": price, "name": name, "compare_at_price": compare_at_price,
        "stock": stock, "low_stock_threshold": low_stock_threshold, "options": options,
        "weight_grams": weight_grams,
    })
    problems.raise_any()
    with _writing():
        last = product.variants.aggregate(last=Max("sort_order"))["last"]
        variant = _variant_insert(actor=actor, product=product, clean=clean,
                                  sort_order=0 if last is None else last + 1)
        refresh_search_vector(product_ids=[product.pk])
    return variant


def variant_update(*, actor, variant: ProductVariant, **fields: Any) -> ProductVariant:
    """Change a variant's own fields. Stock is not one of them: it changes
    only through stock_adjust and orders, each change a logged movement."""
    _reject_unknown(fields, VARIANT_FIELDS)
    _alive(variant.product)
    problems = _Problems()
    clean = _check_variant(problems, fields, instance=variant)
    problems.raise_any()
    for field, value in clean.items():
        setattr(variant, field, value)
    with _writing():
        variant.save()
        refresh_search_vector(product_ids=[variant.product_id])
    return variant


# --- Media ---------------------------------------------------------------------------------


def media_create(*, actor, product: Product, image: File, alt: str = "") -> ProductMedia:
    """Store an uploaded image (JPEG, PNG, WebP or GIF, whatever its name
    says) with a thumbnail, after the product's other images."""
    _alive(product)
    problems = _Problems()
    alt = _text(problems, "alt", alt, max_length=255)
    problems.raise_any()
    upload = images.verify(image)  # raises INVALID on "image"
    media = ProductMedia(product=product, alt=alt)
    media.image.save(upload.name, upload.file(), save=False)
    media.thumbnail.save(upload.thumbnail_name, images.thumbnail(upload), save=False)
    try:
        with transaction.atomic():
            Product.objects.select_for_update().filter(pk=product.pk).first()
            last = product.media.aggregate(last=Max("sort_order"))["last"]
            media.sort_order = 0 if last is None else last + 1
            media.save()
    except Exception:
        media.image.delete(save=False)
        media.thumbnail.delete(save=False)
        raise
    return media


@transaction.atomic
def media_update(*, actor, media: ProductMedia, **fields: Any) -> ProductMedia:
    """Change an image's alt text, or its place among the product's images
    (`position`, 0 first: the first is the thumbnail; past the end: last)."""
    _reject_unknown(fields, {"alt", "position"})
    problems = _Problems()
    if "alt" in fields:
        media.alt = _text(problems, "alt", fields["alt"], max_length=255)
    position = fields.get("position")
    if position is not None and position < 0:
        problems.add("position", "The position must be 0 or more.")
    problems.raise_any()
    media.save(update_fields=["alt"])
    if position is not None:
        # The product row serialises reorderings of its images.
        Product.objects.select_for_update().filter(pk=media.product_id).first()
        others = list(media.product.media.exclude(pk=media.pk).order_by("sort_order", "id"))
        ordered = others[:position] + [media] + others[position:]
        for index, item in enumerate(ordered):
            item.sort_order = index
        ProductMedia.objects.bulk_update(ordered, ["sort_order"])
    return media


@transaction.atomic
def media_delete(*, actor, media: ProductMedia) -> None:
    """Remove an image. Its files are deleted from storage once the removal
    has committed, so a rolled-back delete never loses them."""
    files = [f for f in (media.image, media.thumbnail) if f]
    storage_names = [(f.storage, f.name) for f in files]
    media.delete()

    def delete_files() -> None:
        for storage, name in storage_names:
            storage.delete(name)

    transaction.on_commit(delete_files, robust=True)
