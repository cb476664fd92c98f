"""Word-level diff highlighting of two texts (or two JSON values) as a pair of Rich ``Text``:
the left with the removed words struck through in red, the right with the added words in
green, what both share plain. Pure functions, no Textual: the dataset diff, record history,
and later the playground and experiments render what they compare with them.

Tokens are words, whitespace runs and punctuation runs (``\\w+|\\s+|[^\\w\\s]+``), compared
with ``difflib.SequenceMatcher`` (whitespace is "junk" to it: a match is never anchored on a
blank but is extended over equal ones, which keeps the work near linear on prose). Texts of
several lines are compared line by line first, and the words of the changed lines only; the
common head and tail of a block are cut before any matching. A block still too big to compare
word by word (``MAX_TOKENS``) is shown as changed as a whole: huge inputs stay fast.
"""

from __future__ import annotations

import re
from collections import Counter
from difflib import SequenceMatcher
from typing import Any

import orjson
from rich.style import Style
from rich.text import Text

REMOVED = Style(color="red", bold=True, strike=True)
ADDED = Style(color="green", bold=True)
# A changed blank is invisible in a colour alone: it gets a background.
REMOVED_BLANK = Style(bgcolor="red")
ADDED_BLANK = Style(bgcolor="green")

MAX_TOKENS = 3000  # tokens (both sides) a block is compared word by word at most
BUDGET = 20000  # tokens compared word by word in one call at most; later blocks show whole
POPULAR = 5  # a line repeated more often than this is junk to the line matching
MAX_LINES = 6000  # changed lines (both sides) compared line by line at most; past it, whole

_TOKEN = re.compile(r"\w+|\s+|[^\w\s]+")


def tokens(text: str) -> list[str]:
    """Words, whitespace runs and punctuation runs; joined they give ``text`` back."""
    return _TOKEN.findall(text)


def _blank(token: str) -> bool:
    return token.isspace()


_WORD = re.compile(r"\w")


def _no_word(line: str) -> bool:
    return _WORD.search(line) is None


def _put(out: Text, text: str, style: Style, blank: Style) -> None:
    """``text`` in the changed style (its blanks with a background instead; a long text in
    one piece)."""
    if len(text) > MAX_TOKENS:
        out.append(text, style)
        return
    for tok in _TOKEN.findall(text):
        out.append(tok, blank if tok.isspace() and "\n" not in tok else style)


def _words(a: str, b: str, left: Text, right: Text, budget: list[int]) -> None:
    """One block (a line or a few), word by word, while ``budget[0]`` (tokens) lasts."""
    ta, tb = tokens(a), tokens(b)
    # The common head and tail: cheap, and most edits touch a little in the middle.
    head = 0
    while head < len(ta) and head < len(tb) and ta[head] == tb[head]:
        head += 1
    tail = 0
    while tail < len(ta) - head and tail < len(tb) - head and ta[-1 - tail] == tb[-1 - tail]:
        tail += 1
    common_head = "".join(ta[:head])
    common_tail = "".join(ta[len(ta) - tail:]) if tail else ""
    ma, mb = ta[head:len(ta) - tail], tb[head:len(tb) - tail]
    left.append(common_head)
    right.append(common_head)
    n = len(ma) + len(mb)
    if n > MAX_TOKENS or n > budget[0]:
        left.append("".join(ma), REMOVED)
        right.append("".join(mb), ADDED)
    else:
        budget[0] -= n
        sm = SequenceMatcher(_blank, ma, mb, autojunk=False)
        for op, i1, i2, j1, j2 in sm.get_opcodes():
            if op == "equal":
                same = "".join(ma[i1:i2])
                left.append(same)
                right.append(same)
                continue
            if i2 > i1:
                for tok in ma[i1:i2]:
                    left.append(tok, REMOVED_BLANK if tok.isspace() and "\n" not in tok else REMOVED)
            if j2 > j1:
                for tok in mb[j1:j2]:
                    right.append(tok, ADDED_BLANK if tok.isspace() and "\n" not in tok else ADDED)
    left.append(common_tail)
    right.append(common_tail)


