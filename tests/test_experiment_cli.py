"""`bt-tui experiment compare | show`, `bt-tui export experiment` and `FROM experiment('name')`
through the real binary, over experiments built in the store (tests/test_compare.py's
``make_experiment``: eval root spans with a task child and a score span per score): the
hand-computed figures of test_compare.py in jsonl and in the table, the verdicts, the rows,
unknown names as one line (exit 2) with the names that exist, the export's span rows and their
round trip through `import logs`, and queries over an experiment's rows."""

from __future__ import annotations

import json
import re

import pytest

from helpers import assert_one_line_error, read_jsonl
from store import Store
from store.compare import BOOTSTRAP_RESAMPLES
from store.models import SPAN_KEYS
from test_compare import make_experiment, row

P = "default"
BASE_ROWS = [row("q1", {"a": 0.5, "b": 1}, output="o1", expected="e1"), row("q2", {"a": 1.0, "b": 0}, output="o2"),
             row("q3", {"a": 0.2, "b": None}), row("q4", {"a": 0.0})]
CAND_ROWS = [row("q1", {"a": 0.75, "b": 1}, output="n1", expected="e1"), row("q2", {"a": 0.5, "b": 1}, output="n2"),
             row("q3", {"a": 0.2, "b": 1}), row("q5", {"a": 1.0})]


def ok(res) -> str:
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    return res.stdout


@pytest.fixture
def exps(db_path):
    """'base' and 'cand' (the hand-computed case of test_compare.py); 'steady' +0.1 on every row of
    'flat' (a real change), 'coin' [0, 1] against 'flat2' (could be noise)."""
    s = Store(db_path)
    make_experiment(s, "base", BASE_ROWS, project=P)
    make_experiment(s, "cand", CAND_ROWS, project=P)
    make_experiment(s, "flat", [row(f"r{i}", {"s": 0.5}) for i in range(6)], project=P, metadata={"eval": "steady"})
    make_experiment(s, "steady", [row(f"r{i}", {"s": 0.6}) for i in range(6)], project=P, metadata={"eval": "steady"})
    make_experiment(s, "flat2", [row(f"c{i}", {"s": 0.0}) for i in range(2)], project=P)
    make_experiment(s, "coin", [row("c0", {"s": 0.0}), row("c1", {"s": 1.0})], project=P)
    s.close()
    return db_path


def test_compare_jsonl_one_line_per_score(run_cli, exps):
    lines = read_jsonl(ok(run_cli("experiment", "compare", "base", "cand", "--format", "jsonl")))
    assert [d["score"] for d in lines] == ["a", "b"]
    a, b = lines
    assert list(a) == ["score", "base", "candidate", "diff", "improvements", "regressions", "matched", "interval",
                       "significant"]
    assert a["base"] == pytest.approx(0.425) and a["candidate"] == pytest.approx(0.6125)
    assert a["diff"] == pytest.approx(0.1875)
    assert (a["improvements"], a["regressions"], a["matched"]) == (1, 1, 3)
    assert (b["base"], b["candidate"], b["improvements"], b["regressions"], b["matched"]) == (0.5, 1.0, 1, 0, 2)
    low, high = a["interval"]
    assert low <= (0.25 - 0.5) / 3 <= high and a["significant"] is False


def test_compare_table(run_cli, exps):
    res = run_cli("experiment", "compare", "base", "cand")
    out = ok(res).splitlines()
    assert out[0].split() == ["score", "base", "candidate", "diff", "interval", "(95%)", "improvements",
                              "regressions", "verdict"]
    assert re.match(r"a\s+42\.50%\s+61\.25%\s+\+18\.75%\s+\[-\d+\.\d\d%, \+\d+\.\d\d%\]\s+1\s+1\s+could be noise$",
                    out[1]), out[1]
    assert re.match(r"b\s+50\.00%\s+100\.00%\s+\+50\.00%\s+\[\+0\.00%, \+100\.00%\]\s+1\s+0\s+could be noise$",
                    out[2]), out[2]
    assert out[3] == "3 rows matched by input; 1 only in 'base', 1 only in 'cand'"
    assert len(out) == 4


