"""`bt-tui run` through the real binary against the local OpenAI-compatible server (real HTTP
through litellm, 127.0.0.1 only) and the offline model: one experiment per model named per the
contract, every row stored, failed rows counted (exit 0), ctrl+c cancels cleanly (exit 1,
experiments cancelled), bad input is one line (exit 2), and an API key never reaches the
terminal, an export or the database file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BT_TUI
from helpers import assert_one_line_error, read_jsonl
from llm_server import FakeLLMServer

SECRET = "sk-test-Qm7Rv2Lx9Wc4Tz8Np3Ks"
KEY_ENV = "BT_RUN_TEST_KEY"
QUESTIONS = ["What is 2+2?", "Capital of France?", "Colour of the sky?", "FAIL this one", "Largest planet?",
             "FAIL also this"]


def ok(res) -> str:
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    return res.stdout


@pytest.fixture
def server():
    with FakeLLMServer() as s:
        yield s


@pytest.fixture
def setup(run_cli, tmp_path, server):
    """Dataset 'qa' (6 records), prompt 'bot', models 'fake' and 'fake2' on the local server (key in
    $BT_RUN_TEST_KEY)."""
    src = tmp_path / "qa.jsonl"
    src.write_text("".join(json.dumps({"id": f"q{i}", "input": {"question": q}, "expected": f"echo: Q: {q}"}) + "\n"
                           for i, q in enumerate(QUESTIONS)))
    ok(run_cli("import", "dataset", src, "--name", "qa"))
    ok(run_cli("prompt", "save", "bot", "--message", "system:Answer briefly.", "--message", "user:Q: {{question}}"))
    for name in ("fake", "fake2"):
        ok(run_cli("model", "add", name, "--model", "openai/fake-model", "--api-base", server.base_url,
                   "--key-env", KEY_ENV, "--input-price", "1", "--output-price", "2"))
    return {KEY_ENV: SECRET}


def experiments(db_path: Path) -> dict:
    from store import Store
    from store.experiments import list_experiments

    store = Store(db_path)
    try:
        return {e.name: e for e in list_experiments(store, "default")}
    finally:
        store.close()


def test_one_model_one_experiment_named_as_given(run_cli, setup, server, db_path):
    res = run_cli("run", "--dataset", "qa", "--prompt", "bot", "--model", "fake", "--name", "first",
                  "--scorer", "Levenshtein", env=setup)
    out = ok(res)
    assert res.stderr == ""  # piped: no progress bar, no notes
    exps = experiments(db_path)
    assert list(exps) == ["first"]
    e = exps["first"]
    assert (e.rows, e.errors, e.status, e.model, e.prompt, e.dataset) == (6, 0, "complete", "fake", "bot@1", "qa")
    assert e.scores["Levenshtein"] == pytest.approx(1.0)  # the fake server echoes the user message: as expected
    assert len(server.requests) == 6
    assert {"messages": [{"role": "system", "content": "Answer briefly."},
                         {"role": "user", "content": "Q: What is 2+2?"}]} in [
        {"messages": r["messages"]} for r in server.requests]
    assert server.requests[0]["_headers"]["authorization"] == f"Bearer {SECRET}"  # the key, read at call time
    assert "experiment 'first'" in out and "100.00%   'Levenshtein' score" in out
    assert "rows failed" not in out
    for word in ("rows       6", "errors     0", "tokens", "cost", "wall time"):
        assert word in out, word


def test_several_models_one_experiment_each_and_jsonl_summary(run_cli, setup, server, db_path):
    res = run_cli("run", "--dataset", "qa", "--prompt", "bot@1", "--model", "fake", "--model", "fake2",
                  "--name", "cmp", "--format", "jsonl", env=setup)
    lines = read_jsonl(ok(res))
    assert [x["name"] for x in lines] == ["cmp/fake", "cmp/fake2"]
    assert all(x["rows"] == 6 and x["status"] == "complete" and x["errors"] == 0 for x in lines)
    assert all(x["tokens"] > 0 and x["cost"] > 0 for x in lines)  # the configured prices
    assert set(experiments(db_path)) == {"cmp/fake", "cmp/fake2"}
    assert len(server.requests) == 12
    # the same name again: a new experiment beside the old one (never overwritten)
    ok(run_cli("run", "--dataset", "qa", "--prompt", "bot", "--model", "fake", "--name", "cmp/fake", env=setup))
    assert {"cmp/fake", "cmp/fake #2"} <= set(experiments(db_path))


def test_failed_rows_are_stored_counted_and_the_run_exits_0(run_cli, setup, server, db_path):
    def fail(body):
        return "500" if "FAIL" in body["messages"][-1]["content"] else None

    server.fail_when(fail)
    res = run_cli("run", "--dataset", "qa", "--prompt", "bot", "--model", "fake", "--name", "flaky",
                  "--retries", "0", env=setup)
    out = ok(res)
    assert "2 rows failed" in out
    assert "first error: " in out and "500" in out.split("first error: ")[1].splitlines()[0]
    e = experiments(db_path)["flaky"]
    assert (e.rows, e.errors, e.status) == (6, 2, "complete")
    rows = read_jsonl(ok(run_cli("--project", e.rows_project, "export", "logs", "--filter", "is_root")))
    failed = {r["metadata"]["record_id"] for r in rows if r["error"]}
    assert failed == {"q3", "q5"}
    assert all(r["output"] for r in rows if not r["error"])


def test_offline_model_run(run_cli, db_path):
    # the offline model answers from the project's logs: import a few, then run over a dataset
    from helpers import make_traces, write_jsonl

    logs = write_jsonl(db_path.parent / "logs.jsonl", make_traces(5))
    ok(run_cli("import", "logs", logs))
    src = db_path.parent / "d.jsonl"
    src.write_text("".join(json.dumps({"input": f"question {i}"}) + "\n" for i in range(4)))
    ok(run_cli("import", "dataset", src, "--name", "d"))
    ok(run_cli("prompt", "save", "p", "--message", "user:{{input}}", "--model", "offline"))
    res = run_cli("run", "--dataset", "d@1", "--prompt", "p", "--format", "jsonl")  # the prompt's own model
    (line,) = read_jsonl(ok(res))
    assert line["model"] == "offline" and line["rows"] == 4 and line["status"] == "complete"
    assert line["name"] == "p@1 on d@1"
    e = experiments(db_path)["p@1 on d@1"]
    rows = read_jsonl(ok(run_cli("--project", e.rows_project, "export", "logs", "--filter", "is_root")))
    assert len(rows) == 4 and all(r["output"] for r in rows)


def test_ctrl_c_cancels_the_run_cleanly(setup, server, db_path, cli_env):
    server.latency = 60  # every call hangs until the test interrupts
    env = {**cli_env, **setup}
    proc = subprocess.Popen([*BT_TUI, "run", "--dataset", "qa", "--prompt", "bot", "--model", "fake",
                             "--name", "stopped", "--concurrency", "2"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while len(server.requests) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(server.requests) == 2, proc.poll()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    out, err = out.decode(), err.decode()
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    assert "interrupted" in err and "cancelled" in err
    e = experiments(db_path)["stopped"]
    assert e.status == "cancelled"
    assert e.rows == 0  # nothing had finished; nothing half-written
    assert len(server.requests) == 2  # the rows not started were never sent


@pytest.mark.parametrize("args, words", [
    (["--dataset", "nope", "--prompt", "bot"], ["no dataset", "'nope'"]),
    (["--dataset", "qa@9", "--prompt", "bot"], ["version 9"]),
    (["--dataset", "qa", "--prompt", "nope"], ["no prompt 'nope'"]),
    (["--dataset", "qa", "--prompt", "bot@4"], ["no version 4"]),
    (["--dataset", "qa", "--prompt", "bot", "--model", "gtp"], ["no model named 'gtp'", "offline"]),
    (["--dataset", "qa", "--prompt", "bot", "--scorer", "Levenstein"], ["unknown scorer 'Levenstein'", "Levenshtein",
                                                                         "ExactMatch"]),
    (["--dataset", "qa", "--prompt", "bot", "--scorer", "Factuality"], ["--judge"]),
    (["--dataset", "qa", "--prompt", "bot", "--model", "fake", "--model", "fake"], ["given twice"]),
    (["--dataset", "qa", "--prompt", "bot", "--concurrency", "0"], ["--concurrency"]),
], ids=["dataset", "version", "prompt", "prompt-version", "model", "scorer", "judge", "twice", "concurrency"])
def test_bad_input_is_one_line_exit_2_and_runs_nothing(run_cli, setup, server, db_path, args, words):
    line = assert_one_line_error(run_cli("run", *args, env=setup))
    for w in words:
        assert w in line, (w, line)
    assert experiments(db_path) == {}
    assert server.requests == []


def test_an_unset_key_stops_before_anything_runs(run_cli, setup, server, db_path):
    line = assert_one_line_error(run_cli("run", "--dataset", "qa", "--prompt", "bot", "--model", "fake",
                                         env={KEY_ENV: None}))
    assert f"set {KEY_ENV} in the environment" in line
    assert experiments(db_path) == {} and server.requests == []


def test_the_key_never_reaches_the_terminal_an_export_or_the_database(run_cli, setup, server, db_path, tmp_path):
    # a provider that echoes what it got (the worst case) on some rows, errors on others
    server.fail_when(lambda body: {"kind": "401", "message": f"bad key {SECRET}"} if "FAIL" in str(body) else None)
    outputs = []
    res = run_cli("model", "list", "--format", "jsonl", env=setup)
    outputs.append(ok(res))
    assert '"key_set":true' in res.stdout
    res = run_cli("model", "test", "fake", env=setup)
    outputs += [ok(res), res.stderr]
    res = run_cli("run", "--dataset", "qa", "--prompt", "bot", "--model", "fake", "--name", "k", "--retries", "0",
                  env=setup)
    outputs += [ok(res), res.stderr]
    e = experiments(db_path)["k"]
    assert e.errors == 2
    res = run_cli("--project", e.rows_project, "export", "logs", env=setup)
    outputs += [ok(res), res.stderr]
    assert len(read_jsonl(res.stdout)) >= 6 * 3  # eval, task, llm per row
    for text in outputs:
        assert SECRET not in text
    files = [p for p in tmp_path.iterdir() if p.name.startswith(db_path.name)]
    assert files
    for p in files:
        assert SECRET.encode() not in p.read_bytes(), p
    assert os.environ.get(KEY_ENV) is None  # the test's own environment never had it


def test_experiment_list_shows_what_run_stored(run_cli, setup, server):
    """`bt-tui experiment list`: the contract's keys (DESIGN.md section 4), oldest first."""
    assert ok(run_cli("experiment", "list", "--format", "jsonl")) == ""
    server.fail_when(lambda body: "500" if "FAIL" in str(body["messages"]) else None)
    ok(run_cli("run", "--dataset", "qa", "--prompt", "bot", "--model", "fake", "--name", "a", "--scorer",
               "ExactMatch", "--retries", "0", env=setup))
    ok(run_cli("run", "--dataset", "qa", "--prompt", "bot", "--model", "fake", "--name", "a", env=setup))
    lines = read_jsonl(ok(run_cli("experiment", "list", "--format", "jsonl")))
    assert [x["name"] for x in lines] == ["a", "a #2"]
    first = lines[0]
    assert {"name", "created", "dataset", "dataset_version", "rows", "scores"} <= set(first)
    assert (first["dataset"], first["rows"], first["prompt"], first["model"]) == ("qa", 6, "bot@1", "fake")
    assert first["scores"]["ExactMatch"] == pytest.approx(1.0) and first["errors"] == 2  # errored rows: no score
    assert isinstance(first["dataset_version"], int) and lines[1]["scores"] == {}
    table = ok(run_cli("experiment", "list"))
    assert "a #2" in table and "ExactMatch 100.00%" in table
    res = run_cli("experiment", "list", "--format", "xml")
    assert res.returncode == 2
