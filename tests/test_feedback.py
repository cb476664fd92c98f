"""`bt-tui feedback`: Braintrust's merge semantics, comments, the audit trail, refusals."""

from __future__ import annotations

import getpass
import json

import pytest

from helpers import assert_one_line_error, read_jsonl, write_jsonl

ROW = {
    "id": "row-1",
    "span_id": "row-1",
    "root_span_id": "row-1",
    "created": "2024-05-01T12:00:00Z",
    "input": {"q": "what is the refund policy"},
    "output": {"a": "30 days"},
    "expected": {"a": "old answer"},
    "scores": {"a": 0.1, "keep": 0.9},
    "metadata": {"model": "gpt-4o"},
    "tags": ["existing", "t1"],
}
OTHER = {"id": "row-2", "created": "2024-05-01T12:00:01Z", "scores": {"z": 0.3}, "tags": ["x"]}


@pytest.fixture
def seeded(run_cli, tmp_path):
    src = write_jsonl(tmp_path / "seed.jsonl", [ROW, OTHER])
    res = run_cli("import", "logs", src)
    assert res.returncode == 0, res.stderr
    return src


def _rows(run_cli):
    res = run_cli("export", "logs")
    assert res.returncode == 0, res.stderr
    return {r["id"]: r for r in read_jsonl(res.stdout)}


def _audit(sql, row_id="row-1"):
    return [
        (field, author, None if b is None else json.loads(b), None if a is None else json.loads(a))
        for field, author, b, a in sql(
            "SELECT field, author, before, after FROM audit WHERE object_id = ? ORDER BY id", (row_id,)
        )
    ]


def test_feedback_merges_scores_tags_expected_and_comment(run_cli, sql, seeded):
    res = run_cli(
        "feedback", "row-1",
        "--score", "a=0.5", "--score", "b=1",
        "--tag", "t1", "--tag", "new", "--tag", "new",
        "--expected", '{"x":1}',
        "--comment", "needs a citation",
        "--author", "alice",
    )
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["id"] == "row-1"
    assert out["scores"] == {"a": 0.5, "keep": 0.9, "b": 1.0}
    assert out["tags"] == ["existing", "t1", "new"]
    assert out["expected"] == {"x": 1}
    assert out["comment_id"]

    rows = _rows(run_cli)
    row = rows["row-1"]
    assert row["scores"] == {"a": 0.5, "keep": 0.9, "b": 1.0}
    assert row["tags"] == ["existing", "t1", "new"]
    assert row["expected"] == {"x": 1}
    assert [(c["text"], c["author"]) for c in row["comments"]] == [("needs a citation", "alice")]
    assert row["comments"][0]["id"] == out["comment_id"]
    assert row["comments"][0]["created"].endswith("Z")
    # Everything else about the row is untouched, and so is the other row.
    for key in ("input", "output", "metadata", "created"):
        assert row[key] == (ROW[key] if key != "created" else "2024-05-01T12:00:00.000000Z")
    assert rows["row-2"]["scores"] == {"z": 0.3} and rows["row-2"]["tags"] == ["x"]
    assert rows["row-2"]["comments"] == []

    # The indexed side tables follow the merge.
    rid = sql("SELECT rid FROM spans WHERE id = 'row-1'")[0][0]
    assert sorted(sql("SELECT name, value FROM span_scores WHERE span_rid = ?", (rid,))) == [
        ("a", 0.5), ("b", 1.0), ("keep", 0.9)
    ]
    assert sorted(t for (t,) in sql("SELECT tag FROM span_tags WHERE span_rid = ?", (rid,))) == ["existing", "new", "t1"]

    audit = _audit(sql)
    by_field = {f: (author, b, a) for f, author, b, a in audit}
    assert sorted(by_field) == ["comment", "expected", "scores", "tags"]
    assert len(audit) == 4
    assert all(author == "alice" for _, author, _, _ in audit)
    assert by_field["scores"][1:] == ({"a": 0.1, "keep": 0.9}, {"a": 0.5, "keep": 0.9, "b": 1.0})
    assert by_field["tags"][1:] == (["existing", "t1"], ["existing", "t1", "new"])
    assert by_field["expected"][1:] == ({"a": "old answer"}, {"x": 1})
    assert by_field["comment"][2]["text"] == "needs a citation"
    assert sql("SELECT count(*) FROM audit WHERE object_id = 'row-2'")[0][0] == 0


