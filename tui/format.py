"""Turning span values into one-line previews and cells."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

import orjson

from engine.chat import is_chat, is_message, tool_names, transcript


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


def readable(value: Any) -> Any:
    """A string that holds a JSON object (a model's JSON answer) as that object; anything else
    as it is."""
    if isinstance(value, str) and value[:2] == '{"' and value[-1:] == "}":
        try:
            inner = orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
        return inner if isinstance(inner, dict) else value
    return value


def _preview_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        inner = readable(value)  # a model's answer that is a JSON object: its text
        return value if inner is value else _preview_value(inner)
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
    """At most 5 characters (999ms, 59.9s, 59.9m, 23.5h), so a column of 5 never cuts one."""
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms" if seconds < 0.9995 else "1.0s"
    if seconds < 59.95:
        return f"{seconds:.1f}s"
    if seconds < 3597:
        return f"{seconds / 60:.1f}m"
    if seconds < 99.95 * 3600:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.0f}d"


def fmt_tokens(n: Optional[float]) -> str:
    if n is None or n == 0:
        return ""
    n = float(n)
    if n >= 999_500:
        return f"{n / 1e6:.1f}M" if n < 99.95e6 else f"{n / 1e6:.0f}M"
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


def fmt_score(v: float) -> str:
    return f"{v:.2f}".replace("0.", ".", 1) if v < 1 else "1"


PREFIXES = (None, 8, 6)  # full names, then ever shorter prefixes (never below 6)


def fmt_scores(scores: dict, width: int = 18, skip: tuple = ()) -> str:
    """As many whole `Name .90` items as fit in ``width``, names in full when they fit, else
    the longest prefix (6 characters at least, and telling apart the names of the row) that
    shows the most items; a trailing `…` when some do not fit. Never a number cut in half.
    ``skip``: scores shown elsewhere (their own column)."""
    items = [(n, v) for n, v in scores.items() if v is not None and n not in skip]
    if not items:
        return ""
    best: tuple[int, list[str]] = (-1, [])
    shortest: list[str] = []
    for size in PREFIXES:
        names = [n if size is None or len(n) <= size + 1 else n[:size] for n, _ in items]
        if size is not None and len(set(names)) < len(names):
            break  # shorter prefixes would tell two scores apart no better
        parts = shortest = [f"{name} {fmt_score(v)}" for name, (_, v) in zip(names, items)]
        k = _fits(parts, width)
        if k == len(parts):
            return " ".join(parts)
        if k > best[0]:
            best = (k, parts)
    k, parts = best
    if k:
        return " ".join(parts[:k]) + " …"
    # Not even one item and the `…`: the first item alone, if it fits.
    return shortest[0] if len(shortest[0]) <= width else "…"


def _fits(parts: list[str], width: int) -> int:
    """How many of ``parts`` fit in ``width`` (room for a trailing ` …` when not all do)."""
    used = 0
    for i, part in enumerate(parts):
        used += len(part) + (1 if i else 0)
        rest = i < len(parts) - 1
        if used + (2 if rest else 0) > width:
            return i
    return len(parts)


def value_text(value: Any, indent: str = "") -> str:
    """A value as text to read (the pager's view): strings as they are, with their line
    breaks; a chat as a conversation; an object as `key: value` lines, nested ones indented
    under their key; numbers, booleans and null as JSON."""
    if isinstance(value, str):
        return _indent(value, indent)
    msgs = transcript(value) if isinstance(value, (list, dict)) else None
    if msgs is not None:
        parts = []
        for m in msgs:
            head = f"── {m.get('role', '?')}" + (f" ({m['name']})" if m.get("name") else "") + " ──"
            body = m.get("content")
            text = body if isinstance(body, str) else "" if body is None else value_text(body)
            if m.get("tool_calls"):
                text += ("\n" if text else "") + "tool calls:\n" + value_text(m["tool_calls"], "  ")
            parts.append(_indent(head + "\n" + text, indent))
        return "\n\n".join(parts)
    if isinstance(value, dict) and value:
        lines = []
        for k, v in value.items():
            if _inline(v):
                lines.append(f"{indent}{k}: {v if isinstance(v, str) else orjson.dumps(v).decode()}")
            else:
                lines.append(f"{indent}{k}:\n{value_text(v, indent + '  ')}")
        return "\n".join(lines)
    if isinstance(value, list) and value:
        lines = []
        for v in value:
            if _inline(v):
                lines.append(f"{indent}- {v if isinstance(v, str) else orjson.dumps(v).decode()}")
            else:
                lines.append(f"{indent}-\n{value_text(v, indent + '  ')}")
        return "\n".join(lines)
    return indent + orjson.dumps(value).decode()


def _inline(v: Any) -> bool:
    """Shown on its key's line: a scalar, an empty container, a short one-line string."""
    if isinstance(v, str):
        return "\n" not in v and len(v) <= 100
    return not isinstance(v, (dict, list)) or not v


def _indent(text: str, indent: str) -> str:
    return "\n".join(indent + line if line else line for line in text.split("\n")) if indent else text

def ago(created: Optional[str], now: Optional[datetime] = None) -> str:
    """A time as how long ago: `just now`, `5m ago`, `3h ago`, `12d ago`; older than 60 days,
    the date."""
    if not created:
        return ""
    try:
        when = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return fmt_time(created)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    s = ((now or datetime.now(timezone.utc)) - when).total_seconds()
    if s < 60:
        return "just now"
    if s < 3600:
        return f"{s // 60:.0f}m ago"
    if s < 86400:
        return f"{s // 3600:.0f}h ago"
    if s < 60 * 86400:
        return f"{s // 86400:.0f}d ago"
    return created[:10]


def count(n: int, noun: str, plural: Optional[str] = None) -> str:
    """``1 row``, ``2 rows``, ``1,000 cells``: a number and its noun, singular or plural."""
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


def ways_hint(title: str, lead: str, ways, footer: str):
    """An empty screen's text: a bold title, a lead line, each way (why, then the keys or the
    command, in cyan) and a dim footer. Datasets, prompts and the review queue say it alike."""
    from rich.text import Text

    t = Text()
    t.append(f"{title}\n\n", style="bold")
    t.append(f"{lead}\n")
    for why, how in ways:
        t.append(f"  {why}\n", style="dim")
        t.append(f"    {how}\n", style="bold cyan")
    t.append(f"\n{footer}", style="dim")
    return t


SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values, lo: Optional[float] = None, hi: Optional[float] = None) -> str:
    """One block per value (``▁`` lowest to ``█`` highest), left to right; a value that is None
    is a blank. The scale runs from ``lo`` to ``hi`` (default: the values' own min and max, so
    a small change still shows); values all equal sit in the middle."""
    nums = [v for v in values if v is not None]
    if not nums:
        return " " * len(values)
    lo = min(nums) if lo is None else lo
    hi = max(nums) if hi is None else hi
    span = hi - lo
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        elif span <= 1e-12:
            out.append(SPARKS[len(SPARKS) // 2 - 1])
        else:
            i = int(round((min(max(v, lo), hi) - lo) / span * (len(SPARKS) - 1)))
            out.append(SPARKS[i])
    return "".join(out)


def fmt_pct(v: Optional[float], digits: int = 1) -> str:
    """A score in [0, 1] as a percentage: ``62.5%``; "" for None."""
    return "" if v is None else f"{v * 100:.{digits}f}%"


def fmt_signed_pct(v: Optional[float], digits: int = 1) -> str:
    """A difference of scores as signed percentage points: ``+2.0%``, ``-3.1%``, ``0.0%``."""
    if v is None:
        return ""
    s = f"{v * 100:+.{digits}f}%"
    return s[1:] if s.startswith(("+0.0%", "-0.0%")) and float(s[:-1]) == 0 else s
