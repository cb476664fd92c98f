"""Dataset versioning semantics (store/datasets.py): as-of reads after upserts, deletes and
restores; no-op writes; snapshots; diffs; a record's history; from-logs; the query language
over records."""

from __future__ import annotations

import pytest

from store import Store
from store import datasets as D
from store.errors import NotFound, QueryError
from store.selection import Selection
from store.spans import log_spans


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "ds.db")
    yield s
    s.close()


def rows(store, version=None, text="", name="ds"):
    return {r.id: r.to_json() for r in D.iter_records(store, "p", name, version=version, text=text)}


def contents(store, version=None, name="ds"):
    return {i: (r["input"], r["expected"], r["metadata"], r["tags"]) for i, r in rows(store, version, name=name).items()}


def test_every_change_is_one_version_and_a_no_op_makes_none(store):
    r1 = D.upsert_records(store, "p", "ds", [{"id": "a", "input": "q1", "expected": "x"},
                                              {"id": "b", "input": "q2"}], author="maya")
    assert (r1.version, r1.added, r1.updated, r1.created_dataset) == (r1.version, 2, 0, True)
    again = D.upsert_records(store, "p", "ds", [{"id": "a", "input": "q1", "expected": "x"}], author="maya")
    assert again.version is None and again.unchanged == 1
    assert "no new version" in again.summary()
    r2 = D.upsert_records(store, "p", "ds", [{"id": "a", "input": "q1", "expected": "y"},
                                              {"id": "b", "input": "q2"}, {"id": "c", "input": "q3"}], author="sam")
    assert (r2.added, r2.updated, r2.unchanged) == (1, 1, 1)
    assert r2.version > r1.version
    vs = D.list_versions(store, "p", "ds")
    assert [(v.version, v.author, v.added, v.updated, v.deleted) for v in vs] == [
        (r1.version, "maya", 2, 0, 0), (r2.version, "sam", 1, 1, 0)]
    assert D.get_dataset(store, "p", "ds").records == 3


def test_versions_increase_across_the_database(store):
    a = D.upsert_records(store, "p", "one", [{"id": "x", "input": 1}])
    b = D.upsert_records(store, "p", "two", [{"id": "x", "input": 1}])
    c = D.upsert_records(store, "p", "one", [{"id": "y", "input": 2}])
    assert a.version < b.version < c.version
    assert [v.version for v in D.list_versions(store, "p", "one")] == [a.version, c.version]


def test_reading_as_of_any_version_after_upserts_deletes_and_restores(store):
    v1 = D.upsert_records(store, "p", "ds", [{"id": "a", "input": "q1", "expected": "x", "tags": ["t"]},
                                              {"id": "b", "input": "q2", "metadata": {"k": 1}}]).version
    v2 = D.upsert_records(store, "p", "ds", [{"id": "a", "input": "q1", "expected": "y", "tags": ["t"]},
                                              {"id": "c", "input": "q3"}]).version
    v3 = D.delete_records(store, "p", "ds", ["b"]).version
    assert contents(store, v1) == {"a": ("q1", "x", {}, ["t"]), "b": ("q2", None, {"k": 1}, [])}
    assert contents(store, v2) == {"a": ("q1", "y", {}, ["t"]), "b": ("q2", None, {"k": 1}, []),
                                   "c": ("q3", None, {}, [])}
    assert contents(store, v3) == {"a": ("q1", "y", {}, ["t"]), "c": ("q3", None, {}, [])}
    assert contents(store) == contents(store, v3)
    # restore writes one new version equal to the old one; the versions between stay readable
    r = D.restore(store, "p", "ds", v1, author="maya")
    assert (r.added, r.updated, r.deleted) == (1, 1, 1)
    assert contents(store) == contents(store, v1)
    assert contents(store, v2)["c"] == ("q3", None, {}, [])
    assert D.diff_versions(store, "p", "ds", v1) == []
    assert D.restore(store, "p", "ds", v1).version is None  # already equal: no version
    # a record deleted and brought back keeps its place (order) and created time
    assert list(rows(store)) == ["a", "b"]
    assert rows(store)["b"]["created"] == rows(store, v1)["b"]["created"]


