"""Four reviewer processes and an importer on one database (issue 11, DESIGN.md section 7), for a
few seconds (bench/bench_review_concurrency.py runs the same for 5 minutes): no lost score, no
item handed to two reviewers at once, no exception (so no "database is locked"), queue counts
that add up. And the check itself catches a lost value and a double hand-out."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SECONDS = 10


def _bench():
    spec = importlib.util.spec_from_file_location("bench_review_concurrency", ROOT / "bench" / "bench_review_concurrency.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


bench = _bench()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("review-concurrency")
    db, logs = tmp / "review.db", tmp / "logs"
    report = bench.run(db, SECONDS, reviewers=4, traces=300, logs=logs)
    return db, logs, report


def test_four_reviewers_and_an_importer_lose_nothing(run):
    db, logs, rep = run
    assert rep["exit_codes"] == [0] * 5
    assert rep["problems"] == []
    assert rep["locked"] == [] and rep["lost"] == 0
    # the run did what it claims: every reviewer worked, rows got several reviewers' values, the
    # importer added and re-imported traces, some of them reviewed ones
    assert all(r["items"] > 0 for r in rep["per_reviewer"].values()), rep["per_reviewer"]
    assert rep["values_saved"] > 100
    assert rep["rows_with_several_reviewers"] > 0
    assert rep["importer"]["new"] > 0 and rep["importer"]["reimports"] > 0
    assert rep["reviewed_rows_reimported"] > 0
    assert rep["flagged"] > 300 and sum(rep["queue"].values()) == rep["flagged"]
    assert rep["queue"]["complete"] == rep["completed"] and rep["queue"]["pending"] == 0


def test_every_claim_was_logged_with_its_time(run):
    _, logs, _ = run
    claims = [json.loads(line) for k in range(4) for line in (logs / f"reviewer{k}.jsonl").read_text().splitlines()
              if '"ev": "claim"' in line]
    assert claims and all(c["t"] > 0 for c in claims)
    ids = [c["id"] for c in claims]
    assert len(ids) == len(set(ids))  # each item handed out once (the queue never re-offers a complete one)


def _doctored(run, tmp_path, *events) -> dict:
    db, logs, _ = run
    copy = tmp_path / "logs"
    shutil.copytree(logs, copy)
    with open(copy / "reviewer0.jsonl", "a", encoding="utf-8") as f:
        for e in events:
            f.write(json.dumps(e) + "\n")
    initial = [f"tr{n:07d}-0" for n in range(300)]
    return bench.check(db, copy, initial, 4)


def test_the_check_catches_a_lost_value(run, tmp_path):
    rep = _doctored(run, tmp_path, {"ev": "saved", "id": "tr0000001-0", "name": "helpfulness", "author": "reviewer0",
                                    "value": 0.123, "text": None})
    assert any(p.startswith("lost: reviewer0's helpfulness on tr0000001-0") for p in rep["problems"])
    assert any("scores.helpfulness of tr0000001-0" in p for p in rep["problems"])


def test_the_check_catches_an_item_handed_to_two_reviewers(run, tmp_path):
    _, logs, _ = run
    other = next(json.loads(line) for line in (logs / "reviewer1.jsonl").read_text().splitlines()
                 if '"ev": "complete"' in line)
    first_claim = next(json.loads(line) for line in (logs / "reviewer1.jsonl").read_text().splitlines()
                       if '"ev": "claim"' in line and other["id"] in line)
    t = (first_claim["t"] + other["t"]) / 2
    rep = _doctored(run, tmp_path, {"ev": "claim", "id": other["id"], "t": t},
                    {"ev": "complete", "id": other["id"], "t": t + 0.001, "lat": []},
                    {"ev": "error", "error": "OperationalError: database is locked", "tb": "", "t": t})
    assert any(f"{other['id']} was handed to" in p for p in rep["problems"])
    assert rep["locked"] and "an item was completed twice" in rep["problems"]
