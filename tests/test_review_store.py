"""Human review in the store (store/review.py): score configurations and every way they are
refused, each reviewer's value per type and the row's average, undo, filters over human scores,
the queue (flag, states, claims, the atomic hand-out) and the audit trail of every change."""

from __future__ import annotations

import io
import json

import pytest

from helpers import make_traces
from store import Store
from store import review as R
from store.audit import audit_log
from store.errors import InputError, NotFound
from store.jsonl import import_jsonl
from store.selection import Selection, count_selection, selection_row_ids

P = "p"


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "rv.db")
    rows = make_traces(6, children=2)
    import_jsonl(s, P, io.BytesIO("".join(json.dumps(r) + "\n" for r in rows).encode()), label="t")
    yield s
    s.close()


ROOT = [f"t{n:06d}-row0" for n in range(6)]  # each trace's root row id
CHILD = [f"t{n:06d}-row1" for n in range(6)]

TONE = R.make_config("tone", "categorical", [("friendly", 1), ("neutral", 0.5), ("curt", 0)])
HELP = R.make_config("helpfulness", "continuous")
OK = R.make_config("ok", "boolean")
NOTE = R.make_config("review_note", "text", path="note")
INTENT = R.make_config("intent", "categorical", [("refund", 1), ("billing", 0.5), ("other", 0)], to_expected=True)
TOPICS = R.make_config("topics", "categorical", [("a", 1), ("b", 0), ("c", 0.5)], to_expected=True, multi=True)


def row(store, row_id):
    from store.selection import export_selection

    return json.loads(next(export_selection(store, Selection(P, shape="spans", ids=(row_id,)))))


def matching(store, text):
    return list(selection_row_ids(store, Selection(P, text, "spans", strict=True)))


# --- configurations ----------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    (dict(name="", type="continuous"), "needs a name"),
    (dict(name="a\nb", type="continuous"), "one line"),
    (dict(name="x" * 101, type="continuous"), "at most 100"),
    (dict(name="x", type="stars"), "--type must be one of continuous, categorical, boolean, text"),
    (dict(name="x", type="categorical", options=[("a", 1)]), "at least two options"),
    (dict(name="x", type="categorical", options=[(str(i), 0) for i in range(10)]), "at most 9 options"),
    (dict(name="x", type="categorical", options=[("a", 1), ("a", 0)]), "given twice"),
    (dict(name="x", type="categorical", options=[("", 1), ("b", 0)]), "needs a label"),
    (dict(name="x", type="categorical", options=[("a", 1.5), ("b", 0)]), "value in [0, 1]"),
    (dict(name="x", type="categorical", options=[("a", True), ("b", 0)]), "value in [0, 1]"),
    (dict(name="x", type="continuous", options=[("a", 1), ("b", 0)]), "only a categorical score has options"),
    (dict(name="x", type="boolean", to_expected=True), "are for categorical scores"),
    (dict(name="x", type="categorical", options=[("a", 1), ("b", 0)], multi=True), "it needs --to-expected"),
    (dict(name="x", type="continuous", path="k"), "--path is for text scores"),
])
def test_make_config_refuses_bad_configurations(kwargs, message):
    with pytest.raises(R.ReviewError, match="(?s)" + message.replace("[", r"\[").replace("]", r"\]")):
        R.make_config(**kwargs)


def test_parse_option():
    assert R.parse_option("friendly=1") == R.Option("friendly", 1.0)
    assert R.parse_option("a=b=0.5") == R.Option("a=b", 0.5)  # the last = splits
    assert R.parse_option("half=50%") == R.Option("half", 0.5)
    for bad in ("friendly", "=1", "x=high"):
        with pytest.raises(InputError, match="--option"):
            R.parse_option(bad)


