"""Running filters and full queries: pages for the TUI (keyset pagination), counts,
shapes (spans, traces, summary), full-text fallback, `bt-tui query`, completion data.

The TUI and the CLI call these functions; neither builds SQL.
"""

from __future__ import annotations

import math
import re
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterator, Optional

import orjson

from .btql import (
    Binary,
    Call,
    IsNull,
    Literal,
    Node,
    Path,
    Query,
    QueryError,
    SelectItem,
    Unary,
    parse_filter,
    parse_query,
    strip_where,
    tokenize,
    walk_nodes,
)
from .compiler import AGGREGATES, Compiler, Val, fts_query, fts_words
from .connection import Store
from .errors import NotFound
from .export import EXPORT_LINE
from .projects import max_lead

PAGE = 50

# --- interpreting the filter bar -------------------------------------------------------------

_LOOKS_LIKE_EXPR = re.compile(r"[=<>!()'\"\[\]]")
_FIELD_ROOTS = {
    "input", "output", "expected", "error", "scores", "metadata", "metrics", "tags", "span_attributes",
    "created", "id", "span_id", "root_span_id", "is_root", "name", "type", "duration", "comment",
    "any_span", "where", "filter", "not",
}


@dataclass
class Filter:
    """What the filter bar's text means: nothing, a filter expression, or a full-text search."""

    text: str = ""
    mode: str = "all"  # all | filter | search
    node: Optional[Node] = None
    words: list = field(default_factory=list)
    note: str = ""  # e.g. why the text ran as a search

    @property
    def label(self) -> str:
        if self.mode == "filter":
            return "filter"
        if self.mode == "search":
            return "full-text search"
        return "all rows"


def _is_condition(node: Node) -> bool:
    if isinstance(node, Binary):
        return node.op in ("and", "or", "=", "!=", "<", "<=", ">", ">=", "like", "ilike", "match", "includes", "in")
    if isinstance(node, (IsNull,)):
        return True
    if isinstance(node, Unary) and node.op == "not":
        return True
    if isinstance(node, Call) and node.name == "any_span":
        return True
    if isinstance(node, Literal) and isinstance(node.value, bool):
        return True
    if isinstance(node, Path) and node.parts == ["is_root"]:
        return True
    return False


def interpret(text: str) -> Filter:
    """Braintrust's search box: a valid filter runs as a filter; plain words fall back to a
    full-text search; text that is clearly meant as an expression but is wrong raises
    ``QueryError`` (the UI shows it with a caret and keeps the previous results)."""
    if not text.strip():
        return Filter(text=text)
    try:
        node = parse_filter(text)
    except QueryError as exc:
        if _looks_like_expression(text) or "nested too deeply" in exc.message or "too long" in exc.message:
            raise
        words = fts_words(text)
        if not words:
            raise
        return Filter(text=text, mode="search", words=words, note="not a filter expression: searched the words")
    if _is_condition(node):
        return Filter(text=text, mode="filter", node=node)
    words = fts_words(text)
    if not words or _looks_like_expression(text):
        Compiler(text, 0).where(node)  # an unknown function or field says so, with its column
        raise QueryError("expected a condition, like scores.accuracy > 0.5", 0, text)
    return Filter(text=text, mode="search", words=words, note="not a condition: searched the words")


def expression_filter(text: str) -> Filter:
    """The text as a filter expression, no full-text fallback (`export logs --filter`): a
    bad one raises ``QueryError``; blank text is everything."""
    if not text.strip():
        return Filter(text=text)
    return Filter(text=text, mode="filter", node=parse_filter(text))


def check_filter(text: str) -> Filter:
    """``interpret`` plus what only compiling finds (unknown functions and fields, bad
    dates): the filter bar runs this before it replaces the rows, so a bad filter never
    becomes the current one."""
    flt = interpret(text)
    if flt.mode == "filter":
        Compiler(text, 0).where(flt.node)
    return flt


_OPERATOR_CHARS = re.compile(r"[=<>!]")
_CALL = re.compile(r"\b(?:any_span|lower|upper|len|concat|coalesce|json_extract)\s*\(", re.IGNORECASE)
_WORD_CALL = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\((?!\s*\))")


