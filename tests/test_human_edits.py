"""Human edits are never lost (issue 9, points 1 and 2): a re-import (or the logging API
writing the same id again) keeps what people changed after the row was logged, and edits are
changes applied to the row as it is (a tag added by someone else meanwhile stays)."""

from __future__ import annotations

import json

import pytest

import bt_tui
from helpers import read_jsonl, write_jsonl
from store import InputError, Store
from store.audit import audit_log
from store.export import get_span
from store.feedback import edit_row, edit_tags, set_tags, tag_changes
from store.jsonl import import_jsonl
from store.models import SpanIn
from store.projects import project_id
from store.spans import log_spans, span_record, write_spans

ROW = {
    "id": "row-1", "span_id": "row-1", "root_span_id": "row-1", "created": "2024-05-01T12:00:00Z",
    "input": {"q": "refund?"}, "output": {"a": "30 days"}, "expected": {"a": "old answer"},
    "scores": {"Factuality": 0.9, "keep": 0.5}, "metadata": {"model": "gpt-4o"}, "tags": ["existing", "t1"],
}
OTHER = {"id": "row-2", "created": "2024-05-01T12:00:01Z", "scores": {"z": 0.3}, "tags": ["x"]}


def _rows(run_cli):
    res = run_cli("export", "logs")
    assert res.returncode == 0, res.stderr
    return {r["id"]: r for r in read_jsonl(res.stdout)}


def test_reimport_of_an_older_export_keeps_feedback(run_cli, sql, tmp_path):
    """The issue's steps: import, feedback, re-import the older export. Scores, tags and
    expected went back silently."""
    src = write_jsonl(tmp_path / "seed.jsonl", [ROW, OTHER])
    assert run_cli("import", "logs", src).returncode == 0
    older = tmp_path / "older.jsonl"
    older.write_text(run_cli("export", "logs").stdout)
    res = run_cli("feedback", "row-1", "--score", "Factuality=0.1", "--tag", "triage", "--expected", '"x"',
                  "--comment", "c", "--author", "alice")
    assert res.returncode == 0, res.stderr
    after_feedback = _rows(run_cli)
    audit_before = sql("SELECT count(*) FROM audit")[0][0]

    res = run_cli("import", "logs", older)
    assert res.returncode == 0, res.stderr
    assert "kept human edits on 1 row:" in res.stderr
    assert _rows(run_cli) == after_feedback
    row = after_feedback["row-1"]
    assert row["scores"] == {"Factuality": 0.1, "keep": 0.5}
    assert row["tags"] == ["existing", "t1", "triage"]
    assert row["expected"] == "x"
    assert [c["text"] for c in row["comments"]] == ["c"]
    assert sql("SELECT count(*) FROM audit")[0][0] == audit_before
    # The search index and side tables agree with the kept values.
    rid = sql("SELECT rid FROM spans WHERE id = 'row-1'")[0][0]
    assert sorted(sql("SELECT name, value FROM span_scores WHERE span_rid = ?", (rid,))) == [
        ("Factuality", 0.1), ("keep", 0.5)]
    assert sorted(t for (t,) in sql("SELECT tag FROM span_tags WHERE span_rid = ?", (rid,))) == [
        "existing", "t1", "triage"]


def test_the_import_wins_for_everything_people_did_not_touch(run_cli, tmp_path):
    assert run_cli("import", "logs", write_jsonl(tmp_path / "a.jsonl", [ROW, OTHER])).returncode == 0
    assert run_cli("feedback", "row-1", "--score", "Factuality=0.1", "--author", "a").returncode == 0
    s = Store(tmp_path / "bt.db")  # the CLI's database (see conftest): bob edits the tags in the TUI
    try:
        set_tags(s, "default", "row-1", ["existing", "mine"], "bob", shown=["existing", "t1"])
    finally:
        s.close()
    newer = dict(ROW, output={"a": "45 days"}, scores={"Factuality": 0.95, "keep": 0.25, "new": 1},
                 tags=["existing", "t1", "from-app"], metadata={"model": "gpt-4o", "v": 2})
    res = run_cli("import", "logs", write_jsonl(tmp_path / "b.jsonl", [newer, dict(OTHER, tags=["y"])]))
    assert res.returncode == 0 and "kept human edits on 1 row:" in res.stderr
    rows = _rows(run_cli)
    row = rows["row-1"]
    assert row["output"] == {"a": "45 days"} and row["metadata"] == {"model": "gpt-4o", "v": 2}
    assert row["scores"] == {"Factuality": 0.1, "keep": 0.25, "new": 1}  # per score name
    assert row["tags"] == ["existing", "from-app", "mine"]  # t1 was removed by bob, mine added
    assert row["expected"] == {"a": "old answer"}  # nobody edited it: the import's
    assert rows["row-2"]["tags"] == ["y"]


def test_an_import_without_human_edits_says_nothing_about_them(run_cli, tmp_path):
    src = write_jsonl(tmp_path / "a.jsonl", [ROW, OTHER])
    for _ in range(2):
        res = run_cli("import", "logs", src)
        assert res.returncode == 0 and "kept human edits" not in res.stderr
    assert run_cli("feedback", "row-2", "--comment", "comments are never touched by imports").returncode == 0
    assert "kept human edits" not in run_cli("import", "logs", src).stderr


