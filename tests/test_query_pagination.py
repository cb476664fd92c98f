"""Keyset pagination of LogsQuery: pages of 3 walk every matching row exactly once, in order,
for both shapes and several sorts; the traces shape lists roots with trace-level numbers."""

from __future__ import annotations

import pytest

from query_fixtures import ALL, PROJECT, ROOT_OF_TRACE, ROOTS, TRACE_OF, build_corpus, corpus  # noqa: F401
from store.query import LogsQuery
from store.spans import log_spans

LOW = -1e308


def _key(row: dict, sort: str):
    if sort == "created":
        return row["created"]
    if sort == "name":
        return row["span_attributes"].get("name") or ""
    if sort == "duration":
        m = row["metrics"]
        return m["end"] - m["start"] if "start" in m and "end" in m else LOW
    if sort == "tokens":
        v = row["metrics"].get("tokens")
        return LOW if v is None else v
    if sort.startswith("scores."):
        v = row["scores"].get(sort.split(".", 1)[1])
        return LOW if v is None else v
    raise AssertionError(sort)


def expected_order(corpus, ids, sort: str, desc: bool) -> list:
    return sorted(ids, key=lambda i: (_key(corpus.rows[i], sort), corpus.rid[i]), reverse=desc)


def walk(lq: LogsQuery, size: int = 3) -> list:
    out, after, pages = [], None, 0
    while True:
        page = lq.page(after=after, limit=size)
        pages += 1
        assert len(page.rows) <= size
        out.extend(page.rows)
        if page.after is None:
            break
        assert len(page.rows) == size
        after = page.after
        assert pages < 50, "pagination does not end"
    return out


FILTERS = {
    "": ALL,
    "tags includes 'production' or type = 'llm'": frozenset({"a0", "a1", "a2", "b0", "b1", "e0", "f1"}),
    "refund": frozenset({"a0", "b1", "d0", "e0"}),  # full-text search mode
    "scores.Factuality IS NOT NULL": frozenset({"a0", "a1", "b0", "c0", "e0", "f1"}),
}
SORTS = ["created", "duration", "name", "tokens", "scores.Factuality", "scores.correctness"]


@pytest.mark.parametrize("desc", [True, False], ids=["desc", "asc"])
@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("text", list(FILTERS), ids=lambda t: t or "all")
def test_spans_pages_walk_every_row_once_in_order(corpus, text, sort, desc):
    lq = LogsQuery(corpus.store, PROJECT, text, shape="spans", sort=sort, desc=desc)
    rows = walk(lq)
    got = [r.id for r in rows]
    assert len(got) == len(set(got)), "a row was listed twice"
    assert got == expected_order(corpus, FILTERS[text], sort, desc)
    assert lq.count() == len(got)


@pytest.mark.parametrize("desc", [True, False], ids=["desc", "asc"])
@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("text", list(FILTERS), ids=lambda t: t or "all")
def test_traces_pages_walk_every_root_once_in_order(corpus, text, sort, desc):
    lq = LogsQuery(corpus.store, PROJECT, text, shape="traces", sort=sort, desc=desc)
    rows = walk(lq)
    got = [r.id for r in rows]
    roots = {ROOT_OF_TRACE[TRACE_OF[i]] for i in FILTERS[text]}
    assert len(got) == len(set(got))
    assert got == expected_order(corpus, roots, sort, desc)
    assert all(r.is_root for r in rows)
    assert lq.count() == len(got)


def test_default_view_is_traces_newest_first(corpus):
    rows = walk(LogsQuery(corpus.store, PROJECT))
    assert [r.id for r in rows] == ["c0", "d0", "e0", "f0", "b0", "a0"]
    rows = walk(LogsQuery(corpus.store, PROJECT, shape="spans"))
    assert [r.id for r in rows] == ["c0", "d1", "d0", "e0", "f1", "f0", "b1", "b0", "a2", "a1", "a0"]


def test_duration_sort_ties_break_on_insertion_order(corpus):
    # a1 and b0 both last exactly 1.0 s; the keyset (duration, rid) keeps them apart across pages.
    rows = walk(LogsQuery(corpus.store, PROJECT, shape="spans", sort="duration"), size=5)
    assert [r.id for r in rows] == ["c0", "a0", "e0", "f1", "b0", "a1", "b1", "a2", "d0", "d1", "f0"]
    rows = walk(LogsQuery(corpus.store, PROJECT, shape="spans", sort="duration", desc=False), size=2)
    assert [r.id for r in rows] == ["f0", "d1", "d0", "a2", "b1", "a1", "b0", "f1", "e0", "a0", "c0"]