def test_configs_add_list_replace_remove(store):
    for c in (TONE, HELP, OK, NOTE):
        R.add_score_config(store, P, c, author="maya")
    assert [c.name for c in R.list_score_configs(store, P)] == ["tone", "helpfulness", "ok", "review_note"]
    assert R.get_score_config(store, P, "tone") == TONE
    assert R.get_score_config(store, P, "tone").to_json() == {
        "name": "tone", "type": "categorical", "to_expected": False, "description": "",
        "options": [{"label": "friendly", "value": 1.0}, {"label": "neutral", "value": 0.5},
                    {"label": "curt", "value": 0.0}]}
    with pytest.raises(R.ReviewError, match="already has a score named 'tone'"):
        R.add_score_config(store, P, TONE)
    two = R.make_config("tone", "categorical", [("good", 1), ("bad", 0)], description="d")
    R.add_score_config(store, P, two, replace=True, author="sam")
    assert R.get_score_config(store, P, "tone") == two
    assert [c.name for c in R.list_score_configs(store, P)][0] == "tone"  # keeps its place
    R.remove_score_config(store, P, "tone", author="sam")
    with pytest.raises(NotFound, match="no score named 'tone'"):
        R.get_score_config(store, P, "tone")
    with pytest.raises(NotFound):
        R.remove_score_config(store, P, "tone")
    assert R.list_score_configs(store, "no-such-project") == []
    trail = [(e["author"], e["before"], e["after"] and e["after"].get("name")) for e in audit_log(store, "tone")]
    assert trail == [("sam", {"name": "tone"}, None), ("sam", None, "tone"), ("maya", None, "tone")]


# --- values ------------------------------------------------------------------------------------

def test_categorical_sets_the_score_and_keeps_the_label(store):
    ch = R.set_value(store, P, ROOT[0], TONE, labels=["neutral"], author="maya")
    assert ch.before is None and ch.after.value == 0.5 and ch.after.text == "neutral" and ch.row_value == 0.5
    assert row(store, ROOT[0])["scores"]["tone"] == 0.5
    # by value or text too; a label it does not have is refused
    assert R.set_value(store, P, ROOT[1], TONE, value=0, author="maya").after.text == "curt"
    assert R.set_value(store, P, ROOT[2], TONE, text="friendly", author="maya").row_value == 1
    with pytest.raises(R.ReviewError, match="has no option 'great'"):
        R.set_value(store, P, ROOT[0], TONE, labels=["great"], author="maya")
    with pytest.raises(R.ReviewError, match="no option with value 0.3"):
        R.set_value(store, P, ROOT[0], TONE, value=0.3, author="maya")
    with pytest.raises(R.ReviewError, match="takes one option"):
        R.set_value(store, P, ROOT[0], TONE, labels=["curt", "neutral"], author="maya")
    assert row(store, ROOT[0])["scores"]["tone"] == 0.5  # a refused value changes nothing


def test_categorical_to_expected_single_and_multi(store):
    ch = R.set_value(store, P, ROOT[1], INTENT, labels=["billing"], author="maya")
    assert ch.row_value == "billing"
    r = row(store, ROOT[1])
    assert r["expected"] == "billing" and "intent" not in r["scores"]
    # multi: expected is the list, in the options' order, whatever order they were picked in
    ch = R.set_value(store, P, ROOT[1], TOPICS, labels=["c", "a"], author="maya")
    assert ch.row_value == ["a", "c"] and ch.after.labels == ["a", "c"]
    assert row(store, ROOT[1])["expected"] == ["a", "c"]
    assert R.set_value(store, P, ROOT[1], TOPICS, labels=[], author="maya").row_value == []


def test_continuous_boolean_and_their_checks(store):
    assert R.set_value(store, P, ROOT[0], HELP, value=0.42, author="maya").row_value == 0.42
    assert R.set_value(store, P, ROOT[0], OK, value=True, author="maya").row_value == 1
    assert R.set_value(store, P, ROOT[1], OK, value=0, author="maya").row_value == 0
    r = row(store, ROOT[0])
    assert (r["scores"]["helpfulness"], r["scores"]["ok"]) == (0.42, 1)
    assert r["scores"]["accuracy"] == 0  # the row's other scores are untouched
    for cfg, bad, message in ((HELP, 1.5, r"number in \[0, 1\]"), (HELP, float("nan"), r"number in \[0, 1\]"),
                              (HELP, None, "needs a number"), (OK, 0.5, "boolean: 1 .yes. or 0 .no.")):
        with pytest.raises(R.ReviewError, match=message):
            R.set_value(store, P, ROOT[0], cfg, value=bad, author="maya")


