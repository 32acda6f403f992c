"""The private storage (settings.STORAGES["private"]): files no URL serves.

Account data exports are kept here, outside MEDIA_ROOT, and read only by
the download view once it has checked a signed link
(commerce/privacy_exports.py). With object storage the alias would name a
private bucket; whatever backs it, nothing hands out its URLs."""

from typing import NoReturn

from django.core.files.storage import FileSystemStorage, Storage, storages


class PrivateFileSystemStorage(FileSystemStorage):
    """A FileSystemStorage without URLs: Django's would fall back to
    MEDIA_URL, which would point a private file at the public media route."""

    def url(self, name: str | None) -> NoReturn:
        raise ValueError("Files in the private storage have no URL; they are served "
                         "only through a signed link.")


def private_storage() -> Storage:
    return storages["private"]
