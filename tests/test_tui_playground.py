"""Pilot tests of the Playground screens: the list, a new playground made by keys, the grid run
with a model client (cells done with outputs and scores, errors on a failing variant, cancel,
re-run of the failed cells only, repeats that agree), the display modes, the word diff against
the base, a cell's trace, save as experiments, the set-up keys, and 80x24.

The store is real (a database in tmp_path) and so is the engine (PlaygroundSession, GridRun,
the trace writer). Most tests use a small fake client with LLMClient's ``complete`` signature
(answers decided by the test, held by a gate or failing, every call counted); the last ones go
through the real LLMClient: the offline model (no litellm), and tests/llm_server.py's
OpenAI-compatible server on 127.0.0.1 (500s after retries, a 429 retried)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Callable, Optional

import pytest

from engine.llm import CallResult
from engine.runs import CANCELLED, DONE, ERROR, Cell
from store import Store
from store.datasets import upsert_records
from store.experiments import get_playground, list_experiments, playground_cells, save_playground
from store.model_configs import add_model
from store.prompts import save_prompt
from tui.screens.dialogs import MenuScreen, PromptScreen
from tui.screens.playground import PlaygroundScreen, PlaygroundsScreen
from tui.screens.playground_setup import ScorersScreen, VariantScreen, parse_params
from tui.widgets.grid_cells import filter_rows
from tui.widgets.word_diff import changed_spans
from tui_fixtures import (  # noqa: F401  (fixtures)
    demo_db,
    demo_db_template,
    make_app,
    notifications,
    paste,
    quick_pilot,
    screen_text,
    settle,
    static_text,
    tui_env,
    wait_for,
)

SIZE = (120, 40)


# --- a fake model client ---------------------------------------------------------------------------

async def wait_gate(gate: threading.Event) -> None:
    while not gate.is_set():
        await asyncio.sleep(0.005)


class FakeClient:
    """``complete`` as LLMClient's: ``answer(model name, user text, call number)`` decides the
    output; ``fail(model name)`` an error; ``gate`` (a threading.Event: runs go on their own
    loop, in another thread) holds every call until set; ``deltas`` streams that many partial
    texts first."""

    def __init__(self, answer: Optional[Callable] = None, fail: Optional[Callable] = None,
                 gate: Optional[threading.Event] = None, deltas: int = 0) -> None:
        self.answer = answer or (lambda model, text, n: f"{model} says {text}")
        self.fail = fail or (lambda model: None)
        self.gate = gate
        self.deltas = deltas
        self.calls: list[tuple[str, str]] = []

    async def complete(self, spec, messages, params=None, response_format=None, on_delta=None):
        text = messages[-1]["content"]
        self.calls.append((spec.name, text))
        n = sum(1 for c in self.calls if c == (spec.name, text))
        t0 = time.time()
        if self.gate is not None:
            await wait_gate(self.gate)
        err = self.fail(spec.name)
        out = None if err else self.answer(spec.name, text, n)
        if on_delta and out:
            for i in range(self.deltas):
                on_delta(out[: (i + 1) * len(out) // max(1, self.deltas)])
                await asyncio.sleep(0)
        return CallResult(model=spec.name, messages=messages, output=out, error=err, prompt_tokens=3,
                          completion_tokens=4, tokens=7, cost=0.0001, start=t0, end=time.time(), attempts=1,
                          params=dict(params or {}), litellm_model=spec.model)


# --- data -----------------------------------------------------------------------------------------

ROWS = [{"id": f"r{i}", "input": {"question": f"question {i}"}, "expected": f"answer {i}"} for i in range(6)]


def seed(path, *, variants: Optional[list] = None, prompts: bool = True, rows: list = ROWS) -> None:
    """Dataset 'qa' (6 records), prompt 'bot' (v1 `{{question}}`, v2 `Please: {{question}}`), and a
    playground 'pg' with ``variants`` (when given)."""
    store = Store(path)
    try:
        upsert_records(store, "default", "qa", rows, author="seeder")
        if prompts:
            save_prompt(store, "default", "bot", [{"role": "user", "content": "{{question}}"}], author="seeder")
            save_prompt(store, "default", "bot", [{"role": "user", "content": "Please: {{question}}"}],
                        author="seeder")
        if variants is not None:
            save_playground(store, "default", "pg", dataset="qa", dataset_version=None, variants=variants,
                            author="seeder")
    finally:
        store.close()


TWO = [{"id": "A", "prompt": "bot@1", "model": "offline"}, {"id": "B", "prompt": "bot@2", "model": "offline"}]


def echo(model: str, text: str, n: int) -> str:
    """question N -> answer N; v2's "Please: question 3" gets a different word."""
    out = text.replace("Please: ", "").replace("question", "answer")
    return out.replace("answer 3", "reply 3") if text.startswith("Please") else out