def test_text_goes_to_the_metadata_path(store):
    ch = R.set_value(store, P, ROOT[2], NOTE, text="too curt", author="maya")
    r = row(store, ROOT[2])
    assert r["metadata"]["note"] == "too curt" and ch.row_value == "too curt"
    assert r["metadata"]["model"]  # the rest of metadata stays
    assert "review_note" not in r["scores"]
    with pytest.raises(R.ReviewError, match="text score: give text"):
        R.set_value(store, P, ROOT[2], NOTE, value=1, author="maya")
    R.set_value(store, P, ROOT[2], NOTE, clear=True, author="maya")
    assert "note" not in row(store, ROOT[2])["metadata"]


def test_several_reviewers_each_keep_their_value_and_the_row_has_the_average(store):
    R.set_value(store, P, ROOT[0], HELP, value=0.2, author="maya")
    R.set_value(store, P, ROOT[0], HELP, value=0.6, author="sam")
    ch = R.set_value(store, P, ROOT[0], HELP, value=0.7, author="kim")
    assert ch.row_value == 0.5
    R.set_value(store, P, ROOT[0], TONE, labels=["friendly"], author="maya")
    R.set_value(store, P, ROOT[0], TONE, labels=["curt"], author="sam")
    vals = R.human_values(store, P, ROOT[0])
    assert {(h.author, h.value) for h in vals["helpfulness"]} == {("maya", 0.2), ("sam", 0.6), ("kim", 0.7)}
    assert {(h.author, h.text) for h in vals["tone"]} == {("maya", "friendly"), ("sam", "curt")}
    assert all(h.updated for hs in vals.values() for h in hs)
    r = row(store, ROOT[0])
    assert (r["scores"]["helpfulness"], r["scores"]["tone"]) == (0.5, 0.5)
    # a reviewer changing their mind replaces their own value only
    R.set_value(store, P, ROOT[0], HELP, value=1, author="maya")
    assert row(store, ROOT[0])["scores"]["helpfulness"] == round((1 + 0.6 + 0.7) / 3, 6)
    # clearing the last value removes the score
    for who in ("maya", "sam", "kim"):
        R.set_value(store, P, ROOT[0], HELP, clear=True, author=who)
    assert "helpfulness" not in row(store, ROOT[0])["scores"]
    assert "helpfulness" not in R.human_values(store, P, ROOT[0])


def test_undo_puts_the_reviewers_value_back(store):
    first = R.set_value(store, P, ROOT[0], HELP, value=0.3, author="maya")
    R.set_value(store, P, ROOT[0], HELP, value=0.9, author="sam")
    second = R.set_value(store, P, ROOT[0], HELP, value=0.5, author="maya")
    assert second.before.value == 0.3
    undone = R.undo_value(store, P, second, HELP)
    assert undone.after.value == 0.3 and row(store, ROOT[0])["scores"]["helpfulness"] == 0.6
    R.undo_value(store, P, first, HELP)  # maya had none before: her value goes, sam's stays
    assert row(store, ROOT[0])["scores"]["helpfulness"] == 0.9
    assert [h.author for h in R.human_values(store, P, ROOT[0])["helpfulness"]] == ["sam"]
    # text and to_expected come back too
    R.set_value(store, P, ROOT[1], NOTE, text="one", author="maya")
    ch = R.set_value(store, P, ROOT[1], NOTE, text="two", author="maya")
    R.undo_value(store, P, ch, NOTE)
    assert row(store, ROOT[1])["metadata"]["note"] == "one"
    R.set_value(store, P, ROOT[1], TOPICS, labels=["a"], author="maya")
    ch = R.set_value(store, P, ROOT[1], TOPICS, labels=["a", "b"], author="maya")
    R.undo_value(store, P, ch, TOPICS)
    assert row(store, ROOT[1])["expected"] == ["a"]