def test_reading_an_old_version_is_marked_read_only(store):
    v1 = D.upsert_records(store, "p", "ds", [{"id": "a", "input": 1}]).version
    D.upsert_records(store, "p", "ds", [{"id": "a", "input": 2}])
    assert D.RecordsQuery(store, "p", "ds", version=v1).read_only
    assert not D.RecordsQuery(store, "p", "ds").read_only


def test_paging_forwards_and_backwards_as_of_a_version(store):
    D.upsert_records(store, "p", "ds", [{"id": f"r{i:03d}", "input": i} for i in range(250)])
    v = D.list_versions(store, "p", "ds")[-1].version
    D.delete_records(store, "p", "ds", [f"r{i:03d}" for i in range(0, 250, 2)])
    for version, want in ((v, [f"r{i:03d}" for i in range(250)]), (None, [f"r{i:03d}" for i in range(1, 250, 2)])):
        q = D.RecordsQuery(store, "p", "ds", version=version)
        assert q.count() == len(want)
        got, after = [], None
        while True:
            page = q.page(after, 40)
            got += [r.id for r in page.rows]
            if page.after is None:
                break
            after = page.after
        assert got == want
        last = q.page(None, 30, reverse=True)
        assert [r.id for r in last.rows] == want[-30:]
        before = q.page(last.after, 30, reverse=True)
        assert [r.id for r in before.rows] == want[-60:-30]


def test_missing_versions_snapshots_and_datasets_are_named(store):
    v1 = D.upsert_records(store, "p", "ds", [{"id": "a", "input": 1}]).version
    with pytest.raises(D.DatasetError, match=rf"no version 999 \(its versions: {v1}\)"):
        D.RecordsQuery(store, "p", "ds", version=999)
    with pytest.raises(D.DatasetError, match="no snapshot named 'nope'"):
        D.resolve_version(store, "p", "ds", snapshot="nope")
    with pytest.raises(NotFound, match="no dataset named 'other'"):
        D.get_dataset(store, "p", "other")
    with pytest.raises(NotFound, match="has no record 'zz'"):
        D.delete_records(store, "p", "ds", ["zz"])
    assert D.list_versions(store, "p", "ds")[-1].version == v1  # the failed delete wrote nothing


def test_snapshots_point_at_a_version_and_move_when_named_again(store):
    v1 = D.upsert_records(store, "p", "ds", [{"id": "a", "input": 1}]).version
    v2 = D.upsert_records(store, "p", "ds", [{"id": "a", "input": 2}]).version
    assert D.snapshot(store, "p", "ds", "golden", v1) == v1
    assert D.snapshot(store, "p", "ds", "latest") == v2
    assert D.resolve_version(store, "p", "ds", snapshot="golden") == v1
    assert contents(store, D.resolve_version(store, "p", "ds", snapshot="golden"))["a"][0] == 1
    assert [v.snapshots for v in D.list_versions(store, "p", "ds")] == [["golden"], ["latest"]]
    D.snapshot(store, "p", "ds", "golden", v2)
    assert D.resolve_version(store, "p", "ds", snapshot="golden") == v2
    with pytest.raises(D.DatasetError, match="has no versions yet"):
        D.create_dataset(store, "p", "empty")
        D.snapshot(store, "p", "empty", "s")


def test_diff_record_by_record_field_by_field_both_ways(store):
    v1 = D.upsert_records(store, "p", "ds", [{"id": "a", "input": "q", "expected": "x"},
                                              {"id": "b", "input": "q2"}, {"id": "c", "input": "q3"}]).version
    D.upsert_records(store, "p", "ds", [{"id": "a", "input": "q", "expected": "y", "tags": ["t"]},
                                         {"id": "d", "input": "q4"}])
    D.delete_records(store, "p", "ds", ["b"])
    # c changed and changed back: no difference
    D.upsert_records(store, "p", "ds", [{"id": "c", "input": "changed"}])
    v5 = D.upsert_records(store, "p", "ds", [{"id": "c", "input": "q3"}]).version
    fwd = [c.to_json() for c in D.diff_versions(store, "p", "ds", v1)]
    assert fwd == [
        {"id": "a", "change": "updated", "fields": ["expected", "tags"]},
        {"id": "b", "change": "deleted", "fields": ["input", "expected", "metadata", "tags"]},
        {"id": "d", "change": "added", "fields": ["input", "expected", "metadata", "tags"]},
    ]
    back = {c.id: c.change for c in D.diff_versions(store, "p", "ds", v5, v1)}
    assert back == {"a": "updated", "b": "added", "d": "deleted"}
    a = D.diff_versions(store, "p", "ds", v1)[0]
    assert (a.before.expected, a.after.expected) == ("x", "y")