@pytest.fixture
def db(tmp_path):
    return tmp_path / "pg.db"


async def open_grid(pilot, client=None, name: str = "pg", **kw) -> PlaygroundScreen:
    screen = PlaygroundScreen(name, client=client, **kw)
    pilot.app.push_screen(screen)
    await wait_for(pilot, lambda: screen.session is not None and screen.table.rows, "the grid's rows")
    return screen


async def run_and_wait(pilot, screen: PlaygroundScreen, key: str = "r") -> None:
    await pilot.press(key)
    await wait_for(pilot, lambda: screen.state in ("done", "cancelled"), "the run to end")
    await settle(pilot)


def stored_cells(db_path, name: str = "pg") -> list:
    store = Store(db_path)
    try:
        return playground_cells(store, get_playground(store, "default", name))
    finally:
        store.close()


def cells_of(screen, vid: str) -> list[Cell]:
    return [c for c in screen.session.cells.values() if c.variant == vid]


# --- the list and a new playground ------------------------------------------------------------------

async def test_list_shows_playgrounds_and_y_opens_it(db, tui_env):
    seed(db, variants=TWO)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("Y")
        await wait_for(pilot, lambda: isinstance(app.screen, PlaygroundsScreen) and app.screen.table.rows, "the list")
        text = screen_text(app)
        assert "pg" in text and "qa@latest" in text and "2: A bot@1·offline, B bot@2·offline" in text
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PlaygroundScreen) and app.screen.table.rows, "the grid")
        text = screen_text(app)
        assert "pg · mode All · qa@1 (latest) · 6 rows" in text
        assert "A★ bot@1 · offline" in text and "B bot@2 · offline" in text
        assert "question 0" in text and "answer 0" in text  # input and expected columns
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, PlaygroundsScreen), "back to the list")


async def test_new_playground_by_keys(db, tui_env):
    seed(db)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("Y")
        await wait_for(pilot, lambda: isinstance(app.screen, PlaygroundsScreen), "the list")
        await wait_for(pilot, lambda: "No playgrounds" in static_text(app.screen.query_one("#empty")), "empty")
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), "the name prompt")
        await paste(pilot, "my pg")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the dataset menu")
        assert app.screen.items[0][0] == "qa"
        await pilot.press("1")
        await wait_for(pilot, lambda: isinstance(app.screen, VariantScreen), "the variant dialog")
        # prompt: bot@2 (latest, first) -> down to bot@1; model: offline; params; repeat
        await pilot.press("down", "enter", "enter")
        await paste(pilot, "temperature=0.5")
        await pilot.press("enter", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PlaygroundScreen) and app.screen.session, "the grid")
        store = Store(db)
        try:
            pg = get_playground(store, "default", "my pg")
        finally:
            store.close()
        assert pg.dataset == "qa" and pg.dataset_version is None
        assert pg.variants == [{"id": "A", "prompt": "bot@1", "model": "offline", "params": {"temperature": 0.5},
                                "repeat": 1}]
        assert "created" in " ".join(notifications(app))