def test_cleared_expected_and_removed_score_stay_so(tmp_path):
    s = Store(tmp_path / "s.db")
    try:
        log_spans(s, "p", [ROW])
        edit_row(s, "p", "row-1", author="a", expected=None, remove_scores=["keep"])
        pid = project_id(s, "p")
        with s.write() as conn:  # what log_spans does, with the writer's count of kept rows
            assert write_spans(conn, pid, [(span_record(pid, SpanIn.model_validate(ROW)), None)]) == 1
        row = get_span(s, "p", "row-1")
        assert row["expected"] is None and row["scores"] == {"Factuality": 0.9}
    finally:
        s.close()


def test_the_logging_api_keeps_feedback_too(tmp_path):
    log = bt_tui.init_logger(project="bot", db=str(tmp_path / "api.db"))
    try:
        rid = log.log(id="r1", input="hi", output="hello", scores={"helpful": 1}, metadata={"model": "m"})
        log.log_feedback(rid, scores={"correct": 0}, expected="hey", tags=["reviewed"],
                         metadata={"resolved": True}, author="rev")
        log.log(id="r1", input="hi", output="hello again", scores={"helpful": 0.5, "correct": 1},
                metadata={"model": "m2"}, tags=["app"])
        row = get_span(log.store, "bot", "r1")
        assert row["output"] == "hello again"
        assert row["scores"] == {"helpful": 0.5, "correct": 0}
        assert row["expected"] == "hey"
        assert row["tags"] == ["app", "reviewed"]
        assert row["metadata"] == {"model": "m2", "resolved": True}
    finally:
        log.close()


def test_merge_is_per_project(tmp_path):
    s = Store(tmp_path / "s.db")
    try:
        log_spans(s, "p", [ROW])
        log_spans(s, "q", [ROW])
        edit_row(s, "p", "row-1", author="a", set_scores={"Factuality": 0})
        changed = dict(ROW, scores={"Factuality": 0.7})
        log_spans(s, "p", [changed])
        log_spans(s, "q", [changed])
        assert get_span(s, "p", "row-1")["scores"]["Factuality"] == 0
        assert get_span(s, "q", "row-1")["scores"]["Factuality"] == 0.7
    finally:
        s.close()


def test_big_import_keeps_edits_in_every_batch(tmp_path):
    """The bulk path (batches of 2,000; indexes dropped and rebuilt) merges too."""
    import io

    s = Store(tmp_path / "big.db")
    try:
        rows = [{"id": f"r{i}", "scores": {"s": 0.5}, "tags": ["a"]} for i in range(6000)]
        data = "\n".join(json.dumps(r) for r in rows).encode()
        import_jsonl(s, "p", io.BytesIO(data))
        for i in (0, 2500, 5999):
            edit_row(s, "p", f"r{i}", author="a", set_scores={"s": 1}, add_tags=["h"])
        res = import_jsonl(s, "p", io.BytesIO(data))
        assert res.kept_edits == 3
        assert [get_span(s, "p", f"r{i}")["scores"]["s"] for i in (0, 1, 2500, 5999)] == [1, 0.5, 1, 1]
        assert get_span(s, "p", "r2500")["tags"] == ["a", "h"]
    finally:
        s.close()


# --- edits are changes (point 2) -----------------------------------------------------------------


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "e.db")
    log_spans(s, "p", [ROW])
    yield s
    s.close()


def test_tag_editor_keeps_a_tag_added_meanwhile(store):
    """The TUI's tag editor sent the whole list it showed earlier: a tag added by a CLI
    `feedback --tag` in between was silently dropped."""
    shown = get_span(store, "p", "row-1")["tags"]  # the editor opens: ["existing", "t1"]
    edit_row(store, "p", "row-1", author="cli", add_tags=["from-cli"])  # meanwhile, elsewhere
    after = set_tags(store, "p", "row-1", ["existing", "from-tui"], "tui", shown=shown)
    assert after == ["existing", "from-cli", "from-tui"]
    assert get_span(store, "p", "row-1")["tags"] == after
    entry = audit_log(store, "row-1")[0]
    assert (entry["author"], entry["before"], entry["after"]) == (
        "tui", ["existing", "t1", "from-cli"], ["existing", "from-cli", "from-tui"])


def test_old_set_tags_call_still_replaces(store):
    assert set_tags(store, "p", "row-1", [" a ", "b", "a", ""], "tui") == ["a", "b"]
    assert get_span(store, "p", "row-1")["tags"] == ["a", "b"]


def test_edit_tags_and_scores_apply_to_the_current_row(store):
    assert edit_tags(store, "p", "row-1", add=["n"], remove=["t1"], author="a") == ["existing", "n"]
    assert edit_tags(store, "p", "row-1", author="a") == ["existing", "n"]  # no change: no audit entry
    res = edit_row(store, "p", "row-1", author="b", set_scores={"Factuality": 0.2}, remove_scores=["keep"])
    assert res.scores == {"Factuality": 0.2}
    res = edit_row(store, "p", "row-1", author="c", set_scores={"other": 1})  # another person, another score
    assert res.scores == {"Factuality": 0.2, "other": 1}
    assert [e["field"] for e in audit_log(store, "row-1")] == ["scores", "scores", "tags"]
    with pytest.raises(InputError, match="scores.x: a score must be a number in"):
        edit_row(store, "p", "row-1", author="c", set_scores={"x": 2})
    with pytest.raises(InputError, match="a comment cannot be empty"):
        edit_row(store, "p", "row-1", author="c", comment=" ")


def test_tag_changes():
    assert tag_changes(["a", "b"], ["b", " c ", "", "c"]) == (["c"], ["a"])
    assert tag_changes([], []) == ([], [])
