"""The demo products' pictures: a gradient square in one of the palettes with
the product's initial, and its thumbnail, stored through the storage API."""

import io
import zlib
from functools import lru_cache

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from apps.catalog import models
from apps.demo import words

IMAGE_SIZE = 256
THUMBNAIL_SIZE = 64
MEDIA_DIR = "products/demo"


def store_image(product: models.Product, palette: int, position: int) -> tuple[str, str]:
    """Store the product's image and thumbnail through the storage API, under
    names fixed by the slug; an image already stored under that name is the
    same picture (it depends only on the name and slug) and is reused."""
    suffix = f"-{position + 1}" if position else ""
    names = (f"{MEDIA_DIR}/{product.slug}{suffix}.png",
             f"{MEDIA_DIR}/thumbnails/{product.slug}{suffix}.png")
    colours = (zlib.crc32(product.slug.encode()) + palette) % len(words.PALETTES)
    initial = (product.name[:1] or "?").upper()
    stored = []
    for name, content in zip(names, _picture(initial, colours)):
        if not default_storage.exists(name):
            name = default_storage.save(name, ContentFile(content))
        stored.append(name)
    return stored[0], stored[1]


@lru_cache(maxsize=512)
def _picture(initial: str, palette: int) -> tuple[bytes, bytes]:
    """PNG bytes of a gradient square with the initial on it, and its
    thumbnail. Cached: a catalog has few distinct (initial, palette) pairs."""
    from PIL import Image, ImageDraw, ImageFont

    top, bottom = words.PALETTES[palette]
    mask = Image.linear_gradient("L").resize((IMAGE_SIZE, IMAGE_SIZE))
    image = Image.composite(Image.new("RGB", mask.size, bottom),
                            Image.new("RGB", mask.size, top), mask)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=IMAGE_SIZE // 2)
    draw.text((IMAGE_SIZE / 2, IMAGE_SIZE / 2), initial, fill=(255, 255, 255), font=font,
              anchor="mm")
    thumbnail = image.resize((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
    return _png(image), _png(thumbnail)


def _png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
