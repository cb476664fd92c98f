"""Projects, spans, comments, feedback and the audit trail."""

from __future__ import annotations

import getpass
import hashlib
import os
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Optional

import orjson

from .connection import Store
from .errors import InputError, NotFound, StoreError
from .models import SPAN_KEYS, Comment, FeedbackIn, SpanIn, content_id, format_ts, now_iso

JSON_COLUMNS = ("input", "output", "expected", "error", "scores", "metadata", "metrics", "tags", "span_attributes")

def _dumps(value: Any, option: Optional[int] = None) -> bytes:
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


def default_author() -> str:
    for var in ("BT_TUI_AUTHOR",):
        if os.environ.get(var):
            return os.environ[var]
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def dumps_text(value: Any) -> str:
    return _dumps(value).decode()


def _json_or_null(value: Any) -> Optional[str]:
    return None if value is None else _dumps(value).decode()


# --- projects ---------------------------------------------------------------------------------


def project_id(store: Store, name: str, *, create: bool = True) -> int:
    conn = store.conn
    row = conn.execute("SELECT id FROM projects WHERE name = ?", (name,)).fetchone()
    if row:
        return row[0]
    if not create:
        raise NotFound(f"no project named {name!r}")
    with store.write() as c:
        c.execute(
            "INSERT INTO projects (name, created) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            (name, now_iso()),
        )
        return c.execute("SELECT id FROM projects WHERE name = ?", (name,)).fetchone()[0]


@dataclass
class ProjectInfo:
    name: str
    spans: int
    traces: int
    last: Optional[str]


def list_projects(store: Store) -> list[ProjectInfo]:
    rows = store.db.query(
        """
        SELECT p.name,
               (SELECT count(*) FROM spans s WHERE s.project_id = p.id) AS spans,
               (SELECT count(*) FROM spans s WHERE s.project_id = p.id AND s.is_root = 1) AS traces,
               (SELECT max(created) FROM spans s WHERE s.project_id = p.id) AS last
        FROM projects p ORDER BY p.name
        """
    )
    return [ProjectInfo(**r) for r in rows]


# --- writing spans ----------------------------------------------------------------------------

_UPSERT = """
INSERT INTO spans (project_id, id, span_id, root_span_id, parent_id, span_parents, is_root,
                   created, name, type, start_ts, end_ts, input, output, expected, error,
                   scores, metadata, metrics, tags, span_attributes)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)
ON CONFLICT (project_id, id) DO UPDATE SET
    span_id = excluded.span_id, root_span_id = excluded.root_span_id,
    parent_id = excluded.parent_id, span_parents = excluded.span_parents,
    is_root = excluded.is_root,
    created = iif(?22, excluded.created, spans.created),
    name = excluded.name, type = excluded.type,
    start_ts = excluded.start_ts, end_ts = excluded.end_ts,
    input = excluded.input, output = excluded.output, expected = excluded.expected,
    error = excluded.error, scores = excluded.scores, metadata = excluded.metadata,
    metrics = excluded.metrics, tags = excluded.tags, span_attributes = excluded.span_attributes
WHERE spans.span_id IS NOT excluded.span_id OR spans.root_span_id IS NOT excluded.root_span_id
   OR spans.span_parents IS NOT excluded.span_parents
   OR (?22 AND spans.created IS NOT excluded.created)
   OR spans.input IS NOT excluded.input OR spans.output IS NOT excluded.output
   OR spans.expected IS NOT excluded.expected OR spans.error IS NOT excluded.error
   OR spans.scores IS NOT excluded.scores OR spans.metadata IS NOT excluded.metadata
   OR spans.metrics IS NOT excluded.metrics OR spans.tags IS NOT excluded.tags
   OR spans.span_attributes IS NOT excluded.span_attributes
"""


