"""Deterministic span rows shaped like DESIGN.md's span-row contract, and small file helpers."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

SPAN_KEYS = (
    "id",
    "span_id",
    "root_span_id",
    "span_parents",
    "created",
    "input",
    "output",
    "expected",
    "error",
    "scores",
    "metadata",
    "metrics",
    "tags",
    "span_attributes",
    "comments",
)

BASE_TS = 1_700_000_000  # 2023-11-14T22:13:20Z
MODELS = ("gpt-4o", "claude-3-5-sonnet", "llama-3.1-70b")
WORDS = ("refund", "invoice", "password", "latency", "timeout", "slack", "webhook", "export")


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def make_trace(n: int, children: int = 2, *, prefix: str = "t") -> list[dict]:
    """One trace: a root span plus ``children`` child spans (llm/tool), all contract keys set.

    Everything is derived from ``n``: calling it twice gives equal rows.
    """
    root_sid = f"{prefix}{n:06d}"
    start = BASE_TS + n * 60 + 0.25
    model = MODELS[n % len(MODELS)]
    word = WORDS[n % len(WORDS)]
    root = {
        "id": f"{root_sid}-row0",
        "span_id": root_sid,
        "root_span_id": root_sid,
        "span_parents": None,
        "created": iso(start),
        "input": {"message": f"help with {word} #{n}", "turn": n % 5, "lang": "ja" if n % 7 == 0 else "en"},
        "output": {"answer": f"answer about {word} number {n}", "escalated": n % 3 == 0},
        "expected": None if n % 4 else f"expected {word}",
        "error": None if n % 11 else "upstream timeout",
        "scores": {"accuracy": (n % 5) / 4, "helpfulness": 0.5 if n % 2 else 1, "missing": None},
        "metadata": {"model": model, "user_id": f"user-{n % 13}", "nested": {"a": [1, 2, {"b": n}]}},
        "metrics": {
            "start": start,
            "end": start + 1.5 + children,
            "prompt_tokens": 100 + n,
            "completion_tokens": 20 + n % 17,
            "tokens": 120 + n + n % 17,
        },
        "tags": ["prod", f"cohort-{n % 3}"] + (["vip"] if n % 5 == 0 else []),
        "span_attributes": {"name": "support_bot", "type": "task"},
    }
    rows = [root]
    for c in range(1, children + 1):
        cstart = start + c * 0.5
        kind = "llm" if c % 2 else "tool"
        rows.append(
            {
                "id": f"{root_sid}-row{c}",
                "span_id": f"{root_sid}-s{c}",
                "root_span_id": root_sid,
                "span_parents": [root_sid],
                "created": iso(cstart),
                "input": [{"role": "user", "content": f"{word} step {c} ünïcødé ✓"}],
                "output": {"content": f"step {c} done for {n}", "ratio": c / 8},
                "expected": None,
                "error": None,
                "scores": {"tool_ok": 1} if kind == "tool" else {},
                "metadata": {"model": model} if kind == "llm" else {"tool": "search"},
                "metrics": {"start": cstart, "end": cstart + 0.25, "tokens": 10 * c},
                "tags": [],
                "span_attributes": {"name": f"{kind}_{c}", "type": kind},
            }
        )
    return rows


def make_traces(count: int, children: int = 2, *, prefix: str = "t", start: int = 0) -> list[dict]:
    out: list[dict] = []
    for n in range(start, start + count):
        out.extend(make_trace(n, children, prefix=prefix))
    return out


def small_span(i: int, *, prefix: str = "b", output: str | None = None) -> dict:
    """A minimal valid root span (for big generated files)."""
    return {
        "id": f"{prefix}{i}",
        "span_id": f"{prefix}s{i}",
        "root_span_id": f"{prefix}s{i}",
        "created": iso(BASE_TS + i),
        "input": f"question {i}",
        "output": output if output is not None else f"answer {i} w{i % 97}",
        "scores": {"s": (i % 10) / 10},
        "metadata": {"model": MODELS[i % 3]},
        "metrics": {"start": BASE_TS + i, "end": BASE_TS + i + 1},
        "tags": [f"g{i % 4}"],
    }


def dump_line(row: dict) -> str:
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"))


def write_jsonl(path: Path, rows: Iterable[dict]) -> Path:
    path = Path(path)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(dump_line(r) + "\n")
    return path


def read_jsonl(text_or_path) -> list[dict]:
    if isinstance(text_or_path, Path):
        text_or_path = text_or_path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text_or_path.splitlines() if line.strip()]


def assert_one_line_error(res, code: int = 2) -> str:
    assert res.returncode == code, (res.returncode, res.stderr)
    lines = res.stderr.strip("\n").splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {res.stderr!r}"
    assert "Traceback" not in res.stderr
    return lines[0]