def test_a_records_history_is_one_call_with_before_and_after(store):
    D.upsert_records(store, "p", "ds", [{"id": "a", "input": "q", "expected": "x"}], author="maya")
    D.upsert_records(store, "p", "ds", [{"id": "a", "input": "q", "expected": "y"}], author="sam")
    D.delete_records(store, "p", "ds", ["a"], author="sam")
    D.upsert_records(store, "p", "ds", [{"id": "a", "input": "q", "expected": "z"}], author="maya")
    hist = D.record_history(store, "p", "ds", "a")
    assert [(h.change, h.author, h.fields) for h in hist] == [
        ("added", "maya", ["input", "expected", "metadata", "tags"]),
        ("updated", "sam", ["expected"]),
        ("deleted", "sam", ["input", "expected", "metadata", "tags"]),
        ("added", "maya", ["input", "expected", "metadata", "tags"]),
    ]
    assert (hist[1].before.expected, hist[1].after.expected) == ("x", "y")
    assert hist[2].after is None and hist[3].before is None
    with pytest.raises(NotFound):
        D.record_history(store, "p", "ds", "never")


def test_undo_of_a_version_leaves_a_later_edit_alone(store):
    D.upsert_records(store, "p", "ds", [{"id": "a", "input": 1}, {"id": "b", "input": 1}])
    mine = D.upsert_records(store, "p", "ds", [{"id": "a", "input": 2}, {"id": "b", "input": 2}, {"id": "c", "input": 2}])
    D.upsert_records(store, "p", "ds", [{"id": "b", "input": 3}], author="someone else")
    undo, left = D.revert_version(store, "p", "ds", mine.version)
    assert left == 1 and (undo.updated, undo.deleted) == (1, 1)
    assert contents(store) == {"a": (1, None, {}, []), "b": (3, None, {}, [])}


def test_a_write_is_atomic_and_a_duplicate_id_in_one_write_is_refused(store):
    D.upsert_records(store, "p", "ds", [{"id": "a", "input": 1}])
    with pytest.raises(D.DatasetError, match="given twice"):
        D.upsert_records(store, "p", "ds", [{"id": "b", "input": 1}, {"id": "b", "input": 2}])
    assert contents(store) == {"a": (1, None, {}, [])}
    assert len(D.list_versions(store, "p", "ds")) == 1


def test_filters_use_the_query_language_on_record_fields(store):
    D.upsert_records(store, "p", "ds", [
        {"id": "a", "input": "I want a refund", "expected": "ok", "metadata": {"k": 1}, "tags": ["vip"]},
        {"id": "b", "input": {"question": "where is my parcel"}, "expected": {"answer": "in transit"}},
        {"id": "c", "input": "refunds policy?", "metadata": {"k": 2}},
    ])
    cases = {
        "input MATCH 'refund'": ["a"],
        "metadata.k = 1": ["a"],
        "metadata.k >= 1": ["a", "c"],
        "tags INCLUDES 'vip'": ["a"],
        "NOT tags INCLUDES 'vip'": ["b", "c"],
        "input.question LIKE '%parcel%'": ["b"],
        "expected.answer = 'in transit'": ["b"],
        "expected IS NULL": ["c"],
        "parcel": ["b"],  # plain words: a search of the whole record
    }
    for text, want in cases.items():
        assert list(rows(store, text=text)) == want, text
    # words next to an escape in the stored JSON text (a newline, a quote, a non-ASCII letter)
    D.upsert_records(store, "p", "ds", [{"id": "e", "input": {"text": "line one\nplease \"Zürich\""}}])
    for text in ("please", "input MATCH 'please'", "zürich", "ZÜRICH", "input MATCH 'Zürich'"):
        assert list(rows(store, text=text)) == ["e"], text
    assert list(rows(store, text="nplease")) == []
    with pytest.raises(QueryError, match="no field 'output'"):
        D.RecordsQuery(store, "p", "ds", text="output = 'x'")
    with pytest.raises(QueryError, match="any_span"):
        D.RecordsQuery(store, "p", "ds", text="any_span(input = 'x')")


