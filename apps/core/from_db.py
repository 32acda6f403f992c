"""Model instances read from the database without Model.__init__, when
nothing could tell the difference.

A product listing builds 200 instances a page (the products and their
categories). Django's `from_db` lays out a value or DEFERRED for every
concrete field of the model and calls `__init__`, which walks them all again
and sends pre_init and post_init: 10 µs a product and 7 µs a category on the
benchmark machine, for four and three columns. What `__init__` leaves behind
for a row is a fresh ModelState and the row's values in the instance's
`__dict__` by attribute name (a deferred field is simply absent), which is
what `plain_from_db` makes directly: 1.6 µs.

It does so only while nobody listens to pre_init or post_init for the model,
and only for rows whose every column is set by a plain attribute write: a
field whose class attribute is a data descriptor with a setter of its own
(a file or an image field, a custom field's descriptor) goes through
`__init__`, except a foreign key's id, whose setter on a fresh instance only
stores the value.
"""

import inspect
from typing import Any

from django.db import models
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.signals import post_init, pre_init

# Per model: the attribute names whose setting is not a plain write.
_NOT_PLAIN: dict[type, frozenset[str]] = {}


def _not_plain(cls: type[models.Model]) -> frozenset[str]:
    found = _NOT_PLAIN.get(cls)
    if found is None:
        names = set()
        for field in cls._meta.concrete_fields:
            try:
                attribute = inspect.getattr_static(cls, field.attname)
            except AttributeError:
                continue
            kind = type(attribute)
            if hasattr(kind, "__set__") and kind is not ForeignKeyDeferredAttribute:
                names.add(field.attname)
        found = _NOT_PLAIN[cls] = frozenset(names)
    return found


def plain_from_db(cls: Any, db: str | None, field_names: Any, values: Any,
                  **kwargs: Any) -> Any:
    """Model.from_db, without `__init__` when nothing could tell (see the
    module's docstring); a model takes it as `from_db = classmethod(plain_from_db)`."""
    not_plain = _not_plain(cls)
    if kwargs or (not_plain and not not_plain.isdisjoint(field_names)) or (
        pre_init.has_listeners(cls) or post_init.has_listeners(cls)
    ):
        return models.Model.from_db.__func__(cls, db, field_names, values, **kwargs)  # type: ignore[attr-defined]
    new = cls.__new__(cls)
    state = new._state = ModelState()
    state.adding = False
    state.db = db
    new.__dict__.update(zip(field_names, values, strict=True))
    return new