async def test_new_playground_without_a_prompt_says_how_to_make_one(db, tui_env):
    seed(db, prompts=False)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("Y")
        await wait_for(pilot, lambda: isinstance(app.screen, PlaygroundsScreen), "the list")
        await pilot.press("n")
        await wait_for(pilot, lambda: any("bt-tui prompt save" in n for n in notifications(app)), "the advice")
        assert any("Prompts screen" in n for n in notifications(app))
        assert isinstance(app.screen, PlaygroundsScreen)  # no dialog opened


# --- running --------------------------------------------------------------------------------------

async def test_run_all_fills_every_cell_with_outputs_and_scores(db, tui_env):
    seed(db, variants=TWO)
    client = FakeClient(echo)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_grid(pilot, client)
        await run_and_wait(pilot, screen)
        assert screen.state == "done"
        assert len(client.calls) == 12
        for vid in "AB":
            cells = cells_of(screen, vid)
            assert len(cells) == 6 and all(c.status == DONE for c in cells)
            assert {"Levenshtein", "ExactMatch"} <= set(cells[0].scores)  # default scorers: rows have expected
        a3, b3 = screen.session.cell("A", "r3"), screen.session.cell("B", "r3")
        assert a3.output == "answer 3" and a3.scores["ExactMatch"] == 1.0
        assert b3.output == "reply 3" and b3.scores["ExactMatch"] == 0.0
        text = screen_text(app)
        assert "run all: 12/12" in text and "done" in text
        assert "✓ 100%" in text and "answer 3" in text
        assert "A★ 6/6" in text and "B  6/6" in text  # the summary
        assert "ExactMatch 83% (-16.7)" in text  # B's average against the base's
        # the results are stored: the cells' traces in the playground's rows project
        await wait_for(pilot, lambda: len(stored_cells(db)) == 12, "the traces written")
        assert {(c.variant, c.record) for c in stored_cells(db)} == {(v, r["id"]) for v in "AB" for r in ROWS}


async def test_results_stream_into_cells_with_coalesced_repaints(db, tui_env):
    seed(db, variants=TWO)
    gate = threading.Event()
    client = FakeClient(echo, gate=gate, deltas=50)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_grid(pilot, client)
        repaints = []
        orig = screen.table.repaint_rows
        screen.table.repaint_rows = lambda ids=None: (repaints.append(1), orig(ids))[1]
        calls = []
        orig_cell = screen._on_cell
        screen._on_cell = lambda cell: (calls.append(1), orig_cell(cell))[1]
        await pilot.press("r")
        await wait_for(pilot, lambda: len(client.calls) == 12, "every call in flight")
        await wait_for(pilot, lambda: "⠋" in screen_text(app) or any(ch in screen_text(app) for ch in "⠙⠹⠸⠼⠴⠦⠧⠇⠏"),
                       "running cells' spinners")
        await wait_for(pilot, lambda: "running…" in screen_text(app), "the header saying so")
        gate.set()
        await wait_for(pilot, lambda: screen.state == "done", "the run to end")
        assert len(calls) > 12 * 50  # every streamed piece reached the screen...
        assert len(repaints) < len(calls) / 10  # ...which repainted far fewer times


async def test_a_failing_variant_errors_its_cells_and_the_rest_is_right(db, tui_env):
    store = Store(db)
    add_model(store, "flaky", "openai/fake", api_base="http://127.0.0.1:9")
    store.close()
    seed(db, variants=[TWO[0], {"id": "B", "prompt": "bot@1", "model": "flaky"}])
    client = FakeClient(echo, fail=lambda model: "InternalServerError: 500 fake server says 500" if model == "flaky"
                        else None)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_grid(pilot, client)
        screen._litellm_ready = True  # a fake client: no model client to load
        await run_and_wait(pilot, screen)
        assert all(c.status == ERROR and "500" in c.error for c in cells_of(screen, "B"))
        assert all(c.status == DONE and c.output == echo("offline", f"question {c.record[1:]}", 1)
                   for c in cells_of(screen, "A"))
        text = screen_text(app)
        assert "✗" in text and "InternalServerError" in text
        assert "6 errors" in text and "B  6/6 · 6 err" in text
        # Errors mode: every row (each has an errored cell)
        await pilot.press("m", "m")
        await wait_for(pilot, lambda: screen.mode == "errors" and len(screen.table.rows) == 6, "errors mode")


