"""engine/runs.py and engine/playground.py through the real client, litellm and HTTP to a local
OpenAI-compatible server: the grid, its traces, failures, cancel, re-run, save as experiments,
run_experiments, and keys that never reach the database."""

from __future__ import annotations

import asyncio

import pytest
from llm_server import FakeLLMServer

from engine.llm import LLMClient
from engine.playground import PlaygroundSession, run_experiments
from engine.runs import CANCELLED, DONE, ERROR
from engine.scorers import resolve_scorer
from store import datasets as ds
from store import experiments as ex
from store import model_configs as mc
from store import prompts as pr
from store.connection import Store
from store.traces import trace_info, trace_spans

KEY = "sk-secret-runs-4242"


def _answer(body: dict) -> str:
    text = body["messages"][-1]["content"]
    system = body["messages"][0]["content"]
    return ("Hi " if "friendly" in system else "Hello ") + text.split(":")[-1].strip()


@pytest.fixture
def server():
    with FakeLLMServer(answer=_answer) as s:
        yield s


@pytest.fixture
def store(tmp_path, server, monkeypatch):
    monkeypatch.setenv("RUNS_TEST_KEY", KEY)
    s = Store(tmp_path / "t.db")
    ds.upsert_records(s, "p", "people", [
        {"id": f"r{i}", "input": {"name": n}, "expected": f"Hi {n}"} for i, n in enumerate(["Foo", "Bar", "Baz"])])
    mc.add_model(s, "local", "openai/local-model", api_base=server.base_url, key_env="RUNS_TEST_KEY",
                 input_price=1.0, output_price=2.0)
    pr.save_prompt(s, "p", "greet", [{"role": "system", "content": "Be formal."},
                                     {"role": "user", "content": "Greet: {{name}}"}], model="local")
    pr.save_prompt(s, "p", "greet", [{"role": "system", "content": "Be friendly."},
                                     {"role": "user", "content": "Greet: {{name}}"}], model="local")
    ex.save_playground(s, "p", "pg", dataset="people", dataset_version=None,
                       variants=[{"id": "A", "prompt": "greet@1"}, {"id": "B", "prompt": "greet@2"}])
    yield s
    s.close()


def _client(**kw):
    return LLMClient(concurrency=kw.pop("concurrency", 4), timeout=kw.pop("timeout", 5), max_retries=1,
                     backoff=0.01, **kw)


def test_playground_grid_scores_traces_and_rerun(store, server):
    session = PlaygroundSession(store, "p", "pg")
    seen = []
    scorers = [resolve_scorer("ExactMatch")]
    asyncio.run(session.run_cells(client=_client(), scorers=scorers, on_cell=lambda c: seen.append(c.status)))
    assert "running" in seen
    session.reload()  # what a restart shows: the stored cells
    got = {(k[0], k[1]): (c.status, c.output, c.scores["ExactMatch"]) for k, c in session.cells.items()}
    assert got[("A", "r0")] == (DONE, "Hello Foo", 0.0)
    assert got[("B", "r0")] == (DONE, "Hi Foo", 1.0)
    [a, b] = session.summaries()
    assert (a.done, a.scores, b.scores) == (3, {"ExactMatch": 0.0}, {"ExactMatch": 1.0})
    cell = session.cell("B", "r1")
    assert cell.tokens and cell.cost == pytest.approx((cell.prompt_tokens * 1.0 + cell.completion_tokens * 2.0) / 1e6)
    spans = trace_spans(store, trace_info(store, session.info.rows_project, cell.root_span_id))
    types = sorted(s["span_attributes"]["type"] for s in spans)
    assert types == ["eval", "llm", "score", "task"]
    llm = next(s for s in spans if s["span_attributes"]["type"] == "llm")
    assert llm["input"][-1]["content"] == "Greet: Bar" and llm["output"] == "Hi Bar"
    # a re-run of one row replaces its traces, leaves the others
    before = {k: c.root_span_id for k, c in session.cells.items()}
    n = len(server.requests)
    asyncio.run(session.run_cells(client=_client(), scorers=scorers, only=[("A", "r2"), ("B", "r2")]))
    assert len(server.requests) == n + 2
    session.reload()
    after = {k: c.root_span_id for k, c in session.cells.items()}
    assert after[("A", "r2", 0)] != before[("A", "r2", 0)] and after[("A", "r0", 0)] == before[("A", "r0", 0)]
    assert len(ex.playground_cells(store, session.info)) == 6


