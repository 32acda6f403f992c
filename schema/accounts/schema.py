"""The accounts domain's root fields, merged into the schema in schema/schema.py."""

from .mutations import AccountMutation
from .queries import AccountQuery

__all__ = ["AccountMutation", "AccountQuery"]
