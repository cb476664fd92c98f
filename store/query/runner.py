"""Full queries (`bt-tui query`): SQL form or BTQL clauses, in the spans, traces or summary
shape, with dimensions and measures; JSON-ready rows. Opens nothing: the caller's store may be
read-only."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

import orjson

from ..connection import Store, time_limit
from ..errors import NotFound
from ..export import COMMENTS_JSON, EXPORT_LINE
from ..projects import project_id
from .btql import Node, Path, Query, SelectItem, parse_query, walk_nodes
from .compiler import Compiler, Val, find_aggregate, sql_error
from .pager import Row, summarise_traces


ID_FIELDS = ("id", "span_id", "root_span_id")


@dataclass
class Result:
    columns: list
    rows: list  # list of lists, JSON-ready values
    truncated: bool = False
    id_columns: frozenset = frozenset()  # indexes of columns holding row/span/trace ids (never cut them)

    def __post_init__(self) -> None:
        if not self.id_columns:  # whole rows (SELECT *, the summary shape): by key
            self.id_columns = frozenset(i for i, c in enumerate(self.columns) if c in ID_FIELDS)


def _ids_of(items: list) -> frozenset:
    """Which select items are a bare id path (``id``, ``span_id``, ``root_span_id``)."""
    return frozenset(i for i, it in enumerate(items)
                     if isinstance(it.expr, Path) and len(it.expr.parts) == 1 and it.expr.parts[0] in ID_FIELDS)


DEFAULT_LIMIT = 1000


def _has_agg(node: Node) -> bool:
    return find_aggregate(node) is not None


def _json_out(c: Compiler, item: SelectItem) -> tuple[str, bool]:
    """SQL for a select item and whether its result is JSON text to decode."""
    e = item.expr
    if isinstance(e, Path) and len(e.parts) == 1 and e.parts[0] in (
        "input", "output", "expected", "error", "scores", "metadata", "metrics", "tags", "span_attributes", "span_parents"
    ):
        return f"s.{e.parts[0]}", True
    if isinstance(e, Path) and len(e.parts) == 1 and e.parts[0] == "comments":
        return COMMENTS_JSON, True  # the list export gives: [{id, text, author, created}]
    v: Val = c.value(e)
    if v.col is not None and v.jpath is not None:
        return f"({v.col} -> {c.p(v.jpath)})", True
    return v.sql, False


def run_query(store: Store, text: str, default_project: str = "default", now: Optional[datetime] = None,
              *, timeout: Optional[float] = None) -> Result:
    """Run a full query. ``timeout`` (seconds; None or 0: none): past it SQLite stops and
    ``QueryTimeout`` is raised."""
    try:
        with time_limit(store.conn, timeout):
            return _run_query(store, text, default_project, now)
    except sqlite3.OperationalError as exc:
        raise sql_error(exc, text) from None


def _run_query(store: Store, text: str, default_project: str, now: Optional[datetime]) -> Result:
    q: Query = parse_query(text)
    if q.source == "dataset":
        return _dataset_query(store, text, q, default_project, now)
    project = q.source_arg or default_project
    if q.source == "experiment":  # its rows project underneath: every path and operator as for logs
        from ..experiments import get_experiment

        try:
            project = get_experiment(store, default_project, q.source_arg).rows_project
        except NotFound as exc:  # exit 2, naming the experiments there are
            from ..experiments import list_experiments

            names = [e.name for e in list_experiments(store, default_project, summaries=False)]
            raise NotFound(f"{exc} (experiments: {', '.join(repr(n) for n in names[-8:][::-1])})" if names
                           else f"{exc} (it has none yet)") from None
    pid = project_id(store, project, create=False)
    c = Compiler(text, pid, alias="s", now=now)
    p = c.p(pid)
    where = f"s.project_id = {p}"
    if q.filter is not None:
        if q.shape == "spans":
            where += f" AND {c.where(q.filter)}"
        else:
            c.alias = "f"
            inner = c.where(q.filter)
            c.alias = "s"
            where += f" AND s.root_span_id IN (SELECT f.root_span_id FROM spans f WHERE f.project_id = {p} AND {inner})"
    if q.shape == "summary" and not (q.dimensions or q.measures):
        return _summary_query(store, c, q, where)
    if q.shape == "summary":
        where += " AND s.is_root = 1"
        c.trace_model = True  # a root stands for its trace: its model is the trace's (see Compiler)

    limit = q.limit
    if _grouped(q):
        return _aggregate_query(store, c, q, "spans s", where)

    explicit_limit = limit is not None
    if limit is None:
        limit = DEFAULT_LIMIT
    if q.star or not q.select:
        order = _order_by(c, q, [], default="s.created DESC, s.rid DESC")
        sql = f"SELECT {EXPORT_LINE} FROM spans s WHERE {where}{order} LIMIT {c.p(limit + 1)}"
        dicts = [orjson.loads(line) for (line,) in store.conn.execute(sql, c.params)]
        truncated = len(dicts) > limit and not explicit_limit
        dicts = dicts[:limit]
        columns = list(dicts[0].keys()) if dicts else ["id", "created", "input", "output"]
        return Result(columns, [[d[k] for k in columns] for d in dicts], truncated)
    return _select_query(store, c, q, "spans s", where, "s.created DESC, s.rid DESC")


def _grouped(q: Query) -> bool:
    return bool(q.dimensions or q.measures or (q.select and any(_has_agg(i.expr) for i in q.select)))


def _aggregate_query(store: Store, c: Compiler, q: Query, source: str, where: str) -> Result:
    """Dimensions and measures (or a SELECT with aggregates) over ``source`` (aliased ``s``)."""
    if q.select and q.dimensions and all(any(d is s for s in q.select) for d in q.dimensions):
        items = q.select  # SQL form: the columns in the order they were selected
    else:
        items = (q.dimensions + q.measures) if (q.dimensions or q.measures) else q.select
    cols, decode = [], []
    for i, it in enumerate(items):
        sql, dec = _json_out(c, it) if not _has_agg(it.expr) else (c.value(it.expr).sql, False)
        cols.append(f"{sql} AS c{i}")
        decode.append(dec)
    group = ""
    dims = q.dimensions if (q.dimensions or q.measures) else [i for i in q.select if not _has_agg(i.expr)]
    if dims:
        idx = [str(next(i for i, it in enumerate(items) if it is d) + 1) for d in dims]
        group = " GROUP BY " + ", ".join(idx)
    order = _order_by(c, q, items, default=", ".join(idx) if dims else "")
    sql = f"SELECT {', '.join(cols)} FROM {source} WHERE {where}{group}{order}"
    if q.limit is not None:
        sql += f" LIMIT {c.p(q.limit)}"
    rows = [[_decode(v, d) for v, d in zip(r, decode)] for r in store.conn.execute(sql, c.params)]
    return Result([it.alias for it in items], rows, id_columns=_ids_of(items))


def _select_query(store: Store, c: Compiler, q: Query, source: str, where: str, default_order: str) -> Result:
    """A SELECT list (no aggregates) over ``source`` (aliased ``s``)."""
    limit = q.limit if q.limit is not None else DEFAULT_LIMIT
    cols, decode = [], []
    for i, it in enumerate(q.select):
        sql, dec = _json_out(c, it)
        cols.append(f"{sql} AS c{i}")
        decode.append(dec)
    order = _order_by(c, q, q.select, default=default_order)
    sql = f"SELECT {', '.join(cols)} FROM {source} WHERE {where}{order} LIMIT {c.p(limit + 1)}"
    rows = [[_decode(v, d) for v, d in zip(r, decode)] for r in store.conn.execute(sql, c.params)]
    truncated = len(rows) > limit and q.limit is None
    return Result([it.alias for it in q.select], rows[:limit], truncated, id_columns=_ids_of(q.select))


RECORD_JSON = ("input", "expected", "metadata", "tags", "origin")


def _dataset_query(store: Store, text: str, q: Query, project: str, now: Optional[datetime]) -> Result:
    """``FROM dataset('name')``: the records of one of the project's datasets as of its latest
    version (``store.datasets``' as-of rule on ``dataset_revisions``, aliased ``s`` so the
    shared SELECT, GROUP BY and ORDER BY code applies), in dataset order by default. Filters
    and expressions take the record fields (``RecordCompiler``)."""
    from ..datasets import get_dataset
    from .compiler import RECORD_FIELDS, RecordCompiler

    info = get_dataset(store, project, q.source_arg)  # NotFound: exit 2 with the store's message
    c = RecordCompiler(text, 0, alias="s", now=now)
    for item in (*q.select, *q.dimensions, *q.measures, *q.sort):  # the filter is checked by c.where
        for n in walk_nodes(item.expr):
            if isinstance(n, Path) and str(n.parts[0]).lower() not in RECORD_FIELDS:
                raise c.err(n, f"a dataset record has no field {str(n.parts[0])!r} (its fields: {', '.join(RECORD_FIELDS)})")
    latest = info.version or 0
    where = (f"s.dataset_id = {c.p(info.id)} AND s.version <= {c.p(latest)}"
             f" AND (s.until IS NULL OR s.until > {c.p(latest)}) AND s.deleted = 0")
    if q.filter is not None:
        where += f" AND {c.where(q.filter)}"
    source = "dataset_revisions s"
    if _grouped(q):
        return _aggregate_query(store, c, q, source, where)
    if q.select and not q.star:
        return _select_query(store, c, q, source, where, "s.seq")
    limit = q.limit if q.limit is not None else DEFAULT_LIMIT
    order = _order_by(c, q, [], default="s.seq")
    cols = ", ".join(f"s.{k}" for k in RECORD_FIELDS)
    sql = f"SELECT {cols} FROM {source} WHERE {where}{order} LIMIT {c.p(limit + 1)}"
    rows = [[_decode(v, k in RECORD_JSON) for v, k in zip(r, RECORD_FIELDS)] for r in store.conn.execute(sql, c.params)]
    truncated = len(rows) > limit and q.limit is None
    return Result(list(RECORD_FIELDS), rows[:limit], truncated)


def _order_by(c: Compiler, q: Query, items: list, default: str) -> str:
    if not q.sort:
        return f" ORDER BY {default}" if default else ""
    parts = []
    aliases = {it.alias: i + 1 for i, it in enumerate(items)}
    for s in q.sort:
        e = s.expr
        if isinstance(e, Path) and len(e.parts) == 1 and e.parts[0] in aliases:
            parts.append(f"{aliases[e.parts[0]]} {'DESC' if s.desc else 'ASC'}")
            continue
        src = c.text[e.pos:e.end].strip()
        match = next((i + 1 for i, it in enumerate(items) if c.text[it.expr.pos:it.expr.end].strip() == src), None)
        if match:
            parts.append(f"{match} {'DESC' if s.desc else 'ASC'}")
            continue
        parts.append(f"{c.value(e).sql} {'DESC' if s.desc else 'ASC'}")
    return " ORDER BY " + ", ".join(parts)


def _decode(v: Any, is_json: bool) -> Any:
    if is_json and isinstance(v, str):
        try:
            return orjson.loads(v)
        except orjson.JSONDecodeError:
            return v
    return v


SUMMARY_VALUE = 2000  # root input/output up to this many characters of JSON come back whole


def _preview(whole: Optional[str], head: Optional[str]) -> Any:
    """A root value for the summary shape: the value itself when it is short, else the start
    of its JSON text (a string) ending in an ellipsis, never cut JSON posing as a value."""
    if whole is not None:
        return orjson.loads(whole)
    if head is None:
        return None
    return head + "…"


def _summary_query(store: Store, c: Compiler, q: Query, where: str) -> Result:
    """One row per trace: root fields, span count, errors, scores averaged, metrics summed."""
    limit = q.limit if q.limit is not None else DEFAULT_LIMIT
    sql = (
        f"SELECT s.id, s.root_span_id, s.created, s.name,"
        f" iif(length(s.input) <= {SUMMARY_VALUE}, s.input, NULL), substr(s.input, 1, {SUMMARY_VALUE}),"
        f" iif(length(s.output) <= {SUMMARY_VALUE}, s.output, NULL), substr(s.output, 1, {SUMMARY_VALUE}),"
        f" s.end_ts - s.start_ts, s.metrics FROM spans s WHERE {where} AND s.is_root = 1"
        f" ORDER BY s.created DESC, s.rid DESC LIMIT {c.p(limit + 1)}"
    )
    roots = store.conn.execute(sql, c.params).fetchall()
    truncated = len(roots) > limit and q.limit is None
    roots = roots[:limit]
    pid = c.params[0]
    fake = [
        Row(rid=0, id=r[0], span_id=r[1], root_span_id=r[1], span_parents=None, created=r[2], name=r[3], type=None,
            start=None, end=None, input_preview="", output_preview="", has_error=False,
            error_preview=None, scores={}, metrics=orjson.loads(r[9]), tags=[], is_root=True, comments=0)
        for r in roots
    ]
    if fake:
        summarise_traces(store.conn, pid, fake)
    cols = ["id", "root_span_id", "created", "name", "input", "output", "duration", "spans", "errors", "scores",
            "tokens", "estimated_cost"]
    rows = [
        [f.id, f.root_span_id, f.created, f.name, _preview(r[4], r[5]), _preview(r[6], r[7]),
         r[8], f.spans, f.errors, f.scores, f.metrics.get("tokens"), f.metrics.get("estimated_cost")]
        for f, r in zip(fake, roots)
    ]
    return Result(cols, rows, truncated)
