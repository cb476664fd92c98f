"""store/traces.py: the tree of one trace keeps every span, also those whose parent is missing
(orphans) or whose parents form a cycle: they hang under the root, marked."""

from __future__ import annotations

import pytest

from store import Store
from store.spans import log_spans
from store.traces import ancestors, children_of, roots_of, trace_info

BASE = 1_893_456_000.0


def span(sid: str, parent: str | None, start: float, name: str) -> dict:
    return {
        "id": f"row-{sid}",
        "span_id": sid,
        "root_span_id": "R",
        "span_parents": [parent] if parent else None,
        "created": "2030-01-01T00:00:00.000000Z",
        "metrics": {"start": BASE + start, "end": BASE + start + 1},
        "span_attributes": {"name": name, "type": "task"},
    }


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "t.db")
    log_spans(s, "default", [
        span("R", None, 0, "root"),
        span("C", "R", 1, "child"),
        span("O", "gone", 2, "orphan"),  # its parent was never logged
        span("OK", "O", 2.5, "under the orphan"),
        span("A", "B", 3, "cycle a"),  # A -> B -> A
        span("B", "A", 4, "cycle b"),
        span("S", "S", 5, "own parent"),  # a span that is its own parent
    ])
    yield s
    s.close()


def test_orphans_and_cycles_hang_under_the_root_marked(store):
    info = trace_info(store, "default", "R")
    assert info.spans == 7
    [root] = roots_of(store, info)
    assert root.span_id == "R" and root.detached == ""
    kids = children_of(store, info, "R")
    by_id = {k.span_id: k for k in kids}
    # The real child, the orphan, one entry into the cycle (the earlier one), the self-parent.
    assert [k.span_id for k in kids] == ["C", "O", "A", "S"]
    assert root.children == 4
    assert by_id["C"].detached == ""
    assert by_id["O"].detached == "orphan"
    assert by_id["A"].detached == "cycle" and by_id["S"].detached == "cycle"
    # Below them the tree goes on as logged, and the cycle is cut where it closes.
    assert [k.span_id for k in children_of(store, info, "O")] == ["OK"]
    assert by_id["O"].children == 1
    assert [k.span_id for k in children_of(store, info, "A")] == ["B"]
    [b] = children_of(store, info, "A")
    assert b.children == 0 and children_of(store, info, "B") == []
    assert by_id["S"].children == 0 and children_of(store, info, "S") == []
    # Every span is somewhere in the tree, once.
    seen, todo = [], ["R"]
    while todo:
        sid = todo.pop()
        seen.append(sid)
        todo += [k.span_id for k in children_of(store, info, sid)]
    assert sorted(seen) == sorted(["R", "C", "O", "OK", "A", "B", "S"])
    # The way down to a span follows the tree as shown (no endless walk around the cycle).
    assert ancestors(store, info, "B") == ["R", "A"]
    assert ancestors(store, info, "A") == ["R"]
    assert ancestors(store, info, "OK") == ["R", "O"]
    assert ancestors(store, info, "S") == ["R"]
    assert ancestors(store, info, "C") == ["R"]


def test_a_well_formed_trace_has_nothing_detached(store):
    log_spans(store, "default", [{**span("X", None, 0, "x"), "id": "row-X", "root_span_id": "X"},
                                 {**span("Y", "X", 1, "y"), "id": "row-Y", "root_span_id": "X"}])
    info = trace_info(store, "default", "X")
    assert info.detached == {}
    assert [k.span_id for k in children_of(store, info, "X")] == ["Y"]
    assert roots_of(store, info)[0].children == 1


def test_without_a_root_span_detached_spans_are_top_level(tmp_path):
    s = Store(tmp_path / "n.db")
    try:
        log_spans(s, "default", [span("P", None, 0, "parentless"), span("O", "gone", 1, "orphan"),
                                 span("A", "B", 2, "cycle a"), span("B", "A", 3, "cycle b")])
        info = trace_info(s, "default", "R")  # the trace's root span was never logged
        assert info.root_rid is None and info.home is None
        tops = roots_of(s, info)
        assert [(t.span_id, t.detached) for t in tops] == [("P", ""), ("O", "orphan"), ("A", "cycle")]
        assert [k.span_id for k in children_of(s, info, "A")] == ["B"]
        assert ancestors(s, info, "B") == ["A"] and ancestors(s, info, "O") == []
    finally:
        s.close()
