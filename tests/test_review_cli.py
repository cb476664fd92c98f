"""`bt-tui scores`, `flag`, `queue` and `review` through the real binary: the one-line results,
exit codes and one-line errors, the JSONL shapes of DESIGN.md section 4, and what they did to
the database (read back with the store)."""

from __future__ import annotations

import pytest

from helpers import assert_one_line_error, make_traces, read_jsonl, write_jsonl
from store import Store
from store import review as R
from store.audit import audit_log

CONFIG_KEYS = ["name", "type", "options", "to_expected", "description"]
ITEM_KEYS = ["id", "state", "assignee", "updated"]
ROOT = [f"t{n:06d}-row0" for n in range(8)]


def ok(res) -> str:
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    return res.stdout


@pytest.fixture
def logs(run_cli, tmp_path):
    ok(run_cli("import", "logs", write_jsonl(tmp_path / "t.jsonl", make_traces(8, children=2))))


def store_of(db_path):
    return Store(db_path)


def test_scores_add_list_remove(run_cli, db_path, logs):
    out = ok(run_cli("scores", "add", "tone", "--type", "categorical", "--option", "friendly=1",
                     "--option", "neutral=50%", "--option", "curt=0", "--description", "How it sounds",
                     "--author", "maya"))
    assert out == "score 'tone' added (categorical: friendly=1, neutral=0.5, curt=0)\n"
    ok(run_cli("scores", "add", "helpfulness", "--type", "continuous"))
    ok(run_cli("scores", "add", "ok", "--type", "boolean"))
    assert ok(run_cli("scores", "add", "note", "--type", "text", "--path", "review_note")) == \
        "score 'note' added (text -> metadata.review_note)\n"
    ok(run_cli("scores", "add", "topics", "--type", "categorical", "--option", "a=1", "--option", "b=0",
               "--to-expected", "--multi"))
    got = read_jsonl(ok(run_cli("scores", "list", "--format", "jsonl")))
    assert [list(c) for c in got] == [CONFIG_KEYS] * 5
    assert got[0] == {"name": "tone", "type": "categorical", "to_expected": False, "description": "How it sounds",
                      "options": [{"label": "friendly", "value": 1.0}, {"label": "neutral", "value": 0.5},
                                  {"label": "curt", "value": 0.0}]}
    assert [(c["name"], c["type"], c["to_expected"]) for c in got[1:]] == [
        ("helpfulness", "continuous", False), ("ok", "boolean", False), ("note", "text", False),
        ("topics", "categorical", True)]
    table = ok(run_cli("scores", "list"))
    for word in ("tone", "friendly=1", "scores.tone", "metadata.review_note", "expected (multi)", "5 rows"):
        assert word in table
    s = store_of(db_path)
    assert R.get_score_config(s, "default", "topics").multi
    assert R.get_score_config(s, "default", "note").path == "review_note"
    assert audit_log(s, "tone")[0]["author"] == "maya"
    s.close()
    # replace, remove
    assert ok(run_cli("scores", "add", "ok", "--type", "categorical", "--option", "y=1", "--option", "n=0",
                      "--replace")).startswith("score 'ok' saved (categorical")
    assert "removed" in ok(run_cli("scores", "remove", "tone"))
    assert [c["name"] for c in read_jsonl(ok(run_cli("scores", "list", "-f", "jsonl")))] == [
        "helpfulness", "ok", "note", "topics"]


@pytest.mark.parametrize("args, message", [
    (["add", "x", "--type", "stars"], "--type must be one of continuous, categorical, boolean, text"),
    (["add", "x", "--type", "categorical", "--option", "a=1"], "at least two options"),
    (["add", "x", "--type", "categorical", "--option", "a"], "expected LABEL=VALUE"),
    (["add", "x", "--type", "categorical", "--option", "a=2", "--option", "b=0"], "value in [0, 1]"),
    (["add", "x", "--type", "continuous", "--to-expected"], "are for categorical scores"),
    (["add", "x", "--type", "boolean", "--path", "k"], "--path is for text scores"),
    (["add", "ok", "--type", "boolean"], "already has a score named 'ok'"),
    (["remove", "nope"], "no score named 'nope'"),
    (["list", "--format", "csv"], "unknown format 'csv'"),
])
def test_scores_bad_input_is_one_line_exit_2(run_cli, logs, args, message):
    ok(run_cli("scores", "add", "ok", "--type", "boolean"))
    line = assert_one_line_error(run_cli("scores", *args))
    assert message in line


