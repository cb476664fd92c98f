"""Forward migrations: a version-1 database opens, is upgraded and backfilled; a newer one is refused."""

from __future__ import annotations

import sqlite3

import orjson
import pytest

from helpers import assert_one_line_error, read_jsonl
from store import connection, migrations
from store import SCHEMA_VERSION, Store, StoreError
from store.export import get_span
from store.projects import list_projects

V1_ROWS = [
    # (id, span_id, root, parent, span_parents, is_root, created, name, type, start, end,
    #  input, output, expected, error, scores, metadata, metrics, tags, attrs)
    ("old-1", "s1", "s1", None, None, 1, "2023-01-01T00:00:00.000000Z", "bot", "task", 1.0, 2.0,
     {"q": "walrus question"}, {"a": "narwhal answer"}, None, None, {"acc": 0.75, "ok": 1},
     {"model": "gpt-3.5"}, {"start": 1.0, "end": 2.0, "tokens": 12}, ["legacy", "v1"],
     {"name": "bot", "type": "task"}),
    ("old-2", "s2", "s1", "s1", ["s1"], 0, "2023-01-01T00:00:01.000000Z", "llm", "llm", 1.2, 1.8,
     "child input", "child output", {"e": 1}, "boom", {"acc": None}, {}, {}, ["legacy"],
     {"name": "llm", "type": "llm"}),
    ("old-3", "s3", "s3", None, None, 1, "2023-01-02T00:00:00.000000Z", None, None, None, None,
     None, None, None, None, {}, {}, {}, [], {}),
]


def _j(v):
    return None if v is None else orjson.dumps(v).decode()


def make_v1_db(path) -> None:
    conn = connection.connect(path)
    assert migrations.migrate(conn, target=1) == 0
    assert migrations.schema_version(conn) == 1
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "spans" in names and "span_scores" not in names and "spans_fts" not in names
    conn.execute("INSERT INTO projects (id, name, created) VALUES (1, 'legacy', '2023-01-01T00:00:00.000000Z')")
    for r in V1_ROWS:
        (rid, sid, root, parent, parents, is_root, created, name, typ, start, end,
         inp, out, exp, err, scores, md, metrics, tags, attrs) = r
        conn.execute(
            "INSERT INTO spans (project_id, id, span_id, root_span_id, parent_id, span_parents, is_root,"
            " created, name, type, start_ts, end_ts, input, output, expected, error, scores, metadata,"
            " metrics, tags, span_attributes) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (rid, sid, root, parent, _j(parents), is_root, created, name, typ, start, end,
             _j(inp), _j(out), _j(exp), _j(err), _j(scores), _j(md), _j(metrics), _j(tags), _j(attrs)),
        )
    conn.execute(
        "INSERT INTO comments (id, span_rid, text, author, created) VALUES "
        "('c1', (SELECT rid FROM spans WHERE id = 'old-1'), 'an old note', 'dana', '2023-01-03T00:00:00.000000Z')"
    )
    conn.close()


def test_v1_database_is_upgraded_and_backfilled(db_path):
    make_v1_db(db_path)
    store = Store(db_path)
    try:
        conn = store.conn
        assert migrations.schema_version(conn) == SCHEMA_VERSION
        assert conn.execute("SELECT count(*) FROM spans").fetchone()[0] == 3
        rid1 = conn.execute("SELECT rid FROM spans WHERE id = 'old-1'").fetchone()[0]
        rid2 = conn.execute("SELECT rid FROM spans WHERE id = 'old-2'").fetchone()[0]

        assert sorted(conn.execute("SELECT span_rid, name, value FROM span_scores").fetchall(), key=str) == sorted(
            [(rid1, "acc", 0.75), (rid1, "ok", 1), (rid2, "acc", None)], key=str
        )
        assert sorted(conn.execute("SELECT span_rid, tag FROM span_tags").fetchall()) == sorted(
            [(rid1, "legacy"), (rid1, "v1"), (rid2, "legacy")]
        )
        match = lambda w: [r[0] for r in conn.execute(
            "SELECT rowid FROM spans_fts WHERE spans_fts MATCH ? ORDER BY rowid", (w,))]
        assert match("walrus") == [rid1]
        assert match("narwhal") == [rid1]
        assert match("child") == [rid2]
        assert match("gpt") == [rid1]  # metadata is indexed too
        conn.execute("INSERT INTO spans_fts (spans_fts) VALUES ('integrity-check')")
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

        # The old rows read back in the contract shape, comments included.
        row = get_span(store, "legacy", "old-1")
        assert row["scores"] == {"acc": 0.75, "ok": 1}
        assert row["tags"] == ["legacy", "v1"]
        assert [(c["text"], c["author"]) for c in row["comments"]] == [("an old note", "dana")]
        assert get_span(store, "legacy", "old-2")["span_parents"] == ["s1"]
        assert [(p.name, p.spans, p.traces) for p in list_projects(store)] == [("legacy", 3, 2)]
    finally:
        store.close()

    # Opening again is a no-op (no second backfill, no duplicates).
    store = Store(db_path)
    try:
        assert store.conn.execute("SELECT count(*) FROM span_scores").fetchone()[0] == 3
        assert store.conn.execute("SELECT count(*) FROM span_tags").fetchone()[0] == 3
    finally:
        store.close()


