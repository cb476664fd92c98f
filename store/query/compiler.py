"""Compile the query language's AST to SQLite SQL over the ``spans`` table.

Every user value (literals, JSON paths, score names, tag values, patterns, full-text
queries) is a bound parameter; no user text is ever spliced into SQL. Semantics follow
DESIGN.md section 3: a comparison with a missing value is not true (SQL NULL logic),
INCLUDES on a missing array is false, LIKE/ILIKE/MATCH on objects and arrays see JSON text.
"""

from __future__ import annotations

import calendar
import difflib
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

from .btql import (
    Binary,
    Call,
    Interval,
    IsNull,
    ListLit,
    Literal,
    Node,
    Path,
    QueryError,
    Ternary,
    Unary,
    walk_nodes,
)
from ..models import format_ts, normalize_ts

# Top-level fields: name -> (kind, column). JSON columns hold JSON text.
JSON_COLUMNS = {"input", "output", "expected", "error", "scores", "metadata", "metrics", "tags", "span_attributes", "span_parents"}
FIELDS = sorted(
    JSON_COLUMNS
    | {"id", "span_id", "root_span_id", "created", "is_root", "name", "type", "duration", "comment", "comments"}
)
FTS_COLUMNS = ("input", "output", "expected", "metadata")

AGGREGATES = {"count", "count_distinct", "sum", "avg", "min", "max", "percentile"}
FUNCTIONS = sorted(
    AGGREGATES
    | {"lower", "upper", "concat", "len", "length", "coalesce", "json_extract", "now", "current_timestamp",
       "current_date", "hour", "day", "week", "month", "year", "date_trunc", "any_span", "abs", "round"}
)

# Words as FTS5's unicode61 tokenizer sees them: letters and digits (an underscore splits).
_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
_JSON_PATH_RE = re.compile(r'^\$(\.[^\W\d]\w*|\."(?:[^"\\]|\\.)*"|\[#?-?\d+\]|\[#\])*$', re.UNICODE)
MAX_TERMS = 400


@dataclass
class Val:
    sql: str
    kind: str = "any"  # any num text bool time null list json
    col: Optional[str] = None  # source JSON column for a JSON path
    jpath: Optional[str] = None  # JSON path inside ``col`` (bound separately by the caller)
    const: Any = None  # a constant value known at compile time (literals, folded times)
    is_const: bool = False
    agg: bool = False


def _json_path(parts: list) -> str:
    out = "$"
    for p in parts:
        if isinstance(p, int):
            out += f"[#{p}]" if p < 0 else f"[{p}]"
        else:
            out += '."' + str(p).replace("\\", "\\\\").replace('"', '\\"') + '"'
    return out


_INDEX_RE = re.compile(r"\[(-?\d+)\]")
_KEY_RE = re.compile(r'"((?:[^"\\]|\\.)*)"|([^.\[\]"]+)')


def json_extract_path(text: str) -> Optional[str]:
    """A ``json_extract`` path in any form Braintrust documents, as a SQLite JSON path: a key
    name (``'environment'``, ``'my key'``), a dotted path (``'a.b'``), an indexed path
    (``'a[0].b'``, ``'[0]'``, ``'a[-1]'``) or a ``$``-path (``'$.a.b'``, ``'$.items[0]'``).
    None when the text is none of these."""
    if text.startswith("$"):
        return text if _JSON_PATH_RE.match(text) else None
    parts: list = []
    pos = 0
    while pos < len(text):
        index = _INDEX_RE.match(text, pos)
        if index:
            parts.append(int(index.group(1)))
            pos = index.end()
            continue
        if parts:
            if text[pos] != ".":
                return None
            pos += 1
        key = _KEY_RE.match(text, pos)
        if not key:
            return None
        parts.append(key.group(2) if key.group(2) is not None else re.sub(r"\\(.)", r"\1", key.group(1)))
        pos = key.end()
    return _json_path(parts) if parts else None


def like_to_glob(pattern: str) -> str:
    """A LIKE pattern (%, _, backslash escapes) as a case-sensitive GLOB pattern."""
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(_glob_escape(pattern[i + 1]))
            i += 2
            continue
        out.append("*" if c == "%" else "?" if c == "_" else _glob_escape(c))
        i += 1
    return "".join(out)


def _glob_escape(c: str) -> str:
    return {"*": "[*]", "?": "[?]", "[": "[[]"}.get(c, c)


