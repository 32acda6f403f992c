"""Uploaded product images: what we accept, and the thumbnail we make.

An upload is trusted for nothing: its name and content type come from the
client. Pillow reads the bytes to find the real format, and the stored file is
named by that format, never by the client's file name.
"""

import io
import uuid
from dataclasses import dataclass

from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

from apps.core.errors import ServiceError
from apps.core.uploads import read_upload

# Pillow format name -> the extension we store it under.
ACCEPTED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
THUMBNAIL_SIZE = (400, 400)
# Above this many pixels an image is refused (a "decompression bomb" is a few
# KB that decodes to gigabytes).
MAX_PIXELS = 50_000_000


@dataclass(frozen=True)
class VerifiedImage:
    data: bytes
    format: str
    width: int
    height: int
    stem: str

    @property
    def name(self) -> str:
        return f"{self.stem}.{ACCEPTED_FORMATS[self.format]}"

    @property
    def thumbnail_name(self) -> str:
        return f"{self.stem}-thumb.webp"

    def file(self) -> ContentFile:
        return ContentFile(self.data, name=self.name)


def _invalid(message: str) -> ServiceError:
    return ServiceError(message, field="image")


def verify(upload) -> VerifiedImage:
    """Read an upload fully and check that it is a whole image we accept.

    Refused with INVALID on "image": too large, not an image, a format other
    than JPEG, PNG, WebP or GIF, damaged, or too many pixels.
    """
    data = read_upload(upload, field="image", what="image")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format = image.format
            width, height = image.size
            if image_format in ACCEPTED_FORMATS and width * height <= MAX_PIXELS:
                image.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError):
        raise _invalid("The file is not an image we can read.") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise _invalid(f"The image is damaged: {error}") from None
    if image_format not in ACCEPTED_FORMATS:
        raise _invalid(f"Upload a JPEG, PNG, WebP or GIF image, not {image_format}.")
    if width * height > MAX_PIXELS:
        raise _invalid("The image has too many pixels.")
    return VerifiedImage(data=data, format=image_format, width=width, height=height,
                         stem=uuid.uuid4().hex)


def thumbnail(image: VerifiedImage) -> ContentFile:
    """A WebP at most THUMBNAIL_SIZE, upright (EXIF orientation applied); an
    animated GIF gives its first frame."""
    with Image.open(io.BytesIO(image.data)) as source:
        source.seek(0)
        frame = ImageOps.exif_transpose(source)
        frame = frame.convert("RGBA" if _has_alpha(frame) else "RGB")
        frame.thumbnail(THUMBNAIL_SIZE)
        out = io.BytesIO()
        frame.save(out, format="WEBP", quality=85)
    return ContentFile(out.getvalue(), name=image.thumbnail_name)


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