def _looks_like_expression(text: str) -> bool:
    """Is this text meant as a filter (so a parse error should be shown), rather than words
    to search for? Comparison operators, a leading WHERE/filter:, a function call, or a
    known field followed by an operator or keyword say "filter"; quotes and question marks
    alone do not (people write "don't" and "why?")."""
    if _OPERATOR_CHARS.search(text) or _CALL.search(text):
        return True
    rest, offset = strip_where(text)
    if offset:
        return True
    if _WORD_CALL.search(text):  # foo(1): a call, even of an unknown function
        return True
    try:
        toks = [t for t in tokenize(text) if not (t.kind == "op" and t.value == "(")]
    except QueryError:
        return False
    if len(toks) < 2:
        return False
    first = toks[0]
    root = str(first.value).split(".")[0].lower()
    if first.kind == "ident" and root in _FIELD_ROOTS:
        if "." in str(first.value) and root in ("scores", "metadata", "metrics", "span_attributes"):
            return True  # a dotted path is not prose
        nxt = toks[1]
        if (nxt.kind == "op" and nxt.value in (".", "[")) or (
            nxt.kind == "kw" and nxt.value in ("is", "like", "ilike", "match", "includes", "contains", "in", "not")
        ):
            return len(toks) > 2
        if any(t.kind == "string" for t in toks[2:]):
            return True  # `tags inc 'v'`: a field, a word, then a value
    return False


# --- sorting ---------------------------------------------------------------------------------

SORT_KEYS = ("created", "name", "duration", "tokens", "cost", "error", "type", "input", "output", "tags")
_LOW, _HIGH = -1e308, 1e308


def sort_sql(key: str, c: Compiler, alias: str, desc: bool = True) -> str:
    """SQL for a sort key; never NULL so that keyset comparisons stay total. Rows without the
    value sort last either way (``desc``: the view's direction)."""
    a = alias
    missing = _LOW if desc else _HIGH  # the stand-in for a missing value: last either way
    if key == "created":
        return f"{a}.created"
    if key == "name":
        return f"coalesce({a}.name, '')"
    if key == "type":
        return f"coalesce({a}.type, '')"
    if key == "duration":
        return f"coalesce({a}.end_ts - {a}.start_ts, {missing})"
    if key == "tokens":
        return f"coalesce(json_extract({a}.metrics, '$.tokens'), {missing})"
    if key == "cost":
        return f"coalesce(json_extract({a}.metrics, '$.estimated_cost'), {missing})"
    if key == "error":
        return f"({a}.error IS NOT NULL)"
    if key in ("input", "output"):
        return f"coalesce(substr({a}.{key}, 1, 200), '')"
    if key == "tags":
        return f"{a}.tags"
    if key.startswith("scores."):
        name = key.split(".", 1)[1]
        return f"coalesce((SELECT value FROM span_scores WHERE span_rid = {a}.rid AND name = {c.p(name)}), {missing})"
    raise QueryError(f"cannot sort by {key!r} (try one of {', '.join(SORT_KEYS)} or scores.NAME)", 0, key)


# --- pages -----------------------------------------------------------------------------------

PREVIEW = 2000

_ROW_COLUMNS = """{a}.rid, {a}.id, {a}.span_id, {a}.root_span_id, {a}.span_parents, {a}.created, {a}.name,
    {a}.type, {a}.start_ts, {a}.end_ts, substr({a}.input, 1, {n}), substr({a}.output, 1, {n}),
    {a}.error IS NOT NULL, substr({a}.error, 1, 300), {a}.scores, {a}.metrics, {a}.tags, {a}.is_root,
    (SELECT count(*) FROM comments cm WHERE cm.span_rid = {a}.rid)"""


@dataclass
class Row:
    """A row of the logs table (a span, or a trace's summary)."""

    rid: int
    id: str
    span_id: str
    root_span_id: str
    span_parents: Optional[list]
    created: str
    name: Optional[str]
    type: Optional[str]
    start: Optional[float]
    end: Optional[float]
    input_preview: str
    output_preview: str
    has_error: bool
    error_preview: Optional[str]
    scores: dict
    metrics: dict
    tags: list
    is_root: bool
    comments: int
    sort_key: Any = None
    # summary shape
    spans: int = 1
    errors: int = 0

    @property
    def duration(self) -> Optional[float]:
        if self.start is None or self.end is None:
            return None
        return self.end - self.start

    @property
    def tokens(self) -> Optional[float]:
        return self.metrics.get("tokens")

    @property
    def cost(self) -> Optional[float]:
        return self.metrics.get("estimated_cost")


