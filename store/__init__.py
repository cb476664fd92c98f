"""Persistence and the query language. Knows nothing of Textual or litellm."""

from .connection import Store
from .errors import ForeignDatabase, InputError, NoDatabase, NotADatabase, NotFound, StoreError
from .migrations import SCHEMA_VERSION

__all__ = ["Store", "SCHEMA_VERSION", "StoreError", "InputError", "NotFound", "NotADatabase", "ForeignDatabase",
           "NoDatabase"]
