"""The webhooks' root fields, merged into the schema in schema/schema.py."""

from .mutations import WebhookMutation
from .queries import WebhookQuery

__all__ = ["WebhookMutation", "WebhookQuery"]
