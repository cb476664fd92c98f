"""`bt-tui eval` through the real binary: Braintrust's summary text exactly, a second run against
the first, --jsonl, gates and their exit codes, a raising task (exit 1, every row stored), trials,
a directory of eval_*.py files, a task calling the local model server, a file that fails to
import (exit 2, one line with file:line), ctrl+c (exit 1, experiment cancelled), and
`python eval_file.py` run directly."""

from __future__ import annotations

import json
import shlex
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import BT_TUI
from helpers import assert_one_line_error
from llm_server import FakeLLMServer

ROOT = Path(__file__).resolve().parent.parent

HI = '''
from bt_tui import Eval
from autoevals import Levenshtein, ExactMatch

Eval(
    "Say Hi Bot",
    data=lambda: [
        {{"input": "Foo", "expected": "Hi Foo"}},
        {{"input": "Bar", "expected": "Hello Bar"}},
    ],
    task=lambda input: {task},
    scores=[Levenshtein, ExactMatch],
)
'''
SUMMARY = ("\n=========================SUMMARY=========================\n"
           "77.78% 'Levenshtein' score\n"
           "50.00% 'ExactMatch'  score\n\n")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def hi(tmp_path: Path, task: str = '"Hi " + input', name: str = "eval_hi.py") -> Path:
    return write(tmp_path, name, HI.format(task=task))


def experiments(db_path: Path, project: str) -> list:
    from store import Store
    from store.experiments import list_experiments

    store = Store(db_path)
    try:
        return list_experiments(store, project)
    finally:
        store.close()


def test_say_hi_bot_summary_is_braintrusts_exactly(run_cli, tmp_path, db_path):
    res = run_cli("eval", hi(tmp_path))
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(SUMMARY)
    assert "--- bt-tui ---" in res.stdout and "experiment 'Say Hi Bot'" in res.stdout
    assert res.stderr == ""  # piped: no progress bar
    (exp,) = experiments(db_path, "Say Hi Bot")
    assert (exp.name, exp.rows, exp.status) == ("Say Hi Bot", 2, "complete")


def test_second_run_compares_with_the_first_and_jsonl(run_cli, tmp_path, db_path):
    assert run_cli("eval", hi(tmp_path)).returncode == 0
    better = hi(tmp_path, '{"Foo": "Hi Foo", "Bar": "Hello Bar"}[input]', "eval_better.py")
    res = run_cli("eval", better, "--name", "fixed")
    assert res.returncode == 0, res.stderr
    assert ("fixed compared to Say Hi Bot:\n"
            "100.00% (+22.22%) 'Levenshtein' score\t(1 improvements, 0 regressions)\n"
            "100.00% (+50.00%) 'ExactMatch'  score\t(1 improvements, 0 regressions)\n") in res.stdout
    hint = "bt-tui -p 'Say Hi Bot' experiment compare 'Say Hi Bot' fixed"
    assert hint in res.stdout  # the Eval's name is its project: the hint names it, and works as printed
    followed = run_cli(*shlex.split(hint)[1:])
    assert followed.returncode == 0 and "Levenshtein" in followed.stdout
    lost = run_cli("experiment", "compare", "Say Hi Bot", "fixed")  # without -p: told where it is
    assert lost.returncode == 2
    assert "project 'Say Hi Bot' has one: `bt-tui -p 'Say Hi Bot' ...`" in lost.stderr
    res = run_cli("eval", hi(tmp_path), "--jsonl", "--base", "fixed")
    assert res.returncode == 0, res.stderr
    (line,) = [json.loads(x) for x in res.stdout.splitlines()]
    assert line["name"] == "Say Hi Bot" and line["experiment"] == "Say Hi Bot #2" and line["base"] == "fixed"
    assert (line["rows"], line["errors"], line["passed"], line["gates"]) == (2, 0, True, [])
    lev = line["scores"][0]
    assert lev["score"] == "Levenshtein" and lev["regressions"] == 1 and lev["improvements"] == 0
    assert lev["diff"] == pytest.approx(7 / 9 - 1) and lev["matched"] == 2
    assert set(lev) == {"score", "base", "candidate", "diff", "improvements", "regressions", "matched", "interval",
                        "significant"}


def test_gates_exit_codes(run_cli, tmp_path):
    path = hi(tmp_path)
    ok = run_cli("eval", path, "--fail-under", "Levenshtein=0.7", "--fail-under", "ExactMatch=50%")
    assert ok.returncode == 0, ok.stderr
    low = run_cli("eval", path, "--fail-under", "Levenshtein=0.8")
    assert low.returncode == 1
    assert "gate failed: Say Hi Bot: 'Levenshtein' is 77.78%, under the --fail-under threshold 80.00%" in low.stderr
    assert low.stdout.startswith("\n=========================SUMMARY")  # the summary is still printed
    worse = hi(tmp_path, '"Hi " + input if input == "Bar" else "?"', "eval_worse.py")
    reg = run_cli("eval", worse, "--no-regressions")
    assert reg.returncode == 1
    assert "'Levenshtein' regressed on 1 row against 'Say Hi Bot #2' (--no-regressions)" in reg.stderr
    same = run_cli("eval", path, "--no-regressions", "--base", "Say Hi Bot")
    assert same.returncode == 0, same.stderr


