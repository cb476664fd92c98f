"""The logs table's pages: one view of a project's logs (a filter, a shape, a sort) read a page
at a time after a keyset cursor, with trace summaries for the traces shape."""

from __future__ import annotations

import math
import re
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Optional

import orjson

from ..connection import Store
from ..errors import NotFound
from ..models import format_ts
from ..projects import max_lead, project_id
from ..selection import Selection, count_selection
from .btql import Binary, Literal, Path, QueryError, walk_nodes
from .compiler import Compiler, fts_query, fts_words, sql_error
from .filterbar import Filter, filter_sql, interpret

PAGE = 50

# --- sorting ---------------------------------------------------------------------------------

# Sort keys and their SQL over the listed rows' alias; never NULL so that keyset comparisons stay
# total: ``{missing}`` stands in for a missing value so that it sorts last either way.
_SORT_SQL = {
    "created": "{a}.created",
    "name": "coalesce({a}.name, '')",
    "duration": "coalesce({a}.end_ts - {a}.start_ts, {missing})",
    "tokens": "coalesce(json_extract({a}.metrics, '$.tokens'), {missing})",
    "cost": "coalesce(json_extract({a}.metrics, '$.estimated_cost'), {missing})",
    "error": "({a}.error IS NOT NULL)",
    "type": "coalesce({a}.type, '')",
    "input": "coalesce(substr({a}.input, 1, 200), '')",
    "output": "coalesce(substr({a}.output, 1, 200), '')",
    "tags": "{a}.tags",
}
SORT_KEYS = tuple(_SORT_SQL)
_LOW, _HIGH = -1e308, 1e308


def sort_sql(key: str, c: Compiler, alias: str, desc: bool = True) -> str:
    """SQL for a sort key (one of SORT_KEYS or scores.NAME) over ``alias``. Rows without the
    value sort last either way (``desc``: the view's direction)."""
    missing = _LOW if desc else _HIGH
    if key in _SORT_SQL:
        return _SORT_SQL[key].format(a=alias, missing=missing)
    if key.startswith("scores."):
        name = key.split(".", 1)[1]
        return (f"coalesce((SELECT value FROM span_scores WHERE span_rid = {alias}.rid AND name = {c.p(name)}),"
                f" {missing})")
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
    # full-text pages: where the words matched (the matched words between SNIP_OPEN and
    # SNIP_CLOSE) and in which field (input, output, expected, metadata)
    snippet: Optional[str] = None
    snippet_field: Optional[str] = None

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
    matched: bool = False  # full text: the rows carry snippets of where the words matched


# --- snippets of full-text matches (computed for a page's rows only) --------------------------

SNIP_OPEN, SNIP_CLOSE = "\x02", "\x03"  # around a matched word (never in JSON text)
SNIP_TOKENS = 12
FTS_COLUMNS = ("input", "output", "expected", "metadata")  # spans_fts's columns, in order
SNIP_SPANS = 500  # the spans of a trace looked at for its snippet (the root first, then by start)
_SNIPPETS = ", ".join(f"snippet(spans_fts, {i}, :o, :c, '…', {SNIP_TOKENS})" for i in range(len(FTS_COLUMNS)))
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)")
_ESCAPED = {"n": " ", "r": " ", "t": " ", "b": " ", "f": " "}


def _unescape(m: re.Match) -> str:
    c = m.group(1)
    if len(c) == 5:
        return chr(int(c[1:], 16))
    return _ESCAPED.get(c, c)


_JSON_PUNCT = re.compile(r'"\s*:\s*"?|"\s*,\s*"?|[{}\[\]"]')


def _json_punct(m: re.Match) -> str:
    t = m.group(0)
    return ": " if ":" in t else ", " if "," in t else " "


def _clean_snippet(text: str) -> str:
    """A snippet of stored JSON text as text to read: the JSON quoting and brackets gone,
    escapes undone, whitespace collapsed."""
    return " ".join(_ESCAPE.sub(_unescape, _JSON_PUNCT.sub(_json_punct, text)).split())


