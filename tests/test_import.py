"""`bt-tui import logs`: upsert by id, all-or-nothing, --skip-invalid, the bulk paths."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import time

import pytest

import store.jsonl as sj
from conftest import BT_TUI
from helpers import assert_one_line_error, dump_line, make_traces, read_jsonl, small_span, write_jsonl
from store import Store
from store.errors import InputError


def _import(run_cli, path, *extra, env=None):
    res = run_cli("import", "logs", path, *extra, env=env)
    assert res.returncode == 0, res.stderr
    return res


def _export(run_cli):
    res = run_cli("export", "logs")
    assert res.returncode == 0, res.stderr
    return res.stdout


def _fts(sql, word):
    return [r[0] for r in sql("SELECT rowid FROM spans_fts WHERE spans_fts MATCH ? ORDER BY rowid", (word,))]


def _fts_integrity(db_path):
    conn = sqlite3.connect(str(db_path))
    try:
        conn.execute("INSERT INTO spans_fts (spans_fts) VALUES ('integrity-check')")
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


# --- idempotence and upsert -------------------------------------------------------------------


def test_reimport_is_idempotent(run_cli, sql, sample_file, sample_rows):
    _import(run_cli, sample_file)
    first = _export(run_cli)
    rids = sql("SELECT rid, id FROM spans ORDER BY rid")
    n_scores = sql("SELECT count(*) FROM span_scores")[0][0]
    n_tags = sql("SELECT count(*) FROM span_tags")[0][0]
    assert len(rids) == len(sample_rows)

    res = _import(run_cli, sample_file)
    assert "0 new" in res.stderr
    assert _export(run_cli) == first
    assert sql("SELECT rid, id FROM spans ORDER BY rid") == rids
    assert sql("SELECT count(*) FROM span_scores")[0][0] == n_scores
    assert sql("SELECT count(*) FROM span_tags")[0][0] == n_tags
    projects = run_cli("projects", "--format", "jsonl")
    assert [json.loads(l)["spans"] for l in projects.stdout.splitlines()] == [len(sample_rows)]


def test_reimport_with_changed_output_updates_row_and_search_index(run_cli, sql, tmp_path, db_path, sample_rows):
    rows = [dict(r) for r in sample_rows]
    target = rows[3]
    target["output"] = {"answer": "the zebracorn replied"}
    target["scores"] = {"accuracy": 0.25}
    target["tags"] = ["before"]
    src = write_jsonl(tmp_path / "a.jsonl", rows)
    _import(run_cli, src)
    rid_before = sql("SELECT rid FROM spans WHERE id = ?", (target["id"],))[0][0]
    assert _fts(sql, "zebracorn") == [rid_before]

    changed = dict(target, output={"answer": "the okapifox replied"}, scores={"accuracy": 1, "new": 0.5}, tags=["after"])
    src2 = write_jsonl(tmp_path / "b.jsonl", [changed])
    res = _import(run_cli, src2)
    assert "0 new" in res.stderr

    assert sql("SELECT count(*) FROM spans")[0][0] == len(rows)
    assert sql("SELECT count(*) FROM spans WHERE id = ?", (target["id"],))[0][0] == 1
    assert sql("SELECT rid FROM spans WHERE id = ?", (target["id"],))[0][0] == rid_before
    assert _fts(sql, "okapifox") == [rid_before]
    assert _fts(sql, "zebracorn") == []
    assert sorted(sql("SELECT name, value FROM span_scores WHERE span_rid = ?", (rid_before,))) == [
        ("accuracy", 1.0),
        ("new", 0.5),
    ]
    assert sql("SELECT tag FROM span_tags WHERE span_rid = ?", (rid_before,)) == [("after",)]
    exported = {r["id"]: r for r in read_jsonl(_export(run_cli))}
    assert exported[target["id"]]["output"] == {"answer": "the okapifox replied"}
    _fts_integrity(db_path)


def test_same_id_twice_in_one_file_keeps_the_last_version(run_cli, sql, tmp_path, db_path):
    rows = [
        {"id": "dup", "created": "2024-01-01T00:00:00Z", "output": "firstword", "scores": {"x": 0.1}},
        {"id": "other", "created": "2024-01-01T00:00:00Z", "output": "filler"},
        {"id": "dup", "created": "2024-01-01T00:00:00Z", "output": "secondword", "scores": {"x": 0.2}},
    ]
    src = write_jsonl(tmp_path / "dup.jsonl", rows)
    res = run_cli("import", "logs", src)
    assert res.returncode == 0, res.stderr
    assert sql("SELECT count(*) FROM spans")[0][0] == 2
    rid = sql("SELECT rid FROM spans WHERE id = 'dup'")[0][0]
    assert sql("SELECT name, value FROM span_scores WHERE span_rid = ?", (rid,)) == [("x", 0.2)]
    assert _fts(sql, "secondword") == [rid]
    assert _fts(sql, "firstword") == []
    _fts_integrity(db_path)


def test_rows_without_id_get_a_stable_content_id(run_cli, sql, tmp_path):
    lines = [
        {"input": "no id here", "output": "one", "created": "2024-01-01T00:00:00Z"},
        {"input": "no id either", "output": "two"},  # no created either: import time, kept on re-import
    ]
    src = write_jsonl(tmp_path / "noid.jsonl", lines)
    _import(run_cli, src)
    first = read_jsonl(_export(run_cli))
    assert len(first) == 2
    ids = [r["id"] for r in first]
    assert all(isinstance(i, str) and i for i in ids)
    assert len(set(ids)) == 2
    for r in first:
        assert r["span_id"] == r["id"] and r["root_span_id"] == r["id"]

    res = _import(run_cli, src)
    assert "0 new" in res.stderr
    second = read_jsonl(_export(run_cli))
    assert second == first
    assert sql("SELECT count(*) FROM spans")[0][0] == 2


# --- all or nothing ---------------------------------------------------------------------------

BAD_LINES = {
    "malformed_json": '{"id": "bad", "input": "oops"',
    "score_out_of_range": dump_line({"id": "bad", "scores": {"accuracy": 1.5}}),
    "negative_score": dump_line({"id": "bad", "scores": {"accuracy": -0.1}}),
    "tags_as_string": dump_line({"id": "bad", "tags": "vip"}),
    "id_as_number": dump_line({"id": 12345, "input": "x"}),
    "not_an_object": "[1, 2, 3]",
    "bad_created": dump_line({"id": "bad", "created": "yesterday-ish"}),
    "metric_not_number": dump_line({"id": "bad", "metrics": {"tokens": "many"}}),
}


def _file_with_bad_line_7(tmp_path, bad: str, prefix: str = "n"):
    good = [dump_line(small_span(i, prefix=prefix)) for i in range(10)]
    lines = good[:6] + [bad] + good[6:]
    path = tmp_path / f"bad-{prefix}.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _snapshot(sql):
    return [
        sql("SELECT * FROM spans ORDER BY rid"),
        sql("SELECT * FROM span_scores ORDER BY 1, 2"),
        sql("SELECT * FROM span_tags ORDER BY 1, 2"),
        sql("SELECT * FROM comments ORDER BY 1"),
        sql("SELECT rowid FROM spans_fts WHERE spans_fts MATCH 'answer' ORDER BY rowid"),
    ]


def test_bad_line_7_rejects_the_whole_file(run_cli, sql, tmp_path, sample_file):
    _import(run_cli, sample_file)
    before = _snapshot(sql)
    assert before[0]
    for n, kind in enumerate(sorted(BAD_LINES)):
        bad = _file_with_bad_line_7(tmp_path, BAD_LINES[kind], prefix=f"n{n}-")
        res = run_cli("import", "logs", bad)
        line = assert_one_line_error(res, 2)
        assert f"{bad}:7:" in line, kind
        assert line.split(":7:", 1)[1].strip(), f"{kind}: a reason follows the location"
        assert sql("SELECT count(*) FROM spans WHERE id LIKE 'n%'")[0][0] == 0, kind
        assert _snapshot(sql) == before, kind
    _fts_integrity(tmp_path / "bt.db")


def test_bad_line_reason_names_the_problem(run_cli, tmp_path):
    res = run_cli("import", "logs", _file_with_bad_line_7(tmp_path, BAD_LINES["score_out_of_range"]))
    line = assert_one_line_error(res, 2)
    assert "scores.accuracy" in line and "1.5" in line
    res = run_cli("import", "logs", _file_with_bad_line_7(tmp_path, BAD_LINES["malformed_json"], prefix="m"))
    assert "JSON" in assert_one_line_error(res, 2)


def test_skip_invalid_imports_the_good_lines(run_cli, sql, tmp_path):
    good = [dump_line(small_span(i)) for i in range(10)]
    lines = good[:3] + [BAD_LINES["malformed_json"]] + good[3:6] + [BAD_LINES["score_out_of_range"]] + good[6:]
    lines.append(BAD_LINES["tags_as_string"])
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    res = run_cli("import", "logs", path, "--skip-invalid")
    assert res.returncode == 0, res.stderr
    assert "skipped 3" in res.stderr
    assert "malformed JSON" in res.stderr
    assert "scores.accuracy" in res.stderr
    assert "tags" in res.stderr
    assert f"{path}:4:" in res.stderr
    assert f"{path}:8:" in res.stderr
    assert f"{path}:13:" in res.stderr
    ids = {r["id"] for r in read_jsonl(_export(run_cli))}
    assert ids == {f"b{i}" for i in range(10)}
    assert "bad" not in ids


def test_missing_file_is_one_line_exit_2(run_cli, tmp_path, db_path):
    missing = tmp_path / "nope.jsonl"
    res = run_cli("import", "logs", missing)
    line = assert_one_line_error(res, 2)
    assert "nope.jsonl" in line


def test_blank_lines_are_ignored_and_line_numbers_count_them(run_cli, tmp_path):
    text = dump_line(small_span(1)) + "\n\n   \n" + '{"id": 5}\n'
    path = tmp_path / "blank.jsonl"
    path.write_text(text, encoding="utf-8")
    res = run_cli("import", "logs", path)
    assert f"{path}:4:" in assert_one_line_error(res, 2)


def test_non_utf8_input_is_rejected_cleanly(run_cli, tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(dump_line(small_span(1)).encode() + b"\n" + b'{"id": "x", "input": "caf\xe9"}\n')
    res = run_cli("import", "logs", path)
    line = assert_one_line_error(res, 2)
    assert str(path) in line


def test_unknown_keys_are_ignored_and_reported(run_cli, tmp_path):
    path = tmp_path / "typo.jsonl"
    path.write_text('{"id":"a","ouput":"typo","input":"x"}\n{"id":"b","ouput":"again","extra":1}\n{"id":"c"}\n',
                    encoding="utf-8")
    res = run_cli("import", "logs", path)
    assert res.returncode == 0, res.stderr
    assert "imported 3 spans" in res.stderr
    assert "ignored keys that are not part of the span row: 'ouput' (2 lines), 'extra' (1 line)" in res.stderr
    rows = read_jsonl(run_cli("export", "logs").stdout)
    assert all("ouput" not in r and "extra" not in r for r in rows) and rows[0]["input"] == "x"


def test_integers_past_64_bits_are_valid_json_and_survive_the_round_trip(run_cli, tmp_path):
    big = 123456789012345678901234567890
    path = tmp_path / "big.jsonl"
    path.write_text('{"id":"a","output":1}\n'
                    f'{{"id":"b","output":{big},"metadata":{{"order":{-big}}}}}\n', encoding="utf-8")
    res = run_cli("import", "logs", path)
    assert res.returncode == 0, res.stderr
    out = run_cli("export", "logs").stdout
    assert f'"output":{big}' in out and f'"order":{-big}' in out  # digit for digit
    again = tmp_path / "again.jsonl"
    again.write_text(out, encoding="utf-8")
    res = run_cli("--db", tmp_path / "second.db", "import", "logs", again)
    assert res.returncode == 0, res.stderr
    assert run_cli("--db", tmp_path / "second.db", "export", "logs").stdout == out


def test_out_of_range_numeric_created_is_a_located_line_error(run_cli, tmp_path):
    lines = [dump_line(small_span(i)) for i in range(3)]
    lines.insert(1, dump_line({"id": "huge", "created": 1e20}))
    path = tmp_path / "huge.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = run_cli("import", "logs", path)
    assert f"{path}:2:" in assert_one_line_error(res, 2)
    res = run_cli("import", "logs", path, "--skip-invalid")
    assert res.returncode == 0, res.stderr
    assert "skipped 1" in res.stderr


# --- the bulk paths (in process) --------------------------------------------------------------


def _write_small(path, n, *, prefix="b", bad_at=None):
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            if bad_at is not None and i + 1 == bad_at:
                f.write(BAD_LINES["score_out_of_range"] + "\n")
            else:
                f.write(dump_line(small_span(i, prefix=prefix)) + "\n")
    return path


def test_multiprocess_parser_path(monkeypatch, tmp_path, db_path):
    n = 5000
    src = _write_small(tmp_path / "mp.jsonl", n)
    monkeypatch.setattr(sj, "PROCESS_MIN_BYTES", 1024)
    used = []
    real_get_context = multiprocessing.get_context

    def spy(method=None):
        used.append(method)
        return real_get_context(method)

    monkeypatch.setattr(sj.multiprocessing, "get_context", spy)
    store = Store(db_path)
    try:
        with open(src, "rb") as f:
            res = sj.import_jsonl(store, "default", f, label=str(src))
        assert used == ["spawn"], "the parser ran in a separate process"
        assert (res.imported, res.new, res.skipped, res.lines) == (n, n, 0, n)
        conn = store.conn
        assert conn.execute("SELECT count(*) FROM spans").fetchone()[0] == n
        assert conn.execute("SELECT count(*) FROM span_scores").fetchone()[0] == n
        assert conn.execute("SELECT count(*) FROM span_tags").fetchone()[0] == n
        hit = conn.execute("SELECT s.id FROM spans_fts f JOIN spans s ON s.rid = f.rowid WHERE spans_fts MATCH 'w13'").fetchall()
        assert {h[0] for h in hit} == {f"b{i}" for i in range(n) if i % 97 == 13}

        # Again, through the process path: nothing changes.
        with open(src, "rb") as f:
            res = sj.import_jsonl(store, "default", f, label=str(src))
        assert (res.imported, res.new) == (n, 0)
        assert conn.execute("SELECT count(*) FROM spans").fetchone()[0] == n

        # A bad line in the process path: located error, nothing written.
        bad = _write_small(tmp_path / "mp-bad.jsonl", 3000, prefix="z", bad_at=2500)
        with open(bad, "rb") as f, pytest.raises(InputError) as info:
            sj.import_jsonl(store, "default", f, label=str(bad))
        assert info.value.line == 2500
        assert f"{bad}:2500:" in str(info.value)
        assert conn.execute("SELECT count(*) FROM spans WHERE id LIKE 'z%'").fetchone()[0] == 0

        # --skip-invalid in the process path.
        with open(bad, "rb") as f:
            res = sj.import_jsonl(store, "default", f, label=str(bad), skip_invalid=True)
        assert (res.imported, res.skipped) == (2999, 1)
        assert conn.execute("SELECT count(*) FROM spans WHERE id LIKE 'z%'").fetchone()[0] == 2999
    finally:
        store.close()


def _index_names(conn):
    return sorted(
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'spans' AND sql IS NOT NULL"
        )
    )


def test_bulk_path_drops_and_rebuilds_indexes(monkeypatch, tmp_path, db_path):
    store = Store(db_path)
    try:
        conn = store.conn
        sj.import_jsonl(store, "default", open(_write_small(tmp_path / "seed.jsonl", 50, prefix="seed"), "rb"))
        indexes = _index_names(conn)
        assert len(indexes) >= 5

        monkeypatch.setattr(sj, "BULK_MIN_ROWS", 100)
        monkeypatch.setattr(sj, "FTS_EVERY", 3000)
        dropped_seen = []
        real = sj.secondary_indexes

        def spy(c, table):
            out = real(c, table)
            dropped_seen.extend(name for name, _ in out)
            return out

        monkeypatch.setattr(sj, "secondary_indexes", spy)
        n = 9000
        src = _write_small(tmp_path / "bulk.jsonl", n)
        with open(src, "rb") as f:
            res = sj.import_jsonl(store, "default", f, label=str(src))
        assert res.new == n
        assert sorted(dropped_seen) == indexes, "the bulk path ran"

        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.execute("INSERT INTO spans_fts (spans_fts) VALUES ('integrity-check')")
        assert _index_names(conn) == indexes
        total = n + 50
        assert conn.execute("SELECT count(*) FROM spans").fetchone()[0] == total
        assert conn.execute("SELECT count(*) FROM span_scores").fetchone()[0] == total
        assert conn.execute("SELECT count(*) FROM span_tags").fetchone()[0] == total
        new_rids = conn.execute("SELECT rid FROM spans WHERE id LIKE 'b%'").fetchall()
        assert len(new_rids) == n
        assert conn.execute(
            "SELECT count(*) FROM span_scores WHERE span_rid IN (SELECT rid FROM spans WHERE id LIKE 'b%')"
        ).fetchone()[0] == n
        # Every row is in the full-text index, both the first and the last of the batches.
        for i in (0, 2999, 3000, 6500, n - 1):
            hit = conn.execute(
                "SELECT s.id FROM spans_fts f JOIN spans s ON s.rid = f.rowid WHERE spans_fts MATCH ? AND s.id = ?",
                (f"answer {i}", f"b{i}"),
            ).fetchall()
            assert hit == [(f"b{i}",)]
        # The rebuilt indexes are used by the planner again.
        plan = " ".join(r[-1] for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM spans WHERE project_id = 1 AND model = 'gpt-4o' ORDER BY created"
        ))
        assert "spans_model_created" in plan
    finally:
        store.close()


def test_bulk_path_failure_keeps_indexes_and_rows(monkeypatch, tmp_path, db_path):
    store = Store(db_path)
    try:
        conn = store.conn
        with open(_write_small(tmp_path / "seed.jsonl", 20, prefix="seed"), "rb") as f:
            sj.import_jsonl(store, "default", f)
        indexes = _index_names(conn)
        monkeypatch.setattr(sj, "BULK_MIN_ROWS", 100)
        bad = _write_small(tmp_path / "bulk-bad.jsonl", 6000, bad_at=5500)
        with open(bad, "rb") as f, pytest.raises(InputError):
            sj.import_jsonl(store, "default", f, label=str(bad))
        assert _index_names(conn) == indexes
        assert conn.execute("SELECT count(*) FROM spans").fetchone()[0] == 20
        assert conn.execute("SELECT count(*) FROM span_scores").fetchone()[0] == 20
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        store.close()


def test_large_import_through_the_cli(run_cli, tmp_path, db_path, sql):
    """60,000 spans: past the default BULK_MIN_ROWS, through the real command."""
    n = 60_000
    src = _write_small(tmp_path / "large.jsonl", n, prefix="L")
    res = run_cli("import", "logs", src)
    assert res.returncode == 0, res.stderr
    assert f"imported {n} spans" in res.stderr
    assert sql("SELECT count(*) FROM spans")[0][0] == n
    assert sql("SELECT count(*) FROM span_scores")[0][0] == n
    assert sql("SELECT count(*) FROM span_tags")[0][0] == n
    assert sql("SELECT count(*) FROM spans_fts WHERE spans_fts MATCH 'w42'")[0][0] == len(
        [i for i in range(n) if i % 97 == 42]
    )
    assert sql("PRAGMA integrity_check")[0][0] == "ok"
    conn = sqlite3.connect(str(db_path))
    try:
        assert len(_index_names(conn)) >= 5
        conn.execute("INSERT INTO spans_fts (spans_fts) VALUES ('integrity-check')")
    finally:
        conn.close()
    assert sql("SELECT id FROM spans ORDER BY rid DESC LIMIT 1") == [(f"L{n - 1}",)]


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _start_and_interrupt(cmd, env, sig, cpu_seconds):
    """Start an import and send ``sig`` once it has used ``cpu_seconds`` of CPU: past start-up,
    well before the end (CPU time, not wall time, so a loaded machine does not shift it)."""
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while p.poll() is None and time.monotonic() < deadline:
        try:
            if _cpu_seconds(p.pid) >= cpu_seconds:
                break
        except (OSError, IndexError, ValueError):
            pass
        time.sleep(0.005)
    if p.poll() is None:
        os.kill(p.pid, sig)
    out, err = p.communicate(timeout=120)
    return p.returncode, err.decode()


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")
@pytest.mark.parametrize("signame", ["SIGKILL", "SIGINT"])
def test_interrupted_import_leaves_a_consistent_database(run_cli, tmp_path, db_path, sql, cli_env, signame):
    seed = write_jsonl(tmp_path / "seed.jsonl", make_traces(3, children=1))
    _import(run_cli, seed)
    before = sql("SELECT * FROM spans ORDER BY rid")
    n = 20_000
    src = _write_small(tmp_path / "kill.jsonl", n, prefix="k")
    rc, err = _start_and_interrupt([*BT_TUI, "import", "logs", str(src)], cli_env, getattr(signal, signame), 1.0)

    # Either the import finished before the signal, or nothing of it is visible.
    count = sql("SELECT count(*) FROM spans WHERE id LIKE 'k%'")[0][0]
    if rc == 0:
        assert count == n
    else:
        assert count == 0
        if signame == "SIGINT":
            assert rc == 130
            assert "Traceback" not in err
            assert "interrupted" in err
    assert sql("PRAGMA integrity_check")[0][0] == "ok"
    assert sql("SELECT * FROM spans WHERE id NOT LIKE 'k%' ORDER BY rid") == before
    _fts_integrity(db_path)

    # Running it again gives every row once.
    _import(run_cli, src)
    assert sql("SELECT count(*) FROM spans WHERE id LIKE 'k%'")[0][0] == n
    assert sql("SELECT count(DISTINCT id) FROM spans")[0][0] == sql("SELECT count(*) FROM spans")[0][0]
    assert sql("SELECT count(*) FROM span_scores WHERE span_rid IN (SELECT rid FROM spans WHERE id LIKE 'k%')")[0][0] == n
    _fts_integrity(db_path)


# --- odd numbers and deep values (issue 9) ------------------------------------------------------


@pytest.mark.parametrize("line,fragment", [
    ('{"id":"x","metrics":{"start":1700000000,"end":9223372036854775808}}',
     "metrics.end: a metric must be a number between -2^63 and 2^63-1 or null, got 9223372036854775808"),
    ('{"id":"x","metrics":{"tokens":-9223372036854775809}}', "metrics.tokens: a metric must be a number between"),
    ('{"id":"x","scores":{"Factuality":' + "9" * 300 + "}}",
     "scores.Factuality: a score must be a number in [0, 1] or null, got 9999999999999999999999999999999999999..."),
    ('{"id":"x","input":' + "[" * 201 + "]" * 201 + "}",
     "a value is nested deeper than 200 levels (the limit for JSON values)"),
], ids=["end-2^63", "metric-below-int64", "300-digit-score", "201-levels"])
def test_odd_numbers_and_deep_values_are_located_line_errors_and_skippable(run_cli, tmp_path, line, fragment):
    """metrics.end >= 2^63 crashed the writer (OverflowError, exit 1) and refused the whole file
    under --skip-invalid; a 300-digit score crashed the message itself; deep JSON was 'malformed'."""
    lines = [dump_line(small_span(i)) for i in range(3)]
    lines.insert(1, line)
    path = tmp_path / "odd.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    err = assert_one_line_error(run_cli("import", "logs", path), 2)
    assert err == f"bt-tui: {path}:2: {fragment}" or err.startswith(f"bt-tui: {path}:2: {fragment}"), err
    res = run_cli("import", "logs", path, "--skip-invalid")
    assert res.returncode == 0, res.stderr
    assert "imported 3 spans" in res.stderr and "skipped 1 invalid lines" in res.stderr
    assert f"{path}:2: {fragment}" in res.stderr
    assert sorted(r["id"] for r in read_jsonl(_export(run_cli))) == ["b0", "b1", "b2"]


def test_a_value_200_levels_deep_is_imported_and_exported_whole(run_cli, tmp_path):
    deep = "[" * 199 + "1" + "]" * 199  # 200 levels, counting the 1
    path = tmp_path / "deep.jsonl"
    path.write_text('{"id":"d","input":' + deep + "}\n", encoding="utf-8")
    _import(run_cli, path)
    assert '"input":' + deep + "," in _export(run_cli)


def test_the_largest_64_bit_metrics_are_stored(run_cli, tmp_path):
    path = tmp_path / "edge.jsonl"
    path.write_text('{"id":"e","metrics":{"start":1700000000,"end":9223372036854775807,"x":-9223372036854775808}}\n')
    _import(run_cli, path)
    assert '"metrics":{"start":1700000000,"end":9223372036854775807,"x":-9223372036854775808}' in _export(run_cli)


# --- empty input, and what a failed import leaves behind (issue 9) ------------------------------


@pytest.mark.parametrize("source", ["/dev/null", "empty-file", "stdin"])
def test_an_empty_source_is_nothing_to_import(run_cli, tmp_path, sql, source):
    """/dev/null exists (it is empty): it said 'no such file'."""
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    arg = {"/dev/null": "/dev/null", "empty-file": str(empty), "stdin": "-"}[source]
    res = run_cli("--project", "fresh", "import", "logs", arg, input=b"")
    assert res.returncode == 0, res.stderr
    assert res.stderr == f"nothing to import: {'<stdin>' if arg == '-' else arg} has no spans\n"
    assert sql("SELECT name FROM projects") == []  # and no empty project left behind


def test_a_pipe_is_imported_without_its_head_being_eaten(run_cli, tmp_path, cli_env):
    """A pipe is not a regular file: sniffing its format would consume the first bytes."""
    src = write_jsonl(tmp_path / "a.jsonl", [small_span(i) for i in range(3)])
    proc = subprocess.run(["bash", "-c", f'{" ".join(BT_TUI)} import logs <(cat {src})'], env=cli_env,
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "imported 3 spans" in proc.stderr


@pytest.mark.parametrize("flags", [(), ("--skip-invalid",)])
def test_a_failed_import_into_a_new_project_leaves_no_project(run_cli, tmp_path, sql, flags):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(BAD_LINES["score_out_of_range"] + "\n", encoding="utf-8")
    assert run_cli("import", "logs", write_jsonl(tmp_path / "ok.jsonl", [small_span(1)])).returncode == 0
    res = run_cli("--project", "new-one", "import", "logs", bad, *flags)
    assert res.returncode == (0 if flags else 2), res.stderr
    assert sql("SELECT name FROM projects") == [("default",)]
    assert "new-one" not in run_cli("projects").stdout
    # A failed import into an existing project keeps it (and its rows).
    assert run_cli("import", "logs", bad).returncode == 2
    assert sql("SELECT name FROM projects") == [("default",)] and sql("SELECT count(*) FROM spans") == [(1,)]


# --- the pipeline's hand-over and bulk decision ------------------------------------------------


def test_process_path_hands_over_batches_with_and_without_comments(monkeypatch, tmp_path, db_path):
    """Batches without comments cross as marshal data, batches with comments are pickled: both
    arrive whole, comments included."""
    monkeypatch.setattr(sj, "PROCESS_MIN_BYTES", 1024)
    monkeypatch.setattr(sj, "BATCH", 100)
    n = 1000
    rows = []
    for i in range(n):
        row = small_span(i, prefix="c")
        if 300 <= i < 400 and i % 10 == 0:  # only the fourth batch has comments
            row["comments"] = [{"text": f"note {i}", "author": "ann", "created": "2026-01-01T00:00:00Z"}]
        rows.append(row)
    src = write_jsonl(tmp_path / "comments.jsonl", rows)
    store = Store(db_path)
    try:
        with open(src, "rb") as f:
            res = sj.import_jsonl(store, "default", f, label=str(src))
        assert (res.imported, res.new) == (n, n)
        conn = store.conn
        assert conn.execute("SELECT count(*) FROM spans").fetchone()[0] == n
        got = conn.execute(
            "SELECT s.id, c.text, c.author FROM comments c JOIN spans s ON s.rid = c.span_rid ORDER BY s.rid"
        ).fetchall()
        assert got == [(f"c{i}", f"note {i}", "ann") for i in range(300, 400, 10)]
        assert conn.execute("SELECT count(*) FROM spans_fts WHERE spans_fts MATCH 'answer'").fetchone()[0] == n
    finally:
        store.close()


def test_bulk_decision_from_the_file_size_comes_before_the_first_batch(monkeypatch, tmp_path, db_path):
    """A file whose size says it holds more than BULK_MIN_ROWS rows skips the index upkeep from
    its first row; a stream of unknown size decides once that many rows have come."""
    monkeypatch.setattr(sj, "BULK_MIN_ROWS", 1000)
    monkeypatch.setattr(sj, "BATCH", 200)
    events = []
    real_indexes, real_write = sj.secondary_indexes, sj.write_spans
    monkeypatch.setattr(sj, "secondary_indexes", lambda c, t: events.append("drop") or real_indexes(c, t))
    monkeypatch.setattr(sj, "write_spans", lambda c, pid, b, **kw: events.append(len(b)) or real_write(c, pid, b, **kw))
    src = _write_small(tmp_path / "bulk-early.jsonl", 3000)
    store = Store(db_path)
    try:
        with open(src, "rb") as f:
            sj.import_jsonl(store, "default", f, label=str(src))
        assert events[0] == "drop", events[:3]
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert len(_index_names(store.conn)) >= 5

        events.clear()
        src2 = _write_small(tmp_path / "bulk-stream.jsonl", 8000, prefix="s")

        class Unsized:  # a pipe: no name, no size
            def __init__(self, f):
                self.f = f

            def __iter__(self):
                return iter(self.f)

        with open(src2, "rb") as f:
            sj.import_jsonl(store, "default", Unsized(f))
        # 3000 rows already there: the batch that takes it past max(3000, 1000) rows (the 16th
        # of 200) comes without the index upkeep
        assert events.index("drop") == 15, events
        assert store.conn.execute("SELECT count(*) FROM spans").fetchone()[0] == 11000
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        store.conn.execute("INSERT INTO spans_fts (spans_fts) VALUES ('integrity-check')")
    finally:
        store.close()


# --- what a killed import or export leaves behind (issue 9) -------------------------------------


def _proc_stat(pid: int):
    """(state, ppid) of a process from /proc, or None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[1])