@pytest.mark.parametrize("gate, says", [
    ("Levenshtein", "expected SCORE=VALUE"),
    ("Levenshtein=high", "'high' is not a number"),
    ("Levenshtein=1.5", "between 0 and 1"),
    ("Accuracy=0.5", "no score 'Accuracy' (the scores: ExactMatch, Levenshtein)"),
])
def test_bad_gates_are_bad_usage_before_anything_runs(run_cli, tmp_path, db_path, gate, says):
    res = run_cli("eval", hi(tmp_path), "--fail-under", gate)
    assert says in assert_one_line_error(res, 2)
    assert not db_path.exists() or experiments(db_path, "Say Hi Bot") == []


def test_a_raising_task_exits_1_with_every_row_stored(run_cli, tmp_path, db_path):
    path = write(tmp_path, "eval_raise.py", '''
        from bt_tui import Eval

        def task(input):
            if input % 3 == 0:
                raise KeyError(f"no {input}")
            return input * 2

        Eval("raiser", data=[{"input": i, "expected": i * 2} for i in range(9)], task=task,
             scores=["ExactMatch"])
    ''')
    res = run_cli("eval", path)
    assert res.returncode == 1
    assert "Evaluator raiser failed with 3 errors (every row was run and stored)" in res.stderr
    assert "9 rows, 3 errored" in res.stdout and "row 1 (input '0'): KeyError: 'no 0'" in res.stdout
    (exp,) = experiments(db_path, "raiser")
    assert (exp.rows, exp.errors, exp.status) == (9, 3, "complete")
    # --jsonl says what the exit code says: a CI job reading `passed` does not ship it
    res = run_cli("eval", path, "--jsonl")
    assert res.returncode == 1
    line = json.loads(res.stdout.strip().splitlines()[-1])
    assert line["passed"] is False and line["errors"] == 3 and line["gates"] == []
    assert line["row_errors"][0] == "row 1 (input '0'): KeyError: 'no 0'"
    assert exp.scores == {"ExactMatch": 1.0}


def test_trials_and_a_directory_of_eval_files(run_cli, tmp_path, db_path):
    d = tmp_path / "evals"
    d.mkdir()
    hi(d, name="eval_a.py")
    write(d, "eval_b.py", '''
        from bt_tui import Eval
        Eval("second", data=[{"input": 1, "expected": 1}], task=lambda input: input, scores=["ExactMatch"],
             project="Say Hi Bot")
    ''')
    write(d, "helper.py", "raise RuntimeError('not an eval file: never imported')\n")
    res = run_cli("eval", d, "--trials", "3", "--jsonl")
    assert res.returncode == 0, res.stderr
    lines = [json.loads(x) for x in res.stdout.splitlines()]
    assert [(x["name"], x["rows"]) for x in lines] == [("Say Hi Bot", 6), ("second", 3)]
    from store import Store
    from store.projects import find_project

    exp = next(e for e in experiments(db_path, "Say Hi Bot") if e.metadata["eval"] == "Say Hi Bot")
    store = Store(db_path)
    trials = sorted(store.conn.execute(
        "SELECT input, json_extract(metadata, '$.trial') FROM spans WHERE project_id = ? AND is_root = 1",
        (find_project(store, exp.rows_project),)).fetchall())
    store.close()
    assert trials == [('"Bar"', 0), ('"Bar"', 1), ('"Bar"', 2), ('"Foo"', 0), ('"Foo"', 1), ('"Foo"', 2)]


def test_a_task_calling_the_local_model_server(run_cli, tmp_path, db_path):
    with FakeLLMServer() as server:
        assert run_cli("--project", "bots", "model", "add", "fake", "--model", "openai/fake-model", "--api-base",
                       server.base_url).returncode == 0
        path = write(tmp_path, "eval_model.py", '''
            import bt_tui
            from bt_tui import Eval

            async def task(input):
                return await bt_tui.acompletion(model="fake", messages=[{"role": "user", "content": input}])

            Eval("echo", data=[{"input": q, "expected": "echo: " + q} for q in ["a b", "c", "d e f"]],
                 task=task, scores=["ExactMatch"], project="bots")
        ''')
        res = run_cli("eval", path)
    assert res.returncode == 0, res.stderr
    assert "100.00% 'ExactMatch' score" in res.stdout
    assert len(server.requests) == 3