def _row(r: tuple) -> Row:
    return Row(
        rid=r[0], id=r[1], span_id=r[2], root_span_id=r[3],
        span_parents=orjson.loads(r[4]) if r[4] else None, created=r[5], name=r[6], type=r[7],
        start=r[8], end=r[9], input_preview=r[10] or "", output_preview=r[11] or "", has_error=bool(r[12]),
        error_preview=r[13], scores=orjson.loads(r[14]), metrics=orjson.loads(r[15]), tags=orjson.loads(r[16]),
        is_root=bool(r[17]), comments=r[18], sort_key=r[19],
    )


@dataclass
class Page:
    rows: list
    after: Optional[tuple]  # the keyset cursor for the next page; None at the end
    filter: Filter
    elapsed_ms: float = 0.0


def _project_id(store: Store, project: str) -> Optional[int]:
    row = store.conn.execute("SELECT id FROM projects WHERE name = ?", (project,)).fetchone()
    return row[0] if row else None


def filter_sql(c: Compiler, flt: Filter, alias: str) -> str:
    """The filter as SQL over ``alias`` (a condition; "1" for everything)."""
    saved = c.alias
    c.alias = alias
    try:
        if flt.mode == "filter":
            return c.where(flt.node)
        if flt.mode == "search":
            return c.fts_condition(fts_query(flt.words))
        return "1"
    finally:
        c.alias = saved


class _Interrupted(Exception):
    pass


def sql_error(exc: sqlite3.OperationalError, text: str) -> Exception:
    """SQLite's complaints about a (valid-looking) query, as a located QueryError."""
    msg = str(exc).lower()
    if "parser stack overflow" in msg or "too many" in msg or "depth" in msg:
        return QueryError("expression is too complex (too many nested or chained terms)", 0, text)
    if "misuse of aggregate" in msg:
        return QueryError("aggregate functions belong in measures: or SELECT, not in a filter", 0, text)
    if "json" in msg and "path" in msg:
        return QueryError("bad JSON path", 0, text)
    if "fts5" in msg:
        return QueryError(f"full-text search could not run this query ({exc})", 0, text)
    return exc


PROBE_BUDGET_S = 0.03
# Full-text probes cost more per row (an FTS5 lookup per candidate), and the alternative
# (collecting every matching rowid of a common word, then sorting) costs seconds: give them
# more time. A rare word still falls through to the (then fast) drive plan within budget.
PROBE_BUDGET_FTS_S = 1.0
FTS_RARE = 5000  # a full-text query with fewer matches than this is driven from the index


def _plus_seconds(created: str, seconds: float) -> str:
    """``created`` (canonical UTC text) plus ``seconds``, rounded up to the microsecond."""
    if seconds <= 0:
        return created
    from datetime import timedelta

    from .models import format_ts

    return format_ts(datetime.fromisoformat(created) + timedelta(microseconds=math.ceil(seconds * 1e6) + 1))


