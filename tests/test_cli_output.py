"""What a new user pastes and reads (issue 9, point 9): `bt-tui query` tables never cut an
id; `select: comments` is the list export gives; CSV export has a column per score and metric."""

from __future__ import annotations

import csv
import io
import json

import pytest

from helpers import read_jsonl, write_jsonl

LONG = "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.fixture
def seeded(run_cli, tmp_path):
    rows = []
    for i in range(3):
        root = f"{LONG}-trace-{i}"
        rows.append({"id": f"{LONG}-{i}", "span_id": root, "root_span_id": root, "input": "x" * 300,
                     "output": {"answer": "y" * 300}, "scores": {"Factuality": i / 4, "tone": None if i else 1},
                     "metrics": {"tokens": 10 * i, "start": 1_700_000_000 + i, "end": 1_700_000_001.5 + i},
                     "metadata": {"model": "gpt-4o"}})
    assert run_cli("import", "logs", write_jsonl(tmp_path / "long.jsonl", rows)).returncode == 0
    assert run_cli("feedback", f"{LONG}-1", "--comment", "first", "--author", "ann").returncode == 0
    assert run_cli("feedback", f"{LONG}-1", "--comment", "second, with a comma", "--author", "bo").returncode == 0
    return rows


@pytest.mark.parametrize("columns", [200, 80, 40])
@pytest.mark.parametrize("query", [
    "select: id, root_span_id, input, output, scores",
    "select: input, output, id as row, span_id",
    "select: *",
    "from: project_logs('default') summary",
])
def test_query_table_never_cuts_an_id(run_cli, seeded, columns, query):
    """Ids were cut with an ellipsis, so they could not be pasted into `bt-tui feedback`."""
    res = run_cli("query", query, env={"COLUMNS": columns})
    assert res.returncode == 0, res.stderr
    text = res.stdout
    for row in seeded:
        if "span_id" in query or query == "select: *" or "summary" in query:
            assert row["root_span_id"] in text
        if "summary" not in query:
            assert row["id"] in text
    if columns == 200 and "*" not in query and "summary" not in query:
        # Other columns gave way instead: no line is wider than the terminal.
        assert max(len(line) for line in text.splitlines()) <= columns
    assert "…" in text  # the long input/output were cut


def test_an_id_pasted_from_the_table_works_in_feedback(run_cli, seeded):
    res = run_cli("query", "select: id, input | sort: id | limit: 1", env={"COLUMNS": 50})
    line = next(ln for ln in res.stdout.splitlines() if LONG in ln)
    pasted = line.split()[0]
    assert run_cli("feedback", pasted, "--score", "x=1").returncode == 0


def test_select_comments_is_the_list_export_gives(run_cli, seeded):
    """`select: comments` returned the texts joined by newlines."""
    exported = {r["id"]: r["comments"] for r in read_jsonl(run_cli("export", "logs").stdout)}
    res = run_cli("query", "select: id, comments | sort: id", "--format", "jsonl")
    assert res.returncode == 0, res.stderr
    got = {r["id"]: r["comments"] for r in read_jsonl(res.stdout)}
    assert got == exported
    assert [(c["text"], c["author"]) for c in got[f"{LONG}-1"]] == [("first", "ann"), ("second, with a comma", "bo")]
    assert set(got[f"{LONG}-1"][0]) == {"id", "text", "author", "created"}
    assert got[f"{LONG}-0"] == []
    # `comment` (the filter shorthand) is still the row's comment texts.
    res = run_cli("query", f"select: comment | filter: id = '{LONG}-1'", "--format", "jsonl")
    assert json.loads(res.stdout)["comment"] == "first\nsecond, with a comma"


@pytest.mark.parametrize("extra", [(), ("--filter", "scores.Factuality >= 0")], ids=["all", "filter"])
def test_csv_has_a_column_per_score_and_metric(run_cli, seeded, extra):
    """All scores sat in one JSON cell."""
    res = run_cli("export", "logs", "--format", "csv", *extra)
    assert res.returncode == 0, res.stderr
    table = list(csv.DictReader(io.StringIO(res.stdout)))
    header = list(table[0])
    assert header[-5:] == ["scores.Factuality", "scores.tone", "metrics.end", "metrics.start", "metrics.tokens"]
    assert "scores" in header and "metrics" in header  # the JSON columns stay
    by_id = {r["id"]: r for r in table}
    assert [by_id[f"{LONG}-{i}"]["scores.Factuality"] for i in range(3)] == ["0.0", "0.25", "0.5"]
    assert [by_id[f"{LONG}-{i}"]["scores.tone"] for i in range(3)] == ["1", "", ""]  # null and missing: empty
    assert [by_id[f"{LONG}-{i}"]["metrics.tokens"] for i in range(3)] == ["0", "10", "20"]
    assert json.loads(by_id[f"{LONG}-1"]["comments"])[1]["text"] == "second, with a comma"
