"""engine.chat: what counts as a chat message, a transcript as Markdown; and the arrows between
the packages (engine never imports textual; store never imports engine)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from engine.chat import is_chat, is_message, span_markdown, trace_markdown, transcript, value_markdown

ROOT = Path(__file__).resolve().parents[1]
CALL = {"role": "assistant", "content": None,
        "tool_calls": [{"id": "c1", "function": {"name": "lookup_order", "arguments": "{}"}}]}


def test_what_counts_as_a_chat():
    assert is_message({"role": "user", "content": "hi"})
    assert is_message({"role": "assistant", "tool_calls": []})  # tool calls instead of content
    assert not is_message({"role": "user"}) and not is_message({"content": "hi"}) and not is_message("hi")
    assert is_chat([{"role": "system"}, {"role": "user", "content": "hi"}])
    assert not is_chat([]) and not is_chat([{"role": "user"}, "hi"]) and not is_chat({"role": "user", "content": "x"})
    assert transcript({"role": "user", "content": "hi"}) == [{"role": "user", "content": "hi"}]
    assert transcript([{"role": "user", "content": "a"}]) == [{"role": "user", "content": "a"}]
    assert transcript({"question": "hi"}) is None and transcript(None) is None


def test_values_as_markdown():
    assert value_markdown(None) == "_(none)_"
    assert value_markdown("plain text") == "plain text"
    chat = [{"role": "user", "content": "Where is my order?"}, CALL]
    md = value_markdown(chat)
    assert md.startswith("**user**: Where is my order?\n\n**assistant**: \n```json\n")
    assert '"name": "lookup_order"' in md and md.endswith("\n```")
    assert value_markdown({"role": "user", "content": ["a", 1]}) == '**user**: ["a",1]'
    assert value_markdown({"a": 1}) == '```json\n{\n  "a": 1\n}\n```'


def test_span_and_trace_markdown():
    span = {"created": "2030-01-01T00:00:00Z", "span_attributes": {"name": "answer", "type": "llm"},
            "metrics": {"start": 1.0, "end": 2.5, "tokens": 12}, "metadata": {"model": "gpt-4o"},
            "input": [{"role": "user", "content": "hi"}], "output": "hello", "scores": {"ok": 1},
            "comments": [{"author": "ann", "text": "fine"}]}
    md = span_markdown(span)
    assert md.splitlines()[0] == "### answer (llm)"
    assert "_2030-01-01T00:00:00Z · duration 1.50s, 12 tokens, model gpt-4o_" in md
    assert "**Input**\n\n**user**: hi" in md and "**Output**\n\nhello" in md
    assert "**Scores**: ok=1" in md and md.endswith("> ann: fine")
    assert "**Expected**" not in md
    assert trace_markdown([span, span]) == md + "\n\n---\n\n" + md


def test_engine_imports_no_textual_and_store_imports_no_engine():
    code = "import sys, engine, engine.chat; bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'litellm')]; print(bad)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
    for path in (ROOT / "store").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n.split(".")[0] in ("engine", "tui", "textual") for n in names), f"{path}: {names}"


def test_tui_holds_no_sql():
    """The app asks the store with typed values (the CLI, tui/cli*, is the store's other caller)."""
    for path in (ROOT / "tui").rglob("*.py"):
        if path.relative_to(ROOT / "tui").parts[0].startswith("cli"):
            continue
        text = path.read_text(encoding="utf-8")
        assert "sqlite3" not in text and ".execute(" not in text, path