async def test_cancel_mid_run_then_rerun_failed_runs_only_those(db, tui_env):
    seed(db, variants=TWO)
    gate = threading.Event()
    # A answers at once; B waits for the gate (never opened before the cancel)
    client = FakeClient(echo)
    orig = client.complete

    async def complete(spec, messages, **kw):
        if spec.name == "offline" and messages[-1]["content"].startswith("Please"):
            await wait_gate(gate)
        return await orig(spec, messages, **kw)

    client.complete = complete
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_grid(pilot, client)
        await pilot.press("r")
        await wait_for(pilot, lambda: sum(c.status == DONE for c in cells_of(screen, "A")) == 6, "A's cells")
        await pilot.press("x")
        await wait_for(pilot, lambda: screen.state == "cancelled", "the run cancelled")
        assert all(c.status == CANCELLED for c in cells_of(screen, "B"))
        assert all(c.status == DONE for c in cells_of(screen, "A"))
        text = screen_text(app)
        assert "⊘" in text and "6 cancelled" in text and "cancelled" in text
        assert sorted(screen.session.failed()) == [("B", r["id"]) for r in ROWS]
        # F: only the 6 cancelled cells again
        gate.set()
        before = len(client.calls)
        await run_and_wait(pilot, screen, "F")
        assert len(client.calls) - before == 6
        assert all(name == "offline" and text.startswith("Please") for name, text in client.calls[before:])
        assert all(c.status == DONE for c in screen.session.cells.values())
        assert screen.session.failed() == []


async def test_run_row_and_run_variant(db, tui_env):
    seed(db, variants=TWO)
    client = FakeClient(echo)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_grid(pilot, client)
        await pilot.press("j", "j")
        await run_and_wait(pilot, screen, "R")
        assert sorted(c[1] for c in client.calls) == ["Please: question 2", "question 2"]
        client.calls.clear()
        await pilot.press("l")  # variant B
        await run_and_wait(pilot, screen, "V")
        assert len(client.calls) == 6 and all(t.startswith("Please") for _, t in client.calls)


async def test_repeats_show_how_many_answers_agree(db, tui_env):
    seed(db, variants=[{"id": "A", "prompt": "bot@2", "model": "offline"},
                       {"id": "B", "prompt": "bot@1", "model": "offline", "repeat": 3}])
    # B's second call of each question answers differently: 2 of 3 agree
    client = FakeClient(lambda model, text, n: "odd one" if n == 2 else echo(model, text, n))
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_grid(pilot, client)
        await run_and_wait(pilot, screen)
        assert len(client.calls) == 6 * 4
        assert screen.session.agreement("B", "r0")[1:] == (2, 3)
        text = screen_text(app)
        assert "2/3 agree" in text
        assert "B bot@1 · offline ×3" in text


# --- modes, diff --------------------------------------------------------------------------------------

def hand_cells(screen) -> None:
    """r0 all equal; r1 B differs (lower score); r2 B errors; r3 B differs with a higher score."""
    s = screen.session

    def put(v, r, output, score=None, status=DONE, error=None):
        s.cells[(v, r, 0)] = Cell(v, r, 0, status=status, output=output, error=error,
                                  scores={} if score is None else {"Levenshtein": score})

    for r in ("r0", "r1", "r2", "r3", "r4", "r5"):
        put("A", r, f"same {r}", 0.5)
    put("B", "r0", "same r0", 0.5)
    put("B", "r1", "the refund window is 30 days", 0.2)
    put("B", "r2", None, status=ERROR, error="RateLimitError: 429")
    put("B", "r3", "much better answer", 0.9)
    put("B", "r4", "same r4", 0.5)
    put("B", "r5", "same r5", 0.5)