class LogsQuery:
    """One view of a project's logs: a filter, a shape (``traces``: one row per trace, or
    ``spans``), and a sort. ``page(after)`` returns ``PAGE`` rows after a keyset cursor."""

    def __init__(self, store: Store, project: str, text: str = "", *, shape: str = "traces",
                 sort: str = "created", desc: bool = True):
        if shape not in ("traces", "spans"):
            raise ValueError(f"unknown shape {shape!r}")
        self.store = store
        self.project = project
        self.filter = interpret(text)
        self.shape = shape
        self.sort = sort
        self.desc = desc
        self.text = text

    def _fts_rare(self, query: str) -> bool:
        """Fewer than FTS_RARE matches? (Counting a doclist up to a cap is cheap in FTS5.)"""
        n = self.store.conn.execute(
            "SELECT count(*) FROM (SELECT rowid FROM spans_fts WHERE spans_fts MATCH ? LIMIT ?)", (query, FTS_RARE)
        ).fetchone()[0]
        return n < FTS_RARE

    def _fts_queries(self) -> list[str]:
        """The FTS5 query strings this filter runs (search text, or each MATCH)."""
        if self.filter.mode == "search":
            return [fts_query(self.filter.words)]
        found: list[str] = []
        for n in walk_nodes(self.filter.node):
            if isinstance(n, Binary) and n.op == "match" and isinstance(n.right, Literal) \
                    and isinstance(n.right.value, str) and isinstance(n.left, Path):
                col = str(n.left.parts[0])
                words = fts_words(n.right.value)
                if words and col in ("input", "output", "expected", "metadata"):
                    found.append(fts_query(words, col))
        return found

    def _base(self, c: Compiler, pid: int) -> tuple[str, str]:
        """(FROM ... WHERE ... clause, alias of the listed rows).

        Two plans for a filtered page. *Probe* (``c.probe``): walk rows in sort order through
        the sort's index and check each (correlated lookups), stopping at a page: fast when
        matches are common. *Drive*: collect the matching rows through their indexes (side
        tables, FTS, the model index) and sort them: fast when matches are rare.
        ``page()`` tries the probe plan within a small time budget, then drives."""
        p = c.p(pid)
        hint = ""
        if c.probe and self.sort == "created":
            hint = " INDEXED BY spans_created" if self.shape == "spans" else " INDEXED BY spans_roots_created"
        if self.shape == "spans":
            return f"FROM spans s{hint} WHERE s.project_id = {p} AND {filter_sql(c, self.filter, 's')}", "s"
        if self.filter.mode == "all":
            return f"FROM spans r WHERE r.project_id = {p} AND r.is_root = 1", "r"
        if c.probe:
            inner = filter_sql(c, self.filter, "s")
            return (
                f"FROM spans r{hint} WHERE r.project_id = {p} AND r.is_root = 1 AND EXISTS (SELECT 1 FROM spans s"
                f" WHERE s.project_id = r.project_id AND s.root_span_id = r.root_span_id AND {inner})",
                "r",
            )
        inner = filter_sql(c, self.filter, "s")
        return (
            f"FROM spans r WHERE r.project_id = {p} AND r.is_root = 1 AND r.root_span_id IN"
            f" (SELECT s.root_span_id FROM spans s WHERE s.project_id = {p} AND {inner})",
            "r",
        )

    def page(self, after: Optional[tuple] = None, limit: int = PAGE, *, reverse: bool = False) -> Page:
        """``limit`` rows after the keyset cursor ``after`` in this view's order. With
        ``reverse``: the rows just *before* ``after`` (or the last page when ``after`` is
        None), still returned in this view's order; ``Page.after`` is then the cursor for
        the page before those."""
        t0 = time.perf_counter()
        pid = _project_id(self.store, self.project)
        if pid is None:
            return Page([], None, self.filter)
        rows = None
        desc = self.desc != reverse
        bound = None
        if self.shape == "traces" and self.filter.mode != "all" and self.sort == "created" and desc \
                and after is None:
            # No trace with a matching span is newer than the newest matching span plus the
            # project's max lead (migration v6): start the walk there, or stop if none match.
            newest = LogsQuery(self.store, self.project, self.text, shape="spans").page(limit=1)
            if not newest.rows:
                return Page([], None, self.filter, (time.perf_counter() - t0) * 1000)
            bound = _plus_seconds(newest.rows[0].created, max_lead(self.store.conn, pid))
        if self.filter.mode != "all":
            fts = self._fts_queries()
            if fts and all(self._fts_rare(q) for q in fts):
                budget = 0.0  # every full-text term is rare: the drive plan is cheap
            elif fts:
                budget = PROBE_BUDGET_FTS_S
            else:
                budget = PROBE_BUDGET_S
            if budget:
                try:
                    rows = self._fetch(pid, after, limit, probe=True, budget=budget, desc=desc, bound=bound)
                except _Interrupted:
                    rows = None
        if rows is None:
            rows = self._fetch(pid, after, limit, probe=False, desc=desc, bound=bound)
        if self.shape == "traces" and rows:
            self._summarise(pid, rows)
        nxt = (rows[-1].sort_key, rows[-1].rid) if len(rows) == limit else None
        if reverse:
            rows.reverse()
        return Page(rows, nxt, self.filter, (time.perf_counter() - t0) * 1000)

    def _fetch(self, pid: int, after, limit: int, probe: bool, budget: Optional[float] = None,
               desc: bool = True, bound: Optional[str] = None) -> list:
        c = Compiler(self.filter.text, pid, probe=probe)
        base, a = self._base(c, pid)
        key = sort_sql(self.sort, c, a, desc=self.desc)
        cmp = "<" if desc else ">"
        direction = "DESC" if desc else "ASC"
        if bound is not None:
            base += f" AND {a}.created <= {c.p(bound)}"
        cursor = ""
        if after is not None:
            cursor = f" AND ({key}, {a}.rid) {cmp} ({c.p(after[0])}, {c.p(after[1])})"
        sql = (
            f"SELECT {_ROW_COLUMNS.format(a=a, n=PREVIEW)}, {key} {base}{cursor}"
            f" ORDER BY {key} {direction}, {a}.rid {direction} LIMIT {c.p(limit)}"
        )
        conn = self.store.conn
        if budget is None:
            try:
                return [_row(r) for r in conn.execute(sql, c.params)]
            except sqlite3.OperationalError as exc:
                raise sql_error(exc, self.filter.text) from None
        deadline = time.perf_counter() + budget
        # Few callbacks: each one needs the GIL, which a busy UI thread may hold for a while.
        conn.set_progress_handler(lambda: 1 if time.perf_counter() > deadline else 0, 400_000)
        try:
            return [_row(r) for r in conn.execute(sql, c.params)]
        except sqlite3.OperationalError as exc:
            if "interrupt" in str(exc).lower():
                raise _Interrupted() from None
            raise sql_error(exc, self.filter.text) from None
        finally:
            conn.set_progress_handler(None, 0)

    def _summarise(self, pid: int, rows: list) -> None:
        """Trace-level numbers for a page of roots: span and error counts, scores averaged
        over the trace's spans, tokens and cost summed when the root has none."""
        ids = [r.root_span_id for r in rows]
        marks = ", ".join("?" for _ in ids)
        conn = self.store.conn
        agg = {
            rid: (n, errs, tok, cost)
            for rid, n, errs, tok, cost in conn.execute(
                f"SELECT root_span_id, count(*), sum(error IS NOT NULL), sum(json_extract(metrics, '$.tokens')),"
                f" sum(json_extract(metrics, '$.estimated_cost'))"
                f" FROM spans WHERE project_id = ? AND root_span_id IN ({marks}) GROUP BY root_span_id",
                (pid, *ids),
            )
        }
        scores: dict[str, dict[str, float]] = {}
        for root, name, avg in conn.execute(
            f"SELECT s.root_span_id, sc.name, avg(sc.value) FROM spans s JOIN span_scores sc ON sc.span_rid = s.rid"
            f" WHERE s.project_id = ? AND s.root_span_id IN ({marks}) AND sc.value IS NOT NULL GROUP BY 1, 2",
            (pid, *ids),
        ):
            scores.setdefault(root, {})[name] = avg
        for r in rows:
            n, errs, tok, cost = agg.get(r.root_span_id, (1, int(r.has_error), None, None))
            r.spans, r.errors = n, errs
            if scores.get(r.root_span_id):
                r.scores = {**r.scores, **scores[r.root_span_id]}
            if "tokens" not in r.metrics and tok is not None:
                r.metrics = {**r.metrics, "tokens": tok}
            if "estimated_cost" not in r.metrics and cost is not None:
                r.metrics = {**r.metrics, "estimated_cost": cost}

    def count(self) -> int:
        """Rows (spans) or traces (traces) this view has."""
        from .selection import Selection, count_selection

        return count_selection(self.store, Selection(self.project, self.text, self.shape))