def fts_words(text: str) -> list[str]:
    return _WORD_RE.findall(text)


def fts_query(words: list[str], column: Optional[str] = None) -> str:
    """An FTS5 query string: every word, whole, in any order (AND). Words are quoted."""
    body = " AND ".join('"' + w.replace('"', '""') + '"' for w in words)
    return f"{{{column}}} : ({body})" if column else body


def _add_months(dt: datetime, months: int) -> datetime:
    y, m = divmod(dt.month - 1 + months, 12)
    year, month = dt.year + y, m + 1
    day = min(dt.day, calendar.monthrange(year, month)[1])
    return dt.replace(year=year, month=month, day=day)


def shift_time(dt: datetime, amount: float, unit: str) -> datetime:
    if unit in ("month", "year"):
        months = int(amount) * (12 if unit == "year" else 1)
        return _add_months(dt, months)
    seconds = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}[unit]
    return dt + timedelta(seconds=amount * seconds)


def find_aggregate(node: Node) -> Optional[Call]:
    """The first aggregate call in a filter (they belong in measures/SELECT)."""
    return next((n for n in walk_nodes(node) if isinstance(n, Call) and n.name in AGGREGATES), None)


def sql_error(exc: Exception, text: str) -> Exception:
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


_COMMENT_OPS = ("=", "!=", "<", "<=", ">", ">=", "like", "ilike", "match")


def _is_comment(node: Node) -> bool:
    return isinstance(node, Path) and len(node.parts) == 1 and node.parts[0] in ("comment", "comments")


