"""The tax domain's root fields, merged into the schema in schema/schema.py."""

from .mutations import TaxMutation
from .queries import TaxQuery

__all__ = ["TaxMutation", "TaxQuery"]