def test_second_feedback_merges_on_top_of_the_first(run_cli, sql, seeded):
    assert run_cli("feedback", "row-1", "--score", "a=0.5", "--author", "alice").returncode == 0
    assert run_cli("feedback", "row-1", "--score", "c=0", "--score", "keep=null", "--comment", "second",
                   "--author", "bob").returncode == 0
    row = _rows(run_cli)["row-1"]
    assert row["scores"] == {"a": 0.5, "keep": None, "c": 0.0}
    assert row["tags"] == ["existing", "t1"]
    assert row["expected"] == {"a": "old answer"}
    assert [(c["text"], c["author"]) for c in row["comments"]] == [("second", "bob")]
    rid = sql("SELECT rid FROM spans WHERE id = 'row-1'")[0][0]
    assert sorted(sql("SELECT name, value FROM span_scores WHERE span_rid = ?", (rid,)), key=lambda r: r[0]) == [
        ("a", 0.5), ("c", 0.0), ("keep", None)
    ]
    assert [(f, a) for f, a, _, _ in _audit(sql)] == [("scores", "alice"), ("scores", "bob"), ("comment", "bob")]


def test_expected_as_new_full_text(run_cli, sql, seeded):
    res = run_cli("feedback", "row-1", "--expected", '{"answer":"platypusword"}', "--author", "a")
    assert res.returncode == 0, res.stderr
    rid = sql("SELECT rid FROM spans WHERE id = 'row-1'")[0][0]
    assert [r[0] for r in sql("SELECT rowid FROM spans_fts WHERE spans_fts MATCH 'platypusword'")] == [rid]
    assert sql("SELECT rowid FROM spans_fts WHERE spans_fts MATCH 'old'") == []


def test_plain_text_expected_is_a_string(run_cli, seeded):
    assert run_cli("feedback", "row-1", "--expected", "just words", "--author", "a").returncode == 0
    assert _rows(run_cli)["row-1"]["expected"] == "just words"


def test_author_defaults_to_the_os_user(run_cli, sql, seeded):
    res = run_cli("feedback", "row-1", "--comment", "who am i")
    assert res.returncode == 0, res.stderr
    me = getpass.getuser()
    row = _rows(run_cli)["row-1"]
    assert [(c["text"], c["author"]) for c in row["comments"]] == [("who am i", me)]
    assert [(f, a) for f, a, _, _ in _audit(sql)] == [("comment", me)]


def test_same_comment_twice_is_two_comments(run_cli, seeded):
    for _ in range(2):
        assert run_cli("feedback", "row-1", "--comment", "+1", "--author", "a").returncode == 0
    comments = _rows(run_cli)["row-1"]["comments"]
    assert [c["text"] for c in comments] == ["+1", "+1"]
    assert len({c["id"] for c in comments}) == 2


def test_feedback_then_reimport_does_not_lose_comments(run_cli, seeded):
    assert run_cli("feedback", "row-1", "--comment", "keep me", "--author", "a").returncode == 0
    assert run_cli("import", "logs", seeded).returncode == 0
    assert [c["text"] for c in _rows(run_cli)["row-1"]["comments"]] == ["keep me"]


def _state(run_cli, sql):
    return [
        sql("SELECT * FROM spans ORDER BY rid"),
        sql("SELECT * FROM span_scores ORDER BY 1, 2"),
        sql("SELECT * FROM span_tags ORDER BY 1, 2"),
        sql("SELECT * FROM comments ORDER BY 1"),
        sql("SELECT * FROM audit ORDER BY 1"),
    ]


def test_unknown_row_is_exit_2(run_cli, sql, seeded):
    before = _state(run_cli, sql)
    line = assert_one_line_error(run_cli("feedback", "no-such-row", "--score", "a=1", "--author", "a"), 2)
    assert "no-such-row" in line
    assert _state(run_cli, sql) == before


def test_unknown_project_is_exit_2(run_cli, seeded):
    assert_one_line_error(run_cli("--project", "ghost", "feedback", "row-1", "--score", "a=1"), 2)


def test_bad_score_is_exit_2_and_changes_nothing(run_cli, sql, seeded):
    before = _state(run_cli, sql)
    for bad in ["a=1.5", "a=-0.1", "a=nan", "a=high", "novalue"]:
        res = run_cli("feedback", "row-1", "--score", "ok=0.5", "--score", bad, "--tag", "never",
                      "--comment", "never", "--author", "a")
        assert_one_line_error(res, 2)
        assert _state(run_cli, sql) == before, bad


def test_bad_expected_json_is_exit_2_and_changes_nothing(run_cli, sql, seeded):
    before = _state(run_cli, sql)
    assert_one_line_error(run_cli("feedback", "row-1", "--expected", '{"x": ', "--tag", "never"), 2)
    assert _state(run_cli, sql) == before


def test_nothing_to_record_is_exit_2(run_cli, sql, seeded):
    before = _state(run_cli, sql)
    assert_one_line_error(run_cli("feedback", "row-1"), 2)
    assert_one_line_error(run_cli("feedback", "row-1", "--author", "alice"), 2)
    assert _state(run_cli, sql) == before


def test_feedback_on_missing_database_is_exit_2(run_cli, tmp_path):
    missing = tmp_path / "none.db"
    assert_one_line_error(run_cli("feedback", "row-1", "--score", "a=1", env={"BT_TUI_DB": missing}), 2)
    assert not missing.exists()


