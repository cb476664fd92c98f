"""`bt-tui demo` curates two datasets from the demo logs (sample_data/demo_datasets.py): the
records point at spans that exist, a person corrected the expected outputs, the history shows
who added, changed and deleted what, and seeding again (or upgrading an older demo database)
never makes a version twice."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess

import pytest

from conftest import BT_TUI, base_env
from sample_data import demo_datasets as dd
from store import Store
from store.datasets import (
    diff_versions, get_dataset, iter_records, list_datasets, list_versions, record_history, resolve_version,
    write_records,
)
from store.jsonl import import_jsonl
from store.selection import Selection, selection_root_ids
from tui_fixtures import SAMPLE, import_sample, sample_rows


def _demo(tmp_path, db, *extra):
    proc = subprocess.run([*BT_TUI, "--db", str(db), *extra, "demo", "--no-launch"], capture_output=True,
                          env=base_env(tmp_path, None), cwd=str(tmp_path), timeout=180)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stderr.decode("utf-8")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A demo database made by the real `bt-tui demo --no-launch`, and what it said."""
    tmp = tmp_path_factory.mktemp("demo-ds")
    db = tmp / "demo.db"
    out = _demo(tmp, db)
    return db, out


@pytest.fixture
def store(seeded, tmp_path):
    copy = tmp_path / "demo.db"
    shutil.copyfile(seeded[0], copy)
    s = Store(copy)
    yield s
    s.close()


def _records(store, name, **kw) -> dict[str, dict]:
    return {r.id: r.to_json() for r in iter_records(store, "default", name, **kw)}


def _spans() -> dict[str, dict]:
    return {r["id"]: r for r in sample_rows()}


def test_demo_says_it_added_the_datasets(seeded):
    out = seeded[1]
    assert "seeded 2162 demo spans" in out
    assert "added demo datasets 'refund policy regressions' (10 records, 3 versions)," in out
    assert "'golden answers' (17 records, 2 versions)" in out


def test_refund_regressions_history(store):
    info = get_dataset(store, "default", dd.REGRESSIONS)
    assert info.records == 10 and info.versions == 3 and info.last_author == "sam"
    assert "14 days" in info.description
    vs = list_versions(store, "default", dd.REGRESSIONS)
    got = [(v.author, v.added, v.updated, v.deleted, v.snapshots) for v in vs]
    assert got == [("sam", 11, 0, 0, []), ("maya", 0, 6, 0, ["v1-golden"]), ("sam", 0, 4, 1, [])]
    assert dd.REGRESSIONS_FILTER in vs[0].note
    assert resolve_version(store, "default", dd.REGRESSIONS, snapshot="v1-golden") == vs[1].version


def test_golden_answers_history(store):
    vs = list_versions(store, "default", dd.GOLDEN)
    assert [(v.author, v.added, v.updated, v.deleted) for v in vs] == [("sam", 15, 0, 0), ("maya", 2, 0, 0)]
    recs = _records(store, dd.GOLDEN)
    assert len(recs) == 17 and get_dataset(store, "default", dd.GOLDEN).records == 17
    spans = _spans()
    for rec in recs.values():
        span = spans[rec["origin"]["id"]]
        assert rec["expected"] == span["output"], "a golden answer is the bot's answer"
        assert rec["input"] == span["input"] and rec["created"] == span["created"]


def test_every_record_points_at_a_root_span_of_the_demo_logs(store):
    spans = _spans()
    for name in dd.DATASETS:
        for rid, rec in _records(store, name).items():
            span = spans[rec["origin"]["id"]]  # KeyError: an origin not in the logs
            assert rec["origin"]["object_type"] == "project_logs"
            assert span["span_id"] == span["root_span_id"]
            assert rid == "rec-" + span["id"].removeprefix("span-")
            assert rec["metadata"] == span["metadata"]


def test_the_pm_corrected_the_expected_answers(store):
    spans = _spans()
    latest = _records(store, dd.REGRESSIONS)
    golden = resolve_version(store, "default", dd.REGRESSIONS, snapshot="v1-golden")
    changes = diff_versions(store, "default", dd.REGRESSIONS, golden - 1, golden)
    assert {c.id for c in changes} == {dd.record_id(s) for s in dd.CORRECTED}
    assert all(c.change == "updated" and c.fields == ["expected"] for c in changes)
    for span_id, answer in dd.CORRECTED.items():
        rec = latest[dd.record_id(span_id)]
        logged = spans[span_id]["output"]
        assert rec["expected"] == answer and rec["expected"] != logged
        assert re.search(r"30[- ]?(day|días|jours|täg|日)", logged["answer"]), "the logged answer cites 30 days"
        assert "14" in answer["answer"] and not re.search(r"\b30\b|30日", answer["answer"])
        assert set(answer) == set(logged), "the corrected expected has the output's shape"
    # the refund issued 18 days after delivery becomes a warranty ticket, not a refund
    assert latest[dd.record_id("span-b225bc578f9c9331")]["expected"]["actions"] == ["create_ticket"]
    # the uncorrected ones still carry the bot's answer, and are tagged for review
    for span_id in dd.POLICY_REVIEW:
        rec = latest[dd.record_id(span_id)]
        assert rec["expected"] == spans[span_id]["output"]
        assert rec["tags"] == [*spans[span_id]["tags"], "needs-policy-review"]


