"""Braintrust's query language: lexer, parser and AST (DESIGN.md section 3).

Filters are the expression after ``WHERE`` / ``filter:``. Full queries come in two forms:
SQL (``SELECT ... FROM project_logs('p') WHERE ... GROUP BY ... ORDER BY ... LIMIT n``) and
BTQL clauses (``select:``, ``from:``, ``filter:``, ``dimensions:``, ``measures:``, ``sort:``,
``limit:``; separated by newlines or ``|``). Errors name the 1-based column and what was
expected, e.g. ``expected a value after '>' at column 17``.
"""

from __future__ import annotations

import contextlib
import difflib
import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

from ..errors import QueryError

MAX_DEPTH = 64
# Operators chained in a row (`a + b + c ...`): each link is one more level for the compiler,
# which recurses down a chain (a filter of 500 `+1` terms overflowed Python's stack), and
# SQLite's parser refuses much longer chains anyway ("too complex").
MAX_CHAIN = 64
MAX_QUERY_CHARS = 100_000


# --- lexer -----------------------------------------------------------------------------------

KEYWORDS = {
    "and", "or", "not", "is", "null", "like", "ilike", "match", "includes", "contains", "in",
    "true", "false", "interval", "as", "asc", "desc", "select", "from", "where", "group", "by",
    "order", "limit", "current_date", "current_timestamp",
}

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
  | (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")
  | (?P<ident>[^\W\d][\w$]*|\$[\w$]*|`[^`]*`)
  | (?P<op>==|!=|<>|<=|>=|=|<|>|\+|-|\*|/|%|\?|:|\(|\)|\[|\]|,|\.|\|)
    """,
    re.VERBOSE | re.UNICODE,
)


@dataclass
class Token:
    kind: str  # number, string, ident, kw, op, eof
    value: Any
    pos: int
    text: str
    line_start: bool = False  # first token on its line


def _unquote(raw: str) -> str:
    q = raw[0]
    body = raw[1:-1]
    out = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({"n": "\n", "t": "\t", "r": "\r", "0": "\0"}.get(nxt, nxt if nxt in (q, "\\") else "\\" + nxt))
            i += 2
            continue
        if ch == q and i + 1 < len(body) and body[i + 1] == q:
            out.append(q)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def tokenize(text: str) -> list[Token]:
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"query is too long ({len(text)} characters, at most {MAX_QUERY_CHARS})", 0, text[:200])
    tokens: list[Token] = []
    pos = 0
    line_start = True
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m:
            ch = text[pos]
            if ch in "'\"":
                raise QueryError(f"unterminated string starting with {ch}", pos, text)
            raise QueryError(f"unexpected character {ch!r}", pos, text)
        kind = m.lastgroup
        raw = m.group()
        if kind == "ws":
            if "\n" in raw:
                line_start = True
            pos = m.end()
            continue
        if kind == "number":
            value: Any = float(raw) if any(c in raw for c in ".eE") else int(raw)
            if isinstance(value, int) and abs(value) > 2**63 - 1:
                try:
                    value = float(value)  # beyond SQLite's 64-bit integers: compare as a real
                except OverflowError:
                    value = math.inf if value > 0 else -math.inf  # as 1e309 reads: infinity

        elif kind == "string":
            value = _unquote(raw)
        elif kind == "ident":
            if raw.startswith("`"):
                value = raw[1:-1]
            elif raw.lower() in KEYWORDS:
                kind, value = "kw", raw.lower()
            else:
                value = raw
        else:
            value = raw
        tokens.append(Token(kind, value, pos, raw, line_start))
        line_start = False
        pos = m.end()
    tokens.append(Token("eof", None, len(text), "", line_start))
    return tokens


# --- AST -------------------------------------------------------------------------------------


@dataclass
class Node:
    pos: int = field(default=0, kw_only=True)
    end: int = field(default=0, kw_only=True)


def walk_nodes(node: Optional["Node"]) -> Iterator["Node"]:
    """Every node of a parsed expression, depth first (iterative: a filter may chain thousands
    of terms, past Python's recursion limit)."""
    stack = [node] if node is not None else []
    while stack:
        n = stack.pop()
        yield n
        for v in vars(n).values():
            if isinstance(v, Node):
                stack.append(v)
            elif isinstance(v, list):
                stack.extend(x for x in v if isinstance(x, Node))


@dataclass
class Literal(Node):
    value: Any  # str, int, float, bool, None, or list (of Literal values)


@dataclass
class ListLit(Node):
    items: list


@dataclass
class Interval(Node):
    amount: float
    unit: str  # second minute hour day week month year


@dataclass
class Path(Node):
    parts: list  # first is the root name (str); then str keys or int indexes


@dataclass
class Unary(Node):
    op: str  # not, neg
    arg: Node


@dataclass
class Binary(Node):
    op: str  # and or = != < <= > >= + - * / % like ilike match includes in
    left: Node
    right: Node
    negated: bool = False


@dataclass
class IsNull(Node):
    arg: Node
    negated: bool = False


@dataclass
class Ternary(Node):
    cond: Node
    then: Node
    other: Node


@dataclass
class Call(Node):
    name: str
    args: list
    star: bool = False


@dataclass
class SelectItem:
    expr: Node
    alias: str
    desc: bool = False


@dataclass
class Query:
    select: list = field(default_factory=list)  # [SelectItem]; empty = all fields
    star: bool = True
    source: str = "project_logs"
    source_arg: Optional[str] = None
    shape: str = "spans"  # spans | traces | summary
    filter: Optional[Node] = None
    dimensions: list = field(default_factory=list)
    measures: list = field(default_factory=list)
    sort: list = field(default_factory=list)  # [SelectItem] with desc
    limit: Optional[int] = None


UNITS = {
    "second": "second", "seconds": "second", "minute": "minute", "minutes": "minute", "hour": "hour",
    "hours": "hour", "day": "day", "days": "day", "week": "week", "weeks": "week", "month": "month",
    "months": "month", "year": "year", "years": "year",
}

COMPARE_OPS = {"=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def _describe(tok: Token) -> str:
    if tok.kind == "eof":
        return "the end"
    return repr(tok.text)


class Parser:
    def __init__(self, text: str, tokens: Optional[list[Token]] = None):
        self.text = text
        self.toks = tokens if tokens is not None else tokenize(text)
        self.i = 0
        self.depth = 0
        self.links = 0  # arithmetic operators chained on the way down to here (MAX_CHAIN)

    # -- helpers
    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def peek(self, n: int = 1) -> Token:
        return self.toks[min(self.i + n, len(self.toks) - 1)]

    def advance(self) -> Token:
        t = self.toks[self.i]
        if self.i < len(self.toks) - 1:
            self.i += 1
        return t

    def at_kw(self, *words: str) -> bool:
        return self.tok.kind == "kw" and self.tok.value in words

    def at_op(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.value in ops

    def error(self, message: str, tok: Optional[Token] = None) -> QueryError:
        tok = tok or self.tok
        return QueryError(message, tok.pos, self.text)

    def expect_op(self, op: str, what: str) -> Token:
        if not self.at_op(op):
            raise self.error(f"expected {what}, found {_describe(self.tok)}")
        return self.advance()

    # -- entry points
    def parse_filter(self, stop_at_clause: bool = False) -> Node:
        node = self.expr()
        if self.tok.kind != "eof" and not (stop_at_clause and self._at_clause_end()):
            raise self.error(self._unexpected_message())
        return node

    def _unexpected_message(self) -> str:
        t = self.tok
        prev = self.toks[self.i - 1] if self.i else None
        if prev is not None and t.kind in ("ident", "string", "number"):
            return f"expected an operator or AND/OR after {prev.text!r}, found {_describe(t)}"
        if t.kind == "op" and t.value == ")":
            return "unbalanced ')'"
        return f"unexpected {_describe(t)}"

    def _at_clause_end(self) -> bool:
        t = self.tok
        if t.kind == "op" and t.value == "|":
            return True
        return t.line_start and t.kind in ("ident", "kw") and self.peek().kind == "op" and self.peek().value == ":"

    # -- grammar (lowest precedence first)
    @contextlib.contextmanager
    def nested(self) -> Iterator[None]:
        """One level deeper in the expression; past MAX_DEPTH levels a QueryError."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"expression is nested too deeply (more than {MAX_DEPTH} levels)")
        try:
            yield
        finally:
            self.depth -= 1

    def expr(self) -> Node:
        with self.nested():
            return self.ternary()

    def ternary(self) -> Node:
        cond = self.or_expr()
        if self.at_op("?"):
            self.advance()
            then = self.expr()
            self.expect_op(":", "':' of the ternary 'cond ? a : b'")
            other = self.expr()
            return Ternary(cond, then, other, pos=cond.pos, end=other.end)
        return cond

    # The left-associative levels below spell out the same loop each: a shared helper would add
    # a Python frame per level, and MAX_DEPTH levels of nesting must fit the recursion limit.
    def or_expr(self) -> Node:
        left = self.and_expr()
        while self.at_kw("or"):
            op = self.advance()
            right = self._operand(self.and_expr, op)
            left = Binary("or", left, right, pos=left.pos, end=right.end)
        return left

    def and_expr(self) -> Node:
        left = self.not_expr()
        while self.at_kw("and"):
            op = self.advance()
            right = self._operand(self.not_expr, op)
            left = Binary("and", left, right, pos=left.pos, end=right.end)
        return left

    def not_expr(self) -> Node:
        if self.at_kw("not"):
            t = self.advance()
            with self.nested():
                arg = self._operand(self.not_expr, t)
            return Unary("not", arg, pos=t.pos, end=arg.end)
        return self.comparison()

    def _operand(self, fn, after: Token) -> Node:
        if self.tok.kind == "eof" or self.at_op(")", ",", "]", ":", "|") or self.at_kw("and", "or"):
            raise self.error(f"expected a value after {after.text!r}")
        return fn()

    def comparison(self) -> Node:
        left = self.additive()
        t = self.tok
        if t.kind == "op" and t.value in COMPARE_OPS:
            self.advance()
            right = self._operand(self.additive, t)
            return Binary(COMPARE_OPS[t.value], left, right, pos=left.pos, end=right.end)
        if self.at_kw("is"):
            self.advance()
            negated = False
            if self.at_kw("not"):
                self.advance()
                negated = True
            if not self.at_kw("null"):
                raise self.error("expected NULL after IS" + (" NOT" if negated else ""))
            end = self.advance()
            return IsNull(left, negated, pos=left.pos, end=end.pos + len(end.text))
        negated = False
        if self.at_kw("not") and self.peek().kind == "kw" and self.peek().value in ("like", "ilike", "match", "includes", "contains", "in"):
            self.advance()
            negated = True
        if self.at_kw("like", "ilike", "match", "includes", "contains"):
            op = self.advance()
            right = self._operand(self.additive, op)
            name = "includes" if op.value == "contains" else op.value
            return Binary(name, left, right, negated=negated, pos=left.pos, end=right.end)
        if self.at_kw("in"):
            op = self.advance()
            if self.at_op("("):
                open_ = self.advance()
                items = self._list_items(")", open_)
            elif self.at_op("["):
                open_ = self.advance()
                items = self._list_items("]", open_)
            else:
                raise self.error("expected a list after IN, like ('a', 'b') or ['a', 'b']")
            right = ListLit(items, pos=op.pos, end=self.toks[self.i - 1].pos + 1)
            return Binary("in", left, right, negated=negated, pos=left.pos, end=right.end)
        if negated:
            raise self.error("expected LIKE, ILIKE, MATCH, INCLUDES or IN after NOT")
        return left

    def _list_items(self, close: str, open_: Token) -> list:
        items = []
        if self.at_op(close):
            self.advance()
            return items
        while True:
            items.append(self._operand(self.expr, open_ if not items else self.toks[self.i - 1]))
            if self.at_op(","):
                self.advance()
                continue
            if self.at_op(close):
                self.advance()
                return items
            raise self.error(f"expected ',' or '{close}' in the list, found {_describe(self.tok)}")

    def additive(self) -> Node:
        left = self.multiplicative()
        start = self.links
        try:
            while self.at_op("+", "-"):
                op = self.advance()
                self._link(op)
                right = self._operand(self.multiplicative, op)
                left = Binary(op.value, left, right, pos=left.pos, end=right.end)
        finally:
            self.links = start
        return left

    def multiplicative(self) -> Node:
        left = self.unary()
        start = self.links
        try:
            while self.at_op("*", "/", "%"):
                op = self.advance()
                self._link(op)
                right = self._operand(self.unary, op)
                left = Binary(op.value, left, right, pos=left.pos, end=right.end)
        finally:
            self.links = start
        return left

    def _link(self, op: Token) -> None:
        """One more operator in a chain; past MAX_CHAIN a QueryError at that operator."""
        self.links += 1
        if self.links > MAX_CHAIN:
            raise self.error(f"too many operators in a row (at most {MAX_CHAIN} in one expression)", op)

    def unary(self) -> Node:
        if self.at_op("-"):
            t = self.advance()
            with self.nested():
                arg = self._operand(self.unary, t)
            if isinstance(arg, Literal) and isinstance(arg.value, (int, float)) and not isinstance(arg.value, bool):
                return Literal(-arg.value, pos=t.pos, end=arg.end)
            return Unary("neg", arg, pos=t.pos, end=arg.end)
        if self.at_op("+"):
            t = self.advance()
            with self.nested():
                return self._operand(self.unary, t)
        return self.primary()

    def primary(self) -> Node:
        t = self.tok
        end = t.pos + len(t.text)
        if t.kind == "number":
            self.advance()
            return Literal(t.value, pos=t.pos, end=end)
        if t.kind == "string":
            self.advance()
            return Literal(t.value, pos=t.pos, end=end)
        if t.kind == "kw":
            if t.value in ("true", "false"):
                self.advance()
                return Literal(t.value == "true", pos=t.pos, end=end)
            if t.value == "null":
                self.advance()
                return Literal(None, pos=t.pos, end=end)
            if t.value == "interval":
                return self.interval()
            if t.value == "current_date":
                self.advance()
                return Call("current_date", [], pos=t.pos, end=end)
            if t.value == "current_timestamp":
                self.advance()
                if self.at_op("(") and self.peek().kind == "op" and self.peek().value == ")":
                    self.advance()
                    end = self.advance().pos + 1
                return Call("now", [], pos=t.pos, end=end)
            raise self.error(f"expected a value, found the keyword {t.text.upper()!r}")
        if t.kind == "op":
            if t.value == "(":
                self.advance()
                inner = self.expr()
                close = self.expect_op(")", "')'")
                inner.pos, inner.end = t.pos, close.pos + 1
                return inner
            if t.value == "[":
                self.advance()
                items = self._list_items("]", t)
                return ListLit(items, pos=t.pos, end=self.toks[self.i - 1].pos + 1)
            if t.kind == "op" and t.value == "*":
                raise self.error("'*' is only allowed in count(*) and SELECT *")
        if t.kind == "ident":
            if self.peek().kind == "op" and self.peek().value == "(":
                return self.call()
            return self.path()
        if t.kind == "eof":
            prev = self.toks[self.i - 1] if self.i else None
            if prev is not None:
                raise self.error(f"expected a value after {prev.text!r}")
            raise self.error("expected an expression")
        raise self.error(f"expected a value, found {_describe(t)}")

    def interval(self) -> Node:
        t = self.advance()
        amount_tok = self.tok
        if amount_tok.kind == "string":
            self.advance()
            parts = amount_tok.value.split()
            if len(parts) != 2:
                raise self.error("expected an interval like '1 day'", amount_tok)
            try:
                amount = float(parts[0])
            except ValueError:
                raise self.error("expected a number in the interval", amount_tok) from None
            unit = UNITS.get(parts[1].lower())
            if not unit:
                raise self.error(f"unknown interval unit {parts[1]!r} (second, minute, hour, day, week, month, year)", amount_tok)
            return Interval(amount, unit, pos=t.pos, end=amount_tok.pos + len(amount_tok.text))
        if amount_tok.kind != "number":
            raise self.error("expected a number after INTERVAL, like interval 1 day")
        self.advance()
        unit_tok = self.tok
        unit = UNITS.get(str(unit_tok.value).lower()) if unit_tok.kind in ("ident", "kw") else None
        if not unit:
            raise self.error("expected an interval unit (second, minute, hour, day, week, month, year)", unit_tok)
        self.advance()
        return Interval(float(amount_tok.value), unit, pos=t.pos, end=unit_tok.pos + len(unit_tok.text))

    def call(self) -> Node:
        name_tok = self.advance()
        self.advance()  # (
        name = name_tok.value.lower()
        if self.at_op("*"):
            self.advance()
            close = self.expect_op(")", "')'")
            return Call(name, [], star=True, pos=name_tok.pos, end=close.pos + 1)
        args: list = []
        if not self.at_op(")"):
            while True:
                args.append(self.expr())
                if self.at_op(","):
                    self.advance()
                    continue
                break
        close = self.expect_op(")", f"',' or ')' in the call to {name_tok.value}()")
        return Call(name, args, pos=name_tok.pos, end=close.pos + 1)

    def path(self) -> Node:
        t = self.advance()
        parts: list = [t.value]
        end = t.pos + len(t.text)
        while True:
            if self.at_op("."):
                dot = self.advance()
                k = self.tok
                if k.kind in ("ident", "kw"):
                    parts.append(k.text if k.kind == "kw" else k.value)
                elif k.kind == "string":
                    parts.append(k.value)
                elif k.kind == "number" and isinstance(k.value, int):
                    parts.append(str(k.value))
                else:
                    raise self.error("expected a field name after '.'", k if k.kind != "eof" else dot)
                self.advance()
                end = k.pos + len(k.text)
            elif self.at_op("[") and self.peek().kind in ("number", "string", "op"):
                self.advance()
                neg = False
                if self.at_op("-"):
                    self.advance()
                    neg = True
                k = self.tok
                if k.kind == "number" and isinstance(k.value, int):
                    parts.append(-k.value if neg else k.value)
                elif k.kind == "string" and not neg:
                    parts.append(k.value)
                else:
                    raise self.error("expected an array index like [0] or [-1]", k)
                self.advance()
                close = self.expect_op("]", "']'")
                end = close.pos + 1
            else:
                break
        return Path(parts, pos=t.pos, end=end)


def strip_where(text: str) -> tuple[str, int]:
    """Drop a leading ``WHERE`` or ``filter:``; returns (rest, offset) so columns stay true."""
    m = re.match(r"\s*(?:where\b|filter\s*:)", text, re.IGNORECASE)
    if m:
        return text[m.end():], m.end()
    return text, 0


def parse_filter(text: str) -> Node:
    """Parse a filter expression (a leading WHERE / filter: is accepted)."""
    rest, offset = strip_where(text)
    if not rest.strip():
        raise QueryError("expected a filter expression", len(text), text)
    toks = tokenize(text)
    # Skip the tokens of the prefix so positions stay relative to the full text.
    i = 0
    while i < len(toks) and toks[i].pos < offset:
        i += 1
    p = Parser(text, toks)
    p.i = i
    return p.parse_filter()


CLAUSES = ("select", "from", "filter", "dimensions", "measures", "sort", "limit", "pivot", "unpivot")


def parse_query(text: str) -> Query:
    """Parse a full query in SQL form or BTQL clause form."""
    if not text.strip():
        raise QueryError("expected a query", 0, text)
    toks = tokenize(text)
    first = toks[0]
    if first.kind == "kw" and first.value == "select" and not (toks[1].kind == "op" and toks[1].value == ":"):
        return _SqlParser(text, toks).parse()
    if first.kind in ("ident", "kw") and str(first.value).lower() in CLAUSES and toks[1].kind == "op" and toks[1].value == ":":
        return _ClauseParser(text, toks).parse()
    if first.kind in ("ident", "kw") and toks[1].kind == "op" and toks[1].value == ":":
        # `selct: id`: a clause name that is not one (a filter never starts with `word:`).
        close = difflib.get_close_matches(str(first.value).lower(), CLAUSES, n=1)
        hint = f"; did you mean '{close[0]}:'?" if close else f" (clauses: {', '.join(c + ':' for c in CLAUSES)})"
        raise QueryError(f"unknown clause '{first.value}:'{hint}", first.pos, text)
    # A bare filter is a query over the default project.
    return Query(filter=parse_filter(text))


class _QueryParserBase(Parser):
    def select_list(self, allow_star: bool = True) -> tuple[list, bool]:
        if allow_star and self.at_op("*"):
            self.advance()
            return [], True
        items = []
        while True:
            e = self.expr()
            alias = self.text[e.pos:e.end].strip()
            if self.at_kw("as"):
                self.advance()
                a = self.tok
                if a.kind not in ("ident", "string", "kw"):
                    raise self.error("expected a name after AS")
                alias = str(a.value)
                self.advance()
            items.append(SelectItem(e, alias))
            if self.at_op(","):
                self.advance()
                continue
            return items, False

    def sort_list(self) -> list:
        items = []
        while True:
            e = self.expr()
            desc = False
            if self.at_kw("asc", "desc"):
                desc = self.advance().value == "desc"
            items.append(SelectItem(e, self.text[e.pos:e.end].strip(), desc))
            if self.at_op(","):
                self.advance()
                continue
            return items

    def source(self, q: Query) -> None:
        t = self.tok
        if t.kind != "ident":
            raise self.error("expected a source like project_logs('my-project'), dataset('name') or experiment('name')")
        name = t.value.lower()
        if name not in ("project_logs", "logs", "dataset", "experiment"):
            close = difflib.get_close_matches(name, ["project_logs", "dataset", "experiment"], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else \
                " (supported: project_logs('name'), dataset('name'), experiment('name'))"
            raise self.error(f"unknown source {t.value!r}{hint}")
        self.advance()
        if name == "dataset":  # a dataset of the --project project, its records as of the latest version
            q.source = "dataset"
            self.expect_op("(", "'(' and the dataset's name, like dataset('my-dataset')")
            if self.tok.kind != "string":
                raise self.error("expected the dataset's name as a string, like dataset('my-dataset')")
            q.source_arg = self.advance().value
            self.expect_op(")", "')'")
            if self.tok.kind == "ident" and self.tok.value.lower() in ("spans", "traces", "summary"):
                raise self.error(f"a dataset has records, not {self.tok.value.lower()}")
            return
        if name == "experiment":  # an experiment of the --project project: its rows' spans, as project_logs
            q.source = "experiment"
            self.expect_op("(", "'(' and the experiment's name, like experiment('my-experiment')")
            if self.tok.kind != "string":
                raise self.error("expected the experiment's name as a string, like experiment('my-experiment')")
            q.source_arg = self.advance().value
            self.expect_op(")", "')'")
        else:
            q.source = "project_logs"
            if self.at_op("("):
                self.advance()
                if self.tok.kind != "string":
                    raise self.error("expected the project name as a string, like project_logs('my-project')")
                q.source_arg = self.advance().value
                self.expect_op(")", "')'")
        if self.tok.kind == "ident" and self.tok.value.lower() in ("spans", "traces", "summary"):
            q.shape = self.advance().value.lower()

    def limit_value(self) -> int:
        t = self.tok
        if t.kind != "number" or not isinstance(t.value, int) or t.value < 0:
            raise self.error("expected a whole number after LIMIT")
        self.advance()
        return min(t.value, 1_000_000_000)


class _SqlParser(_QueryParserBase):
    def parse(self) -> Query:
        q = Query()
        self.advance()  # SELECT
        q.select, q.star = self.select_list()
        if not self.at_kw("from"):
            raise self.error("expected FROM after the select list")
        self.advance()
        self.source(q)
        if self.at_kw("where"):
            self.advance()
            q.filter = self.expr()
        if self.at_kw("group"):
            self.advance()
            if not self.at_kw("by"):
                raise self.error("expected BY after GROUP")
            self.advance()
            # In SQL form the select list holds the dimensions and the measures; a GROUP BY
            # item names a selected item by position (GROUP BY 1), by alias or by its text.
            q.dimensions = [self._group_item(q, g) for g in self.sort_list()]
            q.measures = [s for s in q.select if all(s is not d for d in q.dimensions)]
        if self.at_kw("order"):
            self.advance()
            if not self.at_kw("by"):
                raise self.error("expected BY after ORDER")
            self.advance()
            q.sort = self.sort_list()
        if self.at_kw("limit"):
            self.advance()
            q.limit = self.limit_value()
        if self.tok.kind != "eof":
            raise self.error(self._unexpected_message() if self.tok.kind != "kw" else f"unexpected {_describe(self.tok)}")
        return q

    def _group_item(self, q: Query, g) -> SelectItem:
        e = g.expr
        src = self.text[e.pos:e.end].strip()
        if isinstance(e, Literal) and isinstance(e.value, int) and not isinstance(e.value, bool):
            if not 1 <= e.value <= len(q.select):
                raise QueryError(f"GROUP BY {e.value}: the select list has {len(q.select)} item"
                                 f"{'' if len(q.select) == 1 else 's'}", e.pos, self.text)
            return q.select[e.value - 1]
        for s in q.select:
            if (isinstance(e, Path) and len(e.parts) == 1 and s.alias == e.parts[0]) \
                    or self.text[s.expr.pos:s.expr.end].strip() == src:
                return s
        return SelectItem(e, g.alias or src)


class _ClauseParser(_QueryParserBase):
    def parse(self) -> Query:
        q = Query()
        seen = set()
        while self.tok.kind != "eof":
            if self.at_op("|"):
                self.advance()
                continue
            t = self.tok
            name = str(t.value).lower() if t.kind in ("ident", "kw") else ""
            if name not in CLAUSES or not (self.peek().kind == "op" and self.peek().value == ":"):
                close = difflib.get_close_matches(name, CLAUSES, n=1) if name else []
                hint = f" (did you mean '{close[0]}:'?)" if close else ""
                raise self.error(f"expected a clause like 'filter:' or 'select:'{hint}")
            if name in seen:
                raise self.error(f"the {name}: clause is given twice")
            if name in ("pivot", "unpivot"):
                raise self.error(f"the {name}: clause is not supported yet")
            seen.add(name)
            self.advance()
            self.advance()  # ':'
            if name == "select":
                q.select, q.star = self.select_list()
            elif name == "from":
                self.source(q)
            elif name == "filter":
                q.filter = self.expr()
            elif name == "dimensions":
                q.dimensions, _ = self.select_list(allow_star=False)
            elif name == "measures":
                q.measures, _ = self.select_list(allow_star=False)
            elif name == "sort":
                q.sort = self.sort_list()
            elif name == "limit":
                q.limit = self.limit_value()
            if self.tok.kind != "eof" and not self._at_clause_end():
                raise self.error(self._unexpected_message())
        if q.dimensions or q.measures:
            q.star = False
        return q