def test_scores_list_empty_and_missing_db(run_cli, tmp_path, logs):
    res = run_cli("scores", "list")
    assert res.returncode == 0 and res.stdout == "" and "no score configurations" in res.stderr
    assert ok(run_cli("scores", "list", "--format", "jsonl")) == ""
    assert "no such database" in assert_one_line_error(run_cli("scores", "list", env={"BT_TUI_DB": tmp_path / "nope.db"}))


def test_flag_row_ids_flags_their_traces(run_cli, db_path, logs):
    # a child span's id flags its trace; the same trace twice counts once
    out = ok(run_cli("flag", "t000001-row2", ROOT[1], ROOT[2], "--author", "sam"))
    assert out == "flagged 2 traces (0 already queued)\n"
    out = ok(run_cli("flag", ROOT[2], ROOT[3], "--assign", "maya"))
    assert out == "flagged 2 traces (1 already queued), assigned to maya\n"
    items = read_jsonl(ok(run_cli("queue", "--format", "jsonl")))
    assert [list(i) for i in items] == [ITEM_KEYS] * 3
    assert [(i["id"], i["state"], i["assignee"]) for i in items] == [
        (ROOT[1], "backlog", None), (ROOT[2], "backlog", "maya"), (ROOT[3], "backlog", "maya")]
    s = store_of(db_path)
    assert R.get_item(s, "default", ROOT[1]).flagged_by == "sam"
    s.close()


def test_flag_filter(run_cli, db_path, logs):
    # tags INCLUDES 'vip': traces 0 and 5 (their roots); span_attributes.type = 'tool' is on child spans
    assert ok(run_cli("flag", "--filter", "tags INCLUDES 'vip'")) == "flagged 2 traces (0 already queued)\n"
    out = ok(run_cli("flag", "--filter", "span_attributes.type = 'tool'", "--assign", "kim"))
    assert out == "flagged 8 traces (2 already queued), assigned to kim\n"
    assert ok(run_cli("flag", "--filter", "metadata.model = 'nope'")) == "flagged 0 traces: no trace matches the filter\n"
    assert [i["assignee"] for i in read_jsonl(ok(run_cli("queue", "-f", "jsonl")))] == ["kim"] * 8
    assert [i["id"] for i in read_jsonl(ok(run_cli("queue", "-f", "jsonl")))][:2] == [ROOT[0], ROOT[5]]


@pytest.mark.parametrize("args, message", [
    ([], "nothing to flag"),
    (["--filter", "x = 1", ROOT[0]], "not both"),
    (["--filter", "  "], "--filter is empty"),
    (["nope"], "no row with id 'nope'"),
    ([ROOT[0], "--assign", ""], "--assign is empty"),
])
def test_flag_bad_input(run_cli, db_path, logs, args, message):
    assert message in assert_one_line_error(run_cli("flag", *args))
    s = store_of(db_path)
    assert R.queue_counts(s, "default") == {"backlog": 0, "pending": 0, "complete": 0}  # nothing flagged
    s.close()


def test_flag_bad_filter_names_the_column(run_cli, logs):
    res = run_cli("flag", "--filter", "scores.x <")
    assert res.returncode == 2 and "column" in res.stderr and "Traceback" not in res.stderr
    res = run_cli("--project", "nope", "flag", ROOT[0])
    assert res.returncode == 2 and "nope" in res.stderr


