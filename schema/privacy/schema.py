"""The privacy domain's root fields, merged into the schema in schema/schema.py."""

from .mutations import PrivacyMutation

__all__ = ["PrivacyMutation"]
