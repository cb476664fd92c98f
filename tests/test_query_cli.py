"""`bt-tui query` and `bt-tui export logs --filter/--traces` in a subprocess over the hand-made
corpus (tests/query_fixtures.py)."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys

import pytest

from query_fixtures import PROJECT, corpus  # noqa: F401
from store.models import SPAN_KEYS


@pytest.fixture(scope="module")
def cli(corpus, tmp_path_factory):
    home = tmp_path_factory.mktemp("cli-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BT_TUI_")}
    env.update(CI="1", COLUMNS="200", PYTHONIOENCODING="utf-8", XDG_DATA_HOME=str(home / "xdg"))

    def run(*args, project=PROJECT):
        proc = subprocess.run(
            [sys.executable, "-m", "tui.cli", "--db", str(corpus.path), "--project", project, *args],
            capture_output=True, env=env, cwd=str(home), timeout=120,
        )
        return proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")

    return run


def _state(corpus):
    conn = sqlite3.connect(str(corpus.path))
    try:
        return (conn.execute("SELECT count(*) FROM spans").fetchone()[0],
                conn.execute("SELECT count(*) FROM comments").fetchone()[0],
                conn.execute("SELECT count(*) FROM audit").fetchone()[0])
    finally:
        conn.close()


QUERY = "select: id, metadata.model as model, scores | filter: tags includes 'triage' | sort: id"


def test_query_jsonl(cli):
    code, out, err = cli("query", QUERY, "--format", "jsonl")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows == [
        {"id": "a0", "model": "gpt-4", "scores": {"Factuality": 0.9, "correctness": 0.3}},
        {"id": "b1", "model": "claude-3-opus", "scores": {"correctness": 0.2}},
        {"id": "c0", "model": "gpt-4", "scores": {"Factuality": 0.95}},
        {"id": "f1", "model": "gpt-4", "scores": {"Factuality": 0.85}},
    ]


def test_query_csv(cli):
    code, out, err = cli("query", QUERY, "--format", "csv")
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["id", "model", "scores"]
    assert [r[0] for r in rows[1:]] == ["a0", "b1", "c0", "f1"]
    assert json.loads(rows[1][2]) == {"Factuality": 0.9, "correctness": 0.3}
    assert rows[2][1] == "claude-3-opus"


def test_query_table(cli):
    code, out, err = cli("query", QUERY)
    assert code == 0, err
    lines = out.splitlines()
    header = next(line for line in lines if "id" in line.split())
    assert header.split() == ["id", "model", "scores"]
    body = [line.split()[0] for line in lines if line.strip() and line.split()[0] in ("a0", "b1", "c0", "f1")]
    assert body == ["a0", "b1", "c0", "f1"]
    assert "4 rows" in out


def test_query_dimensions_measures_jsonl(cli):
    code, out, err = cli("query", "dimensions: metadata.model as model | measures: count(1) as calls, "
                                  "avg(scores.Factuality) as avg_score | filter: metadata.model IS NOT NULL "
                                  "| sort: calls desc, model", "-f", "jsonl")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["model"], r["calls"]) for r in rows] == [
        ("gpt-4", 3), ("claude-3-opus", 2), ("gpt-4-turbo", 2), ("gpt-3.5", 1)]
    assert rows[0]["avg_score"] == pytest.approx((0.9 + 0.95 + 0.85) / 3)
    assert rows[1]["avg_score"] is None


def test_query_sql_form_and_project_option(cli):
    code, out, err = cli("query", "SELECT id FROM project_logs('p') WHERE name = 'agent'", "-f", "jsonl", project="q")
    assert code == 0, err
    assert [json.loads(line) for line in out.splitlines()] == [{"id": "d0"}]
    code, out, err = cli("query", "select: id", "-f", "jsonl", project="q")
    assert code == 0, err
    assert [json.loads(line) for line in out.splitlines()] == [{"id": "q0"}]


@pytest.mark.parametrize("text,first,col", [
    ("scores.x >", "bt-tui: expected a value after '>' at column 11", 11),
    ("WHERE scores.x >", "bt-tui: expected a value after '>' at column 17", 17),
    ("select: id | filter: name = 'abc", "bt-tui: unterminated string starting with ' at column 29", 29),
    ("SELECT * FROM project_logs('p') WHERE metdata.model = 'x'",
     "bt-tui: unknown field 'metdata' (did you mean 'metadata'?) at column 39", 39),
])
def test_bad_query_exits_2_with_message_and_caret(cli, corpus, text, first, col):
    before = _state(corpus)
    code, out, err = cli("query", text)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    lines = err.rstrip("\n").split("\n")
    assert lines == [first, "  " + text, "  " + " " * (col - 1) + "^"]
    assert _state(corpus) == before


def test_query_injection_is_a_query_error_and_changes_nothing(cli, corpus):
    before = _state(corpus)
    code, out, err = cli("query", "SELECT id FROM project_logs('p') WHERE name = 'x'; DROP TABLE spans; --")
    assert code == 2 and "unexpected character ';'" in err and "Traceback" not in err
    assert _state(corpus) == before


def test_aggregate_in_filter_is_bad_input(cli):
    code, out, err = cli("query", "count(*) > 1")
    assert code == 2 and "column" in err


def test_query_unknown_format_exits_2(cli):
    code, out, err = cli("query", "select: id", "--format", "xml")
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1


def test_export_filter_exports_exactly_the_matching_spans(cli):
    code, out, err = cli("export", "logs", "--filter", "tags includes 'triage'")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == ["a0", "b1", "f1", "c0"]  # time order
    assert all(list(r) == list(SPAN_KEYS) for r in rows)
    c0 = rows[-1]
    assert [c["text"] for c in c0["comments"]] == ["this answer is wrong", "second look: escalated"]
    assert c0["error"] == "rate limited" and c0["expected"] == {"greeting": "hi"}


def test_export_filter_traces_exports_whole_traces(cli):
    code, out, err = cli("export", "logs", "--filter", "tags includes 'triage'", "--traces")
    assert code == 0, err
    ids = [json.loads(line)["id"] for line in out.splitlines()]
    assert ids == ["a0", "a1", "a2", "b0", "b1", "f0", "f1", "c0"]


def test_export_filter_csv_and_any_span(cli):
    code, out, err = cli("export", "logs", "--filter",
                         "any_span(tags includes 'production') and any_span(error IS NOT NULL)", "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["id"] for r in rows] == ["a0", "a1", "a2", "f0", "f1"]


@pytest.mark.parametrize("expr,fragment", [
    ("scores.x >", "expected a value after '>' at column 11"),
    ("refund", "unknown field 'refund'"),  # strict: no full-text fallback in export
])
def test_export_bad_filter_exits_2(cli, corpus, expr, fragment):
    before = _state(corpus)
    code, out, err = cli("export", "logs", "--filter", expr)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    assert err.startswith("bt-tui: ") and fragment in err.splitlines()[0]
    assert err.splitlines()[1] == "  " + expr
    assert _state(corpus) == before


def test_query_and_export_note_near_miss_names_on_stderr(cli):
    code, out, err = cli("query", "scores.factuality > 0.5", "--format", "jsonl")
    assert code == 0 and out == ""
    assert "note: no score named 'factuality'" in err and "did you mean scores.Factuality?" in err
    code, out, err = cli("export", "logs", "--filter", "metadata.modle = 'gpt-4'")
    assert code == 0 and "did you mean metadata.model?" in err


def test_misspelled_clause_is_named_with_a_suggestion(cli):
    code, out, err = cli("query", "selct: id | limit: 1")
    assert code == 2 and "unknown clause 'selct:'; did you mean 'select:'?" in err and "column 1" in err


@pytest.mark.parametrize("args", [
    ("query", "select: id | filter: 1" + " + 1" * 500 + " > 0"),
    ("query", "1" + "+1" * 500),
    ("export", "logs", "--filter", "1" + "+1" * 500 + " > 0"),
], ids=["query-filter", "query-bare", "export-filter"])
def test_a_500_term_chain_is_exit_2_not_a_recursion_error(cli, args):
    code, out, err = cli(*args)
    assert code == 2, err
    assert out == "" and "Traceback" not in err and "RecursionError" not in err
    assert err.startswith("bt-tui: too many operators in a row (at most 64 in one expression) at column ")