class Compiler:
    """Compiles expressions for one statement; collects its bound parameters in order."""

    def __init__(self, text: str, project_id: int, alias: str = "s", now: Optional[datetime] = None,
                 probe: bool = False):
        self.text = text
        # ``probe``: conditions are checked row by row (correlated lookups by rid), for plans
        # that walk rows in sort order and stop at a page. Otherwise set membership
        # (``rid IN (SELECT ...)``), for plans driven by an index of the matching rows.
        self.probe = probe
        self.pid = project_id
        self.alias = alias
        self.params: list = []
        self.now = now or datetime.now(timezone.utc)
        self._alias_n = 0
        self._comment_col: Optional[str] = None  # set while compiling one comment's condition
        # Set for a row that stands for its trace (the summary shape's root): ``metadata.model``
        # falls back to the model of the trace's first LLM span (scores sit on roots, models on
        # LLM spans: "average Factuality per model" needs both on one row).
        self.trace_model = False

    # -- helpers
    def p(self, value: Any) -> str:
        """Bind a value; numbered (?N) so a fragment may appear twice or out of order."""
        self.params.append(value)
        return f"?{len(self.params)}"

    def err(self, node: Node, message: str) -> QueryError:
        return QueryError(message, node.pos, self.text)

    def c(self, name: str) -> str:
        return f"{self.alias}.{name}"

    def src(self, node: Node) -> str:
        return self.text[node.pos:node.end].strip()

    # -- boolean context
    def where(self, node: Node) -> str:
        agg = find_aggregate(node)
        if agg is not None:
            raise self.err(agg, f"{agg.name}() is an aggregate: use it in measures: or SELECT, not in a filter")
        self._terms = 0
        return self.cond(node, positive=True)

    def _chain(self, node: Binary) -> list:
        """Operands of a chain of the same AND/OR, left to right, without recursion."""
        out, stack = [], [node]
        while stack:
            n = stack.pop()
            if isinstance(n, Binary) and n.op == node.op:
                stack.append(n.right)
                stack.append(n.left)
            else:
                out.append(n)
        return out

    def cond(self, node: Node, positive: bool = False) -> str:
        """SQL for a condition. ``positive``: not under NOT, so index-friendly set membership
        may stand in for a comparison that is merely not true on a missing value."""
        if isinstance(node, Binary) and node.op in ("and", "or"):
            parts = self._chain(node)
            self._terms = getattr(self, "_terms", 0) + len(parts)
            if self._terms > MAX_TERMS:
                raise self.err(node, f"too many conditions (more than {MAX_TERMS})")
            op = f" {node.op.upper()} "
            return "(" + op.join(self.cond(p, positive) for p in parts) + ")"
        if isinstance(node, Unary) and node.op == "not":
            return f"(NOT {self.cond(node.arg, False)})"
        if isinstance(node, Binary) and node.op in _COMMENT_OPS and self._comment_col is None \
                and (_is_comment(node.left) or _is_comment(node.right)):
            return self.comment_cond(node)
        if isinstance(node, Binary) and node.op in ("=", "!=", "<", "<=", ">", ">="):
            return self.compare(node, positive)
        if isinstance(node, Binary) and node.op in ("like", "ilike"):
            return self.like(node)
        if isinstance(node, Binary) and node.op == "match":
            return self.match(node, positive)
        if isinstance(node, Binary) and node.op == "includes":
            return self.includes(node, positive)
        if isinstance(node, Binary) and node.op == "in":
            return self.in_list(node)
        if isinstance(node, IsNull):
            return self.is_null(node)
        if isinstance(node, Call) and node.name == "any_span":
            return self.any_span(node)
        v = self.value(node)
        if v.kind in ("text", "list", "time"):
            raise self.err(node, f"expected a condition (true/false), found {self.src(node)!r}")
        return f"({v.sql})"

    def comment_cond(self, node: Binary) -> str:
        """A condition on ``comment``: true when *some* comment of the row satisfies it
        (``comment = 'x'``, ``comment LIKE 'x%'``); its negation (``!=``, ``NOT LIKE``, ...) is
        true when the row has comments and none satisfies the positive form."""
        negated = node.negated or node.op == "!="
        positive_node = replace(node, negated=False, op="=" if node.op == "!=" else node.op)
        self._comment_col = "cm.text"
        try:
            inner = self.cond(positive_node)
        finally:
            self._comment_col = None
        rid = self.c("rid")
        some = f"EXISTS (SELECT 1 FROM comments cm WHERE cm.span_rid = {rid} AND {inner})"
        if not negated:
            return some
        return f"(EXISTS (SELECT 1 FROM comments cm WHERE cm.span_rid = {rid}) AND NOT {some})"

    def compare(self, node: Binary, positive: bool) -> str:
        op = "<>" if node.op == "!=" else node.op
        left, right = node.left, node.right
        flip = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "<>": "<>"}
        if not isinstance(left, Path) and isinstance(right, Path):
            left, right, op = right, left, flip[op]
        # Indexed: scores.x OP number (side table), outside NOT.
        if (
            positive
            and isinstance(left, Path)
            and left.parts[0] == "scores"
            and len(left.parts) == 2
            and isinstance(right, Literal)
            and isinstance(right.value, (int, float))
            and not isinstance(right.value, bool)
        ):
            if self.probe:
                return (
                    f"EXISTS (SELECT 1 FROM span_scores WHERE span_rid = {self.c('rid')}"
                    f" AND name = {self.p(str(left.parts[1]))} AND value {op} {self.p(right.value)})"
                )
            return (
                f"{self.c('rid')} IN (SELECT span_rid FROM span_scores WHERE name = {self.p(str(left.parts[1]))}"
                f" AND value {op} {self.p(right.value)})"
            )
        lv = self.value(left)
        rv = self.value(right)
        if lv.kind == "time" or rv.kind == "time":
            return self.compare_time(lv, rv, op, node)
        if lv.kind == "null" or rv.kind == "null":
            # x = null is never true (SQL NULL logic; use IS NULL). Keep the bound values used.
            return f"({lv.sql} {op} {rv.sql})"
        if op in ("<", "<=", ">", ">=") and lv.kind == "any" and rv.kind == "num":
            # JSON values are typed: a string is not greater than a number. Not a number ->
            # NULL (unknown), so that NOT (...) is not true either.
            return f"(CASE WHEN typeof({lv.sql}) IN ('integer', 'real') THEN {lv.sql} {op} {rv.sql} END)"
        if op in ("<", "<=", ">", ">=") and rv.kind == "any" and lv.kind == "num":
            return f"(CASE WHEN typeof({rv.sql}) IN ('integer', 'real') THEN {lv.sql} {op} {rv.sql} END)"
        return f"({lv.sql} {op} {rv.sql})"

    def compare_time(self, lv: Val, rv: Val, op: str, node: Node) -> str:
        def as_text(v: Val) -> Optional[str]:
            if v.is_const and isinstance(v.const, str):
                try:
                    return normalize_ts(v.const)
                except ValueError:
                    raise self.err(node, f"{v.const!r} is not a date or timestamp") from None
            if v.is_const and isinstance(v.const, datetime):
                return format_ts(v.const)
            return None

        lt, rt = as_text(lv), as_text(rv)
        if lv.kind == "time" and rt is not None:
            return f"({lv.sql} {op} {self._swap_last_param(rv, rt)})"
        if rv.kind == "time" and lt is not None:
            return f"({self._swap_last_param(lv, lt)} {op} {rv.sql})"
        return f"(julianday({lv.sql}) {op} julianday({rv.sql}))"

    def _swap_last_param(self, v: Val, text: str) -> str:
        # The constant's own parameter was already bound: give it the normalised value.
        idx = v.sql_param_index  # type: ignore[attr-defined]
        self.params[idx] = text
        return v.sql

    def like(self, node: Binary) -> str:
        v = self.value(node.left)
        pat = node.right
        if not (isinstance(pat, Literal) and isinstance(pat.value, str)):
            raise self.err(pat, f"expected a string pattern after {node.op.upper()}")
        if "\x00" in pat.value:
            raise self.err(pat, "a pattern cannot contain a NUL character")
        neg = "NOT " if node.negated else ""
        if node.op == "like":
            return f"({v.sql} IS NOT NULL AND {neg}({v.sql} GLOB {self.p(like_to_glob(pat.value))}))"
        return f"({v.sql} IS NOT NULL AND {neg}({v.sql} LIKE {self.p(pat.value)} ESCAPE '\\'))"

    def match(self, node: Binary, positive: bool) -> str:
        pat = node.right
        if not (isinstance(pat, Literal) and isinstance(pat.value, str)):
            raise self.err(pat, "expected a string of words after MATCH")
        words = fts_words(pat.value)
        if not words:
            raise self.err(pat, "expected at least one word to MATCH")
        left = node.left
        neg = "NOT " if node.negated else ""
        if isinstance(left, Path) and left.parts[0] in FTS_COLUMNS:
            col = str(left.parts[0])
            fts = self.fts_condition(fts_query(words, col), node.negated)
            if len(left.parts) == 1:
                if node.negated:
                    return f"({self.c(col)} IS NOT NULL AND {fts})"
                return f"({fts})"
            v = self.value(left)
            words_sql = f"bt_words({v.sql}, {self.p(' '.join(words))})"
            if node.negated:
                return f"({v.sql} IS NOT NULL AND NOT {words_sql})"
            return f"({fts} AND {words_sql})"
        v = self.value(left)
        return f"({v.sql} IS NOT NULL AND {neg}bt_words({v.sql}, {self.p(' '.join(words))}))"

    def fts_condition(self, query: str, negated: bool = False) -> str:
        """Full-text membership: a rowid probe per row, or the set of matching rowids."""
        neg = "NOT " if negated else ""
        if self.probe:
            return (
                f"{neg}EXISTS (SELECT 1 FROM spans_fts WHERE spans_fts MATCH {self.p(query)}"
                f" AND rowid = {self.c('rid')})"
            )
        return f"{self.c('rid')} {neg}IN (SELECT rowid FROM spans_fts WHERE spans_fts MATCH {self.p(query)})"

    def includes(self, node: Binary, positive: bool) -> str:
        left, right = node.left, node.right
        rv = self.value(right)
        if rv.kind == "list":
            raise self.err(right, "expected one value after INCLUDES")
        if isinstance(left, Path) and left.parts == ["tags"]:
            if not node.negated and self.probe:
                return f"EXISTS (SELECT 1 FROM span_tags t WHERE t.span_rid = {self.c('rid')} AND t.tag = {rv.sql})"
            if not node.negated:
                return f"{self.c('rid')} IN (SELECT span_rid FROM span_tags WHERE tag = {rv.sql})"
            return f"(NOT EXISTS (SELECT 1 FROM span_tags t WHERE t.span_rid = {self.c('rid')} AND t.tag = {rv.sql}))"
        lv = self.value(left)
        if lv.col is None:
            # A plain string: substring.
            neg = "NOT " if node.negated else ""
            return f"({lv.sql} IS NOT NULL AND {neg}(instr({lv.sql}, {rv.sql}) > 0))"
        jp = self.p(lv.jpath)
        arr = f"(CASE WHEN json_type({lv.col}, {jp}) = 'array' THEN json_extract({lv.col}, {jp}) END)"
        exists = f"EXISTS (SELECT 1 FROM json_each({arr}) WHERE value = {rv.sql})"
        if node.negated:
            return f"(json_type({lv.col}, {jp}) = 'array' AND NOT {exists})"
        return f"({exists})"

    def in_list(self, node: Binary) -> str:
        lv = self.value(node.left)
        items = node.right.items  # type: ignore[attr-defined]
        if not items:
            return "(0)" if not node.negated else f"({lv.sql} IS NOT NULL)"
        vals = [self.value(i) for i in items]
        if lv.kind == "time":
            raise self.err(node, "IN is not supported on timestamps; use comparisons")
        neg = "NOT " if node.negated else ""
        return f"({lv.sql} {neg}IN ({', '.join(v.sql for v in vals)}))"

    def is_null(self, node: IsNull) -> str:
        arg = node.arg
        neg = "NOT " if node.negated else ""
        if isinstance(arg, Path) and arg.parts[0] in ("comment", "comments") and len(arg.parts) == 1:
            if self.probe:
                exists = f"EXISTS (SELECT 1 FROM comments WHERE span_rid = {self.c('rid')})"
                return f"({exists})" if node.negated else f"(NOT {exists})"
            sub = "SELECT span_rid FROM comments"
            return f"({self.c('rid')} {'IN' if node.negated else 'NOT IN'} ({sub}))"
        if isinstance(arg, Path) and len(arg.parts) == 1 and arg.parts[0] in ("input", "output", "expected", "error", "span_parents"):
            return f"({self.c(arg.parts[0])} IS {neg}NULL)"
        v = self.value(arg)
        return f"({v.sql} IS {neg}NULL)"

    def any_span(self, node: Call) -> str:
        if len(node.args) != 1:
            raise self.err(node, "any_span() takes one condition")
        self._alias_n += 1
        inner_alias = f"{self.alias}_a{self._alias_n}"
        saved = self.alias
        self.alias = inner_alias
        try:
            inner = self.cond(node.args[0], positive=True)
        finally:
            self.alias = saved
        if self.probe:
            return (
                f"EXISTS (SELECT 1 FROM spans {inner_alias} WHERE {inner_alias}.project_id = {self.c('project_id')}"
                f" AND {inner_alias}.root_span_id = {self.c('root_span_id')} AND {inner})"
            )
        return (
            f"{self.c('root_span_id')} IN (SELECT {inner_alias}.root_span_id FROM spans {inner_alias}"
            f" WHERE {inner_alias}.project_id = {self.p(self.pid)} AND {inner})"
        )

    # -- values
    def value(self, node: Node) -> Val:
        if isinstance(node, Literal):
            v = node.value
            if v is None:
                return Val("NULL", "null", is_const=True)
            sql = self.p(v)
            kind = "bool" if isinstance(v, bool) else "num" if isinstance(v, (int, float)) else "text"
            val = Val(sql, kind, const=v, is_const=True)
            val.sql_param_index = len(self.params) - 1  # type: ignore[attr-defined]
            return val
        if isinstance(node, ListLit):
            vals = [self.value(i) for i in node.items]
            return Val("(" + ", ".join(v.sql for v in vals) + ")", "list")
        if isinstance(node, Interval):
            raise self.err(node, "an interval must be added to or subtracted from a time, like now() - interval 1 day")
        if isinstance(node, Path):
            return self.path(node)
        if isinstance(node, Unary):
            if node.op == "neg":
                v = self.value(node.arg)
                return Val(f"(-{v.sql})", "num", agg=v.agg)
            return Val(f"(NOT {self.cond(node.arg)})", "bool")
        if isinstance(node, IsNull) or (isinstance(node, Binary) and node.op in ("and", "or", "=", "!=", "<", "<=", ">", ">=", "like", "ilike", "match", "includes", "in")):
            return Val(self.cond(node), "bool")
        if isinstance(node, Binary):
            return self.arith(node)
        if isinstance(node, Ternary):
            c = self.cond(node.cond)
            a = self.value(node.then)
            b = self.value(node.other)
            kind = a.kind if a.kind == b.kind else "any"
            return Val(f"(CASE WHEN {c} THEN {a.sql} ELSE {b.sql} END)", kind, agg=a.agg or b.agg)
        if isinstance(node, Call):
            return self.call(node)
        raise self.err(node, "unsupported expression")

    def arith(self, node: Binary) -> Val:
        # Time arithmetic with intervals, folded at compile time where both sides are known.
        if isinstance(node.right, Interval) and node.op in ("+", "-"):
            base = self.value(node.left)
            iv = node.right
            amount = iv.amount if node.op == "+" else -iv.amount
            if base.is_const and isinstance(base.const, datetime):
                self._drop_param(base)
                try:
                    dt = shift_time(base.const, amount, iv.unit)
                except (OverflowError, ValueError):
                    raise self.err(iv, "the interval is out of range") from None
                return self._time_const(dt)
            if base.kind == "time":
                mod = f"{amount:+g} {iv.unit}s"
                return Val(
                    f"(strftime('%Y-%m-%dT%H:%M:%S', {base.sql}, {self.p(mod)}) || substr({base.sql}, 20))", "time"
                )
            raise self.err(node.right, "an interval can only be added to a time")
        if isinstance(node.left, Interval):
            raise self.err(node.left, "put the interval after the time: now() - interval 1 day")
        a = self.value(node.left)
        b = self.value(node.right)
        if a.kind == "time" and b.kind == "time" and node.op == "-":
            # Difference of two times in seconds.
            return Val(f"((julianday({a.sql}) - julianday({b.sql})) * 86400.0)", "num")
        op = node.op
        if op == "/":
            return Val(f"(CAST({a.sql} AS REAL) / {b.sql})", "num", agg=a.agg or b.agg)
        return Val(f"({a.sql} {op} {b.sql})", "num", agg=a.agg or b.agg)

    def _drop_param(self, v: Val) -> None:
        idx = getattr(v, "sql_param_index", None)
        if idx is not None and idx == len(self.params) - 1:
            self.params.pop()

    def _time_const(self, dt: datetime) -> Val:
        sql = self.p(format_ts(dt))
        v = Val(sql, "time", const=dt, is_const=True)
        v.sql_param_index = len(self.params) - 1  # type: ignore[attr-defined]
        return v

    def path(self, node: Path) -> Val:
        root = str(node.parts[0])
        rest = node.parts[1:]
        low = root.lower()
        if low not in FIELDS:
            close = difflib.get_close_matches(low, FIELDS, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise self.err(node, f"unknown field {root!r}{hint}")
        root = low
        if root in ("name", "type") and not rest:
            return Val(self.c(root), "text")
        if root == "span_attributes" and len(rest) == 1 and rest[0] in ("name", "type"):
            return Val(self.c(str(rest[0])), "text")
        if root == "duration" and not rest:
            return Val(f"({self.c('end_ts')} - {self.c('start_ts')})", "num")
        if root == "created" and not rest:
            return Val(self.c("created"), "time")
        if root in ("id", "span_id", "root_span_id") and not rest:
            return Val(self.c(root), "text")
        if root == "is_root" and not rest:
            return Val(self.c("is_root"), "bool")
        if root in ("comment", "comments"):
            if rest:
                raise self.err(node, "comment has no fields; use comment LIKE '%text%'")
            if self._comment_col is not None:  # inside comment_cond: one comment at a time
                return Val(self._comment_col, "text")
            return Val(
                f"(SELECT group_concat(text, char(10)) FROM comments WHERE span_rid = {self.c('rid')})", "text"
            )
        if root == "metadata" and rest == ["model"]:
            if self.trace_model:
                llm = f"{self.alias}_m"
                return Val(
                    f"coalesce({self.c('model')}, (SELECT {llm}.model FROM spans {llm}"
                    f" WHERE {llm}.project_id = {self.c('project_id')} AND {llm}.root_span_id = {self.c('root_span_id')}"
                    f" AND {llm}.type = 'llm' AND {llm}.model IS NOT NULL ORDER BY {llm}.start_ts, {llm}.rid LIMIT 1))",
                    "any",
                )
            return Val(self.c("model"), "any")
        if root == "metrics" and rest in (["start"], ["end"]):
            return Val(self.c("start_ts" if rest[0] == "start" else "end_ts"), "num")
        if root in JSON_COLUMNS:
            col = self.c(root)
            jpath = _json_path(rest)
            if root in ("id", "name", "type", "created", "is_root", "duration") and rest:
                raise self.err(node, f"{root} has no fields")
            return Val(f"json_extract({col}, {self.p(jpath)})", "any", col=col, jpath=jpath)
        raise self.err(node, f"{root} has no fields")

    def call(self, node: Call) -> Val:
        name = node.name
        args = node.args
        if name not in FUNCTIONS:
            close = difflib.get_close_matches(name, FUNCTIONS, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}()?)" if close else ""
            raise self.err(node, f"unknown function {name}(){hint}")

        def need(n: int, m: Optional[int] = None) -> None:
            m = n if m is None else m
            if not (n <= len(args) <= m) and not (node.star and name == "count"):
                want = f"{n}" if n == m else f"{n} to {m}"
                raise self.err(node, f"{name}() takes {want} argument{'s' if m != 1 else ''}")

        if name in ("now", "current_timestamp"):
            need(0)
            return self._time_const(self.now)
        if name == "current_date":
            need(0)
            return self._time_const(self.now.replace(hour=0, minute=0, second=0, microsecond=0))
        if name == "any_span":
            return Val(self.any_span(node), "bool")
        if name == "count":
            if node.star or not args:
                return Val("count(*)", "num", agg=True)
            need(1)
            if isinstance(args[0], Literal) and args[0].value is not None:
                return Val("count(*)", "num", agg=True)  # count(1): no parameter to bind
            v = self.value(args[0])
            return Val(f"count({v.sql})", "num", agg=True)
        if name == "count_distinct":
            need(1)
            return Val(f"count(DISTINCT {self.value(args[0]).sql})", "num", agg=True)
        if name in ("sum", "avg", "min", "max"):
            need(1)
            v = self.value(args[0])
            fn = name  # sum(): NULL over no values (SQL's meaning), integers stay integers
            kind = v.kind if name in ("min", "max") else "num"
            return Val(f"{fn}({v.sql})", kind, agg=True)
        if name == "percentile":
            need(2)
            v = self.value(args[0])
            p = args[1]
            if not (isinstance(p, Literal) and isinstance(p.value, (int, float)) and 0 <= p.value <= 1):
                raise self.err(p, "percentile() takes a fraction between 0 and 1, like percentile(duration, 0.95)")
            return Val(f"bt_percentile({v.sql}, {self.p(float(p.value))})", "num", agg=True)
        if name in ("lower", "upper"):
            need(1)
            v = self.value(args[0])
            return Val(f"{name}({v.sql})", "text", agg=v.agg)
        if name == "concat":
            if not args:
                raise self.err(node, "concat() takes at least one argument")
            vs = [self.value(a) for a in args]
            return Val("(" + " || ".join(f"coalesce({v.sql}, '')" for v in vs) + ")", "text", agg=any(v.agg for v in vs))
        if name in ("len", "length"):
            need(1)
            v = self.value(args[0])
            if v.col is not None:
                jp = self.p(v.jpath)
                return Val(
                    f"(CASE json_type({v.col}, {jp}) WHEN 'array' THEN json_array_length({v.col}, {jp})"
                    f" ELSE length(json_extract({v.col}, {jp})) END)", "num",
                )
            return Val(f"length({v.sql})", "num", agg=v.agg)
        if name == "coalesce":
            if not args:
                raise self.err(node, "coalesce() takes at least one argument")
            vs = [self.value(a) for a in args]
            if len(vs) == 1:
                return vs[0]
            kinds = {v.kind for v in vs if v.kind != "null"}
            return Val(f"coalesce({', '.join(v.sql for v in vs)})", kinds.pop() if len(kinds) == 1 else "any",
                       agg=any(v.agg for v in vs))
        if name == "json_extract":
            need(2)
            v = self.value(args[0])
            p = args[1]
            path = json_extract_path(p.value) if isinstance(p, Literal) and isinstance(p.value, str) else None
            if path is None:
                raise self.err(p, "json_extract() takes a key or a JSON path string like 'a.b', 'items[0].name'"
                                  " or '$.a.b'")
            if v.col is not None:
                base = f"json_extract({v.col}, {self.p(v.jpath)})" if v.jpath != "$" else v.col
                return Val(f"json_extract({base}, {self.p(path)})", "any")
            return Val(f"json_extract({v.sql}, {self.p(path)})", "any")
        if name in ("abs", "round"):
            need(1, 2)
            vs = [self.value(a) for a in args]
            return Val(f"{name}({', '.join(v.sql for v in vs)})", "num", agg=any(v.agg for v in vs))
        if name in ("hour", "day", "week", "month", "year"):
            need(1)
            return self.bucket(name, self.value(args[0]), node)
        if name == "date_trunc":
            need(2)
            unit = args[0]
            if not (isinstance(unit, Literal) and isinstance(unit.value, str) and unit.value.lower() in ("hour", "day", "week", "month", "year")):
                raise self.err(unit, "date_trunc() takes 'hour', 'day', 'week', 'month' or 'year' first")
            return self.bucket(unit.value.lower(), self.value(args[1]), node)
        raise self.err(node, f"{name}() is not supported here")

    def bucket(self, unit: str, v: Val, node: Node) -> Val:
        x = v.sql
        if v.kind not in ("time", "any", "text"):
            raise self.err(node, f"{unit}() takes a time, like {unit}(created)")
        fmt = {
            "hour": f"strftime('%Y-%m-%dT%H:00:00Z', {x})",
            "day": f"strftime('%Y-%m-%d', {x})",
            "week": f"date({x}, '-6 days', 'weekday 1')",
            "month": f"strftime('%Y-%m', {x})",
            "year": f"strftime('%Y', {x})",
        }[unit]
        return Val(fmt, "text", agg=v.agg)