async def test_modes_filter_the_right_rows(db, tui_env):
    seed(db, variants=TWO)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_grid(pilot)
        hand_cells(screen)
        assert [r.id for r in filter_rows(screen.session, "different")] == ["r1", "r3"]
        assert [r.id for r in filter_rows(screen.session, "errors")] == ["r2"]
        assert [r.id for r in filter_rows(screen.session, "regressions")] == ["r1"]
        expect = {"different": ["r1", "r3"], "errors": ["r2"], "regressions": ["r1"],
                  "all": [r["id"] for r in ROWS]}
        for mode in ("different", "errors", "regressions", "all"):
            await pilot.press("m")
            await wait_for(pilot, lambda: screen.mode == mode and screen.table.row_ids() == expect[mode],
                           f"mode {mode}")
            assert f"mode {mode.capitalize()}" in screen_text(app)


async def test_diff_marks_cells_and_highlights_the_changed_word(db, tui_env):
    seed(db, variants=TWO)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_grid(pilot)
        hand_cells(screen)
        s = screen.session
        s.cells[("A", "r1", 0)].output = "the refund window is 14 days"
        screen._refresh_all()
        await pilot.press("j")  # r1
        await wait_for(pilot, lambda: screen.table.cursor_id() == "r1", "row r1")
        await wait_for(pilot, lambda: screen._detail_row == "r1", "the detail of r1")
        assert changed_spans(screen.detail_texts["B"]) == ["30"]
        assert changed_spans(screen.detail_texts["A"]) == []  # the base is plain
        text = screen_text(app)
        assert "≠ 20%▼30" in text  # B on r1: differs, 30 points under the base
        assert "▲40" in text  # B on r3: 40 points over
        await pilot.press("d")  # diff off: no marks, no deltas
        await wait_for(pilot, lambda: "≠" not in screen_text(app), "diff off")
        assert "▼30" not in screen_text(app) and "diff off" in screen_text(app)


# --- traces, experiments ------------------------------------------------------------------------------

async def test_o_opens_the_cells_trace(db, tui_env):
    from tui.screens.trace import TraceScreen

    seed(db, variants=TWO)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_grid(pilot, FakeClient(echo))
        await pilot.press("o")
        await wait_for(pilot, lambda: any("no answer" in n for n in notifications(app)), "no answer yet")
        await run_and_wait(pilot, screen)
        await pilot.press("l", "j")  # B on r1
        cell = screen.session.cell("B", "r1")
        await wait_for(pilot, lambda: len(stored_cells(db)) == 12, "the traces written")
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen) and app.screen.span is not None, "a trace")
        assert app.screen.root_span_id == cell.root_span_id
        assert app.screen._project == screen.session.info.rows_project
        assert app.screen.span["output"] == "answer 1"


async def test_save_as_experiments_makes_one_per_variant(db, tui_env):
    seed(db, variants=TWO)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_grid(pilot, FakeClient(echo))
        await run_and_wait(pilot, screen)
        await wait_for(pilot, lambda: len(stored_cells(db)) == 12, "the traces written")
        await pilot.press("S")
        await wait_for(pilot, lambda: any("saved 2 experiments" in n for n in notifications(app)), "saved")
        store = Store(db)
        try:
            exps = list_experiments(store, "default")
        finally:
            store.close()
        assert len(exps) == 2 and all(e.rows == 6 for e in exps)
        said = next(n for n in notifications(app) if "saved 2" in n)
        assert all(e.name in said for e in exps)
        assert {e.metadata["variant"] for e in exps} == {"A", "B"}


# --- the set-up -----------------------------------------------------------------------------------------