def test_verdicts(run_cli, exps):
    steady = read_jsonl(ok(run_cli("experiment", "compare", "flat", "steady", "-f", "jsonl")))[0]
    assert steady["interval"] == [pytest.approx(0.1), pytest.approx(0.1)] and steady["significant"] is True
    assert "real" in ok(run_cli("experiment", "compare", "flat", "steady")).splitlines()[1]
    coin = read_jsonl(ok(run_cli("experiment", "compare", "flat2", "coin", "-f", "jsonl")))[0]
    assert (coin["interval"], coin["significant"]) == ([0.0, 1.0], False)
    # no row in common: no interval, no verdict
    none = read_jsonl(ok(run_cli("experiment", "compare", "flat", "coin", "-f", "jsonl")))[0]
    assert (none["matched"], none["interval"], none["significant"]) == (0, None, None)
    table = ok(run_cli("experiment", "compare", "flat", "coin")).splitlines()
    assert table[1].rstrip().endswith("-") and "0 rows matched by input; 6 only in 'flat', 2 only in 'coin'" in table


def test_compare_rows(run_cli, exps):
    regressed = read_jsonl(ok(run_cli("experiment", "compare", "base", "cand", "--rows", "regressed", "-f", "jsonl")))
    assert [r["input"] for r in regressed] == ["q2"]
    r = regressed[0]
    assert list(r) == ["key", "input", "expected", "base", "candidate", "deltas"]
    assert r["key"] == "q2"
    assert r["base"]["output"] == "o2" and r["candidate"]["output"] == "n2"
    assert r["base"]["scores"] == {"a": 1.0, "b": 0.0} and r["base"]["trials"] == 1 and len(r["base"]["ids"]) == 1
    assert r["deltas"] == {"a": -0.5, "b": 1.0}
    improved = read_jsonl(ok(run_cli("experiment", "compare", "base", "cand", "--rows", "improved", "-f", "jsonl")))
    assert [r["input"] for r in improved] == ["q1", "q2"]
    only_b = read_jsonl(ok(run_cli("experiment", "compare", "base", "cand", "--rows", "improved", "--score", "b",
                                   "-f", "jsonl")))
    assert [r["input"] for r in only_b] == ["q2"]
    every = read_jsonl(ok(run_cli("experiment", "compare", "base", "cand", "--rows", "all", "-f", "jsonl")))
    assert [r["input"] for r in every] == ["q1", "q2", "q3", "q5", "q4"]
    assert every[3]["base"] is None and every[4]["candidate"] is None and every[3]["deltas"] == {}
    assert every[0]["expected"] == "e1" and every[2]["deltas"] == {"a": 0.0}
    table = ok(run_cli("experiment", "compare", "base", "cand", "--rows", "changed"))
    lines = [ln.split() for ln in table.splitlines() if ln.strip().startswith("q")]
    assert lines == [["q1", "o1", "n1", "a", "+25.00%"], ["q2", "o2", "n2", "a", "-50.00%,", "b", "+100.00%"]]


def test_compare_by_another_key(run_cli, db_path):
    s = Store(db_path)
    make_experiment(s, "v1", [row("What is 2+2?", {"a": 0.0}, metadata={"record_id": "r1"}),
                              row("Capital of France?", {"a": 1.0}, metadata={"record_id": "r2"})], project=P)
    make_experiment(s, "v2", [row("what's 2 + 2", {"a": 1.0}, metadata={"record_id": "r1"}),
                              row("France's capital?", {"a": 1.0}, metadata={"record_id": "r2"})], project=P)
    s.close()
    by_input = read_jsonl(ok(run_cli("experiment", "compare", "v1", "v2", "-f", "jsonl")))[0]
    assert by_input["matched"] == 0
    by_id = read_jsonl(ok(run_cli("experiment", "compare", "v1", "v2", "--key", "metadata.record_id", "-f", "jsonl")))
    assert (by_id[0]["matched"], by_id[0]["improvements"], by_id[0]["regressions"]) == (2, 1, 0)
    assert "2 rows matched by metadata.record_id; 0 only in 'v1', 0 only in 'v2'" in ok(
        run_cli("experiment", "compare", "v1", "v2", "-k", "metadata.record_id"))


