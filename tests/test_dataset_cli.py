"""`bt-tui dataset ...`, `import dataset` and `export dataset` through the real binary: the
one-line results, exit codes, every listing's JSONL shape, the file formats end to end, the
round trip logs -> dataset -> file -> a fresh database, and `query ... FROM dataset('x')`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import assert_one_line_error, make_traces, read_jsonl, write_jsonl
from test_dataset_io import check_openai_line

RECORD_KEYS = ["id", "input", "expected", "metadata", "tags", "created", "origin"]


def lines(path: Path, *rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def ok(res) -> str:
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    return res.stdout


def jsonl(res) -> list[dict]:
    return read_jsonl(ok(res))


@pytest.fixture
def qa(run_cli, tmp_path):
    """Dataset 'qa' of three records, written in one version."""
    src = lines(tmp_path / "qa.jsonl", {"id": "a", "input": "What is 2+2?", "expected": "4", "tags": ["math"]},
                {"id": "b", "input": "Capital of France?", "expected": "Paris", "metadata": {"src": "geo"}},
                {"id": "c", "input": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
                 "expected": {"role": "assistant", "content": "hello"}})
    assert ok(run_cli("import", "dataset", src, "--name", "qa", "--author", "maya")).startswith("dataset 'qa'")
    return src


HELP = {
    ("dataset",): ["list", "from-logs", "show", "remove", "versions", "diff", "history", "restore", "snapshot"],
    ("import",): ["logs", "dataset"],
    ("export",): ["logs", "dataset"],
    ("import", "dataset"): ["--name", "--format", "--map", "--skip-invalid", "--author"],
    ("export", "dataset"): ["--version", "--snapshot", "--format", "openai", "--output"],
    ("dataset", "from-logs"): ["--filter", "--expected-from", "--traces", "--spans", "--author"],
    ("dataset", "list"): ["--format"],
    ("dataset", "versions"): ["--format"],
    ("dataset", "diff"): ["FROM", "TO", "--format"],
    ("dataset", "history"): ["--format"],
    ("dataset", "show"): ["--version", "--snapshot", "--filter", "--format"],
    ("dataset", "restore"): ["--version", "--author"],
    ("dataset", "snapshot"): ["SNAPSHOT", "--version", "--author"],
    ("dataset", "remove"): ["NAME", "RECORD_ID", "--author"],
}


@pytest.mark.parametrize("cmd", list(HELP), ids=" ".join)
def test_help(run_cli, db_path, cmd):
    out = ok(run_cli(*cmd, "--help"))
    for word in HELP[cmd]:
        assert word in out, (cmd, word)
    assert not db_path.exists()


def test_import_prints_one_line_and_reimport_makes_no_version(run_cli, tmp_path):
    src = lines(tmp_path / "in.jsonl", {"input": "q1", "expected": "a"}, {"input": "q2", "expected": "b"},
                {"input": "q1", "expected": "again"})
    res = run_cli("import", "dataset", src, "--name", "x")
    assert ok(res) == "dataset 'x' (new dataset): version 1: +3 added, ~0 updated, -0 deleted\n"
    assert res.stderr == ""  # piped: no progress bar
    res = run_cli("import", "dataset", src, "--name", "x")
    assert ok(res) == "dataset 'x': no change (3 record(s) already as given): no new version\n"
    assert len(jsonl(run_cli("dataset", "versions", "x", "--format", "jsonl"))) == 1
    # An edited expected updates that record in a new version.
    src.write_text(src.read_text().replace('"b"', '"B"'))
    assert ok(run_cli("import", "dataset", src, "--name", "x")) == "dataset 'x': version 2: +0 added, ~1 updated, -0 deleted\n"
    recs = jsonl(run_cli("export", "dataset", "x"))
    assert [r["expected"] for r in recs] == ["a", "B", "again"]


def test_a_bad_file_names_its_lines_exits_2_and_writes_nothing(run_cli, tmp_path, db_path):
    src = tmp_path / "bad.jsonl"
    src.write_text('{"input": "ok"}\n{"input": "x", "bogus": 1}\n\n{"input": \n', encoding="utf-8")
    res = run_cli("import", "dataset", src, "--name", "x")
    assert res.returncode == 2
    assert res.stderr.splitlines() == [
        f"bt-tui: {src}:2: unknown key 'bogus' (a dataset record has id, input, expected, metadata, tags, created, origin)",
        f"{src}:4: malformed JSON at column 11: the line ends where a value should be",
    ]
    assert res.stdout == "" and not db_path.exists()
    res = run_cli("import", "dataset", src, "--name", "x", "--skip-invalid")
    assert ok(res) == "dataset 'x' (new dataset): version 1: +1 added, ~0 updated, -0 deleted\n"
    assert res.stderr.splitlines()[0] == "skipped 2 invalid records: unknown key (1), malformed JSON (1)"
    assert len(res.stderr.splitlines()) == 3


def test_csv_import_with_map_and_auto_format(run_cli, tmp_path):
    src = tmp_path / "qa.csv"
    src.write_bytes('\ufeffquestion,answer,metadata.level,tags\n"What, exactly?","{""n"": 4}",easy,"a, b"\n'
                    '"two\nlines",,,\n'.encode("utf-8"))
    line = assert_one_line_error(run_cli("import", "dataset", src, "--name", "c"))
    assert line.startswith(f"bt-tui: {src}:1: column 'question' (and 'answer') names no record field")
    assert line.endswith("map it: --map question=input or --map question=metadata.question")
    res = run_cli("import", "dataset", src, "--name", "c", "--map", "question=input", "--map", "answer=expected")
    assert ok(res).startswith("dataset 'c' (new dataset): version 1: +2 added")
    recs = jsonl(run_cli("dataset", "show", "c", "--format", "jsonl"))
    assert [(r["input"], r["expected"], r["metadata"], r["tags"]) for r in recs] == [
        ("What, exactly?", {"n": 4}, {"level": "easy"}, ["a", "b"]), ("two\nlines", None, {}, [])]
    # The content tells CSV from JSONL when the name does not.
    plain = tmp_path / "data.txt"
    plain.write_text("input,expected\nq,a\n", encoding="utf-8")
    assert ok(run_cli("import", "dataset", plain, "--name", "c2")).startswith("dataset 'c2'")
    # ... and stdin too.
    assert ok(run_cli("import", "dataset", "-", "--name", "c3", input="id,input\nr1,q\n")).startswith("dataset 'c3'")
    assert ok(run_cli("import", "dataset", "-", "--name", "c3", input='{"id": "r2", "input": "z"}\n')).startswith(
        "dataset 'c3': version")
    assert [r["id"] for r in jsonl(run_cli("export", "dataset", "c3"))] == ["r1", "r2"]


@pytest.mark.parametrize("args,fragment", [
    (("import", "dataset", "nope.jsonl", "--name", "x"), "nope.jsonl: no such file"),
    (("import", "dataset", "{src}", "--name", "x", "--format", "xml"), "unknown format 'xml'"),
    (("import", "dataset", "{src}", "--name", "x", "--map", "a=input"), "--map goes with CSV files"),
    (("import", "dataset", "{src}", "--name", "x", "--map", "a=nope", "--format", "csv"), "'nope' is not a record field"),
    (("import", "dataset", "{src}", "--name", " "), "a dataset needs a name"),
    (("import", "dataset", "{src}"), "Missing option '--name'"),
    (("import", "dataset", "{weird}", "--name", "x"), "cannot tell the format; pass --format jsonl or --format csv"),
])
def test_import_usage_errors(run_cli, tmp_path, db_path, args, fragment):
    src = lines(tmp_path / "in.jsonl", {"input": 1})
    weird = tmp_path / "weird.dat"
    weird.write_text("question;answer\n", encoding="utf-8")
    args = [a.format(src=src, weird=weird) for a in args]
    assert fragment in assert_one_line_error(run_cli(*args))
    assert not db_path.exists()


def test_export_formats(run_cli, tmp_path, qa):
    recs = jsonl(run_cli("export", "dataset", "qa"))
    assert [list(r) for r in recs] == [RECORD_KEYS] * 3
    assert [r["id"] for r in recs] == ["a", "b", "c"]
    csv_out = ok(run_cli("export", "dataset", "qa", "--format", "csv"))
    assert csv_out.splitlines()[0] == "id,input,expected,metadata,tags,created,origin"
    out = tmp_path / "ft.jsonl"
    res = run_cli("export", "dataset", "qa", "--format", "openai", "-o", out)
    assert ok(res) == "" and res.stderr.startswith(f"exported 3 records of dataset 'qa' (version 1) to {out}")
    got = [check_openai_line(line) for line in out.read_text().splitlines()]
    assert got[0] == {"messages": [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "4"}]}
    assert got[2]["messages"][0] == {"role": "system", "content": "be brief"}
    assert [check_openai_line(line) for line in ok(run_cli("export", "dataset", "qa", "-f", "openai")).splitlines()] == got


def test_openai_export_error_is_one_line_and_leaves_no_file(run_cli, tmp_path, qa):
    more = lines(tmp_path / "more.jsonl", {"id": "d", "input": {"question": "q"}, "expected": "a"})
    ok(run_cli("import", "dataset", more, "--name", "qa"))
    out = tmp_path / "ft.jsonl"
    line = assert_one_line_error(run_cli("export", "dataset", "qa", "--format", "openai", "-o", out))
    assert line.startswith("bt-tui: record 'd': input is an object without a messages list")
    assert list(tmp_path.glob("ft.jsonl*")) == []
    res = run_cli("export", "dataset", "qa", "--format", "openai")  # stdout: nothing partial either
    assert res.stdout == "" and res.returncode == 2
    # An older version, before record d, exports fine.
    assert len(ok(run_cli("export", "dataset", "qa", "-f", "openai", "--version", "1")).splitlines()) == 3


def test_versions_snapshots_diff_history_restore_remove(run_cli, tmp_path, qa):
    edit = lines(tmp_path / "edit.jsonl", {"id": "a", "input": "What is 2+2?", "expected": "four", "tags": ["math"]},
                 {"id": "d", "input": "new"})
    assert ok(run_cli("import", "dataset", edit, "--name", "qa", "--author", "sam")) == \
        "dataset 'qa': version 2: +1 added, ~1 updated, -0 deleted\n"
    assert ok(run_cli("dataset", "snapshot", "qa", "golden", "--version", "1")) == "dataset 'qa': snapshot 'golden' -> version 1\n"
    assert ok(run_cli("dataset", "remove", "qa", "b", "d", env={"BT_TUI_USER": "kim"})) == \
        "dataset 'qa': version 3: +0 added, ~0 updated, -2 deleted\n"

    versions = jsonl(run_cli("dataset", "versions", "qa", "--format", "jsonl"))
    assert [list(v) for v in versions] == [["version", "created", "author", "added", "updated", "deleted", "snapshots"]] * 3
    assert [(v["version"], v["author"], v["added"], v["updated"], v["deleted"], v["snapshots"]) for v in versions] == [
        (1, "maya", 3, 0, 0, ["golden"]), (2, "sam", 1, 1, 0, []), (3, "kim", 0, 0, 2, [])]

    diff = jsonl(run_cli("dataset", "diff", "qa", "1", "--format", "jsonl"))
    assert diff == [{"id": "a", "change": "updated", "fields": ["expected"]},
                    {"id": "b", "change": "deleted", "fields": ["input", "expected", "metadata", "tags"]}]
    assert jsonl(run_cli("dataset", "diff", "qa", "1", "2", "-f", "jsonl")) == [
        {"id": "a", "change": "updated", "fields": ["expected"]},
        {"id": "d", "change": "added", "fields": ["input", "expected", "metadata", "tags"]}]
    table = ok(run_cli("dataset", "diff", "qa", "1"))
    assert "updated" in table and "expected" in table

    hist = jsonl(run_cli("dataset", "history", "qa", "a", "--format", "jsonl"))
    assert hist == [{"version": 1, "created": hist[0]["created"], "author": "maya", "change": "added",
                     "fields": ["input", "expected", "metadata", "tags"]},
                    {"version": 2, "created": hist[1]["created"], "author": "sam", "change": "updated",
                     "fields": ["expected"]}]

    snap = jsonl(run_cli("export", "dataset", "qa", "--snapshot", "golden"))
    assert [(r["id"], r["expected"]) for r in snap] == [("a", "4"), ("b", "Paris"), ("c", snap[2]["expected"])]
    assert ok(run_cli("dataset", "restore", "qa", "--version", "1", "--author", "maya")) == \
        "dataset 'qa': restored version 1: version 4: +1 added, ~1 updated, -0 deleted\n"
    assert jsonl(run_cli("export", "dataset", "qa")) == [
        {**r, "created": r["created"]} for r in jsonl(run_cli("export", "dataset", "qa", "--version", "1"))]
    assert ok(run_cli("dataset", "restore", "qa", "--version", "1")) == \
        "dataset 'qa': already as version 1: no new version\n"


def test_list_and_show(run_cli, tmp_path, qa):
    listed = jsonl(run_cli("dataset", "list", "--format", "jsonl"))
    assert [list(d) for d in listed] == [
        ["name", "description", "records", "version", "versions", "created", "last_change", "last_author"]]
    assert (listed[0]["name"], listed[0]["records"], listed[0]["version"], listed[0]["last_author"]) == ("qa", 3, 1, "maya")
    assert "qa" in ok(run_cli("dataset", "list"))
    other = run_cli("-p", "other", "dataset", "list")
    assert ok(other) == "" and "no datasets in project 'other'" in other.stderr

    shown = jsonl(run_cli("dataset", "show", "qa", "--format", "jsonl", "--filter", "tags INCLUDES 'math'"))
    assert [list(r) for r in shown] == [RECORD_KEYS] and shown[0]["id"] == "a"
    assert [r["id"] for r in jsonl(run_cli("dataset", "show", "qa", "-f", "jsonl", "--filter", "metadata.src = 'geo'"))] == ["b"]
    assert [r["id"] for r in jsonl(run_cli("dataset", "show", "qa", "-f", "jsonl", "--limit", "2"))] == ["a", "b"]
    table = ok(run_cli("dataset", "show", "qa"))
    assert "What is 2+2?" in table and "Paris" in table
    res = run_cli("dataset", "show", "qa", "--filter", "output = 1")
    assert res.returncode == 2
    assert res.stderr.splitlines() == [
        "bt-tui: a dataset record has no field 'output' (its fields: id, input, expected, metadata, tags, created,"
        " origin) at column 1", "  output = 1", "  ^"]


@pytest.mark.parametrize("args,fragment", [
    (("export", "dataset", "nope"), "no dataset named 'nope' in project 'default'"),
    (("export", "dataset", "qa", "--version", "99"), "dataset 'qa' has no version 99 (its versions: 1)"),
    (("export", "dataset", "qa", "--snapshot", "s"), "dataset 'qa' has no snapshot named 's' (it has no snapshots)"),
    (("export", "dataset", "qa", "--version", "1", "--snapshot", "s"), "give --version or --snapshot, not both"),
    (("export", "dataset", "qa", "--format", "xml"), "unknown format 'xml'"),
    (("dataset", "versions", "nope"), "no dataset named 'nope'"),
    (("dataset", "diff", "qa", "7"), "dataset 'qa' has no version 7"),
    (("dataset", "history", "qa", "zzz"), "dataset 'qa' has never had a record 'zzz'"),
    (("dataset", "remove", "qa", "a", "zzz"), "dataset 'qa' has no record 'zzz'"),
    (("dataset", "restore", "qa", "--version", "42"), "dataset 'qa' has no version 42"),
    (("dataset", "snapshot", "qa", "s", "--version", "42"), "dataset 'qa' has no version 42"),
    (("dataset", "show", "qa", "--snapshot", "nope"), "has no snapshot named 'nope'"),
    (("dataset", "list", "--format", "xml"), "unknown format 'xml' (expected table or jsonl)"),
    (("dataset", "from-logs", "x", "--filter", "scores.a >"), "expected"),
    (("dataset", "from-logs", "x", "--filter", "  "), "--filter is empty"),
    (("dataset", "from-logs", "x", "--filter", "true", "--expected-from", "nope"), "--expected-from 'nope'"),
])
def test_errors_are_one_line_exit_2_and_change_nothing(run_cli, sql, qa, args, fragment):
    state = "SELECT (SELECT count(*) FROM datasets), (SELECT count(*) FROM dataset_versions), (SELECT count(*) FROM dataset_snapshots)"
    before = sql(state)
    res = run_cli(*args)
    assert res.returncode == 2, res.stderr
    assert res.stderr.startswith("bt-tui: ") and fragment in res.stderr.splitlines()[0], res.stderr
    assert "Traceback" not in res.stderr
    assert sql(state) == before


def test_missing_database_is_exit_2_and_creates_nothing(run_cli, tmp_path):
    missing = tmp_path / "missing.db"
    for args in (("dataset", "list"), ("export", "dataset", "x"), ("dataset", "remove", "x", "a"),
                 ("dataset", "from-logs", "x", "--filter", "true")):
        assert_one_line_error(run_cli(*args, env={"BT_TUI_DB": missing}))
    assert not missing.exists()


def test_round_trip_logs_to_dataset_to_files_to_a_fresh_database(run_cli, tmp_path):
    logs = write_jsonl(tmp_path / "logs.jsonl", make_traces(8, children=2))
    ok(run_cli("import", "logs", logs))
    res = run_cli("dataset", "from-logs", "gold", "--filter", "metadata.model = 'gpt-4o'", "--author", "maya")
    assert ok(res) == "dataset 'gold' (new dataset): version 1: +3 added, ~0 updated, -0 deleted\n"
    # Again: every span is already a record (by origin): nothing new.
    assert ok(run_cli("dataset", "from-logs", "gold", "--filter", "metadata.model = 'gpt-4o'")) == \
        "dataset 'gold': no change (3 record(s) already as given): no new version\n"
    assert ok(run_cli("dataset", "from-logs", "gold", "--filter", "metadata.model = 'nope'")) == \
        "dataset 'gold': no trace matches the filter: nothing to add, no new version\n"
    orig = jsonl(run_cli("export", "dataset", "gold"))
    # metadata.model is a record's metadata key (spans keep it in a column of their own).
    assert jsonl(run_cli("dataset", "show", "gold", "-f", "jsonl", "--filter", "metadata.model = 'gpt-4o'")) == orig
    assert jsonl(run_cli("query", "SELECT metadata.model AS m, count(1) AS n FROM dataset('gold') GROUP BY 1",
                         "-f", "jsonl")) == [{"m": "gpt-4o", "n": 3}]
    roots = {r["id"]: r for r in make_traces(8, children=2) if r["span_parents"] is None}
    for rec in orig:
        span = roots[rec["origin"]["id"]]
        assert rec["origin"] == {"object_type": "project_logs", "id": span["id"]}
        assert (rec["input"], rec["metadata"], rec["tags"]) == (span["input"], span["metadata"], span["tags"])
        assert rec["expected"] == (span["expected"] if span["expected"] is not None else span["output"])

    keys = ("id", "input", "expected", "metadata", "tags", "origin", "created")
    for fmt in ("jsonl", "csv"):
        out = tmp_path / f"gold.{fmt}"
        ok(run_cli("export", "dataset", "gold", "--format", fmt, "-o", out))
        fresh = tmp_path / f"fresh-{fmt}.db"
        ok(run_cli("import", "dataset", out, "--name", "gold", env={"BT_TUI_DB": fresh}))
        back = jsonl(run_cli("export", "dataset", "gold", env={"BT_TUI_DB": fresh}))
        assert [{k: r[k] for k in keys} for r in back] == [{k: r[k] for k in keys} for r in orig], fmt
        # Importing the export again into the fresh database changes nothing.
        assert "no new version" in ok(run_cli("import", "dataset", out, "--name", "gold", env={"BT_TUI_DB": fresh}))


def test_from_logs_spans_and_expected_from(run_cli, tmp_path):
    ok(run_cli("import", "logs", write_jsonl(tmp_path / "logs.jsonl", make_traces(3, children=2))))
    res = run_cli("dataset", "from-logs", "s", "--filter", "span_attributes.type = 'llm'", "--spans",
                  "--expected-from", "none")
    assert ok(res) == "dataset 's' (new dataset): version 1: +3 added, ~0 updated, -0 deleted\n"
    recs = jsonl(run_cli("export", "dataset", "s"))
    assert all(r["expected"] is None and r["origin"]["id"].endswith("-row1") for r in recs)
    line = assert_one_line_error(run_cli("-p", "nope", "dataset", "from-logs", "s", "--filter", "true"))
    assert "no project named 'nope'" in line


def test_query_reads_a_dataset(run_cli, qa):
    rows = jsonl(run_cli("query", "SELECT * FROM dataset('qa') WHERE input MATCH 'france'", "--format", "jsonl"))
    assert [list(r) for r in rows] == [RECORD_KEYS] and rows[0]["id"] == "b"
    rows = jsonl(run_cli("query", "SELECT id, expected FROM dataset('qa') WHERE tags INCLUDES 'math' OR"
                         " metadata.src = 'geo' ORDER BY id DESC", "-f", "jsonl"))
    assert rows == [{"id": "b", "expected": "Paris"}, {"id": "a", "expected": "4"}]
    rows = jsonl(run_cli("query", "select: count(1) AS n | from: dataset('qa') | filter: expected IS NOT NULL", "-f", "jsonl"))
    assert rows == [{"n": 3}]
    line = run_cli("query", "SELECT output FROM dataset('qa')").stderr.splitlines()[0]
    assert "a dataset record has no field 'output'" in line
    assert "no dataset named 'nope'" in assert_one_line_error(run_cli("query", "SELECT * FROM dataset('nope')"))