async def test_add_edit_base_and_remove_variants(db, tui_env):
    seed(db, variants=[TWO[0]])
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_grid(pilot, FakeClient(echo))
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, VariantScreen), "the variant dialog")
        assert app.screen.vid == "B"
        await pilot.press("up", "enter", "enter")  # bot@2 (the list starts on A's bot@1), offline
        await paste(pilot, "max_tokens=50")
        await pilot.press("enter")
        await paste(pilot, "2")  # repeat "12"? no: the field holds "1", select all first
        app.screen.query_one("#v-repeat").value = "2"
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(screen.session.variants) == 2, "B added")
        b = screen.session.variants[1]
        assert (b.id, b.prompt.ref, b.params, b.repeat) == ("B", "bot@2", {"max_tokens": 50}, 2)
        assert screen.view.current == "B"
        # b: B becomes the base
        await pilot.press("b")
        await wait_for(pilot, lambda: screen.session.base.id == "B", "B the base")
        assert "▸B★" in screen_text(app)
        # e: edit B's repeat back to 1
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, VariantScreen), "the edit dialog")
        assert app.screen.query_one("#v-repeat").value == "2"
        app.screen.query_one("#v-repeat").value = "1"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.session.variants[0].repeat == 1, "B edited")
        # X: remove B (the base: A becomes the base)
        await pilot.press("X")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the confirmation")
        await pilot.press("1")
        await wait_for(pilot, lambda: [v.id for v in screen.session.variants] == ["A"], "B removed")
        store = Store(db)
        try:
            assert [v["id"] for v in get_playground(store, "default", "pg").variants] == ["A"]
        finally:
            store.close()


async def test_dataset_version_pins_the_rows(db, tui_env):
    seed(db, variants=TWO)
    store = Store(db)
    upsert_records(store, "default", "qa", [{"id": "r9", "input": {"question": "question 9"}}], author="t")
    store.close()
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_grid(pilot, FakeClient(echo))
        assert len(screen.session.rows) == 7
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the versions")
        assert app.screen.items[0][0] == "latest"
        await pilot.press("3")  # latest, version 2, version 1
        await wait_for(pilot, lambda: screen.session.info.dataset_version is not None, "pinned")
        assert len(screen.session.rows) == 6
        assert "(pinned)" in screen_text(app)


async def test_scorers_dialog_picks_what_runs(db, tui_env):
    seed(db, variants=TWO)
    client = FakeClient(echo)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_grid(pilot, client)
        assert screen.scorer_names == ["Levenshtein", "ExactMatch"]
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, ScorersScreen), "the scorers")
        await pilot.press("space")  # untick Levenshtein (the first)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.scorer_names == ["ExactMatch"], "ExactMatch only")
        await run_and_wait(pilot, screen)
        assert all(set(c.scores) == {"ExactMatch"} for c in screen.session.cells.values())
    # the choice is kept with the playground: a later session (anyone's) starts with it
    store = Store(db)
    try:
        assert get_playground(store, "default", screen.pg_name).settings["scorers"] == ["ExactMatch"]
    finally:
        store.close()


def test_params_parse():
    assert parse_params("temperature=0.2, max_tokens=200 stop=END") == {"temperature": 0.2, "max_tokens": 200,
                                                                      "stop": "END"}
    with pytest.raises(ValueError):
        parse_params("temperature")


# --- 80x24 ------------------------------------------------------------------------------------------------

async def test_80x24_shows_status_glyphs_and_scores(db, tui_env):
    seed(db, variants=TWO)
    app = make_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_grid(pilot)
        hand_cells(screen)
        screen._refresh_all()
        await pilot.pause()
        text = screen_text(app)
        lines = text.splitlines()
        assert len(lines) == 24 and all(len(line) <= 80 for line in lines)
        assert "✓ 50%" in text and "✗" in text and "≠ 20%▼30" in text
        assert "Run all" in lines[-1] and "Help" in lines[-1]


# --- through the real model client: the offline model, a local OpenAI-compatible server ------------------

def support_rows(n: int = 6) -> list[dict]:
    """Questions of the demo corpus (the project's logs, what the offline model answers from):
    each record's input is ``{"question": the customer's message}``, its expected the answer."""
    from tui_fixtures import sample_roots

    out = []
    for r in sample_roots():
        inp, outp = r.get("input"), r.get("output")
        if isinstance(inp, dict) and isinstance(inp.get("message"), str) and isinstance(outp, dict):
            out.append({"id": f"s{len(out)}", "input": {"question": inp["message"]},
                        "expected": outp.get("answer")})
        if len(out) == n:
            break
    assert len(out) == n
    return out


