"""A span value as Rich renderables: chat messages as a conversation (role headers, the text,
tool calls), strings as text, an object as its fields, anything else as coloured JSON."""

from __future__ import annotations

from typing import Any

import orjson
from rich.console import Group
from rich.text import Text

from engine.chat import is_chat, transcript

ROLE_STYLE = {"system": "yellow", "user": "cyan", "assistant": "green", "tool": "magenta"}
MAX_JSON = 200_000  # characters of JSON shown; the pager (o) has the whole value


def render_value(value: Any, depth: int = 0) -> Any:
    """Chat messages as a conversation; strings as text; an object as its fields (strings
    shown as text, with their line breaks); anything else as coloured JSON."""
    if value is None:
        return Text("(none)", style="dim italic")
    if isinstance(value, str):
        return Text(value)
    msgs = transcript(value)
    if msgs is not None:
        return render_transcript(msgs)
    if isinstance(value, dict) and depth == 0 and value:
        parts = []
        for k, v in value.items():
            parts.append(Text(str(k), style="bold cyan"))
            if isinstance(v, str):
                parts.append(Text(v + "\n"))
            elif is_chat(v):
                parts.append(render_value(v, depth + 1))
            else:
                parts.append(json_syntax(v))
        return Group(*parts)
    return json_syntax(value)


def render_transcript(messages: list[dict]) -> Group:
    """``▌ role (name)`` headers, each message's text (or JSON content), its tool calls."""
    parts: list[Any] = []
    for m in messages:
        role = str(m.get("role", "?"))
        head = Text(f"▌ {role}", style=f"bold {ROLE_STYLE.get(role, 'white')}")
        if m.get("name"):
            head.append(f" ({m['name']})", style="dim")
        parts.append(head)
        content = m.get("content")
        if isinstance(content, str):
            parts.append(Text(content + "\n"))
        elif content is not None:
            parts.append(json_syntax(content))
        if m.get("tool_calls"):
            parts.append(Text("tool calls:", style="dim"))
            parts.append(json_syntax(m["tool_calls"]))
    return Group(*parts)


def json_syntax(value: Any):
    """Indented, highlighted JSON (cut at ``MAX_JSON`` characters)."""
    from rich.syntax import Syntax  # pygments: imported when a value is first shown

    text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    if len(text) > MAX_JSON:
        text = text[:MAX_JSON] + "\n… (truncated; press o to open the whole value)"
    return Syntax(text, "json", word_wrap=True, background_color="default")
