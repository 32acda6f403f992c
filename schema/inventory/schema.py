"""The inventory domain's root fields, merged into the schema in schema/schema.py."""

from .mutations import InventoryMutation
from .queries import InventoryQuery

__all__ = ["InventoryMutation", "InventoryQuery"]
