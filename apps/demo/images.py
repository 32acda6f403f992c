"""The demo products' pictures: a gradient square in one of the palettes with
the product's initial, and its thumbnail, stored through the storage API.

Products with the same initial and palette share one stored picture (a
couple of hundred files for any catalog), as a shop's products may share a
placeholder: a file per product would make a 200,000-product catalog spend
its seeding writing 400,000 images."""

import io
import zlib
from functools import lru_cache

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from apps.demo import words

IMAGE_SIZE = 256
THUMBNAIL_SIZE = 64
MEDIA_DIR = "products/demo"


class SharedImages:
    """The pictures stored so far in one seeding, by what they show."""

    def __init__(self) -> None:
        self.stored: dict[tuple[str, int], tuple[str, str]] = {}

    def image_for(self, product: dict, palette: int) -> tuple[str, str]:
        """The image and thumbnail names for the product's picture, stored
        through the storage API the first time a picture is asked for; a
        file already stored under its name is the same picture (the name
        says what it shows) and is reused."""
        colours = (zlib.crc32(product["slug"].encode()) + palette) % len(words.PALETTES)
        initial = (product["name"][:1] or "?").upper()
        key = (initial, colours)
        if key not in self.stored:
            label = f"{initial.encode().hex()}-{colours}"
            names = (f"{MEDIA_DIR}/{label}.png", f"{MEDIA_DIR}/thumbnails/{label}.png")
            stored = []
            for name, content in zip(names, _picture(initial, colours)):
                if not default_storage.exists(name):
                    name = default_storage.save(name, ContentFile(content))
                stored.append(name)
            self.stored[key] = (stored[0], stored[1])
        return self.stored[key]


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
