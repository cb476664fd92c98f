"""store/query/pager.py: a full-text page carries, for each of its rows (and only those), a
snippet of where the words matched: FTS5 snippet(), the matched words between markers."""

from __future__ import annotations

import re

from store import Store
from store.query.pager import SNIP_CLOSE, SNIP_OPEN, LogsQuery
from tui_fixtures import demo_db, demo_db_template, sample_rows  # noqa: F401  (fixtures)


def marked(snippet: str) -> list[str]:
    return re.findall(re.escape(SNIP_OPEN) + "(.*?)" + re.escape(SNIP_CLOSE), snippet)


def test_search_rows_carry_a_snippet_of_the_match(demo_db):
    store = Store(demo_db)
    try:
        page = LogsQuery(store, "default", "refund", shape="spans").page(limit=20)
        assert page.rows and page.matched
        for r in page.rows:
            assert r.snippet and r.snippet_field in ("input", "output", "expected", "metadata")
            assert any(w.lower().startswith("refund") for w in marked(r.snippet)), r.snippet
            assert "\\n" not in r.snippet and '\\"' not in r.snippet  # text, not JSON escapes
        # Traces: the snippet comes from a span of the trace that matched (maybe not the root).
        page = LogsQuery(store, "default", "fasttext", shape="traces").page(limit=10)
        assert page.rows
        for r in page.rows:
            assert "fasttext" in " ".join(marked(r.snippet or "")).lower(), r.snippet
            assert r.snippet_field == "metadata"
        # A MATCH filter on a column: its snippet.
        page = LogsQuery(store, "default", "output MATCH 'refund'", shape="spans").page(limit=5)
        assert page.rows and all(r.snippet_field == "output" for r in page.rows)
        # No full text, no snippet.
        page = LogsQuery(store, "default", "scores.Factuality < 0.5").page()
        assert not page.matched and all(r.snippet is None for r in page.rows)
    finally:
        store.close()


def test_snippets_are_computed_for_the_page_rows_only(demo_db):
    store = Store(demo_db)
    try:
        statements: list[str] = []
        q = LogsQuery(store, "default", "refund", shape="spans")
        store.conn.set_trace_callback(statements.append)
        page = q.page(limit=7)
        store.conn.set_trace_callback(None)
        n_matching = sum("refund" in str(s).lower() for s in sample_rows())
        assert n_matching > 7 and len(page.rows) == 7
        snippet_calls = [s for s in statements if "snippet(" in s]
        assert 1 <= len(snippet_calls) <= 7
        rowids = set()
        for s in snippet_calls:
            rowids |= set(re.findall(r"rowid IN \(([\d, ]+)\)", s))
        assert all(len(ids.split(",")) <= 7 for ids in rowids)
    finally:
        store.close()