async def test_offline_model_run_needs_no_litellm(demo_db, tui_env, monkeypatch):
    import engine.llm as llm
    from engine.offline import OfflineModel

    def no_litellm():
        raise AssertionError("the offline model imported litellm")

    import tui.screens.playground as pgmod

    monkeypatch.setattr(pgmod, "RUN_IN_PROCESS", False)  # this test checks the in-process client
    monkeypatch.setattr(llm, "_litellm", no_litellm)
    warmed = []
    monkeypatch.setattr(llm.LLMClient, "warm_up", lambda self: warmed.append(1))
    rows = support_rows()
    seed(demo_db, variants=TWO, rows=rows)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_grid(pilot)  # no client given: the screen's own LLMClient with OfflineModel
        await run_and_wait(pilot, screen)
        assert screen.state == "done" and warmed == [] and not screen._litellm_ready
        assert isinstance(screen.client, llm.LLMClient) and isinstance(screen.client.offline, OfflineModel)
        assert all(c.status == DONE and c.output for c in screen.session.cells.values())
        offline = OfflineModel(Store(demo_db), "default")
        for r in rows[:3]:
            want = offline.answer([{"role": "user", "content": r["input"]["question"]}])
            assert screen.session.cell("A", r["id"]).output == want
        assert all("Levenshtein" in c.scores for c in screen.session.cells.values())
        assert "✓" in screen_text(app)


async def test_server_errors_after_retries_and_a_429_retried(db, tui_env, monkeypatch):
    from llm_server import FakeLLMServer

    from engine.llm import LLMClient

    monkeypatch.setenv("PG_TEST_KEY", "sk-test-not-real")
    with FakeLLMServer() as server:
        server.fail_when(lambda body: "500" if body.get("model") == "bad-model" else None)
        server.script("429")  # the first request is rate limited, then answered
        store = Store(db)
        add_model(store, "good", "openai/good-model", api_base=server.base_url, key_env="PG_TEST_KEY")
        add_model(store, "bad", "openai/bad-model", api_base=server.base_url, key_env="PG_TEST_KEY")
        store.close()
        seed(db, variants=[{"id": "A", "prompt": "bot@1", "model": "good"},
                           {"id": "B", "prompt": "bot@1", "model": "bad"}])
        client = LLMClient(concurrency=20, max_retries=1, backoff=0.01)
        app = make_app(db)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_grid(pilot, client)
            states = []
            orig = screen._update_title
            monkeypatch.setattr(screen, "_update_title", lambda: (states.append(screen.state), orig())[1])
            await pilot.press("r")
            await wait_for(pilot, lambda: screen.state == "done", "the run to end", timeout=60)
            assert "model client" in states and screen._litellm_ready  # litellm loaded first, in a thread
            assert all(c.status == DONE and c.output == f"echo: question {c.record[1:]}"
                       for c in cells_of(screen, "A"))
            assert all(c.status == ERROR and "500" in c.error for c in cells_of(screen, "B"))
            assert sum(1 for r in server.requests if r.get("model") == "bad-model") == 12  # each tried twice
            assert "6 errors" in screen_text(app)
            # F runs only B's 6 cells again
            server.fail_when(None)
            before = len(server.requests)
            await run_and_wait(pilot, screen, "F")
            assert len(server.requests) - before == 6
            assert all(c.status == DONE for c in screen.session.cells.values())