def span_params(pid: int, span: SpanIn, raw: bytes | str | None = None, import_time: str | None = None) -> tuple:
    """The bound parameters of ``_UPSERT`` for one validated span."""
    rid = span.id or (content_id(raw) if raw is not None else None)
    if rid is None:
        raise InputError("row has no id")
    span_id = span.span_id or rid
    parents = span.span_parents or None
    root = span.root_span_id or (span_id if not parents else None)
    if root is None:
        raise InputError("span has span_parents but no root_span_id")
    metrics = span.metrics or {}
    attrs = span.span_attributes or {}
    created = span.created
    created_given = created is not None
    if created is None:
        start = metrics.get("start")
        if isinstance(start, (int, float)):
            from .models import from_unix

            try:
                created = format_ts(from_unix(start, "metrics.start"))
            except ValueError as exc:
                raise InputError(str(exc)) from None
        else:
            created = import_time or now_iso()
    start_ts = metrics.get("start")
    end_ts = metrics.get("end")
    return (
        pid,
        rid,
        span_id,
        root,
        parents[0] if parents else None,
        _dumps(parents).decode() if parents else None,
        1 if span_id == root else 0,
        created,
        attrs.get("name"),
        attrs.get("type"),
        start_ts,
        end_ts,
        None if span.input is None else _dumps(span.input).decode(),
        None if span.output is None else _dumps(span.output).decode(),
        None if span.expected is None else _dumps(span.expected).decode(),
        None if span.error is None else _dumps(span.error).decode(),
        _dumps(span.scores or {}).decode(),
        _dumps(span.metadata or {}).decode(),
        _dumps(metrics).decode(),
        _dumps(span.tags or []).decode(),
        _dumps(attrs).decode(),
        1 if created_given else 0,
    )


def comment_id(row_id: str, c: Comment) -> str:
    h = hashlib.sha1(f"{row_id}\x00{c.author}\x00{c.created}\x00{c.text}".encode()).hexdigest()
    return "c-" + h[:20]


def index_new_rows(conn: sqlite3.Connection, after_rid: int) -> None:
    """Add rows inserted after ``after_rid`` to the full-text index and the score/tag side
    tables, one statement each (see the note in the v2 migration)."""
    conn.execute(
        "INSERT INTO spans_fts (rowid, input, output, expected, metadata)"
        " SELECT rid, input, output, expected, metadata FROM spans WHERE rid > ?",
        (after_rid,),
    )
    conn.execute(
        "INSERT INTO span_scores (span_rid, name, value)"
        " SELECT s.rid, j.key, j.value FROM spans s, json_each(s.scores) j"
        " WHERE s.rid > ? AND s.scores <> '{}'",
        (after_rid,),
    )
    conn.execute(
        "INSERT OR IGNORE INTO span_tags (span_rid, tag)"
        " SELECT s.rid, j.value FROM spans s, json_each(s.tags) j"
        " WHERE s.rid > ? AND s.tags <> '[]' AND j.type = 'text'",
        (after_rid,),
    )
    # Rows up to here are indexed: from now on the update/delete triggers keep them in step.
    conn.execute("UPDATE index_state SET indexed_rid = (SELECT coalesce(max(rid), 0) FROM spans)")


