"""The catalog domain's root fields, merged into the schema in schema/schema.py."""

from .mutations import CatalogMutation
from .queries import CatalogQuery
from .subscriptions import CatalogSubscription

__all__ = ["CatalogMutation", "CatalogQuery", "CatalogSubscription"]
