"""JSON text as the store keeps it: compact, written by orjson."""

from __future__ import annotations

import re
from typing import Any, Optional

import orjson

_BIG_INT = re.compile(rb"\d{19}")  # a run this long may be an integer past 64 bits


def dumps(value: Any, option: Optional[int] = None) -> bytes:
    """Compact JSON bytes. orjson, except for integers past 64 bits (valid JSON, which
    orjson cannot write): those go through the standard library, digit for digit."""
    try:
        return orjson.dumps(value, option=option)
    except orjson.JSONEncodeError as exc:
        if "Integer exceeds 64-bit range" not in str(exc):
            raise
        import json

        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False,
                          sort_keys=bool(option and option & orjson.OPT_SORT_KEYS)).encode()


def dumps_text(value: Any) -> str:
    return dumps(value).decode()


def json_or_null(value: Any) -> Optional[str]:
    """JSON text, or SQL NULL for None."""
    return None if value is None else dumps(value).decode()


def loads(text: str | bytes) -> Any:
    """Stored JSON text back to a value: orjson, except that an integer past 64 bits keeps
    every digit (orjson reads it as a float)."""
    raw = text.encode() if isinstance(text, str) else text
    if _BIG_INT.search(raw):
        from pydantic_core import from_json

        return from_json(raw)
    return orjson.loads(raw)
