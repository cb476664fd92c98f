"""Reading one trace: its bounds, children of a span (lazily, for the tree), whole spans,
find-in-trace. (Rendering a trace as Markdown is engine.chat's.)"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    # Spans the tree shows under the root (at the top when the trace has no root span), as
    # ``span_id -> why``: "orphan" (its parent is not in the trace) or "cycle" (its parents
    # loop back to it; the first span of each loop is the one moved, the rest hang below it).
    detached: dict = field(default_factory=dict)

    @property
    def home(self) -> Optional[str]:
        """The span the detached spans hang under (None: they are top-level)."""
        return self.root_span_id if self.root_rid is not None else None


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
    detached: str = ""  # "orphan" | "cycle" when the tree shows it away from its logged parent

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
    info = TraceInfo(pid, root_span_id, row[4], row[0], row[1], row[2], row[3] or 0)
    info.detached = _detached(store, info)
    return info


def _detached(store: Store, info: TraceInfo) -> dict:
    """Spans that no walk down from the top of the tree reaches: orphans (their parent is not
    in the trace), and one span of each parent cycle (the earliest; the rest of the cycle and
    whatever hangs below it is reached from there). One pass over the trace's span ids."""
    rows = store.conn.execute(
        "SELECT span_id, parent_id FROM spans WHERE project_id = ? AND root_span_id = ?",
        (info.project_id, info.root_span_id),
    ).fetchall()
    ids = {sid for sid, _ in rows}
    kids: dict = {}
    for sid, parent in rows:
        if sid != info.root_span_id and parent is not None:
            kids.setdefault(parent, []).append(sid)
    detached: dict = {}
    tops = []
    for sid, parent in rows:
        if sid == info.root_span_id or parent is None:
            tops.append(sid)
        elif parent not in ids:
            detached[sid] = "orphan"
            tops.append(sid)
    reached: set = set()

    def reach(start: str) -> None:
        todo = [start]
        while todo:
            sid = todo.pop()
            if sid not in reached:
                reached.add(sid)
                todo += kids.get(sid, ())
    for sid in tops:
        reach(sid)
    if len(reached) == len(ids):
        return detached
    parent_of = dict(rows)
    left = [sid for sid, _ in rows if sid not in reached]  # on a cycle, or hanging below one
    order = {sid: i for i, (sid,) in enumerate(store.conn.execute(
        "SELECT span_id FROM spans WHERE project_id = ? AND root_span_id = ? AND span_id IN"
        " (SELECT value FROM json_each(?)) ORDER BY start_ts, rid",
        (info.project_id, info.root_span_id, orjson.dumps(left).decode())))}
    for sid in sorted(left, key=lambda x: order.get(x, 0)):  # in start order
        if sid in reached:
            continue
        loop: list = []
        on_way: set = set()
        cur = sid
        while cur not in on_way:
            on_way.add(cur)
            loop.append(cur)
            cur = parent_of[cur]
        cycle = loop[loop.index(cur):]
        entry = min(cycle, key=order.__getitem__)
        detached[entry] = "cycle"
        reach(entry)
    return detached


# ?1 project, ?2 trace, ?3 limit, ?4 offset, ?5 the parent (children_of), ?6 the detached
# span ids (a JSON array) and ?7 the span they hang under (only when there are any).
_NODE_SQL = """
SELECT s.rid, s.id, s.span_id, s.parent_id, s.name, s.type, s.start_ts, s.end_ts, s.error IS NOT NULL,
       json_extract(s.metrics, '$.tokens'),
       (SELECT count(*) FROM spans c WHERE c.project_id = s.project_id AND c.root_span_id = s.root_span_id
          AND c.parent_id = s.span_id AND c.span_id <> c.root_span_id{count_extra})
FROM spans s
WHERE s.project_id = ?1 AND s.root_span_id = ?2 AND {cond}
ORDER BY s.start_ts, s.rid
LIMIT ?3 OFFSET ?4
"""
# With detached spans: a child count leaves them out under their logged parent and adds
# them under the span they hang under.
_COUNT_DETACHED = (" AND c.span_id NOT IN (SELECT value FROM json_each(?6)))"
                   " + (CASE WHEN s.span_id = ?7 THEN json_array_length(?6) ELSE 0 END")


