"""Heavy queries stop at a time limit (issue 9, point 7): `bt-tui query --timeout SECONDS`
(default 30) and `bt-tui export logs --timeout SECONDS` (default none), through SQLite's
progress handler; exit 2 with one line."""

from __future__ import annotations

import time

import pytest

from helpers import assert_one_line_error, make_traces, write_jsonl
from store import Store
from store.errors import QueryTimeout
from store.query.runner import run_query
from store.selection import Selection, export_selection

# Whole-word search over a value 200 columns long, for every span: seconds of work.
HEAVY = "concat(" + ", ".join(["input, output"] * 100) + ") MATCH 'zzzq'"


@pytest.fixture
def heavy_db(tmp_path, run_cli):
    src = write_jsonl(tmp_path / "many.jsonl", make_traces(2000, children=2))
    assert run_cli("import", "logs", src).returncode == 0
    return tmp_path / "bt.db"


def test_query_stops_at_its_timeout(run_cli, heavy_db):
    t0 = time.monotonic()
    res = run_cli("query", f"select: id | filter: {HEAVY}", "--timeout", "0.3")
    elapsed = time.monotonic() - t0
    line = assert_one_line_error(res, 2)
    assert line == "bt-tui: query stopped after 0.3 s (--timeout); narrow the filter or raise --timeout"
    assert res.stdout == ""
    assert elapsed < 5


def test_export_stops_at_its_timeout_and_leaves_no_file(run_cli, heavy_db, tmp_path):
    out = tmp_path / "out.jsonl"
    res = run_cli("export", "logs", "--filter", HEAVY, "--timeout", "0.3", "-o", out)
    line = assert_one_line_error(res, 2)
    assert line == "bt-tui: query stopped after 0.3 s (--timeout); narrow the filter or raise --timeout"
    assert not out.exists() and not list(tmp_path.glob("out.jsonl*"))


def test_export_has_no_limit_by_default_and_query_a_generous_one(run_cli, heavy_db):
    res = run_cli("export", "logs", "--filter", "name = 'support_bot' and input MATCH 'refund'")
    assert res.returncode == 0, res.stderr
    res = run_cli("query", "select: count(1) as n", "--format", "jsonl")
    assert res.returncode == 0 and res.stdout == '{"n":6000}\n'
    res = run_cli("query", "--help")
    assert "--timeout" in res.stdout and "30" in res.stdout


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "soon"])
def test_a_bad_timeout_is_exit_2(run_cli, heavy_db, value):
    assert_one_line_error(run_cli("query", "select: id", "--timeout", value), 2)


def test_store_time_limit_then_the_connection_is_normal_again(heavy_db):
    s = Store(heavy_db, readonly=True)
    try:
        t0 = time.monotonic()
        with pytest.raises(QueryTimeout) as info:
            run_query(s, f"select: id | filter: {HEAVY}", timeout=0.2)
        assert time.monotonic() - t0 < 3 and info.value.seconds == 0.2
        with pytest.raises(QueryTimeout):
            list(export_selection(s, Selection("default", HEAVY, "spans", strict=True), timeout=0.2))
        # The handler is gone: a query with no limit runs to the end.
        assert run_query(s, "select: count(1) as n").rows == [[6000]]
    finally:
        s.close()