async def test_real_runs_go_to_worker_processes_and_cancel_there(db, tui_env, monkeypatch):
    """No client given: the run goes to engine.run_process workers (their own interpreter, so
    litellm's CPU is not the screen's); cells stream back, the traces are stored by the worker,
    a re-run of the failed cells and a cancel work across the process boundary."""
    from llm_server import FakeLLMServer

    import tui.screens.playground as pgmod

    monkeypatch.setattr(pgmod, "RUN_PROCESSES", 2)
    monkeypatch.setattr(pgmod, "SPLIT_FROM", 4)  # 12 cells: split over both workers
    monkeypatch.setenv("PG_TEST_KEY", "sk-test-not-real")
    with FakeLLMServer() as server:
        server.fail_when(lambda body: "500" if "question 3" in str(body["messages"]) else None)
        store = Store(db)
        add_model(store, "good", "openai/good-model", api_base=server.base_url, key_env="PG_TEST_KEY")
        store.close()
        seed(db, variants=[{"id": "A", "prompt": "bot@1", "model": "good"},
                           {"id": "B", "prompt": "bot@1", "model": "offline"}])
        app = make_app(db)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_grid(pilot)
            assert screen.run_in_process and screen.client is None
            await pilot.press("r")
            await wait_for(pilot, lambda: screen.state == "done", "the run to end", timeout=90)
            assert len(screen.runners) == 2 and screen.run_wall is not None
            a = sorted(cells_of(screen, "A"), key=lambda c: c.record)
            assert [c.status for c in a] == [DONE, DONE, DONE, ERROR, DONE, DONE]
            assert a[0].output == "echo: question 0" and "500" in a[3].error
            assert all(c.status == DONE for c in cells_of(screen, "B"))
            stored = stored_cells(db)
            assert len(stored) == 12 and {c.id for c in stored} == {c.row_id for c in screen.session.cells.values()}
            server.fail_when(None)
            before = len(server.requests)
            await run_and_wait(pilot, screen, "F")
            assert len(server.requests) - before == 1
            assert sorted(cells_of(screen, "A"), key=lambda c: c.record)[3].status == DONE
            # cancel: every model call is slow now; x stops the run in the workers
            server.fail_when(lambda body: {"sleep": 5})
            await pilot.press("r")
            await wait_for(pilot, lambda: screen.state == "running" and server.in_flight > 0, "calls in flight",
                           timeout=60)
            await pilot.press("x")
            await wait_for(pilot, lambda: screen.state == "cancelled", "the cancel", timeout=30)
            assert any(c.status == "cancelled" for c in cells_of(screen, "A"))


async def test_every_key_has_an_id_and_help_lists_them(db, tui_env):
    from textual.binding import Binding

    from tui.app import _HELP_SKIP_ACTIONS
    from tui.screens.dialogs import HelpScreen

    seed(db, variants=TWO)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("Y")
        await wait_for(pilot, lambda: isinstance(app.screen, PlaygroundsScreen) and app.screen.table.rows, "the list")
        for screen_type in (PlaygroundsScreen, PlaygroundScreen):
            if screen_type is PlaygroundScreen:
                await pilot.press("enter")
                await wait_for(pilot, lambda: isinstance(app.screen, PlaygroundScreen) and app.screen.session,
                               "the grid")
            missing = [f"{type(a.node).__name__}:{k}" for k, a in app.screen.active_bindings.items()
                       if isinstance(a.binding, Binding) and a.binding.description and not a.binding.id
                       and a.node is not app and type(a.node).__name__ not in ("VerticalScroll",)
                       and a.binding.action not in _HELP_SKIP_ACTIONS]
            assert missing == []
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        text = static_text(app.screen.query_one("#help-text"), width=110)
        for needle in ("Run all", "playground.run_all", "Run row", "Run variant", "Re-run failed", "Cancel run",
                       "Mode", "Add variant", "Edit variant", "Remove variant", "Make base", "Open trace",
                       "Save as experiments", "Scorers", "Dataset version", "Variant left", "⊘ cancelled"):
            assert needle in text, needle


async def test_focus_record_puts_the_cursor_on_it_even_deep_in_the_rows(db, tui_env):
    rows = [{"id": f"r{i:03d}", "input": {"question": f"question {i}"}, "expected": f"answer {i}"} for i in range(150)]
    seed(db, variants=TWO, rows=rows)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_grid(pilot, focus_record="r120")
        await wait_for(pilot, lambda: screen.table.cursor_id() == "r120", "the cursor on r120")
        await wait_for(pilot, lambda: screen._detail_row == "r120", "its detail")
        assert "question 120" in screen_text(app)
        await pilot.press("k")
        await wait_for(pilot, lambda: screen.table.cursor_id() == "r119", "the row above")
