"""Keyset pagination of LogsQuery: pages of 3 walk every matching row exactly once, in order,
for both shapes and several sorts; the traces shape lists roots with trace-level numbers."""

from __future__ import annotations

import pytest

from query_fixtures import ALL, PROJECT, ROOT_OF_TRACE, ROOTS, TRACE_OF, build_corpus, corpus  # noqa: F401
from store.query.pager import LogsQuery
from store.spans import log_spans

LOW = -1e308


def _key(row: dict, sort: str, desc: bool = True):
    LOW = -1e308 if desc else 1e308  # rows without the value come last either way
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
    return sorted(ids, key=lambda i: (_key(corpus.rows[i], sort, desc), corpus.rid[i]), reverse=desc)


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
    # Ascending, the row without a duration (f0) still comes last.
    assert [r.id for r in rows] == ["d1", "d0", "a2", "b1", "a1", "b0", "f1", "e0", "a0", "c0", "f0"]


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
    assert rows["c0"].comments == 2 and rows["d0"].comments == 1 and rows["a0"].comments == 0
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


# --- traces whose spans were created before their root (clock skew) ---------------------------

def _skew_rows() -> dict[str, dict]:
    """Trace 'late': its root is the newest row of the project (12:00) but its only tagged span
    was created an hour *before* the root (10:00). Trace 'plain': root 10:30, tagged child 10:31,
    the newest tagged span. A traces page of `tags includes 'early'` must list 'late' first."""
    def span(sid, root, created, parent=None, tags=()):
        return {"id": sid, "span_id": sid, "root_span_id": root, "span_parents": [parent] if parent else None,
                "created": created, "input": sid, "output": "ok", "tags": list(tags),
                "span_attributes": {"name": sid, "type": "task" if parent is None else "llm"}}
    return {
        "late-root": span("late-root", "late-root", "2025-01-01T12:00:00Z"),
        "late-kid": span("late-kid", "late-root", "2025-01-01T10:00:00Z", "late-root", ["early"]),
        "plain-root": span("plain-root", "plain-root", "2025-01-01T10:30:00Z"),
        "plain-kid": span("plain-kid", "plain-root", "2025-01-01T10:31:00Z", "plain-root", ["early"]),
        "other-root": span("other-root", "other-root", "2025-01-01T11:00:00Z"),
    }


def _first_page_roots(store, project="default") -> list[str]:
    return [r.root_span_id for r in LogsQuery(store, project, "tags includes 'early'", shape="traces").page().rows]


@pytest.mark.parametrize("order", [
    ["late-root", "late-kid", "plain-root", "plain-kid", "other-root"],  # one write, root first
    ["late-kid", "plain-root", "plain-kid", "other-root", "late-root"],  # one write, root last
], ids=["root-first", "root-last"])
def test_traces_page_finds_a_trace_whose_matching_span_precedes_its_root_in_one_write(tmp_path, order):
    from store import Store
    from store.projects import max_lead

    rows = _skew_rows()
    store = Store(tmp_path / "skew.db")
    try:
        log_spans(store, "default", [rows[k] for k in order])
        assert max_lead(store.conn, 1) == 7200.0
        assert _first_page_roots(store) == ["late-root", "plain-root"]
    finally:
        store.close()


@pytest.mark.parametrize("first,second", [
    (["late-kid", "plain-root", "plain-kid", "other-root"], ["late-root"]),  # the root arrives later
    (["late-root", "plain-root", "plain-kid", "other-root"], ["late-kid"]),  # the child arrives later
], ids=["root-later", "child-later"])
def test_lead_is_recorded_across_separate_writes_and_imports(tmp_path, first, second):
    from helpers import write_jsonl
    from store import Store
    from store.jsonl import import_jsonl
    from store.projects import max_lead

    rows = _skew_rows()
    for how in ("log", "import"):
        store = Store(tmp_path / f"{how}.db")
        try:
            for step, keys in enumerate((first, second)):
                if how == "log":
                    log_spans(store, "default", [rows[k] for k in keys])
                else:
                    path = write_jsonl(tmp_path / f"{how}-{step}.jsonl", [rows[k] for k in keys])
                    with open(path, "rb") as f:
                        import_jsonl(store, "default", f, label=str(path))
            assert max_lead(store.conn, 1) == 7200.0, how
            assert _first_page_roots(store) == ["late-root", "plain-root"], how
        finally:
            store.close()


def test_migration_computes_the_lead_of_existing_rows(tmp_path):
    from store.connection import connect
    from store.migrations import migrate
    from store import Store
    from store.projects import max_lead
    from store.spans import span_record
    from store.models import SpanIn

    path = tmp_path / "v5.db"
    conn = connect(path)
    migrate(conn, target=5)
    conn.execute("INSERT INTO projects (id, name, created) VALUES (1, 'default', '2025-01-01T00:00:00.000000Z')")
    from store.spans import write_spans

    conn.execute("BEGIN")
    write_spans(conn, 1, [(span_record(1, SpanIn.model_validate(r)), None) for r in _skew_rows().values()])
    conn.execute("COMMIT")
    conn.close()
    store = Store(path)
    try:
        assert max_lead(store.conn, 1) == pytest.approx(7200.0, abs=0.01)  # julianday arithmetic
        assert _first_page_roots(store) == ["late-root", "plain-root"]
    finally:
        store.close()


def test_traces_page_of_a_filter_nothing_matches_is_empty_fast_path(corpus):  # noqa: F811
    page = LogsQuery(corpus.store, PROJECT, "tags includes 'no-such-tag'", shape="traces").page()
    assert page.rows == [] and page.after is None
