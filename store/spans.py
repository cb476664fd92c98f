"""The span write path: a validated span becomes a ``SpanRecord`` (its column values), and
``write_spans`` upserts batches of them, with their comments, for both the importer
(store/jsonl.py) and the logging API (``log_spans``). Also the bookkeeping a write owes the
query planner: the search index and side tables, and how far spans precede their roots."""

from __future__ import annotations

import sqlite3
from typing import Any, Iterable, NamedTuple, Optional

import orjson

from .connection import Store
from .errors import InputError
from .jsontext import dumps, loads
from .models import Comment, SpanIn, check_depth, comment_id, content_id, format_ts, from_unix, now_iso
from .projects import project_id


class SpanRecord(NamedTuple):
    """One span's column values, in the order of ``_UPSERT``'s parameters.

    In bulk, pass ``tuple(record)`` on: pickling a named tuple (the import's parser process
    hands its batches to the writer) costs ~2 us a row more than a plain tuple, unpickling
    calls its Python ``__new__``, and ``executemany`` binds an exact tuple faster than a
    subclass (together ~10% of the writer's time on 200k spans). ``write_spans`` takes either."""

    project_id: int
    id: str
    span_id: str
    root_span_id: str
    parent_id: Optional[str]
    span_parents: Optional[str]  # JSON text
    is_root: int
    created: str
    name: Optional[str]
    type: Optional[str]
    start_ts: Optional[float]
    end_ts: Optional[float]
    input: Optional[str]  # JSON text, as are the fields below
    output: Optional[str]
    expected: Optional[str]
    error: Optional[str]
    scores: str
    metadata: str
    metrics: str
    tags: str
    span_attributes: str
    created_given: int  # 1: ``created`` came with the span, so an update may change it


_new_record = tuple.__new__  # SpanRecord's own __new__ is a Python call with 22 arguments: slower


# An update only when a value differs: re-importing the same rows changes nothing.
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


def span_record(pid: int, span: SpanIn, raw: bytes | str | None = None, import_time: str | None = None) -> SpanRecord:
    """The record of one validated span. ``raw`` (the span's JSON) gives an id to a span
    without one; ``import_time`` is the ``created`` of a span with neither it nor metrics.start."""
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
            try:
                created = format_ts(from_unix(start, "metrics.start"))
            except ValueError as exc:
                raise InputError(str(exc)) from None
        else:
            created = import_time or now_iso()
    return _new_record(SpanRecord, (
        pid,
        rid,
        span_id,
        root,
        parents[0] if parents else None,
        dumps(parents).decode() if parents else None,
        1 if span_id == root else 0,
        created,
        attrs.get("name"),
        attrs.get("type"),
        metrics.get("start"),
        metrics.get("end"),
        None if span.input is None else dumps(span.input).decode(),
        None if span.output is None else dumps(span.output).decode(),
        None if span.expected is None else dumps(span.expected).decode(),
        None if span.error is None else dumps(span.error).decode(),
        dumps(span.scores or {}).decode(),
        dumps(span.metadata or {}).decode(),
        dumps(metrics).decode(),
        dumps(span.tags or []).decode(),
        dumps(attrs).decode(),
        1 if created_given else 0,
    ))


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
    conn: sqlite3.Connection, pid: int, batch: list[tuple[SpanRecord | tuple, Optional[list[Comment]]]], *,
    index: bool = True,
) -> int:
    """The span writer: upsert a batch of (record, comments) inside the caller's write
    transaction. A record may arrive as a plain tuple (see ``SpanRecord``). A row a person
    edited keeps those edits (``keep_human_edits``); returns how many rows of the batch did.

    With ``index=False`` the caller promises to call ``index_new_rows`` itself before commit
    (the bulk importer does it every few batches: fewer, larger FTS segments)."""
    batch, kept = keep_human_edits(conn, pid, batch)
    before = max_rid(conn) if index else 0
    conn.executemany(_UPSERT, [rec for rec, _ in batch])
    if index:
        index_new_rows(conn, before)
    for rec, comments in batch:
        if comments:
            rec = SpanRecord._make(rec)
            rid = conn.execute(
                "SELECT rid FROM spans WHERE project_id = ? AND id = ?", (pid, rec.id)
            ).fetchone()[0]
            conn.executemany(
                "INSERT OR IGNORE INTO comments (id, span_rid, text, author, created) VALUES (?, ?, ?, ?, ?)",
                [
                    (c.id or comment_id(rec.id, c), rid, c.text, c.author, c.created or rec.created)
                    for c in comments
                ],
            )
    return kept


# --- human edits survive re-imports -------------------------------------------------------------
#
# A row's scores, tags, expected and metadata may have been changed by a person (feedback, the
# TUI, batch tags) after it was logged. Re-importing an older export, or the application
# logging the same id again, must not silently take those edits back. The audit table knows
# every such edit (object_type 'span', field scores/tags/expected/metadata; migration v7
# indexes just those), so the writer merges:
#   scores, metadata: per name, the person's value wins (a name they removed stays removed);
#   tags: the imported tags, minus those a person removed, plus those a person added;
#   expected: the person's value wins.
# Everything else comes from the import. Rows nobody edited cost one index probe per batch.

_HUMAN_FIELDS = "('scores', 'tags', 'expected', 'metadata')"
_REMOVED: Any = object()
# Positions in SpanRecord.
_EXPECTED, _SCORES, _METADATA, _TAGS = 14, 16, 17, 19


