"""`bt-tui demo` sets up human review (sample_data/demo_review.py): score configurations matching
the demo's feedback, a queue of the low-rated traces, some assigned to maya and sam and some
reviewed, so the kanban and the averages show something; seeding again changes nothing, an
older demo database is upgraded, a project someone set up is left alone."""

from __future__ import annotations

import io
import json
import shutil
import subprocess

import pytest

from conftest import BT_TUI, base_env
from sample_data import demo_review as dr
from store import Store
from store import review as R
from store.audit import audit_log
from store.jsonl import import_jsonl
from store.selection import Selection, export_selection, selection_root_ids
from tui_fixtures import import_sample, sample_rows

P = "default"


def _demo(tmp_path, db):
    proc = subprocess.run([*BT_TUI, "--db", str(db), "demo", "--no-launch"], capture_output=True,
                          env=base_env(tmp_path, None), cwd=str(tmp_path), timeout=180)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stderr.decode("utf-8")


def _cli(tmp_path, db, *args) -> str:
    proc = subprocess.run([*BT_TUI, "--db", str(db), *args], capture_output=True, env=base_env(tmp_path, None),
                          cwd=str(tmp_path), timeout=180)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout.decode("utf-8")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo-rv")
    db = tmp / "demo.db"
    return db, _demo(tmp, db)


@pytest.fixture
def store(seeded, tmp_path):
    copy = tmp_path / "demo.db"
    shutil.copyfile(seeded[0], copy)
    s = Store(copy)
    yield s
    s.close()


def _row(store, row_id) -> dict:
    return json.loads(next(export_selection(store, Selection(P, shape="spans", ids=(row_id,)))))


def _state(store, project: str = P) -> tuple:
    """Everything review-related, to compare before and after."""
    configs = [c.to_json() for c in R.list_score_configs(store, project)]
    items = [(i.id, i.state, i.assignee, i.updated, i.completed_by) for i in R.queue_items(store, project)]
    values = {t: {n: [(h.author, h.value, h.text, h.updated) for h in hs]
                  for n, hs in R.human_values(store, project, t).items()} for t in dr.QUEUE}
    return configs, items, values


def test_demo_says_it_added_the_review(seeded):
    assert ("added demo review: scores tone, helpfulness, policy_correct, review_note; a review queue of 21"
            " low-rated traces (16 backlog, 2 pending, 3 complete)") in seeded[1]


def test_score_configurations_match_the_feedback(seeded, tmp_path):
    got = [json.loads(line) for line in _cli(tmp_path, seeded[0], "scores", "list", "--format", "jsonl").splitlines()]
    assert [(c["name"], c["type"]) for c in got] == [
        ("tone", "categorical"), ("helpfulness", "continuous"), ("policy_correct", "boolean"), ("review_note", "text")]
    tone = got[0]["options"]
    assert [o["label"] for o in tone] == ["friendly", "neutral", "curt"]
    assert all(0 <= o["value"] <= 1 for o in tone) and all(c["description"] for c in got)


def test_the_queue_is_the_low_rated_traces(seeded, tmp_path):
    items = [json.loads(line) for line in _cli(tmp_path, seeded[0], "queue", "--format", "jsonl").splitlines()]
    assert [i["id"] for i in items] == list(dr.QUEUE)
    assert 20 <= len(items) <= 40
    assigned = {i["id"]: i["assignee"] for i in items if i["assignee"]}
    assert {p: sorted(t for t, a in assigned.items() if a == p) for p in ("maya", "sam")} == {
        p: sorted(ids) for p, ids in dr.ASSIGNED.items()}
    states = {i["id"]: i["state"] for i in items}
    assert sorted(t for t, s in states.items() if s == "complete") == sorted(
        ["span-304cfe447cbfdeab", "span-e0fa9f2d6a249e39", "span-36e99ab8fbc15326"])
    assert sorted(t for t, s in states.items() if s == "pending") == sorted(
        ["span-4db3d8422730e72d", "span-324a4d6f0b236f58"])
    spans = {r["id"]: r for r in sample_rows()}
    assert all(spans[t]["scores"]["user_rating"] < 0.6 and not spans[t].get("span_parents") for t in dr.QUEUE)


