"""Turning span values into one-line previews and cells."""

from __future__ import annotations

from typing import Any, Optional

import orjson

from engine.chat import is_chat, is_message, tool_names


def _loads(text: Optional[str]) -> Any:
    if not text:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text  # a preview cut mid-value: show the raw text


def preview(text: Optional[str], width: int = 200) -> str:
    """A one-line preview of a stored JSON value: chat -> the last user/assistant text."""
    value = _loads(text)
    out = _preview_value(value)
    out = " ".join(out.split())
    return out[:width]


def _preview_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if is_chat(value):
        for m in reversed(value):
            if m.get("role") in ("user", "assistant") and isinstance(m.get("content"), str):
                return m["content"]
        return _preview_value(value[-1].get("content"))
    if is_message(value):
        c = value.get("content")
        if isinstance(c, str) and c:
            return c
        if value.get("tool_calls"):
            return "→ " + ", ".join(tool_names(value))
    if isinstance(value, dict):
        if len(value) == 1:
            return _preview_value(next(iter(value.values())))
        for key in ("question", "query", "message", "text", "answer", "content", "prompt"):
            if isinstance(value.get(key), str):
                return value[key]
    return orjson.dumps(value).decode()


def fmt_duration(seconds: Optional[float]) -> str:
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    return f"{seconds / 60:.1f}m"


def fmt_tokens(n: Optional[float]) -> str:
    if n is None or n == 0:
        return ""
    n = float(n)
    if n >= 10_000:
        return f"{n / 1000:.0f}k"
    return f"{n:,.0f}"


def fmt_cost(c: Optional[float]) -> str:
    if not c:
        return ""
    return f"${c:.4f}" if c < 1 else f"${c:.2f}"


def fmt_time(created: str) -> str:
    # 2026-11-18T09:14:03.120000Z -> 11-18 09:14:03
    return f"{created[5:10]} {created[11:19]}" if len(created) >= 19 else created


def fmt_scores(scores: dict, width: int = 18) -> str:
    """As many whole `Name .90` items as fit in ``width``; a trailing `…` when some do not.
    Never a number cut in half."""
    parts = []
    for name, v in scores.items():
        if v is None:
            continue
        parts.append(f"{name[:4]} {v:.2f}".replace("0.", ".", 1) if v < 1 else f"{name[:4]} 1")
    out = ""
    for i, part in enumerate(parts):
        candidate = f"{out} {part}" if out else part
        rest = i < len(parts) - 1
        if len(candidate) + (2 if rest else 0) > width:
            return (out + " …") if out else "…"
        out = candidate
    return out