def _pick_snippet(cols: tuple) -> tuple[Optional[str], Optional[str]]:
    """The first column's snippet that holds a match: (text, field)."""
    for field_name, snip in zip(FTS_COLUMNS, cols):
        if snip and SNIP_OPEN in snip:
            return _clean_snippet(snip), field_name
    return None, None


def add_snippets(conn: sqlite3.Connection, pid: int, rows: list[Row], query: str, shape: str) -> None:
    """Set ``snippet``/``snippet_field`` of ``rows`` for the FTS5 ``query``: a row's own text
    (spans), or the first span of its trace that matches (traces: the root first)."""
    marks = {"o": SNIP_OPEN, "c": SNIP_CLOSE, "q": query}
    if shape == "spans":
        by_rid = {r.rid: r for r in rows}
        ids = ", ".join(str(int(rid)) for rid in by_rid)
        for rid, *cols in conn.execute(
            f"SELECT rowid, {_SNIPPETS} FROM spans_fts WHERE spans_fts MATCH :q AND rowid IN ({ids})", marks
        ):
            by_rid[rid].snippet, by_rid[rid].snippet_field = _pick_snippet(tuple(cols))
        return
    for r in rows:
        found = conn.execute(
            f"SELECT {_SNIPPETS} FROM (SELECT rid FROM spans WHERE project_id = :p AND root_span_id = :r"
            f" ORDER BY is_root DESC, start_ts LIMIT {SNIP_SPANS}) s CROSS JOIN spans_fts"
            f" WHERE spans_fts.rowid = s.rid AND spans_fts MATCH :q LIMIT 1",
            {**marks, "p": pid, "r": r.root_span_id},
        ).fetchone()
        if found:
            r.snippet, r.snippet_field = _pick_snippet(tuple(found))


class _Interrupted(Exception):
    pass


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
        try:
            pid = project_id(self.store, self.project, create=False)
        except NotFound:
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
            summarise_traces(self.store.conn, pid, rows)
        fts = self._fts_queries() if self.filter.mode != "all" else []
        if fts and rows:
            add_snippets(self.store.conn, pid, rows, fts[0], self.shape)
        nxt = (rows[-1].sort_key, rows[-1].rid) if len(rows) == limit else None
        if reverse:
            rows.reverse()
        return Page(rows, nxt, self.filter, (time.perf_counter() - t0) * 1000, matched=bool(fts))

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

    def count(self) -> int:
        """Rows (spans) or traces (traces) this view has."""
        return count_selection(self.store, Selection(self.project, self.text, self.shape))


def summarise_traces(conn: sqlite3.Connection, pid: int, rows: list[Row]) -> None:
    """Trace-level numbers for rows that stand for traces (their roots): span, error and
    comment counts, scores averaged over the trace's spans, tokens and cost summed when the
    root has none."""
    ids = [r.root_span_id for r in rows]
    marks = ", ".join("?" for _ in ids)
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
    comments = dict(conn.execute(
        f"SELECT s.root_span_id, count(*) FROM spans s JOIN comments cm ON cm.span_rid = s.rid"
        f" WHERE s.project_id = ? AND s.root_span_id IN ({marks}) GROUP BY 1",
        (pid, *ids),
    ))
    for r in rows:
        n, errs, tok, cost = agg.get(r.root_span_id, (1, int(r.has_error), None, None))
        r.spans, r.errors = n, errs
        r.comments = comments.get(r.root_span_id, r.comments)
        if scores.get(r.root_span_id):
            r.scores = {**r.scores, **scores[r.root_span_id]}
        if "tokens" not in r.metrics and tok is not None:
            r.metrics = {**r.metrics, "tokens": tok}
        if "estimated_cost" not in r.metrics and cost is not None:
            r.metrics = {**r.metrics, "estimated_cost": cost}