def test_traces_rows_carry_trace_numbers(corpus):
    rows = {r.id: r for r in LogsQuery(corpus.store, PROJECT, shape="traces").page(limit=100).rows}
    assert set(rows) == ROOTS
    assert {i: r.spans for i, r in rows.items()} == {"a0": 3, "b0": 2, "c0": 1, "d0": 2, "e0": 1, "f0": 2}
    assert {i: r.errors for i, r in rows.items()} == {"a0": 1, "b0": 0, "c0": 1, "d0": 1, "e0": 0, "f0": 1}
    # Scores averaged over the trace's spans (a null score does not count).
    assert rows["a0"].scores == {"Factuality": pytest.approx(0.7), "correctness": pytest.approx(0.3)}
    assert rows["b0"].scores == {"Factuality": pytest.approx(0.7), "correctness": pytest.approx(0.55)}
    assert rows["c0"].scores == {"Factuality": pytest.approx(0.95)}
    assert rows["d0"].scores.get("correctness") == pytest.approx(0.1)
    assert rows["d0"].scores.get("Factuality") is None
    assert rows["e0"].scores == {"Factuality": pytest.approx(0.4), "correctness": pytest.approx(0.6)}
    assert rows["f0"].scores == {"Factuality": pytest.approx(0.85)}
    # The root's own tokens win; a root without tokens shows the trace's sum.
    assert rows["a0"].tokens == 1200
    assert rows["f0"].tokens == 2000
    assert rows["c0"].comments == 1 and rows["d0"].comments == 1 and rows["a0"].comments == 0
    assert rows["a0"].duration == pytest.approx(4.0)
    assert rows["f0"].duration is None


def test_traces_shape_with_a_child_only_filter_shows_trace_numbers(corpus):
    rows = LogsQuery(corpus.store, PROJECT, "type = 'tool'", shape="traces").page().rows
    assert [(r.id, r.spans) for r in rows] == [("d0", 2), ("a0", 3)]


def test_spans_rows_carry_their_own_values(corpus):
    rows = {r.id: r for r in LogsQuery(corpus.store, PROJECT, shape="spans").page(limit=100).rows}
    assert rows["a1"].scores == {"Factuality": 0.5}
    assert rows["a1"].name == "llm_call" and rows["a1"].type == "llm"
    assert rows["a1"].span_parents == ["A"] and not rows["a1"].is_root
    assert rows["a2"].has_error and not rows["a1"].has_error
    assert rows["c0"].tags == ["triage"]
    assert rows["b0"].input_preview == '"Tell me about 50% off deals"'


def test_reverse_pages_walk_backwards(corpus):
    lq = LogsQuery(corpus.store, PROJECT, shape="spans")
    forward = [r.id for r in walk(lq)]
    back, after = [], None
    while True:
        page = lq.page(after=after, limit=3, reverse=True)
        back = [r.id for r in page.rows] + back
        if page.after is None:
            break
        after = page.after
    assert back == forward
    last = lq.page(limit=3, reverse=True)
    assert [r.id for r in last.rows] == forward[-3:]


def test_cursor_is_stable_while_new_rows_arrive(tmp_path):
    c = build_corpus(tmp_path / "live.db")
    try:
        lq = LogsQuery(c.store, PROJECT, shape="spans")
        first = lq.page(limit=3)
        assert [r.id for r in first.rows] == ["c0", "d1", "d0"]
        # A new newest row arrives between pages: the next page continues after the cursor.
        log_spans(c.store, PROJECT, [{"id": "n0", "span_id": "N", "root_span_id": "N", "input": "new"}])
        rest = []
        after = first.after
        while after is not None:
            page = lq.page(after=after, limit=3)
            rest.extend(r.id for r in page.rows)
            after = page.after
        assert rest == ["e0", "f1", "f0", "b1", "b0", "a2", "a1", "a0"]
        assert [r.id for r in lq.page(limit=1).rows] == ["n0"]
    finally:
        c.store.close()