def test_a_file_that_fails_to_import_is_one_line_with_file_and_line(run_cli, tmp_path):
    bad = write(tmp_path, "eval_bad.py", "from bt_tui import Eval\n\nEval('x', data=[\n")
    msg = assert_one_line_error(run_cli("eval", bad), 2)
    assert f"{bad}:3: SyntaxError" in msg
    boom = write(tmp_path, "eval_boom.py", "import os\n\n\nraise ValueError('boom')\n")
    assert f"{boom}:4: ValueError: boom" in assert_one_line_error(run_cli("eval", boom), 2)
    assert "no such file or directory" in assert_one_line_error(run_cli("eval", tmp_path / "nope.py"), 2)
    unknown = write(tmp_path, "eval_kw.py", "from bt_tui import Eval\nEval('x', data=[], task=len, scorers=[])\n")
    assert "eval_kw.py:2: TypeError: Eval() got unexpected keyword argument 'scorers'" in assert_one_line_error(
        run_cli("eval", unknown), 2)
    empty = write(tmp_path, "eval_empty.py", "x = 1\n")
    assert "no Eval(...) found" in run_cli("eval", empty).stderr


def test_ctrl_c_cancels_cleanly(tmp_path, db_path, cli_env):
    path = write(tmp_path, "eval_slow.py", '''
        import asyncio
        from bt_tui import Eval

        async def task(input):
            if input > 1:
                await asyncio.sleep(60)
            return input

        Eval("slow", data=[{"input": i} for i in range(6)], task=task, scores=[])
    ''')
    proc = subprocess.Popen([*BT_TUI, "eval", str(path)], env=cli_env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait until the two quick rows are stored
            if db_path.exists():
                try:
                    exps = experiments(db_path, "slow")
                except Exception:
                    exps = []
                if exps and exps[0].rows == 2:
                    break
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, err
    assert "interrupted: the eval was cancelled" in err.decode()
    (exp,) = experiments(db_path, "slow")
    assert (exp.status, exp.rows) == ("cancelled", 2)


def test_python_eval_file_directly_runs_and_prints(tmp_path, cli_env, db_path):
    path = hi(tmp_path)
    env = {**cli_env, "PYTHONPATH": str(ROOT) + os.pathsep + cli_env.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, str(path)], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(SUMMARY)
    assert [e.name for e in experiments(db_path, "Say Hi Bot")] == ["Say Hi Bot"]


def test_the_sample_eval_files(run_cli, tmp_path):
    res = run_cli("eval", ROOT / "sample_data" / "evals" / "eval_say_hi.py")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(SUMMARY)
    assert run_cli("demo", "--no-launch").returncode == 0
    # the demo prompt's fix on the offline model, against the demo's own experiment of it: the same answers
    res = run_cli("eval", ROOT / "sample_data" / "evals" / "eval_refund_policy.py", "--base", "support-bot@2 14-day fix",
                  "--no-regressions")
    assert res.returncode == 0, res.stderr
    assert ("support-bot@2 (eval) compared to support-bot@2 14-day fix:\n"
            "59.94% (-) 'Levenshtein'      score\t(0 improvements, 0 regressions)\n"
            "50.00% (-) 'mentions_14_days' score\t(0 improvements, 0 regressions)\n") in res.stdout
    # version 1 (the regression) against it: the rows that no longer state 14 days are regressions
    res = run_cli("eval", ROOT / "sample_data" / "evals" / "eval_refund_policy.py", "--no-regressions",
                  env={"PROMPT_VERSION": "1"})
    assert res.returncode == 1
    assert "'mentions_14_days' regressed on" in res.stderr


def test_name_with_several_evals_keeps_each_evals_experiment_name(run_cli, tmp_path, db_path):
    """`--name nightly` over a file with two Evals: nightly/ONE and nightly/TWO (each Eval's own
    experiment_name), not two numbered copies of one name."""
    path = write(tmp_path, "eval_two.py", '''
        from bt_tui import Eval

        for variant in ("one", "two"):
            Eval("Two", data=[{"input": "a", "expected": "a"}], task=lambda input: input,
                 scores=["ExactMatch"], experiment_name=variant)
    ''')
    res = run_cli("eval", path, "--name", "nightly")
    assert res.returncode == 0, res.stderr
    assert [e.name for e in experiments(db_path, "Two")] == ["nightly/one", "nightly/two"]


def test_an_unknown_base_is_bad_usage_before_anything_runs(run_cli, tmp_path, db_path):
    path = hi(tmp_path)
    assert run_cli("eval", path).returncode == 0
    res = run_cli("eval", path, "--base", "nope")
    assert res.returncode == 2
    assert res.stderr.strip() == ("bt-tui: --base: no experiment named 'nope' in project 'Say Hi Bot' "
                                  "(experiments: 'Say Hi Bot')")
    assert [e.name for e in experiments(db_path, "Say Hi Bot")] == ["Say Hi Bot"]  # nothing ran