def word_diff(a: str, b: str) -> tuple[Text, Text]:
    """(``a`` with what ``b`` lacks highlighted as removed, ``b`` with what ``a`` lacks
    highlighted as added). Identical texts come back plain."""
    left, right = Text(), Text()
    budget = [BUDGET]
    if a == b:
        return Text(a), Text(b)
    la, lb = a.splitlines(keepends=True), b.splitlines(keepends=True)
    if len(la) <= 1 and len(lb) <= 1:
        _words(a, b, left, right, budget)
        return left, right
    # The common head and tail lines, then the lines between them (at most MAX_LINES).
    head = 0
    while head < len(la) and head < len(lb) and la[head] == lb[head]:
        head += 1
    tail = 0
    while tail < len(la) - head and tail < len(lb) - head and la[-1 - tail] == lb[-1 - tail]:
        tail += 1
    same = "".join(la[:head])
    left.append(same)
    right.append(same)
    ma, mb = la[head:len(la) - tail], lb[head:len(lb) - tail]
    if len(ma) + len(mb) > MAX_LINES:
        _put(left, "".join(ma), REMOVED, REMOVED_BLANK)
        _put(right, "".join(mb), ADDED, ADDED_BLANK)
    else:
        _lines(ma, mb, left, right, budget)
    same = "".join(la[len(la) - tail:]) if tail else ""
    left.append(same)
    right.append(same)
    return left, right


def _lines(la: list[str], lb: list[str], left: Text, right: Text, budget: list[int]) -> None:
    """Lines matched as lines, the words of the changed ones word by word."""
    # Lines of brackets and blanks ("  },") and lines repeated many times are junk: never an
    # anchor (which keeps the matching near linear), but matched next to one.
    counts = Counter(lb)
    popular = {line for line, n in counts.items() if n > POPULAR}
    sm = SequenceMatcher(lambda line: line in popular or _no_word(line), la, lb, autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        block_a, block_b = "".join(la[i1:i2]), "".join(lb[j1:j2])
        if op == "equal":
            left.append(block_a)
            right.append(block_b)
        elif op == "delete":
            _put(left, block_a, REMOVED, REMOVED_BLANK)
        elif op == "insert":
            _put(right, block_b, ADDED, ADDED_BLANK)
        elif len(block_a) + len(block_b) <= MAX_TOKENS * 4 or i2 - i1 != j2 - j1:
            _words(block_a, block_b, left, right, budget)
        else:  # as many lines changed as there are: line by line, each word by word
            for x, y in zip(la[i1:i2], lb[j1:j2]):
                _words(x, y, left, right, budget)


def json_text(value: Any) -> str:
    """A JSON value as indented text (keys in their order); a string as it is."""
    if isinstance(value, str):
        return value
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    except TypeError:
        return repr(value)


def value_diff(a: Any, b: Any) -> tuple[Text, Text]:
    """Two JSON values: two strings word by word; anything else as indented JSON, line by
    line and then word by word inside the lines that changed."""
    if isinstance(a, str) and isinstance(b, str):
        return word_diff(a, b)
    to_text = (lambda v: orjson.dumps(v).decode() if isinstance(v, str) else json_text(v))
    return word_diff(to_text(a), to_text(b))


def changed_spans(text: Text) -> list[str]:
    """The highlighted (changed) pieces of a ``Text`` made here, in order, touching runs
    joined (tests, summaries)."""
    out: list[str] = []
    last_end = -1
    for span in sorted(text.spans, key=lambda s: s.start):
        style = Style.parse(span.style) if isinstance(span.style, str) else span.style
        if style not in (REMOVED, ADDED, REMOVED_BLANK, ADDED_BLANK):
            continue
        piece = text.plain[span.start:span.end]
        if out and span.start == last_end:
            out[-1] += piece
        else:
            out.append(piece)
        last_end = span.end
    return out


__all__ = ["ADDED", "REMOVED", "changed_spans", "json_text", "tokens", "value_diff", "word_diff"]
