"""The accounts domain's root fields, merged into the schema in schema/schema.py."""

from .mutations import AccountMutation
from .queries import AccountQuery
from .twofactor import TwoFactorMutation

__all__ = ["AccountMutation", "AccountQuery", "TwoFactorMutation"]