def test_filters_see_human_scores(store):
    R.set_value(store, P, ROOT[0], TONE, labels=["curt"], author="maya")
    R.set_value(store, P, ROOT[1], TONE, labels=["friendly"], author="maya")
    R.set_value(store, P, ROOT[1], TONE, labels=["curt"], author="sam")  # average 0.5: not < 0.5
    R.set_value(store, P, ROOT[2], TONE, labels=["neutral"], author="maya")
    assert matching(store, "scores.tone < 0.5") == [ROOT[0]]
    assert sorted(matching(store, "scores.tone >= 0.5")) == [ROOT[1], ROOT[2]]
    assert count_selection(store, Selection(P, "scores.tone IS NOT NULL", "traces", strict=True)) == 3
    from store.query.pager import LogsQuery

    page = LogsQuery(store, P, "scores.tone < 0.5", shape="traces").page(None)
    rows = getattr(page, "rows", page)
    assert [getattr(r, "id", None) or r["id"] for r in rows] == [ROOT[0]]


def test_values_on_an_unknown_row_or_project(store):
    with pytest.raises(NotFound, match="no row with id 'nope'"):
        R.set_value(store, P, "nope", HELP, value=1, author="maya")
    with pytest.raises(NotFound):
        R.set_value(store, "other", ROOT[0], HELP, value=1, author="maya")


def test_every_value_change_is_audited(store):
    R.set_value(store, P, ROOT[0], HELP, value=0.4, author="maya")
    R.set_value(store, P, ROOT[0], HELP, value=0.8, author="sam")
    R.set_value(store, P, ROOT[0], NOTE, text="hm", author="sam")
    R.set_value(store, P, ROOT[0], INTENT, labels=["refund"], author="kim")
    log = audit_log(store, ROOT[0])
    got = [(e["field"], e["author"]) for e in reversed(log)]
    assert got == [("scores", "maya"), ("scores", "sam"), ("metadata", "sam"), ("expected", "kim")]
    first = log[-1]
    assert first["before"]["helpfulness"] == 1 and first["after"]["helpfulness"] == 0.4  # 1: the imported score
    assert log[-2]["before"]["helpfulness"] == 0.4 and log[-2]["after"]["helpfulness"] == 0.6
    assert (log[0]["before"], log[0]["after"]) == ("expected refund", "refund")


def test_human_scores_survive_a_reimport(store):
    R.set_value(store, P, ROOT[0], HELP, value=0.2, author="maya")
    R.set_value(store, P, ROOT[0], HELP, value=0.4, author="sam")
    again = [dict(r, output={"answer": "new"}, scores={"accuracy": 1}) for r in make_traces(1, children=2)]
    import_jsonl(store, P, io.BytesIO("".join(json.dumps(r) + "\n" for r in again).encode()), label="again")
    r = row(store, ROOT[0])
    assert r["output"] == {"answer": "new"} and r["scores"]["helpfulness"] == 0.3 and r["scores"]["accuracy"] == 1


# --- the queue -------------------------------------------------------------------------------------

def test_trace_root_ids_and_flag(store):
    assert R.trace_root_ids(store, P, [CHILD[0], ROOT[0], CHILD[1]]) == [ROOT[0], ROOT[1]]
    with pytest.raises(NotFound, match="no row with id 'nope'"):
        R.trace_root_ids(store, P, ["nope"])
    assert R.flag(store, P, ROOT[:3], author="sam") == (3, 0)
    assert R.queue_counts(store, P) == {"backlog": 3, "pending": 0, "complete": 0}
    # re-flag: nothing new; with an assignee: updated
    assert R.flag(store, P, ROOT[:3], author="sam") == (0, 0)
    assert R.flag(store, P, ROOT[1:4], assignee="maya", author="sam") == (1, 2)
    items = R.queue_items(store, P)
    assert [(i.id, i.state, i.assignee) for i in items] == [
        (ROOT[0], "backlog", None), (ROOT[1], "backlog", "maya"), (ROOT[2], "backlog", "maya"),
        (ROOT[3], "backlog", "maya")]
    assert [i.id for i in R.queue_items(store, P, assignee="maya")] == ROOT[1:4]
    assert items[0].to_json().keys() == {"id", "state", "assignee", "updated"}
    assert R.queue_counts(store, P, assignee="maya")["backlog"] == 3
    # a complete trace flagged again stays complete (flagging never undoes a review)...
    R.complete(store, P, ROOT[0], "maya")
    assert R.get_item(store, P, ROOT[0]).completed_by == "maya"
    assert R.flag(store, P, [ROOT[0]], author="sam") == (0, 0)
    assert R.get_item(store, P, ROOT[0]).state == "complete"
    # ...unless reopened: back in the backlog, to be reviewed again
    assert R.flag(store, P, [ROOT[0]], author="sam", reopen=True) == (0, 1)
    assert R.get_item(store, P, ROOT[0]).state == "backlog" and R.get_item(store, P, ROOT[0]).completed_by is None
    assert R.unflag(store, P, [ROOT[0], ROOT[5]], author="sam") == 1
    assert R.get_item(store, P, ROOT[0]) is None