def _node_rows(store: Store, info: TraceInfo, cond: str, limit: int, offset: int, parent: Optional[str] = None):
    params: list = [info.project_id, info.root_span_id, limit, offset, parent]
    extra = ""
    if info.detached:
        extra = _COUNT_DETACHED
        params += [orjson.dumps(list(info.detached)).decode(), info.home]
    elif parent is None:
        params.pop()  # numbered parameters: exactly as many as the highest one used
    return store.conn.execute(_NODE_SQL.format(cond=cond, count_extra=extra), params).fetchall()


def _nodes(info: TraceInfo, rows) -> list[SpanNode]:
    return [SpanNode(*r[:8], bool(r[8]), r[9], r[10], info.detached.get(r[2], "")) for r in rows]


def roots_of(store: Store, info: TraceInfo) -> list[SpanNode]:
    """Top of the tree: the root span (or, for a trace without one, its parentless spans and
    the detached ones)."""
    cond = "(s.span_id = s.root_span_id OR s.parent_id IS NULL)"
    if info.detached and info.home is None:
        cond = "(s.span_id = s.root_span_id OR s.parent_id IS NULL OR s.span_id IN (SELECT value FROM json_each(?6)))"
    return _nodes(info, _node_rows(store, info, cond, 1000, 0))


def children_of(store: Store, info: TraceInfo, span_id: str, limit: int = 500, offset: int = 0) -> list[SpanNode]:
    """A page of the spans under ``span_id`` in the tree: its logged children, and under the
    root, the detached spans (never under their logged parent)."""
    cond = "s.parent_id = ?5 AND s.span_id <> s.root_span_id"
    if info.detached:
        cond += " AND s.span_id NOT IN (SELECT value FROM json_each(?6))"
        if span_id == info.home:
            cond = f"(({cond}) OR s.span_id IN (SELECT value FROM json_each(?6)))"
    return _nodes(info, _node_rows(store, info, cond, limit, offset, span_id))


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


def find_in_trace(store: Store, info: TraceInfo, text: str, limit: int = 500) -> list[tuple[int, str, str]]:
    """Spans of the trace whose input, output, expected, error, metadata or name contain
    ``text`` (case-insensitive). Returns (rid, span_id, the first field that holds it) in
    start order."""
    like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = store.conn.execute(
        "SELECT rid, span_id, CASE WHEN input LIKE ?1 ESCAPE '\\' THEN 'input'"
        " WHEN output LIKE ?1 ESCAPE '\\' THEN 'output' WHEN expected LIKE ?1 ESCAPE '\\' THEN 'expected'"
        " WHEN error LIKE ?1 ESCAPE '\\' THEN 'error' WHEN metadata LIKE ?1 ESCAPE '\\' THEN 'metadata'"
        " ELSE 'name' END"
        " FROM spans WHERE project_id = ?2 AND root_span_id = ?3 AND ("
        " name LIKE ?1 ESCAPE '\\' OR input LIKE ?1 ESCAPE '\\' OR output LIKE ?1 ESCAPE '\\'"
        " OR expected LIKE ?1 ESCAPE '\\' OR error LIKE ?1 ESCAPE '\\' OR metadata LIKE ?1 ESCAPE '\\')"
        " ORDER BY start_ts, rid LIMIT ?4",
        (like, info.project_id, info.root_span_id, limit),
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def ancestors(store: Store, info: TraceInfo, span_id: str) -> list[str]:
    """span ids from the top of the tree down to (not including) ``span_id``, as the tree
    shows it (a detached span hangs under the root)."""
    chain: list[str] = []
    current = span_id
    seen = {span_id}
    while current != info.root_span_id:
        if current in info.detached:
            if info.home is not None:
                chain.append(info.home)
            break
        row = store.conn.execute(
            "SELECT parent_id FROM spans WHERE project_id = ? AND root_span_id = ? AND span_id = ?",
            (info.project_id, info.root_span_id, current),
        ).fetchone()
        if not row or not row[0] or row[0] in seen:
            break
        chain.append(row[0])
        seen.add(row[0])
        current = row[0]
    return list(reversed(chain))