def test_the_off_topic_record_was_deleted_but_is_in_history(store):
    off = dd.record_id(dd.OFF_TOPIC)
    assert off not in _records(store, dd.REGRESSIONS)
    golden = resolve_version(store, "default", dd.REGRESSIONS, snapshot="v1-golden")
    assert off in _records(store, dd.REGRESSIONS, version=golden)
    hist = record_history(store, "default", dd.REGRESSIONS, off)
    assert [(h.change, h.author) for h in hist] == [("added", "sam"), ("deleted", "sam")]
    assert _spans()[dd.OFF_TOPIC]["metadata"]["intent"] == "plan_change"


def test_running_demo_again_makes_no_version(seeded, tmp_path):
    db = tmp_path / "demo.db"
    shutil.copyfile(seeded[0], db)
    out = _demo(tmp_path, db)
    assert "already has 2162 spans" in out and "added demo datasets" not in out
    s = Store(db)
    try:
        assert [d.versions for d in list_datasets(s, "default")] == [2, 3]
    finally:
        s.close()


def test_demo_upgrades_a_demo_database_that_has_no_datasets(tmp_path):
    db = import_sample(tmp_path / "old-demo.db")
    out = _demo(tmp_path, db)
    assert "already has 2162 spans" in out and "added demo datasets" in out
    s = Store(db)
    try:
        assert sorted(d.name for d in list_datasets(s, "default")) == sorted(dd.DATASETS)
    finally:
        s.close()


def test_a_dataset_someone_edited_is_left_alone(tmp_path):
    s = Store(import_sample(tmp_path / "demo.db"))
    try:
        assert dd.seed_demo_datasets(s, "default") == [dd.REGRESSIONS, dd.GOLDEN]
        write_records(s, "default", dd.GOLDEN, deletes=[dd.record_id(dd.GOLDEN_PICKS[0])], author="me")
        before = {d.name: d.versions for d in list_datasets(s, "default")}
        assert dd.seed_demo_datasets(s, "default") == []
        assert {d.name: d.versions for d in list_datasets(s, "default")} == before
        assert get_dataset(s, "default", dd.GOLDEN).records == 16
    finally:
        s.close()


def test_seeding_is_the_same_everywhere(store, tmp_path):
    """Ids, content, created times and authors do not depend on the machine or the clock."""
    other = Store(import_sample(tmp_path / "again.db", project="elsewhere"))
    try:
        dd.seed_demo_datasets(other, "elsewhere")
        for name in dd.DATASETS:
            mine = _records(store, name)
            theirs = {r.id: r.to_json() for r in iter_records(other, "elsewhere", name)}
            assert mine == theirs and list(mine) == list(theirs)
            assert ([(v.author, v.note) for v in list_versions(store, "default", name)]
                    == [(v.author, v.note) for v in list_versions(other, "elsewhere", name)])
    finally:
        other.close()


def test_a_project_without_the_demo_logs_gets_no_datasets(tmp_path):
    s = Store(tmp_path / "x.db")
    try:
        rows = [r for r in sample_rows() if r["id"] not in dd.GOLDEN_PICKS]  # the corpus minus two traces' roots
        data = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode("utf-8")
        import_jsonl(s, "default", io.BytesIO(data), label="x")
        assert dd.seed_demo_datasets(s, "default") == [dd.REGRESSIONS]  # golden needs the missing spans
        assert dd.seed_demo_datasets(s, "nope") == []  # no such project: nothing, no error
    finally:
        s.close()


@pytest.mark.parametrize("flt, ids", [(dd.REGRESSIONS_FILTER, dd.REGRESSIONS_SPANS), (dd.GOLDEN_FILTER, dd.GOLDEN_SPANS)])
def test_the_filters_in_the_notes_find_exactly_these_spans(tmp_path, flt, ids):
    s = Store(tmp_path / "x.db")
    try:
        with open(SAMPLE, "rb") as f:
            import_jsonl(s, "default", f, label=str(SAMPLE))
        got = list(selection_root_ids(s, Selection("default", flt, "traces", strict=True)))
        assert sorted(got) == sorted(ids) and len(set(ids)) == len(ids)
    finally:
        s.close()


def test_the_golden_picks_are_the_reviewers_picks():
    spans = _spans()
    comments = [c["text"] for s in dd.GOLDEN_PICKS for c in spans[s]["comments"]]
    assert any("golden dataset" in c for c in comments) and any("ゴールデンデータセット" in c for c in comments)
