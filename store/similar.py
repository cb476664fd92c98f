"""Logged answers to similar questions: the full-text lookup the offline model answers from.

``similar_outputs(store, project, text)`` ranks a project's root spans that have an output by
how well their **input** matches the words of ``text`` (FTS5's bm25 over ``spans_fts``, the
index of store/migrations.py; any word may match), best first, ties broken by row order
(``rid``). Read-only: it never writes, so it works on a read-only store.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .connection import Store
from .jsontext import loads
from .projects import find_project
from .query.compiler import fts_words

MAX_WORDS = 32  # words of the text that take part in the query (the first distinct ones)

_SQL = """
SELECT s.id, s.input, s.output, bm25(spans_fts) AS rank
FROM spans_fts JOIN spans s ON s.rid = spans_fts.rowid
WHERE spans_fts MATCH ? AND s.project_id = ? AND s.is_root = 1 AND s.output IS NOT NULL
ORDER BY rank, s.rid
LIMIT ?
"""


class SimilarOutput(NamedTuple):
    row_id: str  # the span row's id
    input: Any  # its input and output, as logged (JSON values)
    output: Any
    rank: float  # bm25: lower is a better match


def fts_any_query(text: str, *, column: str = "input", max_words: int = MAX_WORDS) -> str | None:
    """A safe FTS5 query matching any of the words of ``text`` in ``column``: each distinct word
    (case-insensitively, the first ``max_words``) quoted, ORed. None when there is no word."""
    seen: dict[str, str] = {}
    for w in fts_words(text or ""):
        seen.setdefault(w.lower(), w)
        if len(seen) >= max_words:
            break
    if not seen:
        return None
    body = " OR ".join('"' + w.replace('"', '""') + '"' for w in seen.values())
    return f"{{{column}}} : ({body})"


def similar_outputs(store: Store, project: str, text: str, *, limit: int = 20) -> list[SimilarOutput]:
    """The root spans of ``project`` (with an output) whose input best matches ``text``'s words,
    best first (bm25, then row order); [] for no word, no match or no such project."""
    query = fts_any_query(text)
    if query is None or limit <= 0:
        return []
    pid = find_project(store, project)
    if pid is None:
        return []
    rows = store.conn.execute(_SQL, (query, pid, int(limit))).fetchall()
    return [SimilarOutput(rid, None if inp is None else loads(inp), loads(out), float(rank))
            for rid, inp, out, rank in rows]