def test_flag_selection_flags_the_traces_a_filter_finds(store):
    added, _ = R.flag_selection(store, Selection(P, "span_attributes.type = 'tool'", "traces", strict=True),
                                assignee="sam", author="maya")
    assert added == 6 and {i.id for i in R.queue_items(store, P)} == set(ROOT)


def test_states_and_paging(store):
    R.flag(store, P, ROOT, author="sam")
    R.set_state(store, P, ROOT[1], "pending", author="maya")
    R.set_state(store, P, ROOT[2], "complete", author="maya", assignee="maya")
    R.set_state(store, P, ROOT[3], "backlog", author="maya", assignee=None)
    assert R.queue_counts(store, P) == {"backlog": 4, "pending": 1, "complete": 1}
    assert [i.id for i in R.queue_items(store, P, state="complete")] == [ROOT[2]]
    with pytest.raises(R.ReviewError, match="one of backlog, pending, complete"):
        R.set_state(store, P, ROOT[1], "done")
    with pytest.raises(R.ReviewError):
        R.queue_items(store, P, state="done")
    seq = R.get_item(store, P, ROOT[2]).seq
    assert [i.id for i in R.queue_items(store, P, after=seq, limit=2)] == ROOT[3:5]
    assert [i.id for i in R.queue_items(store, P, after=seq, limit=2, reverse=True)] == ROOT[0:2]
    # reviewing a filter: a trace not queued is added by set_state
    R.unflag(store, P, [ROOT[5]])
    assert R.complete(store, P, ROOT[5], "sam").state == "complete"


def test_claims_block_other_reviewers_until_they_lapse(store):
    R.flag(store, P, ROOT[:2], author="sam")
    t = 1_000_000.0
    assert R.claim(store, P, ROOT[0], "maya", now=t)
    assert R.get_item(store, P, ROOT[0]).state == "pending"
    assert not R.claim(store, P, ROOT[0], "sam", now=t + 10)  # maya's live claim blocks
    assert R.claim(store, P, ROOT[0], "maya", now=t + 10)  # renewing her own
    item = R.get_item(store, P, ROOT[0])
    assert item.claimed_by_other("sam", now=t + 20) and not item.claimed_by_other("maya", now=t + 20)
    assert not R.claim(store, P, ROOT[0], "sam", now=t + 10 + R.CLAIM_SECONDS - 1)
    assert R.claim(store, P, ROOT[0], "sam", now=t + 10 + R.CLAIM_SECONDS + 1)  # lapsed
    assert R.get_item(store, P, ROOT[0]).claimed_by == "sam"
    R.release(store, P, ROOT[0], "maya")  # not hers any more: nothing happens
    assert R.get_item(store, P, ROOT[0]).claimed_by == "sam"
    R.release(store, P, ROOT[0], "sam")
    assert R.claim(store, P, ROOT[0], "maya", now=t + 20)
    assert R.claim(store, P, "not-queued", "maya")  # reviewing a filter: nothing to hold


