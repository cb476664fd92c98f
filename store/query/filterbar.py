"""The filter bar's text: a filter expression, a full-text search, or everything (Braintrust's
search box rules), and the SQL of a ``Filter`` over one alias."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from .btql import (
    Binary,
    Call,
    IsNull,
    Literal,
    Node,
    Path,
    QueryError,
    Unary,
    parse_filter,
    strip_where,
    tokenize,
)
from .compiler import Compiler, fts_query, fts_words

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
