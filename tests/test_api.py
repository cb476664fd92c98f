"""The public Python API (`bt_tui`): what users' own code imports to log spans and feedback."""

from __future__ import annotations

import pytest

import bt_tui
from store.errors import InputError
from store.audit import audit_log
from store.export import get_span


@pytest.fixture
def log(tmp_path):
    logger = bt_tui.init_logger(project="support-bot", db=str(tmp_path / "api.db"))
    yield logger
    logger.close()


def test_log_then_feedback_follows_braintrust_merge_semantics(log):
    rid = log.log(input="hi", output="hello", expected="hey", scores={"helpful": 1},
                  metadata={"model": "gpt-4o"}, tags=["prod"])
    log.log_feedback(rid, scores={"correct": 0}, tags=["triage", "prod"], comment="wrong store hours",
                     metadata={"reviewed": True}, author="dana")
    row = get_span(log.store, "support-bot", rid)
    assert row["scores"] == {"helpful": 1, "correct": 0}
    assert row["tags"] == ["prod", "triage"]
    assert row["metadata"] == {"model": "gpt-4o", "reviewed": True}
    assert row["expected"] == "hey"  # not given: unchanged
    assert [(c["text"], c["author"]) for c in row["comments"]] == [("wrong store hours", "dana")]
    assert {e["field"] for e in audit_log(log.store, rid)} == {"scores", "tags", "metadata", "comment"}


def test_expected_none_clears_expected(log):
    rid = log.log(input="q", expected={"answer": 42})
    log.log_feedback(rid, expected=None)
    assert get_span(log.store, "support-bot", rid)["expected"] is None
    assert audit_log(log.store, rid)[0]["before"] == {"answer": 42}


@pytest.mark.parametrize("row,reason", [
    ({"ouput": "typo"}, "unknown span keys: ouput"),
    ({"scores": {"a": 1.5}}, "scores.a: a score must be a number in [0, 1]"),
    ({"tags": "not-a-list"}, "tags"),
])
def test_bad_rows_raise_one_line_input_errors_and_write_nothing(log, row, reason):
    with pytest.raises(bt_tui.InputError) as exc:
        log.log(**row)
    assert reason in str(exc.value) and "\n" not in str(exc.value)
    assert log.store.conn.execute("SELECT count(*) FROM spans").fetchone()[0] == 0


def test_feedback_on_an_unknown_row_is_not_found(log):
    log.log(input="x")
    with pytest.raises(bt_tui.NotFound):
        log.log_feedback("no-such-row", comment="?")


def test_logging_a_value_deeper_than_the_import_accepts_is_one_line(log):
    deep = 1
    for _ in range(200):  # 201 levels, counting the 1
        deep = [deep]
    with pytest.raises(InputError, match="^output: a value is nested deeper than 200 levels"):
        log.log(output=deep)
    log.log(output=deep[0])  # 200 levels: what an import accepts
