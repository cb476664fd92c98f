"""The eval API (bt_tui.Eval and friends, engine/evals.py) in-process: Braintrust's summary text
exactly, a second run against the first, trials, async and sync tasks run concurrently (max in
flight, not wall time), raising tasks and scorers, bad data rows, hooks, model calls traced as
llm children of the task span (local server, no key in the db), init_dataset, init_experiment,
load_prompt."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

import bt_tui
from engine import evals as ev
from llm_server import FakeLLMServer

HI_DATA = [{"input": "Foo", "expected": "Hi Foo"}, {"input": "Bar", "expected": "Hello Bar"}]
SECRET = "sk-test-Ev4lK3yNeverStored9x"
KEY_ENV = "BT_EVAL_TEST_KEY"


def hi_task(input):
    return "Hi " + input


@pytest.fixture
def db(tmp_path) -> str:
    return str(tmp_path / "evals.db")


def open_store(db):
    from store import Store

    return Store(db)


def spans_of(db, exp) -> list[dict]:
    """Every span row of an experiment, as export gives them."""
    import orjson

    from store.export import EXPORT_LINE
    from store.projects import find_project

    store = open_store(db)
    try:
        pid = find_project(store, exp.rows_project)
        return [orjson.loads(line) for (line,) in store.conn.execute(
            f"SELECT {EXPORT_LINE} FROM spans s WHERE s.project_id = ? ORDER BY s.rid", (pid,))]
    finally:
        store.close()


def experiments(db, project):
    from store.experiments import list_experiments

    store = open_store(db)
    try:
        return list_experiments(store, project)
    finally:
        store.close()


def run(defn, db, **kw):
    """Run an EvalDef against ``db`` (as `bt-tui eval` does), with its summary."""
    async def go():
        store = open_store(db)
        try:
            res = await ev.run_eval(defn, store, db_path=db, **kw)
            res.summary = ev.summarize(store, defn.project_name, res.experiment, eval_name=defn.name,
                                       base=defn.base_experiment, score_order=res.score_order, results=res.results)
            return res
        finally:
            store.close()
    return asyncio.run(go())


def define(name="Say Hi Bot", data=None, task=hi_task, scores=None, **kw):
    from autoevals import ExactMatch, Levenshtein

    return ev.make_eval_def(name, data if data is not None else list(HI_DATA), task,
                            scores if scores is not None else [Levenshtein, ExactMatch], **kw)


# --- the summary --------------------------------------------------------------------------------

def test_say_hi_bot_prints_braintrusts_summary_exactly(db, capsys):
    from autoevals import ExactMatch, Levenshtein

    result = bt_tui.Eval("Say Hi Bot", data=lambda: list(HI_DATA), task=lambda input: "Hi " + input,
                         scores=[Levenshtein, ExactMatch], db=db)
    out = capsys.readouterr().out
    assert out.startswith("\n=========================SUMMARY=========================\n"
                          "77.78% 'Levenshtein' score\n"
                          "50.00% 'ExactMatch'  score\n\n")
    assert "--- bt-tui ---" in out and "2 rows, 0 errored" in out
    exp = result.experiment
    assert (exp.name, exp.project, exp.rows, exp.errors, exp.status) == ("Say Hi Bot", "Say Hi Bot", 2, 0, "complete")
    assert exp.metadata["eval"] == "Say Hi Bot"
    assert exp.scores == pytest.approx({"Levenshtein": 7 / 9, "ExactMatch": 0.5})


def test_second_run_against_the_first_counts_improvements_and_regressions(db):
    first = run(define(), db)
    assert first.summary.base is None
    better = run(define(task=lambda input: {"Foo": "Hi Foo", "Bar": "Hello Bar"}[input]), db)
    text = better.summary.text()
    assert (f"{better.experiment.name} compared to {first.experiment.name}:\n"
            "100.00% (+22.22%) 'Levenshtein' score\t(1 improvements, 0 regressions)\n"
            "100.00% (+50.00%) 'ExactMatch'  score\t(1 improvements, 0 regressions)\n\n") in text
    assert better.experiment.name == "Say Hi Bot #2"
    # the third run (worse on Foo) is compared with the second, the previous one on the same data
    worse = run(define(task=lambda input: {"Foo": "Yo Foo", "Bar": "Hello Bar"}[input]), db)
    lines = worse.summary.braintrust_text().splitlines()
    assert lines[2] == "Say Hi Bot #3 compared to Say Hi Bot #2:"
    assert lines[3] == "83.33% (-16.67%) 'Levenshtein' score\t(0 improvements, 1 regressions)"  # Yo Foo: 4/6
    assert lines[4] == "50.00% (-50.00%) 'ExactMatch'  score\t(0 improvements, 1 regressions)"
    # bt-tui's lines: over 2 matched rows, one moved: the interval spans 0 -> could be noise
    assert "'ExactMatch' -50.00%: interval [" in worse.summary.our_text()
    assert "over 2 matched rows: could be noise" in worse.summary.our_text()
    js = worse.summary.to_json()
    assert js["base"] == "Say Hi Bot #2" and js["scores"][1]["score"] == "ExactMatch"
    assert js["scores"][1]["regressions"] == 1 and js["scores"][1]["diff"] == pytest.approx(-0.5)


def test_a_real_change_is_called_real(db):
    data = [{"input": f"q{i}", "expected": "yes"} for i in range(40)]
    run(define("many", data=data, task=lambda input: "no", scores=["ExactMatch"]), db)
    res = run(define("many", data=data, task=lambda input: "yes", scores=["ExactMatch"]), db)
    assert "'ExactMatch' +100.00%: interval [+100.0%, +100.0%] over 40 matched rows: real" in res.summary.text()


def test_explicit_base_and_gates(db):
    run(define(experiment_name="base run"), db)
    run(define(task=lambda input: "nope"), db)
    res = run(define(task=lambda input: {"Foo": "Hi Foo", "Bar": "Nope"}[input], base_experiment="base run"), db)
    assert res.summary.base.name == "base run"
    gates = ev.check_gates(res.summary, {"Levenshtein": 0.8, "ExactMatch": 0.5}, True)
    by = {(g.kind, g.score): g for g in gates}
    assert by[("fail_under", "Levenshtein")].passed is False  # (1 + 1/9) / 2 < 0.8
    assert by[("fail_under", "ExactMatch")].passed is True
    assert by[("no_regressions", "Levenshtein")].passed is False  # Bar got worse than "Hi Bar"
    assert "regressed on 1 row against 'base run'" in by[("no_regressions", "Levenshtein")].message
    with pytest.raises(ev.GateError, match="its scores: Levenshtein, ExactMatch"):
        ev.check_gates(res.summary, {"Accuracy": 0.5}, False)


# --- rows ---------------------------------------------------------------------------------------

def test_each_row_is_a_trace_eval_task_and_score_spans(db):
    res = run(define(), db)
    spans = spans_of(db, res.experiment)
    roots = [s for s in spans if s["span_attributes"]["type"] == "eval"]
    assert [r["input"] for r in roots] == ["Foo", "Bar"]
    foo = roots[0]
    assert foo["output"] == "Hi Foo" and foo["expected"] == "Hi Foo" and foo["error"] is None
    assert foo["scores"] == {"Levenshtein": 1.0, "ExactMatch": 1.0}
    assert foo["metadata"]["trial"] == 0
    assert {"start", "end", "duration"} <= set(foo["metrics"])
    children = [s for s in spans if s["root_span_id"] == foo["span_id"] and s["span_id"] != foo["span_id"]]
    kinds = sorted((s["span_attributes"]["type"], s["span_attributes"]["name"]) for s in children)
    assert kinds == [("score", "ExactMatch"), ("score", "Levenshtein"), ("task", "task")]
    assert all(s["span_parents"] == [foo["span_id"]] for s in children)


def test_a_raising_task_is_the_rows_error_and_the_run_goes_on(db):
    def task(input):
        if input == "Bar":
            raise ValueError("no bar\nsecond line")
        return "Hi " + input

    res = run(define(task=task), db)
    assert res.experiment.rows == 2 and res.experiment.errors == 1
    bar = next(r for r in res.results if r.case.input == "Bar")
    assert bar.error == "ValueError: no bar second line" and bar.scores == {}
    spans = spans_of(db, res.experiment)
    root = next(s for s in spans if s["span_attributes"]["type"] == "eval" and s["input"] == "Bar")
    assert root["error"] == "ValueError: no bar second line"
    assert not [s for s in spans if s["root_span_id"] == root["span_id"] and s["span_attributes"]["type"] == "score"]
    assert "row 2 (input 'Bar'): ValueError: no bar second line" in res.summary.our_text()
    assert "2 rows, 1 errored" in res.summary.our_text()


def test_a_raising_scorer_is_that_scores_error_and_the_others_go_on(db):
    def fragile(output, expected):
        if output == "Hi Bar":
            raise RuntimeError("cannot score")
        return 1

    res = run(define(scores=["ExactMatch", fragile]), db)
    bar = next(r for r in res.results if r.case.input == "Bar")
    assert bar.error is None and bar.scores == {"ExactMatch": 0.0, "fragile": None}
    assert bar.score_errors == {"fragile": "RuntimeError: cannot score"}
    assert res.experiment.scores == {"ExactMatch": 0.5, "fragile": 1.0}


def test_bad_data_rows_are_errors_naming_their_index(db):
    res = run(define(data=[{"input": "Foo", "expected": "Hi Foo"}, "oops", {"expected": "x"}, 7]), db)
    errors = {r.case.index: r.error for r in res.results if r.error}
    assert errors[1].startswith("data row 1: expected a dict with an input") and "str" in errors[1]
    assert errors[2] == "data row 2: no input (its keys: expected)"
    assert errors[3].startswith("data row 3:")
    assert res.experiment.rows == 4 and res.experiment.errors == 3


def test_data_as_callable_generator_async_iterator_and_evalcases(db):
    def gen():
        yield {"input": "Foo", "expected": "Hi Foo"}
        yield bt_tui.EvalCase(input="Bar", expected="Hello Bar", metadata={"k": 1}, tags=["t"])

    async def agen():
        for d in HI_DATA:
            yield d

    for data in (gen, gen(), agen(), lambda: HI_DATA):
        res = run(define("shapes", data=data), db)
        assert [r.case.input for r in res.results] == ["Foo", "Bar"]
        assert res.experiment.scores["Levenshtein"] == pytest.approx(7 / 9)
    bar = next(s for s in spans_of(db, experiments(db, "shapes")[0]) if s.get("input") == "Bar"
               and s["span_attributes"]["type"] == "eval")
    assert bar["metadata"]["k"] == 1 and bar["tags"] == ["t"]


def test_hooks_metadata_expected_and_span_log(db):
    def task(input, hooks):
        hooks.metadata["seen"] = input.lower()
        hooks.span.log(metadata={"step": "greet"}, metrics={"retries": 0})
        return "Hi " + input + ("" if hooks.expected != "Hello Bar" else "!") + str(hooks.trial_index)

    res = run(define(task=task, scores=[]), db)
    spans = spans_of(db, res.experiment)
    roots = {s["input"]: s for s in spans if s["span_attributes"]["type"] == "eval"}
    assert roots["Foo"]["metadata"]["seen"] == "foo" and roots["Bar"]["output"] == "Hi Bar!0"
    task_span = next(s for s in spans if s["span_attributes"]["type"] == "task" and s["input"] == "Foo")
    assert task_span["metadata"] == {"step": "greet"} and task_span["metrics"]["retries"] == 0


def test_trials_make_a_trace_each_with_its_trial_number(db):
    res = run(define(trial_count=3), db)
    assert len(res.results) == 6
    roots = [s for s in spans_of(db, res.experiment) if s["span_attributes"]["type"] == "eval"]
    assert sorted((r["input"], r["metadata"]["trial"]) for r in roots) == [
        ("Bar", 0), ("Bar", 1), ("Bar", 2), ("Foo", 0), ("Foo", 1), ("Foo", 2)]
    assert res.experiment.metadata["trial_count"] == 3
    assert res.experiment.scores["ExactMatch"] == 0.5


def test_async_tasks_run_concurrently_up_to_max_concurrency(db):
    state = {"now": 0, "max": 0}

    async def task(input):
        state["now"] += 1
        state["max"] = max(state["max"], state["now"])
        await asyncio.sleep(0.2)
        state["now"] -= 1
        return input

    data = [{"input": i} for i in range(20)]
    run(define("async", data=data, task=task, scores=[]), db)
    assert state["max"] == 20  # all at once: 20 x 0.2 s would be 4 s one by one
    state["max"] = 0
    run(define("async", data=data, task=task, scores=[], max_concurrency=5), db)
    assert state["max"] == 5


def test_sync_tasks_run_in_threads_up_to_max_concurrency(db):
    lock = threading.Lock()
    state = {"now": 0, "max": 0}
    release = threading.Event()

    def task(input):
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
            if state["now"] == 12:
                release.set()
        release.wait(5)  # hold every thread until 12 are in (more than the default executor's 6)
        with lock:
            state["now"] -= 1
        return input

    run(define("sync", data=[{"input": i} for i in range(24)], task=task, scores=[], max_concurrency=12), db)
    assert state["max"] == 12


def test_unknown_keyword_is_a_clear_type_error():
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'scorers'.*it takes data, task, scores"):
        bt_tui.Eval("x", data=[], task=hi_task, scorers=[])
    with pytest.raises(TypeError, match="trial_count"):
        ev.make_eval_def("x", [], hi_task, [], trial_count=0)


def test_under_collecting_eval_registers_instead_of_running(db):
    with ev.collecting() as found:
        out = bt_tui.Eval("later", data=HI_DATA, task=hi_task, scores=["ExactMatch"], project="p1")
    assert found == [out] and out.project_name == "p1" and experiments(db, "p1") == []


# --- models inside a task -----------------------------------------------------------------------

@pytest.fixture
def server():
    with FakeLLMServer() as s:
        yield s


@pytest.fixture
def fake_model(db, server, monkeypatch):
    from store.model_configs import add_model

    store = open_store(db)
    add_model(store, "fake", "openai/fake-model", api_base=server.base_url, key_env=KEY_ENV, input_price=1,
              output_price=2)
    store.close()
    monkeypatch.setenv(KEY_ENV, SECRET)
    return "fake"


def test_sync_task_model_calls_are_llm_children_of_the_task_span(db, server, fake_model):
    def task(input):
        answer = bt_tui.completion(model="fake", messages=[{"role": "user", "content": f"say {input}"}],
                                   temperature=0)
        assert answer.usage["total_tokens"] > 0
        return str(answer)

    res = run(define("models", task=task, scores=[]), db)
    assert [r.output for r in res.results] == ["echo: say Foo", "echo: say Bar"]
    assert res.experiment.model == "fake" or res.experiment.model is None  # recorded when the store takes it
    spans = spans_of(db, res.experiment)
    for root in (s for s in spans if s["span_attributes"]["type"] == "eval"):
        task_span = next(s for s in spans if s["root_span_id"] == root["span_id"]
                         and s["span_attributes"]["type"] == "task")
        llm = [s for s in spans if s["root_span_id"] == root["span_id"] and s["span_attributes"]["type"] == "llm"]
        assert len(llm) == 1 and llm[0]["span_parents"] == [task_span["span_id"]]
        assert llm[0]["metadata"]["model"] == "fake" and llm[0]["metadata"]["params"] == {"temperature": 0}
        assert root["metrics"]["tokens"] == llm[0]["metrics"]["tokens"] > 0
        assert root["metrics"]["estimated_cost"] == pytest.approx(llm[0]["metrics"]["estimated_cost"])
    assert server.requests[-1]["_headers"]["authorization"] == f"Bearer {SECRET}"
    assert SECRET.encode() not in Path(db).read_bytes()
    wal = Path(db + "-wal")
    assert not wal.exists() or SECRET.encode() not in wal.read_bytes()


def test_async_task_acompletion_and_a_failed_call_is_the_rows_error(db, server, fake_model):
    server.fail_when(lambda body: "401" if "Bar" in str(body.get("messages")) else None)

    async def task(input):
        return await bt_tui.acompletion(model="fake", messages=[{"role": "user", "content": input}])

    res = run(define("amodels", task=task, scores=[]), db)
    foo, bar = res.results
    assert foo.output == "echo: Foo" and foo.error is None
    assert bar.error.startswith("CompletionError: ") and SECRET not in bar.error
    llm = [s for s in spans_of(db, res.experiment) if s["span_attributes"]["type"] == "llm"]
    assert len(llm) == 2 and sum(1 for s in llm if s["error"]) == 1


def test_an_unknown_model_is_the_rows_error_naming_the_configured_ones(db):
    res = run(define("nomodel", task=lambda input: bt_tui.completion(model="gpt-9", messages=[]), scores=[]), db)
    assert all("no model configuration named 'gpt-9' (configured: offline" in r.error for r in res.results)


def test_offline_model_answers_from_the_projects_logs(db):
    from store.spans import log_spans

    store = open_store(db)
    log_spans(store, "support", [{"id": "r1", "input": "how do refunds work", "output": "Refunds take 14 days."}])
    store.close()
    res = run(define("offline", project="support", scores=[],
                     data=[{"input": "refunds?"}],
                     task=lambda input: bt_tui.completion(model="offline",
                                                          messages=[{"role": "user", "content": input}])), db)
    assert res.results[0].output == "Refunds take 14 days."
    assert res.experiment.project == "support"


# --- datasets, experiments, prompts -------------------------------------------------------------

def test_init_dataset_data_keeps_record_ids_and_records_the_version(db):
    from store.datasets import upsert_records

    store = open_store(db)
    upsert_records(store, "Say Hi Bot", "greetings", [{"id": "r-foo", **HI_DATA[0]}, {"id": "r-bar", **HI_DATA[1]}])
    upsert_records(store, "Say Hi Bot", "greetings", [{"id": "r-baz", "input": "Baz", "expected": "Hi Baz"}])
    store.close()
    ds = bt_tui.init_dataset("Say Hi Bot", "greetings", version=None, db=db)
    assert [r["id"] for r in ds] == ["r-foo", "r-bar", "r-baz"]
    res = run(define(data=bt_tui.init_dataset("Say Hi Bot", "greetings", db=db)), db)
    assert (res.experiment.dataset, res.experiment.dataset_version) == ("greetings", 2)
    roots = [s for s in spans_of(db, res.experiment) if s["span_attributes"]["type"] == "eval"]
    assert [r["metadata"]["record_id"] for r in roots] == ["r-foo", "r-bar", "r-baz"]
    old = run(define(data=bt_tui.init_dataset("Say Hi Bot", "greetings", version=1, db=db)), db)
    assert old.experiment.dataset_version == 1 and old.experiment.rows == 2
    # the previous experiment on the same dataset is the base
    assert old.summary.base.name == res.experiment.name


def test_init_experiment_log_and_summarize(db):
    with bt_tui.init_experiment("loops", "by hand", db=db) as exp:
        exp.log(input="a", output="A", expected="A", scores={"exact": 1})
        exp.log(input="b", output="x", expected="B", scores={"exact": 0}, metadata={"k": 2})
        first = exp.summarize()
    assert first.experiment.rows == 2 and first.experiment.scores == {"exact": 0.5}
    assert "50.00% 'exact' score" in first.text()
    exp2 = bt_tui.init_experiment("loops", "by hand", db=db)
    exp2.log(input="a", output="A", expected="A", scores={"exact": 1})
    exp2.log(input="b", output="B", expected="B", scores={"exact": 1}, error=None)
    s = exp2.summarize()
    assert exp2.close() == "by hand #2"
    assert "100.00% (+50.00%) 'exact' score\t(1 improvements, 0 regressions)" in s.text()
    infos = experiments(db, "loops")
    assert [(e.name, e.status, e.rows) for e in infos] == [("by hand", "complete", 2), ("by hand #2", "complete", 2)]
    with pytest.raises(Exception, match="score 'exact' must be a number in"):
        bt_tui.init_experiment("loops", "bad", db=db).log(input="a", scores={"exact": 2})


def test_load_prompt_build_feeds_completion(db):
    from store.prompts import save_prompt
    from store.spans import log_spans

    store = open_store(db)
    save_prompt(store, "bot", "greeter", [{"role": "system", "content": "Be kind."},
                                          {"role": "user", "content": "Greet {{name}}"}],
                model="offline", params={"temperature": 0.2})
    save_prompt(store, "bot", "greeter", [{"role": "user", "content": "Hello {{name}}!"}], model="offline")
    log_spans(store, "bot", [{"id": "x", "input": "greet ann", "output": "Hello Ann, welcome."}])
    store.close()
    built = bt_tui.load_prompt("greeter", version=1, project="bot", db=db).build(name="Ann")
    assert built == {"model": "offline", "messages": [{"role": "system", "content": "Be kind."},
                                                      {"role": "user", "content": "Greet Ann"}],
                     "temperature": 0.2}
    assert bt_tui.load_prompt("greeter@2", project="bot", db=db).build(name="Bo")["messages"] == [
        {"role": "user", "content": "Hello Bo!"}]

    def task(input):
        return bt_tui.completion(**bt_tui.load_prompt("greeter", version=1).build(name=input))

    res = run(define("prompted", project="bot", data=[{"input": "Ann"}], task=task, scores=[]), db)
    assert res.results[0].error is None and res.results[0].output == "Hello Ann, welcome."
    llm = [s for s in spans_of(db, res.experiment) if s["span_attributes"]["type"] == "llm"]
    assert llm[0]["input"][1] == {"role": "user", "content": "Greet Ann"}


def test_a_cancelled_run_is_marked_cancelled_and_keeps_what_finished(db):
    async def task(input):
        if input >= 2:
            await asyncio.sleep(30)
        return input

    async def go():
        store = open_store(db)
        cancel = asyncio.Event()
        seen = []

        def progressed(done, total):
            seen.append(done)
            if done == 2:
                cancel.set()
        try:
            return await ev.run_eval(define("cancel", data=[{"input": i} for i in range(5)], task=task, scores=[]),
                                     store, db_path=db, cancel=cancel, on_progress=progressed)
        finally:
            store.close()

    t0 = time.monotonic()
    res = asyncio.run(go())
    assert time.monotonic() - t0 < 20  # nobody waited for the 30 s sleeps
    assert res.cancelled and res.experiment.status == "cancelled" and res.experiment.rows == 2


def test_timeout_cancels_the_unfinished_rows(db):
    async def task(input):
        if input == 3:
            await asyncio.sleep(60)
        return input

    res = run(define("slowpoke", data=[{"input": i} for i in range(4)], task=task, scores=[], timeout=1), db)
    assert res.cancelled and res.timed_out
    assert (res.experiment.status, res.experiment.rows) == ("cancelled", 3)


def test_values_json_cannot_hold_are_stored_as_text_not_lost(db):
    class Thing:
        def __repr__(self):
            return "<Thing>"

    def task(input, hooks):
        hooks.metadata["obj"] = Thing()
        return {"answer": Thing()}

    res = run(define("odd", data=[{"input": Thing(), "expected": {1, 2}}], task=task, scores=[]), db)
    assert res.results[0].error is None and res.experiment.rows == 1
    root = next(s for s in spans_of(db, res.experiment) if s["span_attributes"]["type"] == "eval")
    assert "Thing" in str(root["input"]) and "Thing" in str(root["metadata"]["obj"])
