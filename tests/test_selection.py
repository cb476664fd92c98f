"""store.selection: counts, row ids, export lines and retagging of typed selections (project +
filter + shape + ids), on the hand-made corpus of tests/query_fixtures.py."""

from __future__ import annotations

import json

import pytest

from query_fixtures import ALL, PROJECT, ROOTS, TRACE_OF, build_corpus, corpus  # noqa: F401  (corpus: a fixture)
from store.audit import audit_log
from store.errors import NotFound, QueryError
from store.export import get_span
from store.selection import Selection, count_selection, export_selection, retag_selection, selection_row_ids


def spans_of(*traces: str) -> set:
    return {i for i in ALL if TRACE_OF[i] in traces}


def exported(store, sel) -> list[dict]:
    return [json.loads(line) for line in export_selection(store, sel)]


@pytest.mark.parametrize("sel,count,covered", [
    (Selection(PROJECT, shape="spans"), 11, ALL),
    (Selection(PROJECT), 6, ALL),
    (Selection(PROJECT, "name = 'llm_call'", "spans"), 3, {"a1", "b1", "f1"}),
    (Selection(PROJECT, "name = 'llm_call'"), 3, spans_of("A", "B", "F")),
    (Selection(PROJECT, "refund", "spans"), 4, {"a0", "b1", "d0", "e0"}),  # filter-bar rules: full-text search
    (Selection(PROJECT, "refund"), 4, spans_of("A", "B", "D", "E")),
    (Selection(PROJECT, "name = 'llm_call'", "spans", strict=True), 3, {"a1", "b1", "f1"}),
    (Selection(PROJECT, ids=("a0", "d1", "no-such-row"), shape="spans"), 2, {"a0", "d1"}),
    # Traces with ids: any row of a trace stands for the whole trace; the filter is not applied.
    (Selection(PROJECT, "name = 'nothing'", "traces", ids=("a2", "d0", "a0")), 2, spans_of("A", "D")),
    (Selection(PROJECT, ids=()), 0, set()),
], ids=repr)
def test_count_row_ids_and_export_agree(corpus, sel, count, covered):  # noqa: F811
    assert count_selection(corpus.store, sel) == count
    ids = list(selection_row_ids(corpus.store, sel))
    assert len(ids) == len(set(ids)) and set(ids) == covered
    rows = exported(corpus.store, sel)
    assert {r["id"] for r in rows} == covered
    assert [(r["created"], r["id"]) for r in rows] == sorted((r["created"], r["id"]) for r in rows)  # created order
    for r in rows:
        assert r == get_span(corpus.store, PROJECT, r["id"])  # whole span rows, comments included


def test_traces_count_agrees_with_the_pager(corpus):  # noqa: F811
    from store.query.pager import LogsQuery

    for text in ("", "refund", "error IS NOT NULL", "tags includes 'triage'"):
        for shape in ("spans", "traces"):
            assert count_selection(corpus.store, Selection(PROJECT, text, shape)) == \
                LogsQuery(corpus.store, PROJECT, text, shape=shape).count(), (text, shape)


def test_strict_selection_refuses_plain_words_before_any_output(corpus):  # noqa: F811
    sel = Selection(PROJECT, "refund", "spans", strict=True)
    for fn in (export_selection, selection_row_ids):
        with pytest.raises(QueryError):
            fn(corpus.store, sel)  # raised by the call, not when the lines are read
    with pytest.raises(QueryError):
        count_selection(corpus.store, sel)
    with pytest.raises(QueryError) as info:
        export_selection(corpus.store, Selection(PROJECT, "scores.x >", "spans", strict=True))
    assert info.value.column == 11


def test_missing_project(corpus):  # noqa: F811
    sel = Selection("nope", "name = 'chat'")
    assert count_selection(corpus.store, sel) == 0
    for fn in (export_selection, selection_row_ids):
        with pytest.raises(NotFound, match="no project named 'nope'"):
            fn(corpus.store, sel)


def test_unknown_shape_is_refused():
    with pytest.raises(ValueError):
        Selection(PROJECT, shape="rows")


def test_retag_selection_in_traces_shape_tags_each_trace_root(tmp_path):
    """Issue 9: "18 traces should mean 18 roots tagged" (it tagged every span of them, and
    counted spans), as tagging one trace with `t` does."""
    c = build_corpus(tmp_path / "retag.db")
    try:
        sel = Selection(PROJECT, "name = 'llm_call'", "traces")
        assert retag_selection(c.store, sel, add=["checked"], author="rev") == 3  # traces A, B, F
        tagged = {i for i in ALL if "checked" in get_span(c.store, PROJECT, i)["tags"]}
        assert tagged == {"a0", "b0", "f0"}  # their roots, not b1 or the other children
        entry = audit_log(c.store, "b0")[0]
        assert (entry["field"], entry["author"], entry["after"]) == ("tags", "rev", ["production", "beta", "checked"])
        assert audit_log(c.store, "b1") == []
        # Again: nothing changes. Then remove it from one trace given by a child's id.
        assert retag_selection(c.store, sel, add=["checked"], author="rev") == 0
        assert retag_selection(c.store, Selection(PROJECT, ids=("f1",)), remove=["checked"], author="rev") == 1
        assert {i for i in ALL if "checked" in get_span(c.store, PROJECT, i)["tags"]} == {"a0", "b0"}
        # The decoy project is never touched.
        assert "checked" not in get_span(c.store, "q", "q0")["tags"]
    finally:
        c.store.close()


def test_retag_selection_in_spans_shape_tags_the_spans(tmp_path):
    c = build_corpus(tmp_path / "retag.db")
    try:
        sel = Selection(PROJECT, "name = 'llm_call'", "spans")
        assert retag_selection(c.store, sel, add=["checked"], author="rev") == 3
        assert {i for i in ALL if "checked" in get_span(c.store, PROJECT, i)["tags"]} == {"a1", "b1", "f1"}
        entry = audit_log(c.store, "b1")[0]
        assert (entry["field"], entry["author"], entry["after"]) == ("tags", "rev", ["triage", "checked"])
        marked = Selection(PROJECT, ids=("a2", "d1"), shape="spans")
        assert retag_selection(c.store, marked, add=["checked"], author="rev") == 2
        assert retag_selection(c.store, Selection(PROJECT, shape="traces"), add=["all"], author="rev") == 6
        assert {i for i in ALL if "all" in get_span(c.store, PROJECT, i)["tags"]} == ROOTS
    finally:
        c.store.close()


def test_retag_of_more_rows_than_a_batch_streams(tmp_path):
    """Row ids stream from a cursor while the tags are written in transactions of 1,000."""
    from store import Store
    from store.spans import log_spans

    s = Store(tmp_path / "big.db")
    try:
        log_spans(s, "big", [{"id": f"r{i:05d}", "tags": ["old"]} for i in range(12_000)])
        sel = Selection("big", "tags includes 'old'", "spans")
        assert retag_selection(s, sel, add=["new"], remove=["old"], author="bot") == 12_000
        assert count_selection(s, Selection("big", "tags includes 'new'", "spans")) == 12_000
        assert count_selection(s, sel) == 0
    finally:
        s.close()
