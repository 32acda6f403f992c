"""The accounts domain's root fields, merged into the schema in schema/schema.py."""

import strawberry

from .mutations import AccountMutation as _AccountMutation
from .queries import AccountQuery
from .session_mutations import SessionMutation
from .twofactor import TwoFactorMutation


@strawberry.type
class AccountMutation(_AccountMutation, SessionMutation):
    pass


__all__ = ["AccountMutation", "AccountQuery", "TwoFactorMutation"]