def test_failed_cells_keep_their_error_and_rerun_fixes_them(store, server):
    server.fail_when(lambda body: "500" if "Bar" in body["messages"][-1]["content"] else None)
    session = PlaygroundSession(store, "p", "pg")
    asyncio.run(session.run_cells(client=_client(), scorers=[resolve_scorer("ExactMatch")]))
    statuses = {(k[0], k[1]): c.status for k, c in session.cells.items()}
    assert statuses == {("A", "r0"): DONE, ("A", "r1"): ERROR, ("A", "r2"): DONE,
                        ("B", "r0"): DONE, ("B", "r1"): ERROR, ("B", "r2"): DONE}
    assert "500" in session.cell("A", "r1").error
    assert session.failed() == [("A", "r1"), ("B", "r1")]
    server.fail_when(None)
    asyncio.run(session.run_cells(client=_client(), scorers=[], only=session.failed()))
    session.reload()
    assert session.failed() == [] and session.cell("B", "r1").output == "Hi Bar"


def test_cancel_leaves_cancelled_cells_and_a_working_session(store, server):
    server.fail_when(lambda body: {"sleep": 3} if "Baz" in body["messages"][-1]["content"] else None)
    session = PlaygroundSession(store, "p", "pg")

    async def go():
        task = asyncio.ensure_future(session.run_cells(client=_client(timeout=10), scorers=[]))
        while sum(c.status == DONE for c in session.cells.values()) < 4:
            await asyncio.sleep(0.02)
        session.cancel()
        await task

    asyncio.run(go())
    assert {k[1] for k, c in session.cells.items() if c.status == CANCELLED} == {"r2"}
    session.reload()  # cancelled cells are not stored: they show as not run
    assert sorted(k[1] for k in session.cells) == ["r0", "r0", "r1", "r1"]


def test_save_as_experiments_and_run_experiments(store, server):
    session = PlaygroundSession(store, "p", "pg")
    asyncio.run(session.run_cells(client=_client(), scorers=[resolve_scorer("ExactMatch")]))
    exps = session.save_as_experiments(name="try")
    assert [(e.rows, e.scores, e.prompt) for e in exps] == [(3, {"ExactMatch": 0.0}, "greet@1"),
                                                          (3, {"ExactMatch": 1.0}, "greet@2")]
    mc.add_model(store, "local2", "openai/other", api_base=server.base_url, key_env="RUNS_TEST_KEY")
    report = asyncio.run(run_experiments(store, "p", dataset="people", prompt="greet", models=["local", "local2"],
                                         scorers=[resolve_scorer("Levenshtein")], client=_client(), name="nightly"))
    assert [e.name for e in report.experiments] == ["nightly/local", "nightly/local2"]
    assert all(e.rows == 3 and e.status == "complete" and e.prompt == "greet@2" for e in report.experiments)
    assert report.failed == 0 and report.wall_time is not None


def test_the_key_never_reaches_the_database(store, server, tmp_path):
    session = PlaygroundSession(store, "p", "pg")
    asyncio.run(session.run_cells(client=_client(), scorers=[]))
    assert server.requests[-1]["_headers"]["authorization"] == f"Bearer {KEY}"
    store.close()
    for f in tmp_path.glob("t.db*"):
        assert KEY.encode() not in f.read_bytes(), f


def test_another_dataset_version_drops_the_last_results(store, server):
    """Results (and their scores) belong to the rows they ran on: pinning another version of the
    dataset clears them, so no cell shows a score against another version's expected."""
    session = PlaygroundSession(store, "p", "pg")
    asyncio.run(session.run_cells(client=_client(), scorers=[resolve_scorer("ExactMatch")]))
    first = session.version
    ds.upsert_records(store, "p", "people", [{"id": "r0", "input": {"name": "Foo"}, "expected": "Hello Foo"}])
    session.save(dataset_version=first)  # the same version, pinned: results stay
    assert len(session.cells) == 6
    session.save(dataset_version=None)  # the latest (another version): results go
    assert session.cells == {} and ex.playground_cells(store, session.info) == []