def _log(store):
    spans = []
    for i in range(6):
        spans.append({"id": f"t{i}", "span_id": f"t{i}", "root_span_id": f"t{i}", "input": f"question {i}",
                      "output": f"answer {i}", "expected": "fixed" if i == 0 else None,
                      "scores": {"user_rating": i / 10}, "metadata": {"topic": "refund" if i % 2 else "shipping"},
                      "tags": ["prod"]})
        spans.append({"id": f"t{i}-llm", "span_id": f"t{i}-llm", "root_span_id": f"t{i}", "span_parents": [f"t{i}"],
                      "input": [{"role": "user", "content": f"q{i}"}], "output": "llm says",
                      "span_attributes": {"type": "llm", "name": "chat"}})
    log_spans(store, "p", spans)


def test_from_logs_maps_spans_and_updates_instead_of_duplicating(store):
    _log(store)
    sel = Selection("p", "scores.user_rating < 0.35", strict=True)
    r = D.from_selection(store, "picked", sel, author="maya")
    assert (r.added, r.updated, r.created_dataset) == (4, 0, True)
    recs = list(D.iter_records(store, "p", "picked"))
    by_origin = {rec.origin["id"]: rec for rec in recs}
    assert set(by_origin) == {"t0", "t1", "t2", "t3"}  # each trace's root span
    assert by_origin["t0"].expected == "fixed"  # the span's expected when set...
    assert by_origin["t1"].expected == "answer 1"  # ...else its output
    assert by_origin["t1"].metadata == {"topic": "refund"} and by_origin["t1"].tags == ["prod"]
    assert by_origin["t1"].origin == {"object_type": "project_logs", "id": "t1"}
    # the same spans again: updated in place (here: unchanged), never duplicated
    again = D.from_selection(store, "picked", sel)
    assert again.version is None and again.unchanged == 4
    assert D.get_dataset(store, "p", "picked").records == 4
    # a record edited in the dataset, then the span added again with another mapping: the same record
    D.add_from_logs(store, "p", "picked", ["t1"], expected_from="none", metadata=False, tags=False)
    assert D.get_dataset(store, "p", "picked").records == 4
    rec = next(r for r in D.iter_records(store, "p", "picked") if r.origin["id"] == "t1")
    assert (rec.expected, rec.metadata, rec.tags) == (None, {}, [])
    # a span's record has the same id in any database; deleted and added again, it comes back
    assert by_origin["t2"].id == D.origin_record_id("t2")
    D.delete_records(store, "p", "picked", [by_origin["t2"].id])
    back = D.add_from_logs(store, "p", "picked", ["t2"])
    assert back.added == 1 and back.ids == [D.origin_record_id("t2")]
    assert [h.change for h in D.record_history(store, "p", "picked", back.ids[0])] == ["added", "deleted", "added"]
    # spans shape: the LLM span itself
    D.from_selection(store, "spans", Selection("p", "", shape="spans", ids=("t2-llm",)))
    (only,) = D.iter_records(store, "p", "spans")
    assert only.input == [{"role": "user", "content": "q2"}] and only.expected == "llm says"


def test_an_older_read_only_file_has_no_datasets(tmp_path):
    from store import SCHEMA_VERSION, migrations
    from store.connection import connect

    path = tmp_path / "older.db"
    conn = connect(path)
    migrations.migrate(conn, target=SCHEMA_VERSION - 1)
    conn.close()
    s = Store(path, readonly=True)
    try:
        assert D.list_datasets(s, "p") == []
        with pytest.raises(NotFound):
            D.get_dataset(s, "p", "x")
    finally:
        s.close()