RECORD_FIELDS = ("id", "input", "expected", "metadata", "tags", "created", "origin")


class RecordCompiler(Compiler):
    """The query language over dataset records (``store.datasets``): the same expressions, on
    the fields a record has. MATCH compares whole words in the field's text (records have no
    full-text index: a dataset is read a page at a time, and its pages are small)."""

    def where(self, node: Node) -> str:
        for n in walk_nodes(node):
            if isinstance(n, Path) and str(n.parts[0]).lower() not in RECORD_FIELDS:
                raise self.err(n, f"a dataset record has no field {str(n.parts[0])!r} "
                                  f"(its fields: {', '.join(RECORD_FIELDS)})")
            if isinstance(n, Call) and n.name == "any_span":
                raise self.err(n, "any_span() looks at a trace's spans; dataset records have none")
        return super().where(node)

    def path(self, node: Path) -> Val:
        root = str(node.parts[0]).lower()
        if root in ("origin", "metadata"):  # metadata.model too: records have no model column, as spans do
            col = self.c(root)
            jpath = _json_path(node.parts[1:])
            return Val(f"json_extract({col}, {self.p(jpath)})", "any", col=col, jpath=jpath)
        return super().path(node)

    def match(self, node: Binary, positive: bool) -> str:
        pat = node.right
        if not (isinstance(pat, Literal) and isinstance(pat.value, str)):
            raise self.err(pat, "expected a string of words after MATCH")
        words = fts_words(pat.value)
        if not words:
            raise self.err(pat, "expected at least one word to MATCH")
        v = self.value(node.left)
        if node.negated:
            return f"({v.sql} IS NOT NULL AND NOT {self.words(v.sql, words)})"
        return f"({v.sql} IS NOT NULL AND {self.words(v.sql, words)})"

    def search(self, words: list[str]) -> str:
        """The filter bar's plain words: every word somewhere in the record's text."""
        text = " || ' ' || ".join(f"coalesce({self.c(col)}, '')" for col in ("input", "expected", "metadata", "tags"))
        return self.words(f"({text})", words)

    def words(self, text_sql: str, words: list[str]) -> str:
        """Every word, whole, in JSON text. SQLite's instr() on the lower-cased text first
        (ASCII words only: its lower() folds no other letters), so only rows holding the words
        pay for the word-by-word check in Python."""
        pre = [f"instr(lower({text_sql}), {self.p(w.lower())}) > 0" for w in words if w.isascii()]
        check = f"bt_json_words({text_sql}, {self.p(' '.join(words))})"
        return "(" + " AND ".join([*pre, check]) + ")"

    def includes(self, node: Binary, positive: bool) -> str:
        if isinstance(node.left, Path) and node.left.parts == ["tags"]:
            rv = self.value(node.right)
            if rv.kind == "list":
                raise self.err(node.right, "expected one value after INCLUDES")
            exists = f"EXISTS (SELECT 1 FROM json_each({self.c('tags')}) WHERE value = {rv.sql})"
            return f"(NOT {exists})" if node.negated else f"({exists})"
        return super().includes(node, positive)
