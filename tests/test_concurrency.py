"""Several writers on one database: feedback from four processes while a big import runs.

DESIGN.md section 7: no write is lost and nobody sees "database is locked".
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections import defaultdict

from conftest import BT_TUI
from helpers import dump_line, read_jsonl, small_span, write_jsonl

WORKERS = 4
CALLS = 12
ROWS = 10  # every worker writes to the same 10 rows: merges on one row race each other
BIG = 20_000

WORKER = textwrap.dedent(
    """
    import json, subprocess, sys
    k, calls, rows = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    cmd = json.loads(sys.argv[4])
    results = []
    for j in range(calls):
        row = f"fb-{(j + k) % rows}"
        p = subprocess.run(
            cmd + ["feedback", row, "--score", f"w{k}_{j}=0.5", "--tag", f"w{k}-t{j}",
                   "--comment", f"w{k} c{j}", "--author", f"worker{k}"],
            capture_output=True, text=True,
        )
        results.append({"row": row, "j": j, "rc": p.returncode, "stderr": p.stderr})
    print(json.dumps(results))
    """
)

READER = textwrap.dedent(
    """
    import json, subprocess, sys
    cmd = json.loads(sys.argv[1])
    results = []
    for _ in range(2):
        p = subprocess.run(cmd + ["export", "logs"], capture_output=True, text=True)
        results.append({"rc": p.returncode, "stderr": p.stderr, "lines": len(p.stdout.splitlines())})
    print(json.dumps(results))
    """
)


def test_feedback_from_many_processes_during_a_big_import(run_cli, tmp_path, sql, cli_env):
    seed = [dict(small_span(i, prefix="fb-"), id=f"fb-{i}", scores={"base": 0.5}, tags=["seed"]) for i in range(ROWS)]
    res = run_cli("import", "logs", write_jsonl(tmp_path / "seed.jsonl", seed))
    assert res.returncode == 0, res.stderr

    big = tmp_path / "big.jsonl"
    with open(big, "w", encoding="utf-8") as f:
        for i in range(BIG):
            f.write(dump_line(small_span(i, prefix="big")) + "\n")

    worker_py = tmp_path / "worker.py"
    worker_py.write_text(WORKER)
    reader_py = tmp_path / "reader.py"
    reader_py.write_text(READER)
    cmd = json.dumps(BT_TUI)

    importer = subprocess.Popen(
        [*BT_TUI, "import", "logs", str(big)], env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    workers = [
        subprocess.Popen(
            [sys.executable, str(worker_py), str(k), str(CALLS), str(ROWS), cmd],
            env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for k in range(WORKERS)
    ]
    reader = subprocess.Popen(
        [sys.executable, str(reader_py), cmd], env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        imp_out, imp_err = importer.communicate(timeout=240)
        outs = [w.communicate(timeout=240) for w in workers]
        reader_out, reader_err = reader.communicate(timeout=240)
    finally:
        for p in (importer, reader, *workers):
            if p.poll() is None:
                p.kill()
                p.wait()

    assert importer.returncode == 0, imp_err
    assert "locked" not in imp_err.lower()
    calls = []
    for w, (out, err) in zip(workers, outs):
        assert w.returncode == 0, err
        calls.extend(json.loads(out))
    assert len(calls) == WORKERS * CALLS
    for c in calls:
        assert "locked" not in c["stderr"].lower(), c
        assert c["rc"] == 0, c
    assert reader.returncode == 0, reader_err
    for r in json.loads(reader_out):
        assert r["rc"] == 0 and "locked" not in r["stderr"].lower(), r

    # Every write is there.
    assert sql("SELECT count(*) FROM spans")[0][0] == BIG + ROWS
    rows = {r["id"]: r for r in read_jsonl(run_cli("export", "logs").stdout)}
    want_scores = defaultdict(lambda: {"base": 0.5})
    want_tags = defaultdict(lambda: ["seed"])
    want_comments = defaultdict(set)
    for k in range(WORKERS):
        for j in range(CALLS):
            row = f"fb-{(j + k) % ROWS}"
            want_scores[row][f"w{k}_{j}"] = 0.5
            want_tags[row] = want_tags[row] + [f"w{k}-t{j}"]
            want_comments[row].add((f"w{k} c{j}", f"worker{k}"))
    for row_id in want_scores:
        got = rows[row_id]
        assert got["scores"] == want_scores[row_id], row_id
        assert sorted(got["tags"]) == sorted(want_tags[row_id]), row_id
        assert {(c["text"], c["author"]) for c in got["comments"]} == want_comments[row_id], row_id
    assert sql("SELECT count(*) FROM comments")[0][0] == WORKERS * CALLS
    # Each call changed three things (scores, tags, a comment): three audit rows each.
    assert sql("SELECT count(*) FROM audit")[0][0] == WORKERS * CALLS * 3
    for field in ("scores", "tags", "comment"):
        assert sql("SELECT count(*) FROM audit WHERE field = ?", (field,))[0][0] == WORKERS * CALLS
    # The side table agrees with the rows.
    n_scores = sum(len(s) for s in want_scores.values())
    assert sql("SELECT count(*) FROM span_scores WHERE span_rid IN (SELECT rid FROM spans WHERE id LIKE 'fb-%')")[0][0] == n_scores
    assert sql("PRAGMA integrity_check")[0][0] == "ok"
