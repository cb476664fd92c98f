"""A small hand-made corpus for the query-language tests (tests/test_query_*.py).

Eleven spans in six traces in project "p" (plus one decoy row in project "q" that would
match many filters, so leaks across projects show up). Every test knows exactly which
rows each query must return; the table below is the reference.

 id  trace root created      name     type  Fact  corr model          user_id   tags                 error   tokens dur
 a0  A     y    2025-12-31   chat     task  0.9   0.3  gpt-4          user-123  triage,production    -       1200   4.0
 a1  A     n    2025-12-31   llm_call llm   0.5   -    gpt-4-turbo    -         -                    -       800    1.0
 a2  A     n    2025-12-31   search   tool  -     -    - (tool)       -         production           {obj}   -      0.3
 b0  B     y    2026-01-03   chat     task  0.7   0.9  gpt-4-turbo    user-456  production,beta      -       900    1.0
 b1  B     n    2026-01-03   llm_call llm   -     0.2  claude-3-opus  user-123  triage               -       400    0.5
 c0  C     y    now-1h       chat     task  0.95  -    gpt-4          user-123  triage               "rate"  1100   10
 d0  D     y    now-3h       agent    task  -     0.1  claude-3-opus  user-789  staging              -       50     0.25
 d1  D     n    now-3h+1s    search   tool  null  -    - (tool)       -         -                    {obj}   -      0.1
 e0  E     y    now-2d       chat     task  0.4   0.6  gpt-3.5        user-999  production           -       300    3
 f0  F     y    now-30d      batch    eval  -     -    -              -         -                    "time"  -      -
 f1  F     n    now-30d+1s   llm_call llm   0.85  -    gpt-4          user-123  production,triage    -       2000   2

Comments: c0 "this answer is wrong", d0 "looks fine" (and q0 "wrong wrong" in project q).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import store
from store.models import FeedbackIn, format_ts, normalize_ts
from store.query.pager import LogsQuery
from store.feedback import apply_feedback
from store.spans import log_spans

PROJECT = "p"
ALL = frozenset({"a0", "a1", "a2", "b0", "b1", "c0", "d0", "d1", "e0", "f0", "f1"})
ROOTS = frozenset({"a0", "b0", "c0", "d0", "e0", "f0"})
TRACE_OF = {i: i[0].upper() for i in ALL}
ROOT_OF_TRACE = {"A": "a0", "B": "b0", "C": "c0", "D": "d0", "E": "e0", "F": "f0"}


def _span(id_, trace, *, root, created, name, type_, input=None, output=None, expected=None, error=None,
          scores=None, metadata=None, metrics=None, tags=None, sid=None):
    span_id = trace if root else (sid or f"{trace}{id_[1:]}")
    return {
        "id": id_,
        "span_id": span_id,
        "root_span_id": trace,
        "span_parents": None if root else [trace],
        "created": created,
        "input": input,
        "output": output,
        "expected": expected,
        "error": error,
        "scores": scores or {},
        "metadata": metadata or {},
        "metrics": metrics or {},
        "tags": tags or [],
        "span_attributes": {"name": name, "type": type_},
    }


def build_rows(now: datetime) -> list[dict]:
    def ago(**kw) -> str:
        return format_ts(now - timedelta(**kw))

    return [
        _span("a0", "A", root=True, created="2025-12-31T10:00:00Z", name="chat", type_="task",
              input={"question": "What is the refund policy?"},
              output={"answer": "Our refund policy lasts 30 days"},
              expected="refund policy details",
              scores={"Factuality": 0.9, "correctness": 0.3},
              metadata={"model": "gpt-4", "user_id": "user-123", "topic": "refund policy",
                        "my key": "spaced value", "a": {"b": 1}, "labels": ["billing", "urgent"]},
              metrics={"start": 1000.0, "end": 1004.0, "tokens": 1200},
              tags=["triage", "production"]),
        _span("a1", "A", root=False, created="2025-12-31T10:00:01Z", name="llm_call", type_="llm",
              input=[{"role": "user", "content": "refunded twice"}],
              output="I see you were refunded",
              scores={"Factuality": 0.5},
              metadata={"model": "gpt-4-turbo"},
              metrics={"start": 1000.5, "end": 1001.5, "tokens": 800}),
        _span("a2", "A", root=False, created="2025-12-31T10:00:02Z", name="search", type_="tool",
              input="lookup order 42", output={"results": []},
              error={"message": "tool crashed"},
              metadata={"tool": "search"},
              metrics={"start": 1001.6, "end": 1001.9},
              tags=["production"]),
        _span("b0", "B", root=True, created="2026-01-03T00:00:00Z", name="chat", type_="task",
              input="Tell me about 50% off deals", output="The 50% off sale ends soon",
              scores={"Factuality": 0.7, "correctness": 0.9},
              metadata={"model": "gpt-4-turbo", "user_id": "user-456", "topic": "sales", "a": {"b": 2},
                        "labels": ["sales"], "Region": "EU"},
              metrics={"start": 2000.0, "end": 2001.0, "tokens": 900},
              tags=["production", "beta"]),
        _span("b1", "B", root=False, created="2026-01-03T00:00:01Z", name="llm_call", type_="llm",
              input="500 off coupons", output="Refund Policy: none",
              scores={"correctness": 0.2},
              metadata={"model": "claude-3-opus", "user_id": "user-123"},
              metrics={"start": 2000.1, "end": 2000.6, "tokens": 400},
              tags=["triage"]),
        _span("c0", "C", root=True, created=ago(hours=1), name="chat", type_="task",
              input="hello world", output="HELLO THERE", expected={"greeting": "hi"},
              error="rate limited",
              scores={"Factuality": 0.95},
              metadata={"model": "gpt-4", "user_id": "user-123", "topic": "greeting", "a": {"b": 3}, "labels": []},
              metrics={"start": 3000.0, "end": 3010.0, "tokens": 1100},
              tags=["triage"]),
        _span("d0", "D", root=True, created=ago(hours=3), name="agent", type_="task",
              input={"question": "refunds for orders"},
              scores={"correctness": 0.1},
              metadata={"model": "claude-3-opus", "user_id": "user-789", "note": "refund requested"},
              metrics={"start": 4000.0, "end": 4000.25, "tokens": 50},
              tags=["staging"]),
        _span("d1", "D", root=False, created=ago(hours=3, seconds=-1), name="search", type_="tool",
              input="x", output="y", error={"code": 500},
              scores={"Factuality": None},
              metadata={"tool": "web", "my key": "other"},
              metrics={"start": 4000.1, "end": 4000.2}),
        _span("e0", "E", root=True, created=ago(days=2), name="chat", type_="task",
              input="Can I get a refund?", output="Yes, a refund is possible", expected="Yes",
              scores={"Factuality": 0.4, "correctness": 0.6},
              metadata={"model": "gpt-3.5", "user_id": "user-999", "topic": "refund", "labels": ["billing"]},
              metrics={"start": 5000.0, "end": 5003.0, "tokens": 300},
              tags=["production"]),
        _span("f0", "F", root=True, created=ago(days=30), name="batch", type_="eval",
              error="timeout"),
        _span("f1", "F", root=False, created=ago(days=30, seconds=-1), name="llm_call", type_="llm",
              input="ünïcødé ✓ test", output="done",
              scores={"Factuality": 0.85},
              metadata={"model": "gpt-4", "user_id": "user-123"},
              metrics={"start": 6000.0, "end": 6002.0, "tokens": 2000},
              tags=["production", "triage"]),
    ]


def decoy_rows(now: datetime) -> list[dict]:
    """Project "q": a row that matches most filters used in the tests, sharing trace id "B"."""
    return [
        _span("q0", "B", root=True, created=format_ts(now - timedelta(minutes=5)), name="chat", type_="task",
              input="refund policy hello world", output="refund", expected="refund",
              error="boom",
              scores={"Factuality": 0.99, "correctness": 0.01},
              metadata={"model": "gpt-4", "user_id": "user-123", "topic": "refund", "labels": ["billing"]},
              metrics={"start": 1.0, "end": 100.0, "tokens": 5000},
              tags=["triage", "production", "staging"]),
    ]


@dataclass
class Corpus:
    path: Path
    store: store.Store
    now: datetime
    rows: dict  # id -> span dict as inserted (created normalised)
    rid: dict  # id -> rid

    def ids(self, text: str, shape: str = "spans") -> set:
        """The ids a filter returns (page of up to 1000); checks count() agrees."""
        lq = LogsQuery(self.store, PROJECT, text, shape=shape)
        page = lq.page(limit=1000)
        got = [r.id for r in page.rows]
        assert len(got) == len(set(got)), f"duplicate rows for {text!r}: {got}"
        assert lq.count() == len(got), f"count() disagrees with page() for {text!r}"
        return set(got)

    def spans_count(self) -> int:
        return self.store.conn.execute("SELECT count(*) FROM spans").fetchone()[0]


def build_corpus(path: Path) -> Corpus:
    now = datetime.now(timezone.utc)
    s = store.Store(path)
    rows = build_rows(now)
    log_spans(s, PROJECT, rows)
    apply_feedback(s, PROJECT, "c0", FeedbackIn(comment="this answer is wrong", author="a"))
    apply_feedback(s, PROJECT, "c0", FeedbackIn(comment="second look: escalated", author="b"))
    apply_feedback(s, PROJECT, "d0", FeedbackIn(comment="looks fine", author="a"))
    log_spans(s, "q", decoy_rows(now))
    apply_feedback(s, "q", "q0", FeedbackIn(comment="wrong wrong", author="a"))
    by_id = {}
    for r in rows:
        r = dict(r)
        r["created"] = normalize_ts(r["created"])
        by_id[r["id"]] = r
    conn = sqlite3.connect(str(path))
    try:
        rid = dict(conn.execute(
            "SELECT s.id, s.rid FROM spans s JOIN projects p ON p.id = s.project_id WHERE p.name = ?", (PROJECT,)
        ).fetchall())
    finally:
        conn.close()
    assert set(rid) == ALL
    return Corpus(path, s, now, by_id, rid)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Corpus:
    c = build_corpus(tmp_path_factory.mktemp("qcorpus") / "q.db")
    yield c
    c.store.close()