# --- full queries (`bt-tui query`) -----------------------------------------------------------


@dataclass
class Result:
    columns: list
    rows: list  # list of lists, JSON-ready values
    truncated: bool = False


DEFAULT_LIMIT = 1000


def _has_agg(node: Node) -> bool:
    from .compiler import _find_aggregate

    return _find_aggregate(node) is not None


def _json_out(c: Compiler, item: SelectItem) -> tuple[str, bool]:
    """SQL for a select item and whether its result is JSON text to decode."""
    e = item.expr
    if isinstance(e, Path) and len(e.parts) == 1 and e.parts[0] in (
        "input", "output", "expected", "error", "scores", "metadata", "metrics", "tags", "span_attributes", "span_parents"
    ):
        return f"s.{e.parts[0]}", True
    v: Val = c.value(e)
    if v.col is not None and v.jpath is not None:
        return f"({v.col} -> {c.p(v.jpath)})", True
    return v.sql, False


def run_query(store: Store, text: str, default_project: str = "default", now: Optional[datetime] = None) -> Result:
    try:
        return _run_query(store, text, default_project, now)
    except sqlite3.OperationalError as exc:
        raise sql_error(exc, text) from None


def _run_query(store: Store, text: str, default_project: str, now: Optional[datetime]) -> Result:
    q: Query = parse_query(text)
    project = q.source_arg or default_project
    pid = _project_id(store, project)
    if pid is None:
        raise NotFound(f"no project named {project!r}")
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

    limit = q.limit
    if q.dimensions or q.measures or (q.select and any(_has_agg(i.expr) for i in q.select)):
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
        sql = f"SELECT {', '.join(cols)} FROM spans s WHERE {where}{group}{order}"
        if limit is not None:
            sql += f" LIMIT {c.p(limit)}"
        rows = [[_decode(v, d) for v, d in zip(r, decode)] for r in store.conn.execute(sql, c.params)]
        return Result([it.alias for it in items], rows)

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
    cols, decode = [], []
    for i, it in enumerate(q.select):
        sql, dec = _json_out(c, it)
        cols.append(f"{sql} AS c{i}")
        decode.append(dec)
    order = _order_by(c, q, q.select, default="s.created DESC, s.rid DESC")
    sql = f"SELECT {', '.join(cols)} FROM spans s WHERE {where}{order} LIMIT {c.p(limit + 1)}"
    rows = [[_decode(v, d) for v, d in zip(r, decode)] for r in store.conn.execute(sql, c.params)]
    truncated = len(rows) > limit and not explicit_limit
    return Result([it.alias for it in q.select], rows[:limit], truncated)


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
    lq = LogsQuery.__new__(LogsQuery)
    lq.store = store
    pid = c.params[0]
    fake = [
        Row(rid=0, id=r[0], span_id=r[1], root_span_id=r[1], span_parents=None, created=r[2], name=r[3], type=None,
            start=None, end=None, input_preview="", output_preview="", has_error=False,
            error_preview=None, scores={}, metrics=orjson.loads(r[9]), tags=[], is_root=True, comments=0)
        for r in roots
    ]
    if fake:
        LogsQuery._summarise(lq, pid, fake)
    cols = ["id", "root_span_id", "created", "name", "input", "output", "duration", "spans", "errors", "scores",
            "tokens", "estimated_cost"]
    rows = [
        [f.id, f.root_span_id, f.created, f.name, _preview(r[4], r[5]), _preview(r[6], r[7]),
         r[8], f.spans, f.errors, f.scores, f.metrics.get("tokens"), f.metrics.get("estimated_cost")]
        for f, r in zip(fake, roots)
    ]
    return Result(cols, rows, truncated)


