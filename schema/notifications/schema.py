"""The notifications' root fields, merged into the schema in schema/schema.py.
The preferences are read as `me.notificationPreferences` (schema/accounts/types.py)."""

from .mutations import NotificationMutation

__all__ = ["NotificationMutation"]