def max_rid(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT coalesce(max(rid), 0) FROM spans").fetchone()[0]


def write_spans(
    conn: sqlite3.Connection, pid: int, batch: list[tuple[tuple, Optional[list[Comment]]]], *, index: bool = True
) -> None:
    """Upsert a batch of (params, comments) inside the caller's write transaction.

    With ``index=False`` the caller promises to call ``index_new_rows`` itself before commit
    (the bulk importer does it every few batches: fewer, larger FTS segments)."""
    before = max_rid(conn) if index else 0
    conn.executemany(_UPSERT, [p for p, _ in batch])
    if index:
        index_new_rows(conn, before)
    for params, comments in batch:
        if comments:
            rid = conn.execute(
                "SELECT rid FROM spans WHERE project_id = ? AND id = ?", (pid, params[1])
            ).fetchone()[0]
            conn.executemany(
                "INSERT OR IGNORE INTO comments (id, span_rid, text, author, created) VALUES (?, ?, ?, ?, ?)",
                [
                    (c.id or comment_id(params[1], c), rid, c.text, c.author, c.created or params[7])
                    for c in comments
                ],
            )


# --- how far spans precede their roots (see migration v6) --------------------------------------


def _seconds_between(later: str, earlier: str) -> float:
    from datetime import datetime

    return (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds()


class TraceTimes:
    """Collects, from the params of written spans, each trace's root ``created`` and its
    earliest non-root ``created``; ``settle()`` pairs them. Cheap enough for the import's
    parser (which runs beside the writer) to do for every row."""

    def __init__(self) -> None:
        self.roots: dict[str, str] = {}
        self.kids: dict[str, str] = {}
        self.paired_lead: Optional[float] = None

    def add(self, params: tuple) -> None:
        root, created = params[3], params[7]
        if params[6]:
            self.roots[root] = created
        else:
            first = self.kids.get(root)
            if first is None or created < first:  # canonical ISO-8601 text sorts as time
                self.kids[root] = created

    def settle(self) -> "TraceTimes":
        """Fold the pairs seen here into ``paired_lead``; keep only the unpaired children
        (their root may be in the database) and the roots (their children may be)."""
        lead = 0.0
        for root, first in self.kids.items():
            created = self.roots.get(root)
            if created is not None and first < created:
                lead = max(lead, _seconds_between(created, first))
        self.kids = {r: c for r, c in self.kids.items() if r not in self.roots}
        self.paired_lead = lead
        return self


def _stored_times(conn: sqlite3.Connection, select: str, params: tuple, wanted: dict[str, str]):
    """(stored created, wanted created) per trace that ``select`` finds among those in
    ``wanted``, 500 ids a statement. ``select`` ends with ``root_span_id IN ({})``."""
    items = list(wanted.items())
    for i in range(0, len(items), 500):
        chunk = dict(items[i:i + 500])
        sql = select.format(", ".join("?" for _ in chunk))
        for root, created in conn.execute(sql, (*params, *chunk)):
            yield created, chunk[root]


def record_trace_times(conn: sqlite3.Connection, pid: int, times: TraceTimes, before_rid: int,
                       project_had_rows: bool) -> float:
    """Raise the project's ``max_lead`` with what a write brought: pairs within the write, its
    children whose root was already stored, and (when the project had rows) its roots whose
    children were already stored. Inside the caller's write transaction."""
    if times.paired_lead is None:
        times.settle()
    lead = times.paired_lead or 0.0
    for root_created, first_kid in _stored_times(
        conn, "SELECT root_span_id, created FROM spans WHERE project_id = ? AND is_root = 1"
              " AND root_span_id IN ({})", (pid,), times.kids,
    ):
        if first_kid < root_created:
            lead = max(lead, _seconds_between(root_created, first_kid))
    if project_had_rows:
        for first_kid, root_created in _stored_times(
            conn, "SELECT root_span_id, min(created) FROM spans WHERE project_id = ? AND is_root = 0"
                  " AND rid <= ? AND root_span_id IN ({}) GROUP BY root_span_id", (pid, before_rid), times.roots,
        ):
            if first_kid < root_created:
                lead = max(lead, _seconds_between(root_created, first_kid))
    conn.execute(
        "INSERT INTO project_stats (project_id, max_lead) VALUES (?, ?) ON CONFLICT (project_id)"
        " DO UPDATE SET max_lead = max(max_lead, excluded.max_lead)",
        (pid, lead),
    )
    return lead


def project_has_rows(conn: sqlite3.Connection, pid: int) -> bool:
    return conn.execute("SELECT 1 FROM spans WHERE project_id = ? LIMIT 1", (pid,)).fetchone() is not None


def max_lead(conn: sqlite3.Connection, pid: int) -> float:
    """Seconds by which some span of the project was created before its trace's root (>= 0)."""
    row = conn.execute("SELECT max_lead FROM project_stats WHERE project_id = ?", (pid,)).fetchone()
    return float(row[0]) if row else 0.0


def log_spans(store: Store, project: str, spans: Iterable[dict | SpanIn]) -> list[str]:
    """Validate and upsert spans (the Python logging API); returns their ids."""
    pid = project_id(store, project)
    batch = []
    for s in spans:
        span = s if isinstance(s, SpanIn) else SpanIn.model_validate(s)
        raw = None if span.id else _dumps(span.model_dump(mode="json", exclude=set(span.model_extra or ())),
                                          option=orjson.OPT_SORT_KEYS)
        batch.append((span_params(pid, span, raw), span.comments))
    times = TraceTimes()
    for params, _ in batch:
        times.add(params)
    with store.write() as conn:
        before, had_rows = max_rid(conn), project_has_rows(conn, pid)
        write_spans(conn, pid, batch)
        record_trace_times(conn, pid, times, before, had_rows)
    return [p[1] for p, _ in batch]


# --- reading spans ----------------------------------------------------------------------------

_EXPORT_COLUMNS = """s.rid, s.id, s.span_id, s.root_span_id, s.span_parents, s.created,
    s.input, s.output, s.expected, s.error, s.scores, s.metadata, s.metrics, s.tags, s.span_attributes,
    CASE WHEN EXISTS (SELECT 1 FROM comments c WHERE c.span_rid = s.rid) THEN
    (SELECT json_group_array(json_object('id', c.id, 'text', c.text, 'author', c.author, 'created', c.created))
       FROM (SELECT * FROM comments c WHERE c.span_rid = s.rid ORDER BY c.created, c.id) c) END"""


# The export line built inside SQLite (C string operations; Python only writes the lines).
# Same bytes as ``row_to_json_line``: stored JSON text is spliced in as it is.
_EXPORT_LINE = """'{"id":' || json_quote(s.id) || ',"span_id":' || json_quote(s.span_id)
    || ',"root_span_id":' || json_quote(s.root_span_id) || ',"span_parents":' || coalesce(s.span_parents, 'null')
    || ',"created":' || json_quote(s.created) || ',"input":' || coalesce(s.input, 'null')
    || ',"output":' || coalesce(s.output, 'null') || ',"expected":' || coalesce(s.expected, 'null')
    || ',"error":' || coalesce(s.error, 'null') || ',"scores":' || s.scores || ',"metadata":' || s.metadata
    || ',"metrics":' || s.metrics || ',"tags":' || s.tags || ',"span_attributes":' || s.span_attributes
    || ',"comments":' || CASE WHEN EXISTS (SELECT 1 FROM comments c WHERE c.span_rid = s.rid)
        THEN (SELECT json_group_array(json_object('id', c.id, 'text', c.text, 'author', c.author,
                'created', c.created))
              FROM (SELECT * FROM comments c WHERE c.span_rid = s.rid ORDER BY c.created, c.id) c)
        ELSE '[]' END || '}'"""


def iter_export_lines(
    store: Store, project: str, *, where: str = "", params: tuple = (), order: str = "s.rid", batch: int = 5000
) -> Iterator[str]:
    """Like ``iter_export_rows`` but yields finished JSONL lines (no newline)."""
    pid = project_id(store, project, create=False) if not store.readonly else _ro_project_id(store, project)
    sql = f"SELECT {_EXPORT_LINE} FROM spans s WHERE s.project_id = ?{len(params) + 1}"
    if where:
        sql += f" AND ({where})"
    sql += f" ORDER BY {order}"
    cur = store.conn.execute(sql, (*params, pid))
    while True:
        rows = cur.fetchmany(batch)
        if not rows:
            return
        for (line,) in rows:
            yield line


def _lines_where_in(store: Store, project: str, column: str, keys: list[str]) -> Iterator[str]:
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        marks = ", ".join(f"?{k + 1}" for k in range(len(chunk)))
        yield from iter_export_lines(store, project, where=f"s.{column} IN ({marks})", params=tuple(chunk),
                                     order="s.created, s.rid")


def iter_row_lines(store: Store, project: str, row_ids: list[str]) -> Iterator[str]:
    """Export lines of the given rows (by id)."""
    return _lines_where_in(store, project, "id", list(row_ids))


def iter_trace_lines(store: Store, project: str, root_span_ids: list[str]) -> Iterator[str]:
    """Export lines of every span of the given traces."""
    return _lines_where_in(store, project, "root_span_id", list(root_span_ids))


def _s(value: Optional[str]) -> str:
    return "null" if value is None else value


def row_to_json_line(r: tuple) -> str:
    """Splice stored JSON text into an export line without re-parsing it."""
    q = _dumps
    return (
        '{"id":' + q(r[1]).decode()
        + ',"span_id":' + q(r[2]).decode()
        + ',"root_span_id":' + q(r[3]).decode()
        + ',"span_parents":' + _s(r[4])
        + ',"created":' + q(r[5]).decode()
        + ',"input":' + _s(r[6])
        + ',"output":' + _s(r[7])
        + ',"expected":' + _s(r[8])
        + ',"error":' + _s(r[9])
        + ',"scores":' + r[10]
        + ',"metadata":' + r[11]
        + ',"metrics":' + r[12]
        + ',"tags":' + r[13]
        + ',"span_attributes":' + r[14]
        + ',"comments":' + (r[15] or "[]")
        + "}"
    )


def row_to_dict(r: tuple) -> dict:
    return orjson.loads(row_to_json_line(r))


def iter_export_rows(
    store: Store, project: str, *, where: str = "", params: tuple = (), order: str = "s.rid", batch: int = 5000
) -> Iterator[tuple]:
    """Stream rows of a project (optionally filtered by a compiled WHERE fragment)."""
    pid = project_id(store, project, create=False) if not store.readonly else _ro_project_id(store, project)
    # ``where`` may use numbered parameters (?1, ?2, ... from the query compiler): the
    # project id takes the next free number.
    sql = f"SELECT {_EXPORT_COLUMNS} FROM spans s WHERE s.project_id = ?{len(params) + 1}"
    if where:
        sql += f" AND ({where})"
    sql += f" ORDER BY {order}"
    cur = store.conn.execute(sql, (*params, pid))
    while True:
        rows = cur.fetchmany(batch)
        if not rows:
            return
        yield from rows


def _ro_project_id(store: Store, project: str) -> int:
    row = store.conn.execute("SELECT id FROM projects WHERE name = ?", (project,)).fetchone()
    if not row:
        raise NotFound(f"no project named {project!r}")
    return row[0]


def count_spans(store: Store, project: str) -> int:
    pid = _ro_project_id(store, project)
    return store.conn.execute("SELECT count(*) FROM spans WHERE project_id = ?", (pid,)).fetchone()[0]


def get_span(store: Store, project: str, row_id: str) -> dict:
    pid = _ro_project_id(store, project)
    row = store.conn.execute(
        f"SELECT {_EXPORT_COLUMNS} FROM spans s WHERE s.project_id = ? AND s.id = ?", (pid, row_id)
    ).fetchone()
    if not row:
        raise NotFound(f"no row with id {row_id!r} in project {project!r}")
    return row_to_dict(row)


# --- feedback, comments, tags, audit ----------------------------------------------------------


def audit(conn: sqlite3.Connection, pid: int, object_type: str, object_id: str, fld: str, author: str,
          before: Any, after: Any) -> None:
    conn.execute(
        "INSERT INTO audit (project_id, object_type, object_id, field, author, created, before, after)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (pid, object_type, object_id, fld, author, now_iso(), _json_or_null(before), _json_or_null(after)),
    )


@dataclass
class FeedbackResult:
    row_id: str
    scores: dict = field(default_factory=dict)
    tags: list = field(default_factory=list)
    expected: Any = None
    comment_id: Optional[str] = None


def apply_feedback(store: Store, project: str, row_id: str, fb: FeedbackIn) -> FeedbackResult:
    """Braintrust's merge semantics: scores merge, tags are added, expected is replaced,
    metadata merges, a comment is appended. Every change is audited. Atomic."""
    pid = project_id(store, project, create=False)
    with store.write() as conn:
        row = conn.execute(
            "SELECT rid, scores, tags, expected, metadata FROM spans WHERE project_id = ? AND id = ?",
            (pid, row_id),
        ).fetchone()
        if not row:
            raise NotFound(f"no row with id {row_id!r} in project {project!r}")
        rid, scores_t, tags_t, expected_t, metadata_t = row
        scores = orjson.loads(scores_t)
        tags = orjson.loads(tags_t)
        result = FeedbackResult(row_id=row_id)
        if fb.scores:
            new_scores = {**scores, **fb.scores}
            if new_scores != scores:
                conn.execute("UPDATE spans SET scores = ? WHERE rid = ?", (dumps_text(new_scores), rid))
                audit(conn, pid, "span", row_id, "scores", fb.author, scores, new_scores)
            scores = new_scores
        if fb.tags:
            new_tags = list(tags) + [t for t in dict.fromkeys(fb.tags) if t not in tags]
            if new_tags != tags:
                conn.execute("UPDATE spans SET tags = ? WHERE rid = ?", (dumps_text(new_tags), rid))
                audit(conn, pid, "span", row_id, "tags", fb.author, tags, new_tags)
            tags = new_tags
        expected = None if expected_t is None else orjson.loads(expected_t)
        if fb.has_expected:
            conn.execute("UPDATE spans SET expected = ? WHERE rid = ?", (_json_or_null(fb.expected), rid))
            audit(conn, pid, "span", row_id, "expected", fb.author, expected, fb.expected)
            expected = fb.expected
        if fb.metadata:
            metadata = orjson.loads(metadata_t)
            new_md = {**metadata, **fb.metadata}
            conn.execute("UPDATE spans SET metadata = ? WHERE rid = ?", (dumps_text(new_md), rid))
            audit(conn, pid, "span", row_id, "metadata", fb.author, metadata, new_md)
        if fb.comment is not None:
            c = Comment(text=fb.comment, author=fb.author, created=now_iso())
            c.id = comment_id(row_id, c)
            conn.execute(
                "INSERT INTO comments (id, span_rid, text, author, created) VALUES (?, ?, ?, ?, ?)",
                (c.id, rid, c.text, c.author, c.created),
            )
            audit(conn, pid, "span", row_id, "comment", fb.author, None, {"id": c.id, "text": c.text})
            result.comment_id = c.id
        result.scores, result.tags, result.expected = scores, tags, expected
        return result


def set_tags(store: Store, project: str, row_id: str, tags: list[str], author: str) -> list[str]:
    """Replace a row's tags (the TUI's tag editor), audited."""
    pid = project_id(store, project, create=False)
    clean = list(dict.fromkeys(t.strip() for t in tags if t.strip()))
    with store.write() as conn:
        row = conn.execute("SELECT rid, tags FROM spans WHERE project_id = ? AND id = ?", (pid, row_id)).fetchone()
        if not row:
            raise NotFound(f"no row with id {row_id!r} in project {project!r}")
        before = orjson.loads(row[1])
        if before != clean:
            conn.execute("UPDATE spans SET tags = ? WHERE rid = ?", (dumps_text(clean), row[0]))
            audit(conn, pid, "span", row_id, "tags", author, before, clean)
    return clean


def audit_log(store: Store, object_id: Optional[str] = None, limit: int = 100) -> list[dict]:
    """The newest audit entries (of one object when ``object_id`` is given), before/after decoded."""
    where, params = ("object_id = ?", [object_id]) if object_id else (None, None)
    rows = store.db["audit"].rows_where(
        where, params, select="object_type, object_id, field, author, created, before, after",
        order_by="id DESC", limit=limit,
    )
    return [
        {**r, "before": None if r["before"] is None else orjson.loads(r["before"]),
         "after": None if r["after"] is None else orjson.loads(r["after"])}
        for r in rows
    ]


__all__ = [
    "SPAN_KEYS", "StoreError", "InputError", "NotFound", "project_id", "list_projects", "log_spans",
    "iter_export_rows", "row_to_json_line", "row_to_dict", "get_span", "apply_feedback", "set_tags",
    "audit_log", "count_spans", "default_author",
]


def retag(store: Store, project: str, row_ids: Iterable[str], *, add: Iterable[str] = (),
          remove: Iterable[str] = (), author: str) -> int:
    """Add and/or remove tags on many rows (batch action), audited per row. Returns how many
    rows changed. Works in transactions of 1,000 rows so other writers are not held up."""
    add_l = [t.strip() for t in add if t.strip()]
    rem = {t.strip() for t in remove if t.strip()}
    pid = project_id(store, project, create=False)
    changed = 0
    chunk: list[str] = []

    def flush(ids: list[str]) -> int:
        n = 0
        with store.write() as conn:
            marks = ", ".join("?" for _ in ids)
            for rid, rowid, tags_t in conn.execute(
                f"SELECT id, rid, tags FROM spans WHERE project_id = ? AND id IN ({marks})", (pid, *ids)
            ).fetchall():
                before = orjson.loads(tags_t)
                after = [t for t in before if t not in rem] + [t for t in dict.fromkeys(add_l) if t not in before]
                if after != before:
                    conn.execute("UPDATE spans SET tags = ? WHERE rid = ?", (dumps_text(after), rowid))
                    audit(conn, pid, "span", rid, "tags", author, before, after)
                    n += 1
        return n

    for row_id in row_ids:
        chunk.append(row_id)
        if len(chunk) >= 1000:
            changed += flush(chunk)
            chunk = []
    if chunk:
        changed += flush(chunk)
    return changed


def add_comment(store: Store, project: str, row_id: str, text: str, author: str) -> str:
    fb = FeedbackIn(comment=text, author=author)
    res = apply_feedback(store, project, row_id, fb)
    return res.comment_id or ""