def test_feedback_in_named_project(run_cli, tmp_path):
    src = write_jsonl(tmp_path / "p.jsonl", [ROW])
    assert run_cli("--project", "other", "import", "logs", src).returncode == 0
    assert_one_line_error(run_cli("feedback", "row-1", "--score", "a=1"), 2)  # not in 'default'
    assert run_cli("--project", "other", "feedback", "row-1", "--score", "a=1", "--author", "a").returncode == 0
    res = run_cli("--project", "other", "export", "logs")
    assert read_jsonl(res.stdout)[0]["scores"]["a"] == 1.0


def test_expected_keeps_every_digit_as_an_import_does(run_cli, tmp_path, seeded):
    """A 300-digit --expected was stored as 1e+300 while an import keeps every digit."""
    big = "9" * 300
    res = run_cli("feedback", "row-1", "--expected", f'{{"n": {big}}}', "--author", "a")
    assert res.returncode == 0, res.stderr
    assert f'"expected":{{"n":{big}}}' in res.stdout
    assert f'"expected":{{"n":{big}}}' in run_cli("export", "logs").stdout
    src = tmp_path / "big.jsonl"
    src.write_text(f'{{"id":"imported","expected":{{"n":{big}}}}}\n')
    assert run_cli("import", "logs", src).returncode == 0
    rows = _rows(run_cli)
    assert rows["row-1"]["expected"] == rows["imported"]["expected"] == {"n": int(big)}


@pytest.mark.parametrize("levels,ok", [(200, True), (201, False), (300, False), (5000, False)])  # `[]`: 1 level
def test_deep_expected_follows_the_import_rule(run_cli, sql, seeded, levels, ok):
    """`--expected` nested 300 levels exited 1 with a TypeError."""
    before = _state(run_cli, sql)
    res = run_cli("feedback", "row-1", "--expected", "[" * levels + "]" * levels, "--author", "a")
    if ok:
        assert res.returncode == 0, res.stderr
        return
    line = assert_one_line_error(res, 2)
    assert line == "bt-tui: --expected: a value is nested deeper than 200 levels (the limit for JSON values)"
    assert _state(run_cli, sql) == before


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_blank_comment_is_refused_like_the_tui_does(run_cli, sql, seeded, text):
    before = _state(run_cli, sql)
    line = assert_one_line_error(run_cli("feedback", "row-1", "--comment", text, "--tag", "never"), 2)
    assert line == "bt-tui: comment: a comment cannot be empty"
    assert _state(run_cli, sql) == before


def test_blank_comment_is_refused_by_the_store(tmp_path):
    from store import InputError, Store
    from store.feedback import add_comment
    from store.spans import log_spans

    s = Store(tmp_path / "c.db")
    try:
        log_spans(s, "p", [{"id": "r"}])
        with pytest.raises(InputError, match="a comment cannot be empty"):
            add_comment(s, "p", "r", "  ", "a")
    finally:
        s.close()


def test_expected_edit_is_compare_and_set(tmp_path):
    """An editor saves expected only if the row still has the expected it showed: a change made
    meanwhile (another reviewer, a CLI script) is never overwritten silently."""
    from store import Store
    from store.audit import audit_log
    from store.export import get_span
    from store.feedback import EditConflict, apply_feedback
    from store.models import FeedbackIn
    from store.spans import log_spans

    st = Store(tmp_path / "cas.db")
    log_spans(st, "p", [{"id": "r", "input": "q", "expected": "old"}])
    apply_feedback(st, "p", "r", FeedbackIn(expected="theirs", has_expected=True, author="cli"))
    with pytest.raises(EditConflict):
        apply_feedback(st, "p", "r", FeedbackIn(expected="mine", has_expected=True, author="tui"),
                       expected_was="old")
    assert get_span(st, "p", "r")["expected"] == "theirs"
    assert [e["author"] for e in audit_log(st, "r") if e["field"] == "expected"] == ["cli"]
    apply_feedback(st, "p", "r", FeedbackIn(expected="mine", has_expected=True, author="tui"),
                   expected_was="theirs")
    assert get_span(st, "p", "r")["expected"] == "mine"
    st.close()


@pytest.mark.parametrize("env,who", [({"BT_TUI_USER": "ana"}, "ana"), ({"BT_TUI_AUTHOR": "bo"}, "bo"),
                                     ({"BT_TUI_USER": "ana", "BT_TUI_AUTHOR": "bo"}, "ana")])
def test_the_acting_person_comes_from_BT_TUI_USER(run_cli, sql, seeded, env, who):
    """DESIGN.md: --author, else BT_TUI_USER, else the OS user (BT_TUI_AUTHOR still read)."""
    res = run_cli("feedback", "row-1", "--comment", "hi", env=env)
    assert res.returncode == 0, res.stderr
    assert sql("SELECT author FROM comments") == [(who,)]