def test_the_filter_finds_exactly_the_queue(tmp_path):
    s = Store(import_sample(tmp_path / "x.db"))
    try:
        got = list(selection_root_ids(s, Selection(P, dr.QUEUE_FILTER, "traces", strict=True)))
        assert sorted(got) == sorted(dr.QUEUE) and len(set(dr.QUEUE)) == len(dr.QUEUE)
    finally:
        s.close()


def test_reviews_under_way_show_values_authors_and_averages(store):
    both = R.human_values(store, P, "span-4db3d8422730e72d")
    assert [(h.author, h.text) for h in both["tone"]] == [("maya", "friendly"), ("sam", "neutral")]
    row = _row(store, "span-4db3d8422730e72d")
    assert row["scores"]["tone"] == 0.75 and row["scores"]["helpfulness"] == 0.6
    assert row["scores"]["policy_correct"] == 1
    done = _row(store, "span-e0fa9f2d6a249e39")
    assert (done["scores"]["tone"], done["scores"]["policy_correct"]) == (0, 0)
    assert "warranty" in done["metadata"]["review_note"]
    assert done["scores"]["user_rating"] == 0.25  # the customer's rating is untouched
    # human scores filter like any score
    low = set(selection_root_ids(store, Selection(P, "scores.tone < 0.5", "traces", strict=True)))
    assert low == {"span-e0fa9f2d6a249e39"}
    # and every change is in the audit trail, with its author
    trail = audit_log(store, "span-4db3d8422730e72d")
    assert {e["author"] for e in trail if e["field"] == "scores"} == {"maya", "sam"}
    assert R.get_item(store, P, "span-36e99ab8fbc15326").completed_by == "sam"


def test_running_demo_again_changes_nothing(seeded, tmp_path):
    db = tmp_path / "demo.db"
    shutil.copyfile(seeded[0], db)
    s = Store(db)
    before = _state(s)
    s.close()
    out = _demo(tmp_path, db)
    assert "added demo review" not in out
    s = Store(db)
    try:
        assert _state(s) == before
    finally:
        s.close()


def test_demo_upgrades_an_older_demo_database(tmp_path):
    db = import_sample(tmp_path / "old-demo.db")
    out = _demo(tmp_path, db)
    assert "already has 2162 spans" in out and "added demo review" in out
    s = Store(db)
    try:
        assert sum(R.queue_counts(s, P).values()) == len(dr.QUEUE)
    finally:
        s.close()


def test_seeding_is_the_same_everywhere_and_finishes_an_interrupted_one(store, tmp_path):
    other = Store(import_sample(tmp_path / "again.db", project="elsewhere"))
    try:
        R.add_score_config(other, "elsewhere", dr.CONFIGS[0], author="maya")  # an interrupted seeding
        assert dr.seed_demo_review(other, "elsewhere")
        mine, theirs = _state(store), _state(other, "elsewhere")
        strip = lambda st: (st[0], [i[:3] + i[4:] for i in st[1]],  # noqa: E731  (times are the clock's)
                            {t: {n: [h[:3] for h in hs] for n, hs in v.items()} for t, v in st[2].items()})
        assert strip(mine) == strip(theirs)
    finally:
        other.close()


def test_a_project_someone_set_up_is_left_alone(tmp_path):
    s = Store(import_sample(tmp_path / "demo.db"))
    try:
        R.add_score_config(s, P, R.make_config("accuracy", "continuous"), author="me")
        assert not dr.seed_demo_review(s, P)
        assert [c.name for c in R.list_score_configs(s, P)] == ["accuracy"]
        assert sum(R.queue_counts(s, P).values()) == 0
        R.remove_score_config(s, P, "accuracy")
        R.flag(s, P, ["span-bcb03693c97b1e00"], author="me")  # a queue of their own
        assert not dr.seed_demo_review(s, P) and R.list_score_configs(s, P) == []
    finally:
        s.close()


def test_a_project_without_the_demo_logs_gets_no_review(tmp_path):
    s = Store(tmp_path / "x.db")
    try:
        rows = [r for r in sample_rows() if r["id"] != dr.QUEUE[0]]
        import_jsonl(s, P, io.BytesIO("\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode()), label="x")
        assert not dr.seed_demo_review(s, P)
        assert R.list_score_configs(s, P) == [] and sum(R.queue_counts(s, P).values()) == 0
        assert not dr.seed_demo_review(s, "nope")  # no such project: nothing, no error
    finally:
        s.close()
