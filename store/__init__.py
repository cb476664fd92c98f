"""Persistence and the query language. Knows nothing of Textual or litellm."""

from .db import SCHEMA_VERSION, Store
from .errors import InputError, NotFound, StoreError

__all__ = ["Store", "SCHEMA_VERSION", "StoreError", "InputError", "NotFound"]