def test_unknown_experiment_names_the_ones_that_exist(run_cli, exps):
    line = assert_one_line_error(run_cli("experiment", "compare", "bsae", "cand"))
    assert "no experiment named 'bsae' in project 'default'; did you mean 'base'?" in line
    names = re.findall(r"'([^']+)'", line.split("(experiments: ")[1])
    assert names[0] == "base" and sorted(names) == sorted(["base", "cand", "flat", "steady", "flat2", "coin"])
    line = assert_one_line_error(run_cli("experiment", "compare", "base", "zzzz"))
    assert "no experiment named 'zzzz'" in line and "did you mean" not in line and "'coin'" in line
    assert "no experiment named 'x'" in assert_one_line_error(run_cli("experiment", "show", "x"))
    assert "no experiment named 'x'" in assert_one_line_error(run_cli("export", "experiment", "x"))
    none = assert_one_line_error(run_cli("--project", "empty", "experiment", "compare", "a", "b"))
    assert "no experiment named 'a' in project 'empty'" in none


def test_bad_usage_is_one_line(run_cli, exps, tmp_path):
    assert "--key" in assert_one_line_error(run_cli("experiment", "compare", "base", "cand", "--key", "output"))
    assert "--rows 'worse'" in assert_one_line_error(run_cli("experiment", "compare", "base", "cand", "--rows", "worse"))
    assert "--score goes with --rows" in assert_one_line_error(
        run_cli("experiment", "compare", "base", "cand", "--score", "a"))
    assert "--score 'zz'" in assert_one_line_error(
        run_cli("experiment", "compare", "base", "cand", "--rows", "regressed", "--score", "zz"))
    assert "format" in assert_one_line_error(run_cli("experiment", "compare", "base", "cand", "-f", "csv"))
    missing = assert_one_line_error(run_cli("--db", tmp_path / "none.db", "experiment", "compare", "a", "b"))
    assert "no such database" in missing and not (tmp_path / "none.db").exists()


def test_compare_help_says_how_significance_is_computed(run_cli):
    text = " ".join(ok(run_cli("experiment", "compare", "--help")).split())
    assert "paired bootstrap" in text and "95%" in text
    assert f"{BOOTSTRAP_RESAMPLES:,} resamples of the matched rows" in text


def test_show(run_cli, exps):
    d = read_jsonl(ok(run_cli("experiment", "show", "steady", "-f", "jsonl")))
    assert len(d) == 1
    d = d[0]
    assert (d["name"], d["rows"], d["scores"], d["base"]) == ("steady", 6, {"s": pytest.approx(0.6)}, "flat")
    assert d["metadata"] == {"eval": "steady"}
    assert [c["score"] for c in d["compare"]] == ["s"] and d["compare"][0]["significant"] is True
    first = read_jsonl(ok(run_cli("experiment", "show", "flat", "-f", "jsonl")))[0]
    assert (first["base"], first["compare"]) == (None, None)
    explicit = read_jsonl(ok(run_cli("experiment", "show", "cand", "--base", "base", "-f", "jsonl")))[0]
    assert explicit["base"] == "base" and explicit["compare"][0]["improvements"] == 1
    table = ok(run_cli("experiment", "show", "steady"))
    assert "compared with 'flat' (base):" in table and "scores.s" in table and "60.00%" in table
    assert re.search(r"^s\s+50\.00%\s+60\.00%\s+\+10\.00%\s+\[\+10\.00%, \+10\.00%\]\s+6\s+0\s+real$", table, re.M)
    assert "no base" in ok(run_cli("experiment", "show", "flat"))


def test_export_experiment_every_span_in_the_span_row_shape(run_cli, exps, tmp_path):
    lines = read_jsonl(ok(run_cli("export", "experiment", "base")))
    # 4 rows: an eval root, a task span, and a score span per score each (q1, q2: a and b;
    # q3: a and b (None); q4: a)
    assert len(lines) == 4 * 2 + 2 + 2 + 2 + 1
    assert all(list(d) == list(SPAN_KEYS) for d in lines)
    roots = [d for d in lines if d["span_attributes"]["type"] == "eval"]
    assert [r["input"] for r in roots] == ["q1", "q2", "q3", "q4"]
    assert roots[0]["scores"] == {"a": 0.5, "b": 1} and roots[0]["output"] == "o1"
    assert {d["span_attributes"]["type"] for d in lines} == {"eval", "task", "score"}
    out = tmp_path / "base.jsonl"
    res = run_cli("export", "experiment", "base", "-o", out)
    assert ok(res) == "" and f"exported {len(lines)} spans to {out}" in res.stderr
    assert read_jsonl(out) == lines
    csv_text = ok(run_cli("export", "experiment", "base", "--format", "csv"))
    header = csv_text.splitlines()[0].split(",")
    assert header[:len(SPAN_KEYS)] == list(SPAN_KEYS) and "scores.a" in header and "scores.b" in header
    import csv
    import io

    assert len(list(csv.reader(io.StringIO(csv_text)))) == len(lines) + 1
    assert "unknown format" in assert_one_line_error(run_cli("export", "experiment", "base", "-f", "xml"))