def test_queue_filters_and_table(run_cli, db_path, logs):
    ok(run_cli("flag", *ROOT[:3], "--assign", "maya"))
    ok(run_cli("flag", *ROOT[3:6]))
    s = store_of(db_path)
    R.next_item(s, "default", "sam")
    R.complete(s, "default", ROOT[1], "maya")
    s.close()
    q = lambda *a: [(i["id"], i["state"]) for i in read_jsonl(ok(run_cli("queue", "-f", "jsonl", *a)))]  # noqa: E731
    assert q("--state", "pending") == [(ROOT[0], "pending")]
    assert q("--state", "complete") == [(ROOT[1], "complete")]
    assert q("--assignee", "maya") == [(ROOT[0], "pending"), (ROOT[1], "complete"), (ROOT[2], "backlog")]
    assert q("--state", "backlog", "--assignee", "maya") == [(ROOT[2], "backlog")]
    assert q("--assignee", "nobody") == []
    res = run_cli("queue")
    assert res.returncode == 0
    for word in (ROOT[0], "pending", "complete", "maya", "6 rows"):
        assert word in res.stdout
    assert "queue: 4 backlog, 1 pending, 1 complete" in res.stderr
    assert "--state 'done'" in assert_one_line_error(run_cli("queue", "--state", "done"))
    empty = run_cli("queue", "--assignee", "nobody")
    assert empty.returncode == 0 and empty.stdout == "" and "no items" in empty.stderr


HELP = {
    ("scores",): ["list", "add", "remove"],
    ("scores", "add"): ["--type", "--option", "--to-expected", "--multi", "--path", "--description", "--author"],
    ("scores", "list"): ["--format"],
    ("flag",): ["ROW_ID", "--filter", "--assign", "--author"],
    ("queue",): ["--state", "--assignee", "--format"],
    ("review",): ["--filter", "--mine"],
}


@pytest.mark.parametrize("cmd", list(HELP), ids=" ".join)
def test_help(run_cli, cmd):
    out = ok(run_cli(*cmd, "--help"))
    for word in HELP[cmd]:
        assert word in out


# --- review: launches the TUI with start_review (the launcher is replaced here) -------------------

@pytest.fixture
def launched(monkeypatch, db_path, logs):
    """Run `bt-tui review ...` in this process with the launcher recorded instead of run."""
    from typer.testing import CliRunner

    import tui.cli.review as cli_review
    from tui.cli import app

    calls = []
    monkeypatch.setattr(cli_review, "launch_review", lambda *a, **kw: calls.append((a, kw)))
    monkeypatch.setenv("BT_TUI_USER", "ci")  # put back after the test (review --author sets it)

    def run(*args):
        res = CliRunner().invoke(app, ["--db", str(db_path), *args])
        return res, calls

    return run


def test_review_launches_focused_review(launched, db_path):
    res, calls = launched("review")
    assert res.exit_code == 0, res.output
    assert calls == [((str(db_path), "default", {"filter": None, "mine": False}), {})]
    res, calls = launched("review", "--filter", "scores.accuracy < 0.5", "--mine")
    assert res.exit_code == 0, res.output
    assert calls[-1][0][2] == {"filter": "scores.accuracy < 0.5", "mine": True}


def test_review_author_is_the_acting_person(launched):
    import os

    assert os.environ["BT_TUI_USER"] == "ci"
    res, calls = launched("review", "--author", "maya")
    assert res.exit_code == 0 and os.environ["BT_TUI_USER"] == "maya" and len(calls) == 1


def test_review_refuses_a_bad_filter_before_the_tui(launched):
    res, calls = launched("review", "--filter", "scores.x <")
    assert res.exit_code == 2 and calls == []


def test_review_calls_run_app_with_start_review(monkeypatch, db_path, logs):
    """The real launcher: tui.app.run_app(db_path, project, start_review=...)."""
    from typer.testing import CliRunner

    import tui.app
    from tui.cli import app

    calls = []
    monkeypatch.setattr(tui.app, "run_app", lambda *a, **kw: calls.append((a, kw)))
    res = CliRunner().invoke(app, ["--db", str(db_path), "--project", "default", "review", "--mine"])
    assert res.exit_code == 0, res.output
    assert calls == [((str(db_path), "default"), {"start_review": {"filter": None, "mine": True}})]


def test_review_on_a_missing_database_is_exit_2(run_cli, tmp_path):
    res = run_cli("review", env={"BT_TUI_DB": tmp_path / "nope.db"})
    assert "no such database" in assert_one_line_error(res)
    assert not (tmp_path / "nope.db").exists()