def _children(pid: int) -> list[int]:
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _proc_stat(int(name))
            if st is not None and st[1] == pid and st[0] != "Z":
                out.append(int(name))
    return out


def _gone(pid: int) -> bool:
    st = _proc_stat(pid)
    return st is None or st[0] in ("Z", "X")  # a zombie has ended (nobody may reap it here)


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _spill_dirs(*dirs) -> list[str]:
    return sorted(str(p) for d in dirs for p in d.glob("*import-tmp-*"))


def _mid_import(p: subprocess.Popen, deadline: float = 120) -> list[int]:
    """Wait until the import's parser process runs and has parsed for a while (CPU time: a
    loaded machine does not shift it); its children (the parser, multiprocessing's helper)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end and p.poll() is None:
        kids = _children(p.pid)
        parser = [k for k in kids if "spawn_main" in _cmdline(k)]
        try:
            if parser and _cpu_seconds(parser[0]) >= 0.3:
                return kids
        except (OSError, IndexError, ValueError):
            pass
        time.sleep(0.005)
    pytest.fail(f"the import did not get going (rc {p.poll()})")


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")
@pytest.mark.parametrize("signame", ["SIGKILL", "SIGTERM", "SIGHUP"])
def test_a_killed_import_leaves_no_process_and_no_spill_files(run_cli, tmp_path, db_path, sql, cli_env, signame):
    """A killed `import logs` orphaned its parser process, asleep forever on the full queue and
    holding the caller's stdout (`| tee` never ended), and leaked its spill directory."""
    sig = getattr(signal, signame)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = dict(cli_env, BT_TUI_IMPORT_PROCESS_MIN_BYTES="1024", TMPDIR=str(tmp))
    _import(run_cli, write_jsonl(tmp_path / "seed.jsonl", make_traces(3, children=1)))
    before = sql("SELECT * FROM spans ORDER BY rid")
    n = 40_000
    src = _write_small(tmp_path / "big.jsonl", n, prefix="k")

    p = subprocess.Popen([*BT_TUI, "import", "logs", str(src)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        kids = _mid_import(p)
        os.kill(p.pid, sig)
        try:
            # The pipes close only when every process holding them has ended.
            out, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("the CLI's stdout/stderr stayed open after it was killed: a child process holds them")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    end = time.monotonic() + 15
    while time.monotonic() < end and not all(_gone(k) for k in kids):
        time.sleep(0.05)
    survivors = [(k, _cmdline(k)) for k in kids if not _gone(k)]
    for k, _ in survivors:
        os.kill(k, signal.SIGKILL)
    assert not survivors, f"processes outlived the killed import: {survivors}"

    if signame == "SIGKILL":
        assert p.returncode == -signal.SIGKILL
    else:  # unwound like Ctrl-C: rolled back, parser stopped, spill files removed, one line
        assert p.returncode == 128 + sig, err
        assert err.decode().splitlines() == [f"bt-tui: stopped by {signame}; an import is all or nothing, "
                                             "and re-running it is harmless"]
        assert _spill_dirs(tmp_path, tmp) == []
    assert sql("SELECT count(*) FROM spans WHERE id LIKE 'k%'")[0][0] == 0
    assert sql("SELECT * FROM spans WHERE id NOT LIKE 'k%' ORDER BY rid") == before
    assert sql("PRAGMA integrity_check")[0][0] == "ok"

    # The next import (any import of this database) removes what the killed one left.
    _import(run_cli, write_jsonl(tmp_path / "small.jsonl", [small_span(1, prefix="s")]), env=env)
    assert _spill_dirs(tmp_path, tmp) == []
    _import(run_cli, src, env=env)  # and running the killed one again gives every row once
    assert sql("SELECT count(*) FROM spans WHERE id LIKE 'k%'")[0][0] == n
    assert _spill_dirs(tmp_path, tmp) == []
    _fts_integrity(db_path)


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")
@pytest.mark.parametrize("signame", ["SIGKILL", "SIGTERM"])
def test_a_killed_export_leaves_no_part_file(run_cli, tmp_path, cli_env, signame):
    """A killed `export logs -o FILE` left FILE.part (150 MB for a big export)."""
    n = 40_000
    _import(run_cli, _write_small(tmp_path / "big.jsonl", n))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "logs.jsonl"
    p = subprocess.Popen([*BT_TUI, "export", "logs", "-o", str(target)], env=cli_env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        end = time.monotonic() + 60
        while time.monotonic() < end and p.poll() is None and not list(out_dir.glob("*.part")):
            time.sleep(0.002)
        assert p.poll() is None, "the export ended before it could be killed"
        os.kill(p.pid, getattr(signal, signame))
        _, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert not target.exists()  # never half written
    if signame == "SIGTERM":
        assert p.returncode == 128 + signal.SIGTERM, err
        assert list(out_dir.iterdir()) == []
    else:
        assert len(list(out_dir.glob("*.part"))) == 1  # nothing could run; the next export cleans it
    mine = out_dir / "logs.jsonl.part"  # not a name bt-tui writes: someone else's file stays
    mine.write_text("keep me")
    res = run_cli("export", "logs", "-o", target)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in out_dir.iterdir()) == ["logs.jsonl", "logs.jsonl.part"]
    assert mine.read_text() == "keep me"
    assert len(target.read_text().splitlines()) == n


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")
def test_a_stdin_import_stops_on_sigterm_while_its_input_stays_open(tmp_path, cli_env, sql):
    """`tail -f spans.jsonl | bt-tui import logs -` and a SIGTERM: stopping meant reading the
    input to its end first, which never comes."""
    p = subprocess.Popen([*BT_TUI, "import", "logs", "-"], env=cli_env, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        p.stdin.write(b"".join(dump_line(small_span(i)).encode() + b"\n" for i in range(5000)))
        p.stdin.flush()
        end, last, still = time.monotonic() + 60, -1.0, 0
        while time.monotonic() < end and p.poll() is None and still < 30:  # idle for 0.3 s: waiting for input
            cpu = _cpu_seconds(p.pid)
            still = still + 1 if cpu == last and cpu > 0.2 else 0
            last = cpu
            time.sleep(0.01)
        assert p.poll() is None
        os.kill(p.pid, signal.SIGTERM)
        try:
            p.wait(timeout=20)  # stdin still open
        except subprocess.TimeoutExpired:
            pytest.fail("the import did not stop while its input stayed open")
        err = p.stderr.read().decode()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdin.close()
    assert p.returncode == 128 + signal.SIGTERM, err
    assert "stopped by SIGTERM" in err
    assert sql("SELECT count(*) FROM spans") == [(0,)]


def test_leftovers_are_removed_only_when_their_owner_is_gone(tmp_path, db_path):
    """Spill directories and .part files carry their writer's PID and are locked while in use:
    the next import or export removes those of dead writers, never a live one's."""
    from store.tempfiles import SpillDir, atomic_output, remove_stale_parts

    dead = subprocess.Popen(["true"])
    dead.wait()  # a PID nobody runs now
    stale = tmp_path / f"bt.db.import-tmp-{dead.pid}-abcd1234"
    stale.mkdir()
    (stale / "3.batch").write_bytes(b"x" * 1000)
    stale_locked = tmp_path / f"bt.db.import-tmp-{dead.pid}-efgh5678"  # its lock file, free now
    stale_locked.mkdir()
    (stale_locked / "lock").write_bytes(b"")
    other_db = tmp_path / f"other.db.import-tmp-{dead.pid}-abcd1234"  # another database's
    other_db.mkdir()
    live = SpillDir(str(db_path))  # a running import's (ours: alive and locked)
    try:
        assert not stale.exists() and not stale_locked.exists()  # making one removes the dead ones
        assert other_db.exists()
        store = Store(db_path)
        try:
            with open(write_jsonl(tmp_path / "a.jsonl", [small_span(1)]), "rb") as f:
                sj.import_jsonl(store, "default", f)  # the thread path cleans up too
        finally:
            store.close()
        assert os.path.isdir(live.path) and other_db.exists()
    finally:
        live.remove()
    assert not os.path.exists(live.path)

    target = tmp_path / "x.jsonl"
    (tmp_path / f"x.jsonl.{dead.pid}.part").write_text("left by a killed export")
    (tmp_path / "x.jsonl.backup.part").write_text("not ours")
    with atomic_output(target) as out:
        out.write("new\n")
        assert remove_stale_parts(target) == []  # our own, locked, is not a leftover
    assert target.read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.glob("x.jsonl*")) == ["x.jsonl", "x.jsonl.backup.part"]


# --- a BOM, a line too long, and naming every bad line (issue 9) --------------------------------


def test_a_utf8_bom_at_the_start_of_the_file_is_accepted(run_cli, tmp_path):
    """Windows tools (Notepad, PowerShell's Out-File) start a UTF-8 file with a BOM: the first
    line was 'malformed JSON'. Ids of rows without one are those of the file without the BOM."""
    rows = [small_span(0), {"input": "no id", "output": "x", "created": "2024-01-01T00:00:00Z"}, small_span(2)]
    plain = write_jsonl(tmp_path / "plain.jsonl", rows)
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    res = run_cli("--db", tmp_path / "bom.db", "import", "logs", bom)
    assert res.returncode == 0, res.stderr
    assert "imported 3 spans" in res.stderr
    _import(run_cli, plain)
    assert run_cli("--db", tmp_path / "bom.db", "export", "logs").stdout == _export(run_cli)
    # Files joined with `cat` keep each one's BOM at the start of a line: accepted there too.
    joined = tmp_path / "joined.jsonl"
    joined.write_bytes(bom.read_bytes() + b"\xef\xbb\xbf" + dump_line(small_span(9)).encode() + b"\n")
    res = run_cli("import", "logs", joined)
    assert res.returncode == 0 and "imported 4 spans" in res.stderr, res.stderr


def test_a_line_longer_than_the_limit_is_a_located_error_and_skippable(run_cli, tmp_path):
    """A 50 MB line took 360 MB-1.1 GB of memory to refuse or import."""
    limit = sj.MAX_LINE_BYTES
    huge = dump_line(dict(small_span(1), input="x" * limit))  # just past the limit
    lines = [dump_line(small_span(0)), huge, dump_line(small_span(2)), '{"id": "bad"']
    path = tmp_path / "huge.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = run_cli("import", "logs", path)
    assert res.returncode == 2
    assert res.stderr.splitlines() == [
        f"bt-tui: {path}:2: line is longer than {limit >> 20} MB (the limit for one span)",
        f"{path}:4: malformed JSON at column 13: the line ends inside an object",
    ]
    res = run_cli("import", "logs", path, "--skip-invalid")
    assert res.returncode == 0, res.stderr
    assert "imported 2 spans" in res.stderr and "skipped 2 invalid lines" in res.stderr
    assert f"{path}:2: line is longer than {limit >> 20} MB" in res.stderr
    assert sorted(r["id"] for r in read_jsonl(_export(run_cli))) == ["b0", "b2"]


def test_the_largest_line_allowed_is_imported_whole(tmp_path, db_path):
    limit = sj.MAX_LINE_BYTES
    row = small_span(1)
    row["input"] = ""
    pad = limit - len(dump_line(row).encode()) - 1  # the line and its newline: exactly the limit
    row["input"] = "y" * pad
    path = write_jsonl(tmp_path / "max.jsonl", [small_span(0), row])
    assert path.stat().st_size == len(dump_line(small_span(0)).encode()) + 1 + limit
    store = Store(db_path)
    try:
        with open(path, "rb") as f:
            res = sj.import_jsonl(store, "default", f, label=str(path))
        assert (res.imported, res.skipped) == (2, 0)
        assert store.conn.execute("SELECT length(input) FROM spans WHERE id = 'b1'").fetchone()[0] == pad + 2
    finally:
        store.close()


@pytest.mark.parametrize("process", [False, True], ids=["thread", "process"])
def test_a_too_long_line_is_never_held_whole(monkeypatch, tmp_path, db_path, process):
    """The parser reads a line at most limit + 1 bytes at a time and skips the rest of a longer
    one a MB at a time; the lines after it keep their numbers."""
    import tracemalloc

    monkeypatch.setattr(sj, "MAX_LINE_BYTES", 64 << 10)
    if process:
        monkeypatch.setattr(sj, "PROCESS_MIN_BYTES", 1024)
    path = tmp_path / "long.jsonl"
    with open(path, "wb") as f:
        f.write(dump_line(small_span(0)).encode() + b"\n")
        f.write(b'{"id":"long","input":"' + b"z" * (24 << 20) + b'"}\n')
        f.write(dump_line(small_span(2)).encode() + b"\n" + b"[1]\n")
    store = Store(db_path)
    try:
        tracemalloc.start()
        with open(path, "rb") as f:
            res = sj.import_jsonl(store, "default", f, label="long.jsonl", skip_invalid=True)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert (res.imported, res.skipped) == (2, 2)
        mb = "16" if process else "0.0625"  # the spawned parser has the module's own limit
        assert res.reasons == [f"long.jsonl:2: line is longer than {mb} MB (the limit for one span)",
                               "long.jsonl:4: each line must be a JSON object"]
        if not process:
            assert peak < 8 << 20, peak  # a 24 MB line, never in memory
    finally:
        store.close()


def _many_bad(tmp_path, bad_at):
    lines = []
    for i in range(1, 61):
        lines.append(BAD_LINES["score_out_of_range"] if i in bad_at else dump_line(small_span(i)))
    path = tmp_path / "many-bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_failed_import_names_the_first_20_bad_lines_and_counts_the_rest(run_cli, tmp_path, sql):
    """It named only the first bad line: fix it, re-run, meet the next one."""
    bad_at = list(range(3, 60, 2))  # 29 bad lines
    path = _many_bad(tmp_path, bad_at)
    reason = "scores.accuracy: a score must be a number in [0, 1] or null, got 1.5"
    res = run_cli("--project", "fresh", "import", "logs", path)
    assert res.returncode == 2
    err = res.stderr.splitlines()
    assert err[0] == f"bt-tui: {path}:3: {reason}"  # the contract's one-line error comes first
    assert err[1:20] == [f"{path}:{n}: {reason}" for n in bad_at[1:20]]
    assert err[20:] == ["... and 9 more bad lines"]
    assert sql("SELECT count(*) FROM spans") == [(0,)] and sql("SELECT name FROM projects") == []
    # --skip-invalid names them the same way.
    res = run_cli("import", "logs", path, "--skip-invalid")
    assert res.returncode == 0, res.stderr
    out = res.stderr.splitlines()
    assert out[0].startswith("imported 31 spans") and out[1] == "skipped 29 invalid lines: scores.accuracy (29)"
    assert out[2:] == [f"{path}:{n}: {reason}" for n in bad_at[:20]] + ["... and 9 more bad lines"]
    # 21 bad lines: 20 named and "1 more".
    res = run_cli("import", "logs", _many_bad(tmp_path, list(range(10, 31))))
    assert res.stderr.splitlines()[-1] == "... and 1 more bad line"


def test_malformed_json_names_the_column_of_its_own_line(run_cli, tmp_path):
    """`bad.jsonl:3: malformed JSON (EOF while parsing an object at line 2 column 0)` mixed the
    file's line with the parser's idea of lines (the newline made a 'line 2')."""
    path = tmp_path / "bad.jsonl"
    good = dump_line(small_span(1))
    path.write_text(f'{good}\n{good}\n{{"id": "x", "input": "oops"\n{{"id": "é",, "x": 1}}\n', encoding="utf-8")
    res = run_cli("import", "logs", path)
    assert res.returncode == 2
    assert res.stderr.splitlines() == [
        f"bt-tui: {path}:3: malformed JSON at column 28: the line ends inside an object",
        f"{path}:4: malformed JSON at column 12: key must be a string",  # characters, not bytes
    ]


def test_the_import_creates_a_new_project_inside_its_transaction(tmp_path, db_path):
    """The project was made before the import's transaction, and the CLI removed it again after
    a failed import (racy with another import into it): a failed or empty import, through any
    caller, leaves no project; a reader never sees the new project before its rows."""
    store = Store(db_path)
    try:
        bad = tmp_path / "bad.jsonl"
        bad.write_text(dump_line(small_span(1)) + "\n" + BAD_LINES["tags_as_string"] + "\n")
        with open(bad, "rb") as f, pytest.raises(InputError):
            sj.import_jsonl(store, "new", f, label=str(bad))
        assert store.conn.execute("SELECT count(*) FROM projects").fetchone()[0] == 0
        empty = tmp_path / "empty.jsonl"
        empty.write_text("\n")
        with open(empty, "rb") as f:
            assert sj.import_jsonl(store, "new", f).lines == 0
        assert store.conn.execute("SELECT count(*) FROM projects").fetchone()[0] == 0
        with open(bad, "rb") as f:
            assert sj.import_jsonl(store, "new", f, skip_invalid=True).skipped == 1
        assert store.conn.execute("SELECT name FROM projects").fetchall() == [("new",)]

        seen = []
        reader = Store(db_path, readonly=True)

        def progress(_):
            if not seen:
                seen.append(reader.conn.execute("SELECT name FROM projects ORDER BY name").fetchall())

        with open(write_jsonl(tmp_path / "ok.jsonl", [small_span(i) for i in range(3)]), "rb") as f:
            res = sj.import_jsonl(store, "other", f, progress=progress)
        reader.close()
        assert res.new == 3 and seen == [[("new",)]]
        assert store.conn.execute("SELECT name FROM projects ORDER BY name").fetchall() == [("new",), ("other",)]
    finally:
        store.close()
