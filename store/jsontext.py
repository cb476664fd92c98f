"""JSON text as the store keeps it: compact, written by orjson."""

from __future__ import annotations

from typing import Any, Optional

import orjson


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
