"""Chat transcripts: recognising chat messages in a value, and rendering them as Markdown.

A *message* is an object with a ``role`` and a ``content`` or ``tool_calls`` (OpenAI's shape);
a *chat* is a non-empty list of objects that each have a ``role``. Every part of bt-tui that
treats a value as a conversation (previews, the trace view, copy-as-Markdown) asks here.
"""

from __future__ import annotations

from typing import Any, Optional

import orjson


def is_message(value: Any) -> bool:
    """One chat message: ``{"role": ..., "content": ...}`` (or ``tool_calls`` instead of content)."""
    return isinstance(value, dict) and "role" in value and ("content" in value or "tool_calls" in value)


def is_chat(value: Any) -> bool:
    """A conversation: a non-empty list of objects that each have a ``role``."""
    return isinstance(value, list) and bool(value) and all(isinstance(m, dict) and "role" in m for m in value)


def transcript(value: Any) -> Optional[list[dict]]:
    """The messages of a chat or of a single message; None when ``value`` is neither."""
    if is_chat(value):
        return value
    if is_message(value):
        return [value]
    return None


def tool_names(message: dict) -> list[str]:
    """Names of the tools a message calls (``tool_calls[].function.name``, else ``.name``)."""
    calls = message.get("tool_calls") or []
    return [((t.get("function") or {}).get("name") or t.get("name") or "tool") for t in calls if isinstance(t, dict)]


def _json_block(value: Any) -> str:
    return "```json\n" + orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n```"


def message_markdown(m: dict) -> str:
    """A message's text (non-text content as JSON), then its tool calls as a JSON block."""
    c = m.get("content")
    text = c if isinstance(c, str) else "" if c is None else orjson.dumps(c).decode()
    if m.get("tool_calls"):
        text += "\n" + _json_block(m["tool_calls"])
    return text


def value_markdown(value: Any) -> str:
    """A span value as Markdown: text as is, a conversation as ``**role**: text`` paragraphs,
    anything else as a JSON code block."""
    if value is None:
        return "_(none)_"
    if isinstance(value, str):
        return value
    msgs = transcript(value)
    if msgs is not None:
        return "\n\n".join(f"**{m.get('role')}**: {message_markdown(m)}" for m in msgs)
    return _json_block(value)


def span_markdown(span: dict) -> str:
    """A span (export shape) as Markdown, ready to paste into a chat."""
    attrs = span.get("span_attributes") or {}
    metrics = span.get("metrics") or {}
    head = f"### {attrs.get('name') or 'span'} ({attrs.get('type') or '?'})"
    meta = []
    if metrics.get("start") is not None and metrics.get("end") is not None:
        meta.append(f"duration {metrics['end'] - metrics['start']:.2f}s")
    if metrics.get("tokens") is not None:
        meta.append(f"{metrics['tokens']:g} tokens")
    if (span.get("metadata") or {}).get("model"):
        meta.append(f"model {span['metadata']['model']}")
    parts = [head, f"_{span['created']} · {', '.join(meta)}_" if meta else f"_{span['created']}_"]
    for key in ("input", "output", "expected", "error"):
        if span.get(key) is not None:
            parts.append(f"**{key.capitalize()}**\n\n{value_markdown(span[key])}")
    if span.get("scores"):
        parts.append("**Scores**: " + ", ".join(f"{k}={v}" for k, v in span["scores"].items()))
    for c in span.get("comments") or []:
        parts.append(f"> {c['author']}: {c['text']}")
    return "\n\n".join(parts)


def trace_markdown(spans: list[dict]) -> str:
    """Every span of a trace as Markdown, separated by rules."""
    return "\n\n---\n\n".join(span_markdown(s) for s in spans)