# --- completion data -------------------------------------------------------------------------


@dataclass
class Completions:
    fields: list  # [(path, count)]
    score_names: list
    metadata_keys: list
    tags: list
    span_names: list


_cache: dict = {}
_cache_lock = threading.Lock()
SAMPLE = 5000


def completions(store: Store, project: str) -> Completions:
    """Known field paths with counts for the filter bar's completion. Score names, tags and
    span names are exact (side tables and indexes); metadata keys come from the newest
    ``SAMPLE`` spans. Cached until the database changes."""
    conn = store.conn
    version = (store.path, project, conn.execute("PRAGMA data_version").fetchone()[0], conn.total_changes,
               conn.execute("SELECT max(rid) FROM spans").fetchone()[0])
    with _cache_lock:
        hit = _cache.get((store.path, project))
        if hit and hit[0] == version:
            return hit[1]
    pid = _project_id(store, project)
    if pid is None:
        return Completions([], [], [], [], [])
    scores = conn.execute(
        "SELECT sc.name, count(*) FROM span_scores sc JOIN spans s ON s.rid = sc.span_rid"
        " WHERE s.project_id = ? GROUP BY sc.name ORDER BY 2 DESC", (pid,)
    ).fetchall()
    tags = conn.execute(
        "SELECT t.tag, count(*) FROM span_tags t JOIN spans s ON s.rid = t.span_rid"
        " WHERE s.project_id = ? GROUP BY t.tag ORDER BY 2 DESC LIMIT 200", (pid,)
    ).fetchall()
    names = conn.execute(
        "SELECT name, count(*) FROM spans WHERE project_id = ? AND name IS NOT NULL GROUP BY name ORDER BY 2 DESC LIMIT 200",
        (pid,),
    ).fetchall() if _small(conn, pid) else conn.execute(
        "SELECT name, count(*) FROM (SELECT name FROM spans WHERE project_id = ? ORDER BY created DESC LIMIT ?)"
        " WHERE name IS NOT NULL GROUP BY name ORDER BY 2 DESC", (pid, SAMPLE * 4)
    ).fetchall()
    md = conn.execute(
        """
        SELECT substr(j.fullkey, 3), count(*) FROM
          (SELECT metadata FROM spans WHERE project_id = ? ORDER BY created DESC LIMIT ?) s,
          json_tree(s.metadata) j
        WHERE j.fullkey <> '$' AND j.fullkey NOT LIKE '%[%' AND j.type <> 'null'
        GROUP BY j.fullkey ORDER BY 2 DESC LIMIT 300
        """,
        (pid, SAMPLE),
    ).fetchall()
    md_keys = [(k.replace('"', ""), n) for k, n in md]
    fields = [(f"scores.{n}", k) for n, k in scores] + [(f"metadata.{k}", n) for k, n in md_keys]
    base = ["input", "output", "expected", "error", "tags", "created", "name", "type", "duration", "comment",
            "is_root", "id", "span_id", "root_span_id", "metrics.tokens", "metrics.prompt_tokens",
            "metrics.completion_tokens", "metrics.estimated_cost", "span_attributes.name", "span_attributes.type"]
    fields += [(b, None) for b in base]
    out = Completions(fields, scores, md_keys, tags, names)
    with _cache_lock:
        _cache[(store.path, project)] = (version, out)
    return out