def test_next_item_never_hands_one_item_to_two_reviewers(store):
    R.flag(store, P, ROOT[:4], author="sam")
    R.flag(store, P, [ROOT[3]], assignee="kim", author="sam")
    t = 1_000_000.0
    a = R.next_item(store, P, "maya", now=t)
    b = R.next_item(store, P, "sam", now=t)
    assert (a.id, b.id) == (ROOT[0], ROOT[1])
    assert (a.state, a.claimed_by) == ("pending", "maya")
    assert R.next_item(store, P, "maya", now=t).id == ROOT[0]  # her own claim: the same item again
    assert R.next_item(store, P, "maya", after=a.seq, now=t).id == ROOT[2]  # moving on
    assert R.next_item(store, P, "kim", mine=True, now=t).id == ROOT[3]
    assert R.next_item(store, P, "ann", now=t) is None  # all held
    assert R.next_item(store, P, "ann", now=t + R.CLAIM_SECONDS + 1).id == ROOT[0]  # maya went idle
    assert R.next_item(store, P, "sam", skip=[ROOT[1]], now=t) is None  # skipping his own: every other is held
    R.complete(store, P, ROOT[1], "sam")
    assert R.get_item(store, P, ROOT[1]).claimed_by is None
    later = t + 10 * R.CLAIM_SECONDS  # every claim lapsed
    assert R.next_item(store, P, "zed", now=later).id == ROOT[0]  # ROOT[1] is complete: never again
    assert R.next_item(store, P, "maya", after=R.get_item(store, P, ROOT[3]).seq, reverse=True, now=later).id == ROOT[2]
    assert R.next_item(store, P, "maya", after=R.get_item(store, P, ROOT[2]).seq, reverse=True, now=later) is None


def test_queue_changes_are_audited(store):
    R.flag(store, P, [ROOT[0]], author="sam")
    R.next_item(store, P, "maya", now=1.0)
    R.complete(store, P, ROOT[0], "maya")
    R.flag(store, P, [ROOT[0]], assignee="kim", author="sam", reopen=True)
    R.unflag(store, P, [ROOT[0]], author="sam")
    trail = [(e["object_type"], e["author"], (e["before"] or {}).get("state"), (e["after"] or {}).get("state"))
             for e in reversed(audit_log(store, ROOT[0]))]
    assert trail == [("review", "sam", None, "backlog"), ("review", "maya", "backlog", "pending"),
                     ("review", "maya", "pending", "complete"), ("review", "sam", "complete", "backlog"),
                     ("review", "sam", "backlog", None)]


def test_a_human_score_named_like_a_logged_one_is_counted(tmp_path):
    """``logged_score_rows``: rows whose scores.NAME no reviewer gave (what `scores add` warns of)."""
    from store import Store
    from store.review import add_score_config, logged_score_rows, make_config, set_value
    from store.spans import log_spans

    store = Store(tmp_path / "c.db")
    log_spans(store, "p", [{"id": f"r{i}", "span_id": f"r{i}", "root_span_id": f"r{i}", "scores": {"acc": 0.5}}
                           for i in range(3)] + [{"id": "r3", "span_id": "r3", "root_span_id": "r3"}])
    cfg = add_score_config(store, "p", make_config("acc", "continuous"), author="a")
    assert logged_score_rows(store, "p", "acc") == 3
    set_value(store, "p", "r0", cfg, value=1.0, author="a")
    set_value(store, "p", "r3", cfg, value=1.0, author="a")
    assert logged_score_rows(store, "p", "acc") == 2
    assert logged_score_rows(store, "p", "other") == 0
    store.close()


def test_queue_position_counts_the_items_left_up_to_one(store):
    R.flag(store, P, ROOT[:4], author="sam")
    R.flag(store, P, [ROOT[2]], assignee="maya", author="sam")
    seqs = {i.id: i.seq for i in R.queue_items(store, P)}
    assert [R.queue_position(store, P, seqs[r]) for r in ROOT[:4]] == [1, 2, 3, 4]
    R.complete(store, P, ROOT[0], "maya")
    assert [R.queue_position(store, P, seqs[r]) for r in ROOT[1:4]] == [1, 2, 3]
    assert R.queue_position(store, P, seqs[ROOT[2]], assignee="maya") == 1