def test_upgraded_rows_take_part_in_updates(db_path):
    """After the upgrade the triggers keep old rows' side tables and index in step."""
    make_v1_db(db_path)
    from store.models import FeedbackIn
    from store.feedback import apply_feedback

    store = Store(db_path)
    try:
        apply_feedback(store, "legacy", "old-1", FeedbackIn(scores={"acc": 0.25}, expected="okapi", has_expected=True,
                                                          tags=["fresh"], author="t"))
        conn = store.conn
        rid1 = conn.execute("SELECT rid FROM spans WHERE id = 'old-1'").fetchone()[0]
        assert dict(conn.execute("SELECT name, value FROM span_scores WHERE span_rid = ?", (rid1,)).fetchall()) == {
            "acc": 0.25, "ok": 1
        }
        assert sorted(r[0] for r in conn.execute("SELECT tag FROM span_tags WHERE span_rid = ?", (rid1,))) == [
            "fresh", "legacy", "v1"
        ]
        assert [r[0] for r in conn.execute("SELECT rowid FROM spans_fts WHERE spans_fts MATCH 'okapi'")] == [rid1]
        conn.execute("INSERT INTO spans_fts (spans_fts) VALUES ('integrity-check')")
    finally:
        store.close()


def test_cli_upgrades_a_v1_database(db_path, run_cli):
    make_v1_db(db_path)
    res = run_cli("--project", "legacy", "export", "logs")
    # Export opens read-only: it may ask for an upgrade (exit 2, one line) but must not crash.
    if res.returncode != 0:
        assert_one_line_error(res, 2)
    res = run_cli("projects")
    assert res.returncode == 0, res.stderr
    assert "legacy" in res.stdout
    res = run_cli("--project", "legacy", "export", "logs")
    assert res.returncode == 0, res.stderr
    assert [r["id"] for r in read_jsonl(res.stdout)] == ["old-1", "old-2", "old-3"]


def _make_newer(db_path) -> None:
    Store(db_path).close()
    conn = sqlite3.connect(str(db_path))
    conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 5,))
    conn.commit()
    conn.close()


def test_newer_database_is_refused(db_path):
    _make_newer(db_path)
    with pytest.raises(StoreError, match="newer"):
        Store(db_path)
    with pytest.raises(StoreError, match="newer"):
        Store(db_path, readonly=True)
    # Refusing changed nothing.
    conn = sqlite3.connect(str(db_path))
    assert conn.execute("SELECT version FROM schema_version").fetchone()[0] == SCHEMA_VERSION + 5
    conn.close()


def test_newer_database_cli_exit_2(db_path, run_cli, tmp_path):
    _make_newer(db_path)
    for args in (("projects",), ("export", "logs"), ("feedback", "x", "--score", "a=1")):
        line = assert_one_line_error(run_cli(*args), 2)
        assert "newer" in line, args
    src = tmp_path / "one.jsonl"
    src.write_text('{"id": "a"}\n')
    assert "newer" in assert_one_line_error(run_cli("import", "logs", src), 2)


def test_migrate_twice_is_a_no_op(tmp_path):
    path = tmp_path / "m.db"
    conn = connection.connect(path)
    assert migrations.migrate(conn) == 0
    assert migrations.migrate(conn) == SCHEMA_VERSION
    assert migrations.schema_version(conn) == SCHEMA_VERSION
    assert conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == 1
    conn.close()


def test_fresh_schema_has_the_indexes_filters_and_sorts_rely_on(db_path):
    """Read through sqlite-utils' introspection: the tables, indexes and FTS5 table the query
    compiler's plans assume exist on a fresh database, in WAL mode."""
    store = Store(db_path)
    try:
        db = store.db
        assert {"projects", "spans", "comments", "audit", "span_scores", "span_tags", "spans_fts", "views",
                "schema_version", "index_state"} <= set(db.table_names())
        spans_ix = {ix.name: ix.columns for ix in db["spans"].indexes}
        assert spans_ix["spans_created"] == ["project_id", "created"]
        assert spans_ix["spans_roots_created"] == ["project_id", "created"]
        assert spans_ix["spans_tree"] == ["project_id", "root_span_id", "parent_id", "start_ts"]
        assert spans_ix["spans_model_created"] == ["project_id", "model", "created"]
        assert {ix.name: ix.columns for ix in db["span_scores"].indexes}["span_scores_value"] == ["name", "value"]
        assert {ix.name: ix.columns for ix in db["span_tags"].indexes}["span_tags_tag"] == ["tag", "span_rid"]
        assert db["spans_fts"].virtual_table_using == "FTS5"
        fts_config = dict(db.execute("SELECT k, v FROM spans_fts_config").fetchall())
        assert fts_config["automerge"] == 16 and fts_config["hashsize"] == 64 * 1024 * 1024
        assert "columnsize=0" in db["spans_fts"].schema.replace(" ", "")
        assert db.journal_mode == "wal"
        assert store.conn.execute("PRAGMA busy_timeout").fetchone()[0] == connection.BUSY_TIMEOUT_MS
    finally:
        store.close()


# --- files that are not (or no longer) bt-tui databases ---------------------------------------


def test_a_text_file_is_not_a_database(tmp_path):
    from store import NotADatabase

    path = tmp_path / "notes.db"
    path.write_text("not a database at all, just some text that is long enough\n" * 10)
    for readonly in (False, True):
        with pytest.raises(NotADatabase) as info:
            Store(path, readonly=readonly)
        assert isinstance(info.value, StoreError)
        assert str(info.value) == f"{path}: not a bt-tui database (file is not a database)"
        assert info.value.path == str(path)
    assert path.read_text().startswith("not a database")  # untouched


def test_a_damaged_database_is_a_store_error(tmp_path):
    from store import NotADatabase

    path = tmp_path / "damaged.db"
    Store(path).close()
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[100:page] = b"\xff" * (page - 100)  # the schema page (after the file header) is garbage
    path.write_bytes(bytes(data))
    for readonly in (False, True):
        with pytest.raises(NotADatabase) as info:
            Store(path, readonly=readonly)
        assert str(info.value).startswith(f"{path}: not a bt-tui database (")
        assert "malformed" in info.value.reason