class _HumanLayer:
    __slots__ = ("scores", "metadata", "tags", "expected")

    def __init__(self) -> None:
        self.scores: dict[str, Any] = {}  # name -> value, or _REMOVED
        self.metadata: dict[str, Any] = {}
        self.tags: dict[str, bool] = {}  # tag -> added (True) / removed (False), last edit wins
        self.expected: Any = _REMOVED  # _REMOVED: never edited

    def add(self, fld: str, before: Any, after: Any) -> None:
        if fld in ("scores", "metadata"):
            b = before if isinstance(before, dict) else {}
            a = after if isinstance(after, dict) else {}
            layer = self.scores if fld == "scores" else self.metadata
            for k, v in a.items():
                if k not in b or b[k] != v or type(b[k]) is not type(v):
                    layer[k] = v
            for k in b:
                if k not in a:
                    layer[k] = _REMOVED
        elif fld == "tags":
            b = before if isinstance(before, list) else []
            a = after if isinstance(after, list) else []
            for t in a:
                if t not in b:
                    self.tags[t] = True
            for t in b:
                if t not in a:
                    self.tags[t] = False
        elif fld == "expected":
            self.expected = after

    def merge(self, rec: tuple) -> tuple:
        """``rec`` with this person's edits laid over its imported values."""
        out = list(rec)
        for pos, layer in ((_SCORES, self.scores), (_METADATA, self.metadata)):
            if layer:
                value = loads(rec[pos])
                if not isinstance(value, dict):
                    value = {}
                for k, v in layer.items():
                    if v is _REMOVED:
                        value.pop(k, None)
                    else:
                        value[k] = v
                out[pos] = dumps(value).decode()
        if self.tags:
            tags = loads(rec[_TAGS])
            kept = [t for t in tags if self.tags.get(t) is not False]
            out[_TAGS] = dumps(kept + [t for t, added in self.tags.items() if added and t not in kept]).decode()
        if self.expected is not _REMOVED:
            out[_EXPECTED] = None if self.expected is None else dumps(self.expected).decode()
        return tuple(out)


def keep_human_edits(conn: sqlite3.Connection, pid: int, batch: list) -> tuple[list, int]:
    """``batch`` with the human edits of its rows laid over the imported values, and how many
    rows that changed (see the note above). One indexed probe when the project has no edits."""
    if not batch or conn.execute(
        f"SELECT 1 FROM audit WHERE project_id = ? AND object_type = 'span' AND field IN {_HUMAN_FIELDS} LIMIT 1",
        (pid,),
    ).fetchone() is None:
        return batch, 0
    ids = dumps([rec[1] for rec, _ in batch]).decode()
    layers: dict[str, _HumanLayer] = {}
    for object_id, fld, before, after in conn.execute(
        f"SELECT object_id, field, before, after FROM audit WHERE project_id = ? AND object_type = 'span'"
        f" AND field IN {_HUMAN_FIELDS} AND object_id IN (SELECT value FROM json_each(?)) ORDER BY id",
        (pid, ids),
    ):
        layer = layers.get(object_id)
        if layer is None:
            layer = layers[object_id] = _HumanLayer()
        layer.add(fld, None if before is None else loads(before), None if after is None else loads(after))
    if not layers:
        return batch, 0
    out, kept = [], 0
    for rec, comments in batch:
        layer = layers.get(rec[1])
        if layer is not None:
            merged = layer.merge(rec)
            if merged != tuple(rec):
                kept += 1
                rec = merged
        out.append((rec, comments))
    return out, kept


# --- how far spans precede their roots (see migration v6) --------------------------------------


def _seconds_between(later: str, earlier: str) -> float:
    from datetime import datetime

    return (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds()


class TraceTimes:
    """Collects, from written records, each trace's root ``created`` and its earliest non-root
    ``created``; ``settle()`` pairs them. Cheap enough for the import's parser (which runs
    beside the writer) to do for every row."""

    def __init__(self) -> None:
        self.roots: dict[str, str] = {}
        self.kids: dict[str, str] = {}
        self.paired_lead: Optional[float] = None

    def add(self, rec: SpanRecord) -> None:
        root, created = rec.root_span_id, rec.created
        if rec.is_root:
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


def _check_depths(span: SpanIn) -> None:
    """The import's JSON parser refuses values nested deeper than MAX_JSON_DEPTH; a span
    logged from Python objects gets the same rule (so its export can be imported again)."""
    for name in ("input", "output", "expected", "error", "metadata", "span_attributes"):
        try:
            check_depth(getattr(span, name), name)
        except ValueError as exc:
            raise InputError(str(exc)) from None


def log_spans(store: Store, project: str, spans: Iterable[dict | SpanIn]) -> list[str]:
    """Validate and upsert spans (the Python logging API); returns their ids."""
    pid = project_id(store, project)
    batch = []
    times = TraceTimes()
    for s in spans:
        span = s if isinstance(s, SpanIn) else SpanIn.model_validate(s)
        _check_depths(span)
        raw = None if span.id else dumps(span.model_dump(mode="json", exclude=set(span.model_extra or ())),
                                         option=orjson.OPT_SORT_KEYS)
        rec = span_record(pid, span, raw)
        batch.append((rec, span.comments))
        times.add(rec)
    with store.write() as conn:
        before, had_rows = max_rid(conn), project_has_rows(conn, pid)
        write_spans(conn, pid, batch)
        record_trace_times(conn, pid, times, before, had_rows)
    return [rec.id for rec, _ in batch]