def field_hints(store: Store, project: str, *nodes: Optional[Node]) -> list[str]:
    """Notes on paths that name nothing this project has but look like something it has:
    `scores.factuality` when only `scores.Factuality` exists. (Not errors: an absent key is
    legal and simply matches nothing.) Score names are exact; metadata keys come from the
    completion sample, so only a close match earns a note there."""
    import difflib

    try:
        comp = completions(store, project)
    except Exception:
        return []
    scores = {n for n, _ in comp.score_names}
    md = {k for k, _ in comp.metadata_keys}
    notes: list[str] = []
    for n in (n for top in nodes for n in walk_nodes(top)):
        if not isinstance(n, Path) or len(n.parts) < 2 or not all(isinstance(p, str) for p in n.parts):
            continue
        root, rest = n.parts[0], ".".join(n.parts[1:])
        if root == "scores" and scores and rest not in scores:
            close = difflib.get_close_matches(rest, sorted(scores), n=1, cutoff=0.6) or \
                [s for s in scores if s.lower() == rest.lower()]
            hint = f"; did you mean scores.{close[0]}?" if close else f" (scores: {', '.join(sorted(scores)[:6])})"
            notes.append(f"no score named {rest!r} in project {project!r}{hint}")
        elif root == "metadata" and md and rest not in md and not any(k.startswith(rest + ".") for k in md):
            close = difflib.get_close_matches(rest, sorted(md), n=1, cutoff=0.75) or \
                [k for k in md if k.lower() == rest.lower()]
            if close:
                notes.append(f"no recent span has metadata.{rest}; did you mean metadata.{close[0]}?")
    return list(dict.fromkeys(notes))


def query_hints(store: Store, project: str, text: str) -> list[str]:
    """``field_hints`` for a full query or a filter (its project from its FROM, if any)."""
    try:
        q = parse_query(text)
    except QueryError:
        return []
    exprs = [i.expr for i in (*q.select, *q.dimensions, *q.measures, *q.sort)]
    return field_hints(store, q.source_arg or project, q.filter, *exprs)


def _small(conn, pid: int) -> bool:
    return conn.execute("SELECT count(*) FROM (SELECT 1 FROM spans WHERE project_id = ? LIMIT 200001)", (pid,)).fetchone()[0] <= 200000

