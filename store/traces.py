"""Reading one trace: its bounds, children of a span (lazily, for the tree), whole spans,
find-in-trace. (Rendering a trace as Markdown is engine.chat's.)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import orjson

from .connection import Store
from .errors import NotFound
from .export import EXPORT_LINE
from .projects import project_id


@dataclass
class TraceInfo:
    project_id: int
    root_span_id: str
    root_rid: Optional[int]
    start: Optional[float]
    end: Optional[float]
    spans: int
    errors: int


@dataclass
class SpanNode:
    rid: int
    id: str
    span_id: str
    parent_id: Optional[str]
    name: Optional[str]
    type: Optional[str]
    start: Optional[float]
    end: Optional[float]
    has_error: bool
    tokens: Optional[float]
    children: int

    @property
    def duration(self) -> Optional[float]:
        if self.start is None or self.end is None:
            return None
        return self.end - self.start


def trace_info(store: Store, project: str, root_span_id: str) -> TraceInfo:
    pid = project_id(store, project, create=False)
    row = store.conn.execute(
        "SELECT min(start_ts), max(end_ts), count(*), sum(error IS NOT NULL),"
        " max(CASE WHEN is_root = 1 THEN rid END)"
        " FROM spans WHERE project_id = ? AND root_span_id = ?",
        (pid, root_span_id),
    ).fetchone()
    if not row or not row[2]:
        raise NotFound(f"no trace {root_span_id!r} in project {project!r}")
    return TraceInfo(pid, root_span_id, row[4], row[0], row[1], row[2], row[3] or 0)


_NODE_SQL = """
SELECT s.rid, s.id, s.span_id, s.parent_id, s.name, s.type, s.start_ts, s.end_ts, s.error IS NOT NULL,
       json_extract(s.metrics, '$.tokens'),
       (SELECT count(*) FROM spans c WHERE c.project_id = s.project_id AND c.root_span_id = s.root_span_id
          AND c.parent_id = s.span_id)
FROM spans s
WHERE s.project_id = ? AND s.root_span_id = ? AND {cond}
ORDER BY s.start_ts, s.rid
LIMIT ? OFFSET ?
"""


def _nodes(rows) -> list[SpanNode]:
    return [SpanNode(*r[:8], bool(r[8]), r[9], r[10]) for r in rows]


def roots_of(store: Store, info: TraceInfo) -> list[SpanNode]:
    """Top of the tree: the root span (or, for a trace without one, its parentless spans)."""
    rows = store.conn.execute(
        _NODE_SQL.format(cond="(s.span_id = s.root_span_id OR s.parent_id IS NULL)"),
        (info.project_id, info.root_span_id, 1000, 0),
    ).fetchall()
    return _nodes(rows)


def children_of(store: Store, info: TraceInfo, span_id: str, limit: int = 500, offset: int = 0) -> list[SpanNode]:
    rows = store.conn.execute(
        _NODE_SQL.format(cond="s.parent_id = ? AND s.span_id <> s.root_span_id"),
        (info.project_id, info.root_span_id, span_id, limit, offset),
    ).fetchall()
    return _nodes(rows)


def span_by_rid(store: Store, rid: int) -> dict:
    row = store.conn.execute(f"SELECT {EXPORT_LINE} FROM spans s WHERE s.rid = ?", (rid,)).fetchone()
    if not row:
        raise NotFound(f"span {rid} is gone")
    return orjson.loads(row[0])


def rid_of(store: Store, info: TraceInfo, row_id: str) -> int:
    row = store.conn.execute(
        "SELECT rid FROM spans WHERE project_id = ? AND id = ?", (info.project_id, row_id)
    ).fetchone()
    if not row:
        raise NotFound(f"no row with id {row_id!r}")
    return row[0]


def trace_spans(store: Store, info: TraceInfo, limit: int = 20000) -> list[dict]:
    rows = store.conn.execute(
        f"SELECT {EXPORT_LINE} FROM spans s WHERE s.project_id = ? AND s.root_span_id = ?"
        f" ORDER BY s.start_ts, s.rid LIMIT ?",
        (info.project_id, info.root_span_id, limit),
    ).fetchall()
    return [orjson.loads(r[0]) for r in rows]


def find_in_trace(store: Store, info: TraceInfo, text: str, limit: int = 500) -> list[tuple[int, str]]:
    """Spans of the trace whose name, input, output, error or metadata contain ``text``
    (case-insensitive). Returns (rid, span_id) in start order."""
    like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = store.conn.execute(
        "SELECT rid, span_id FROM spans WHERE project_id = ?2 AND root_span_id = ?3 AND ("
        " name LIKE ?1 ESCAPE '\\' OR input LIKE ?1 ESCAPE '\\' OR output LIKE ?1 ESCAPE '\\'"
        " OR error LIKE ?1 ESCAPE '\\' OR metadata LIKE ?1 ESCAPE '\\') ORDER BY start_ts, rid LIMIT ?4",
        (like, info.project_id, info.root_span_id, limit),
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def ancestors(store: Store, info: TraceInfo, span_id: str) -> list[str]:
    """span ids from the top of the tree down to (not including) ``span_id``."""
    chain: list[str] = []
    current = span_id
    for _ in range(10_000):
        row = store.conn.execute(
            "SELECT parent_id FROM spans WHERE project_id = ? AND root_span_id = ? AND span_id = ?",
            (info.project_id, info.root_span_id, current),
        ).fetchone()
        if not row or not row[0] or row[0] == current:
            break
        chain.append(row[0])
        current = row[0]
    return list(reversed(chain))
