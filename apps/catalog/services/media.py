"""Product images: verified uploads with a thumbnail (a small rendition),
their order (the first is the product's cover; positions stay 0, 1, 2...),
and their files deleted only after the removal commits."""

from typing import Any

from django.core.files import File
from django.db import transaction
from django.db.models import Max

from apps.catalog import images
from apps.catalog.models import Product, ProductMedia
from apps.catalog.services.changes import Part, product_changed
from apps.catalog.services.checks import ensure_not_deleted
from apps.core.validation import Problems, clean_text, max_length, reject_unknown


def media_create(*, actor, product: Product, image: File, alt: str = "") -> ProductMedia:
    """Store an uploaded image (JPEG, PNG, WebP or GIF, whatever its name
    says) with a thumbnail, after the product's other images."""
    ensure_not_deleted(product)
    problems = Problems()
    alt = clean_text(problems, "alt", alt, limit=max_length(ProductMedia, "alt"))
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
            product_changed(actor=actor, product_id=product.pk, part=Part.MEDIA)
    except Exception:
        media.image.delete(save=False)
        media.thumbnail.delete(save=False)
        raise
    return media


@transaction.atomic
def media_update(*, actor, media: ProductMedia, **fields: Any) -> ProductMedia:
    """Change an image's alt text, or its place among the product's images
    (`position`, 0 first: the first is the cover; past the end: last)."""
    reject_unknown(fields, {"alt", "position"})
    ensure_not_deleted(media.product)
    problems = Problems()
    if "alt" in fields:
        media.alt = clean_text(problems, "alt", fields["alt"],
                               limit=max_length(ProductMedia, "alt"))
    position = fields.get("position")
    if position is not None and position < 0:
        problems.add("position", "The position must be 0 or more.")
    problems.raise_any()
    media.save(update_fields=["alt"])
    if position is not None:
        others = _others_locked(media)
        _renumber(others[:position] + [media] + others[position:])
    product_changed(actor=actor, product_id=media.product_id, part=Part.MEDIA)
    return media


def _others_locked(media: ProductMedia) -> list[ProductMedia]:
    """The product's other images in order. The product row serialises the
    reorderings of its images."""
    Product.objects.select_for_update().filter(pk=media.product_id).first()
    return list(media.product.media.exclude(pk=media.pk).order_by("sort_order", "id"))


def _renumber(ordered: list[ProductMedia]) -> None:
    """Positions 0, 1, 2... in this order, so an image's sort order is its
    position (what productMediaUpdate takes)."""
    for index, item in enumerate(ordered):
        item.sort_order = index
    ProductMedia.objects.bulk_update(ordered, ["sort_order"])


@transaction.atomic
def media_delete(*, actor, media: ProductMedia) -> None:
    """Remove an image. Its files are deleted from storage once the removal
    has committed, so a rolled-back delete never loses them."""
    ensure_not_deleted(media.product)
    storage_names = [(f.storage, f.name) for f in (media.image, media.thumbnail) if f.name]
    others = _others_locked(media)
    product_id = media.product_id
    media.delete()
    _renumber(others)
    product_changed(actor=actor, product_id=product_id, part=Part.MEDIA)

    def delete_files() -> None:
        for storage, name in storage_names:
            storage.delete(name)

    transaction.on_commit(delete_files, robust=True)