def test_export_round_trips_through_import_logs(run_cli, exps, tmp_path):
    out = tmp_path / "cand.jsonl"
    ok(run_cli("export", "experiment", "cand", "-o", out))
    res = run_cli("--project", "copy", "import", "logs", out)
    assert ok(res) == "" and "imported" in res.stderr
    again = read_jsonl(ok(run_cli("--project", "copy", "export", "logs")))
    assert again == read_jsonl(out)
    # and the experiment is untouched; the logs project is a project like any other
    assert read_jsonl(ok(run_cli("export", "experiment", "cand"))) == again


def test_query_from_experiment(run_cli, exps):
    rows = read_jsonl(ok(run_cli("query", "SELECT input, scores.a FROM experiment('cand') WHERE is_root "
                                           "AND scores.a >= 0.5 ORDER BY input", "-f", "jsonl")))
    assert rows == [{"input": "q1", "scores.a": 0.75}, {"input": "q2", "scores.a": 0.5}, {"input": "q5", "scores.a": 1.0}]
    n = read_jsonl(ok(run_cli("query", "SELECT count(*) AS n FROM experiment('base') WHERE span_attributes.type = 'score'",
                              "-f", "jsonl")))
    assert n == [{"n": 7}]
    grouped = read_jsonl(ok(run_cli("query", "from: experiment('base') | filter: type = 'eval' OR type = 'task' | "
                                             "dimensions: metadata.record_id AS rec | measures: count(1) AS spans",
                                    "-f", "jsonl")))
    # each eval root has its record_id; the task spans have none: one null group of 4
    assert {g["rec"]: g["spans"] for g in grouped} == {None: 4, "rec0": 1, "rec1": 1, "rec2": 1, "rec3": 1}
    summary = read_jsonl(ok(run_cli("query", "from: experiment('cand') summary | filter: input IN ['q1', 'q5']",
                                    "-f", "jsonl")))
    assert sorted((r["input"], r["spans"]) for r in summary) == [("q1", 4), ("q5", 3)]  # root, task, a score each
    # the experiment's rows are not the project's logs
    assert read_jsonl(ok(run_cli("query", "SELECT count(*) AS n FROM project_logs('default')", "-f", "jsonl"))) \
        == [{"n": 0}]


def test_query_from_an_unknown_experiment_or_source(run_cli, exps):
    line = assert_one_line_error(run_cli("query", "SELECT * FROM experiment('nope')"))
    assert line.startswith("bt-tui: no experiment named 'nope' in project 'default' (experiments: ")
    assert "'base'" in line and "'cand'" in line
    res = run_cli("query", "SELECT * FROM experiments('cand')")
    assert res.returncode == 2 and "did you mean 'experiment'?" in res.stderr
    res = run_cli("query", "SELECT * FROM spans_of('cand')")
    assert res.returncode == 2
    assert "(supported: project_logs('name'), dataset('name'), experiment('name'))" in res.stderr
    res = run_cli("query", "from: experiment(cand)")
    assert res.returncode == 2 and "experiment's name as a string" in res.stderr


def test_experiment_source_parses_in_both_forms():
    from store.query.btql import parse_query

    q = parse_query("SELECT id FROM experiment('my exp') traces WHERE scores.a > 0.5")
    assert (q.source, q.source_arg, q.shape) == ("experiment", "my exp", "traces")
    q = parse_query("from: experiment(\"x\") summary | limit: 3")
    assert (q.source, q.source_arg, q.shape, q.limit) == ("experiment", "x", "summary", 3)


def test_cli_resample_count_matches_the_store():
    from tui.cli.experiments import BOOTSTRAP_RESAMPLES as cli_count

    assert cli_count == BOOTSTRAP_RESAMPLES


def test_jsonl_is_valid_json_per_line(run_cli, exps):
    out = ok(run_cli("experiment", "compare", "base", "cand", "--rows", "all", "-f", "jsonl"))
    assert all(json.loads(line) for line in out.splitlines())
