"""Reading an uploaded file (a Django UploadedFile) within UPLOAD_MAX_SIZE."""

from django.conf import settings

from apps.core.errors import ServiceError


def read_upload(upload, *, field: str, what: str = "file") -> bytes:
    """All the upload's bytes, or INVALID on `field` when it is not a file,
    is larger than UPLOAD_MAX_SIZE or is empty. The declared size is checked
    before reading, so a huge file is not read; then what was read, since the
    declared size comes from the client."""
    if not hasattr(upload, "read"):
        raise ServiceError(f"Send the {what} as a file (multipart request).", field=field)
    limit = settings.UPLOAD_MAX_SIZE
    data = b""
    if (getattr(upload, "size", None) or 0) <= limit:
        upload.seek(0)
        data = upload.read(limit + 1)
    if len(data) > limit or (getattr(upload, "size", None) or 0) > limit:
        raise ServiceError(f"The {what} is larger than {limit / 1_000_000:g} MB.", field=field)
    if not data:
        raise ServiceError("The file is empty.", field=field)
    return data
