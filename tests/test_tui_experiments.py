"""Pilot tests of the Experiments screen (X) and the compare screen: the list with its
sparklines, enter against the previous experiment, the score strip's hand-checked figures, the
modes ("regressed on X"), sort worst first, the side-by-side detail, the base and candidate
traces, rows sent to a dataset and to review, trials' spread, the footers at 80x24 and 120x40,
and the empty state. The experiments are built here with the store API, with known scores."""

from __future__ import annotations

import pytest

from store import Store
from store.compare import bootstrap_interval
from store.datasets import iter_records
from store.experiments import create_experiment, finish_experiment, get_experiment
from store.review import add_score_config, list_score_configs, make_config, queue_items
from store.spans import log_spans
from tui.format import fmt_signed_pct, sparkline
from tui.screens.add_to_dataset import AddToDatasetScreen
from tui.screens.dialogs import MenuScreen
from tui.screens.experiment_compare import ExperimentCompareScreen
from tui.screens.experiments import ExperimentsScreen
from tui.screens.trace import TraceScreen
from tui.widgets.keybar import KeyBar
from tui_fixtures import (  # noqa: F401  (fixtures)
    make_app,
    notifications,
    paste,
    quick_pilot,
    render_plain,
    screen_text,
    settle,
    static_text,
    tui_env,
    wait_for,
)

SIZE = (120, 40)

# Six cases matched by input, one only in the base (qb), one only in the candidate (qc).
INPUTS = ["q0", "q1", "q2", "q3", "q4", "q5"]
E0_ACC = [0, 0, 0, 0, 0, 0]  # an older experiment on the same data (not the default base of e2)
E1_ACC = [1, 1, 0, 1, 0.5, 1]  # 4.5 / 6 = 75.0% (+ qb's 1: 5.5 / 7 = 78.6%)
E2_ACC = [1, 0, 1, 0, 0.5, 1]  # 3.5 / 6 (+ qc's 0: 3.5 / 7 = 50.0%)
E1_LEV = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
E2_LEV = [0.6, 0.5, 0.4, 0.5, 0.5, 0.2]
E1_OUT = ["same", "the answer is four", "x", "y", "z", "w"]
E2_OUT = ["same", "the answer is five", "x2", "y", "z", "w"]


def exp_rows(tag: str, accs, levs, outs, extra: list = ()) -> list[dict]:
    rows = []
    for i, (inp, acc, lev, out) in enumerate(zip(INPUTS, accs, levs, outs)):
        rid = f"{tag}-{i}"
        rows.append({"id": rid, "span_id": rid, "root_span_id": rid, "input": inp, "output": out,
                     "expected": f"expected {inp}", "scores": {"acc": acc, "lev": lev},
                     "created": f"2030-01-01T00:00:0{i}Z", "span_attributes": {"name": "eval", "type": "eval"}})
        rows.append({"id": f"{rid}-task", "span_id": f"{rid}-task", "root_span_id": rid, "span_parents": [rid],
                     "input": inp, "output": out, "created": f"2030-01-01T00:00:0{i}Z",
                     "span_attributes": {"name": "task", "type": "task"}})
    return rows + list(extra)


def extra_row(rid: str, inp: str, acc: float, lev: float, out: str = "only", error=None, second: int = 8) -> dict:
    return {"id": rid, "span_id": rid, "root_span_id": rid, "input": inp, "output": out, "expected": "e",
            "scores": {"acc": acc, "lev": lev}, "error": error, "created": f"2030-01-01T00:00:{second:02d}Z",
            "span_attributes": {"name": "eval", "type": "eval"}}


def seed(path) -> dict:
    """e0, e1, e2 (in that order) over the same inline data; e2's default base is e1."""
    store = Store(path)
    try:
        log_spans(store, "default", [{"id": "log-1", "span_id": "log-1", "root_span_id": "log-1", "input": "hi"}])
        add_score_config(store, "default", make_config("tone", "continuous"))
        infos = {}
        for name, accs, levs, outs, extra in (
                ("e0", E0_ACC, E1_LEV, E1_OUT, []),
                ("e1", E1_ACC, E1_LEV, E1_OUT, [extra_row("e1-b", "qb", 1, 0.5)]),
                ("e2", E2_ACC, E2_LEV, E2_OUT, [extra_row("e2-c", "qc", 0, 0.5, error="boom")])):
            e = create_experiment(store, "default", name, model="offline", prompt_slug="bot", prompt_version=1)
            log_spans(store, e.rows_project, exp_rows(name, accs, levs, outs, extra))
            finish_experiment(store, e)
            infos[name] = get_experiment(store, "default", name)
        return infos
    finally:
        store.close()


@pytest.fixture
def ex_db(tmp_path):
    path = tmp_path / "ex.db"
    infos = seed(path)
    return path, infos


async def open_list(pilot) -> ExperimentsScreen:
    app = pilot.app
    await pilot.pause()
    await pilot.press("X")
    await wait_for(pilot, lambda: isinstance(app.screen, ExperimentsScreen), "the Experiments screen")
    screen = app.screen
    await wait_for(pilot, lambda: screen.loaded and screen.table.rows, "experiments listed")
    await settle(pilot)
    return screen


async def open_compare(pilot) -> ExperimentCompareScreen:
    """X, then enter on the newest experiment (e2)."""
    app = pilot.app
    await open_list(pilot)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, ExperimentCompareScreen), "the compare screen")
    screen = app.screen
    await wait_for(pilot, lambda: screen.comp is not None and screen.table.rows and not screen.computing,
                   "the comparison and its intervals")
    await settle(pilot)
    return screen


def keys_of(app) -> str:
    return app.screen.query_one(KeyBar)._text.plain


def shown_inputs(screen) -> list:
    return [r.input for r in screen.table.rows]


# --- the list ------------------------------------------------------------------------------------

def test_sparkline_scale():
    assert sparkline([0.0, 0.5, 1.0]) == "▁▅█"
    assert sparkline([0.2, None, 0.2]) == "▄ ▄"  # all equal: the middle
    assert sparkline([0.75, 0.5], 0.0, 1.0) == "▆▅"
    assert fmt_signed_pct(-0.1667) == "-16.7%" and fmt_signed_pct(0.0) == "0.0%"


async def test_list_shows_experiments_newest_first_with_sparklines(ex_db, tui_env):
    path, infos = ex_db
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_list(pilot)
        assert [e.name for e in screen.table.rows] == ["e2", "e1", "e0"]
        text = screen_text(app)
        strip = static_text(screen.query_one("#ex-strip"))
        # acc averages oldest -> newest: 0%, 78.6% (5.5/7), 50.0% (3.5/7)
        accs = [0.0, 5.5 / 7, 3.5 / 7]
        assert f"acc {sparkline(accs)} 50.0% (-28.6%)" in strip
        assert sparkline(accs) == "▁█▅"
        assert "lev" in strip and "across 3 experiments, oldest → newest" in strip
        row_e2 = next(line for line in text.splitlines() if " e2 " in line)
        assert "50.0%" in row_e2 and " 7 " in row_e2  # acc average, rows
        assert " 1 " in row_e2  # one error (qc)
        await pilot.press("o")  # the first trace of e2
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen) and app.screen.span is not None, "trace")
        assert (app.screen.root_span_id, app.screen.project) == ("e2-0", infos["e2"].rows_project)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, "back to the list")


async def test_empty_project_says_how_to_make_experiments(tmp_path, tui_env):
    path = tmp_path / "empty.db"
    store = Store(path)
    log_spans(store, "default", [{"id": "a", "span_id": "a", "root_span_id": "a", "input": "hi"}])
    store.close()
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("X")
        await wait_for(pilot, lambda: isinstance(app.screen, ExperimentsScreen) and app.screen.loaded, "the list")
        await settle(pilot)
        empty = app.screen.query_one("#empty")
        assert empty.display and not app.screen.table.display
        text = static_text(empty)
        assert "No experiments in project 'default' yet." in text
        for how in ("bt-tui eval FILE.py", "bt-tui run --dataset NAME --prompt SLUG", "r then S"):
            assert how in text


async def test_filter_names_and_compare_two_marked(ex_db, tui_env):
    path, _ = ex_db
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_list(pilot)
        await pilot.press("slash")
        await paste(pilot, "e0")
        await pilot.press("enter")
        await wait_for(pilot, lambda: [e.name for e in screen.table.rows] == ["e0"], "filtered to e0")
        await pilot.press("escape")  # clears the filter
        await wait_for(pilot, lambda: len(screen.table.rows) == 3, "all three again")
        await pilot.press("c")
        assert any("mark two experiments" in n for n in notifications(app))
        assert screen.table.current_row().name == "e0"  # the cursor stayed on its row
        await pilot.press("g")
        await wait_for(pilot, lambda: screen.table.cursor_row == 0, "the first row")
        await pilot.press("space", "j", "space")  # e2, then (the cursor moved down) e0
        await wait_for(pilot, lambda: screen.table.cursor_row == 2, "cursor on e0")
        assert screen.table.marked == {"e2", "e0"}
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ExperimentCompareScreen) and app.screen.comp, "compare")
        assert (app.screen.comp.base.name, app.screen.comp.candidate.name) == ("e0", "e2")  # the older is the base


# --- the comparison --------------------------------------------------------------------------------

async def test_enter_compares_with_the_previous_experiment_and_the_strip_is_hand_checkable(ex_db, tui_env):
    path, _ = ex_db
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(pilot)
        assert (screen.comp.base.name, screen.comp.candidate.name) == ("e1", "e2")  # not e0
        head = static_text(screen.query_one("#cmp-head"))
        assert "base      e1" in head and "candidate e2" in head
        assert "6 matched by input · 1 only in base · 1 only in candidate" in head
        strip = static_text(screen.query_one("#cmp-scores"))
        acc = next(" ".join(line.split()) for line in strip.splitlines() if line.startswith("acc"))
        # e1: 5.5/7 = 78.6%, e2: 3.5/7 = 50.0%; matched deltas 0, -1, +1, -1, 0, 0: 1 up, 2 down
        low, high = bootstrap_interval([0, -1, 1, -1, 0, 0])
        assert "78.6% → 50.0% -28.6%" in acc
        assert f"[{fmt_signed_pct(low)}, {fmt_signed_pct(high)}]" in acc
        assert "could be noise" in acc and "▲1 ▼2" in acc
        lev = next(" ".join(line.split()) for line in strip.splitlines() if line.startswith("lev"))
        assert "▲1 ▼2" in lev  # +.1, -.1, -.3


async def test_mode_regressed_on_a_score_shows_exactly_the_regressed_rows(ex_db, tui_env):
    path, _ = ex_db
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(pilot)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the mode menu")
        labels = [label for _, label in app.screen.items]
        assert labels[:3] == ["all rows (8) ✓", "regressed on acc (2)", "regressed on lev (2)"]
        assert "only in base (1)" in labels and "only in candidate (1)" in labels and "errors (1)" in labels
        await pilot.press("2")  # two keys: regressed on acc
        await wait_for(pilot, lambda: screen.mode == ("regressed", "acc") and len(screen.table.rows) == 2, "mode")
        assert shown_inputs(screen) == ["q1", "q3"]
        assert "showing regressed on acc (2 of 8 rows)" in static_text(screen.query_one("#cmp-mode"))
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the mode menu")
        await pilot.press("6")  # changed output (all, 2 regressed, 2 improved, changed, ...)
        await wait_for(pilot, lambda: screen.mode == ("changed", None), "changed output")
        await wait_for(pilot, lambda: shown_inputs(screen) == ["q1", "q2"], "the rows whose output changed")


async def test_sort_by_delta_puts_the_worst_first(ex_db, tui_env):
    path, _ = ex_db
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the sort menu")
        assert [label for _, label in app.screen.items][:3] == ["row order ✓", "worst acc first", "worst lev first"]
        await pilot.press("3")
        await wait_for(pilot, lambda: screen.sort == ("worst", "lev") and screen.table.rows, "sorted")
        await settle(pilot)
        assert shown_inputs(screen)[:3] == ["q5", "q2", "q1"]  # -0.3, -0.1, then the unchanged in row order
        assert screen.table.cursor_row == 0
        row = screen.table.rows[0]
        assert screen.table.get_cell(row.key, "score:lev").plain == "▼30.0"


async def test_detail_shows_both_outputs_side_by_side(ex_db, tui_env):
    path, _ = ex_db
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(pilot)
        assert screen.detail_pane.display  # 40 lines: the pane shows from the start
        await pilot.press("j")
        await wait_for(pilot, lambda: "the answer is five" in static_text(screen.query_one("#cmp-detail-text")),
                       "the detail of q1")
        text = static_text(screen.query_one("#cmp-detail-text"))
        assert "the answer is four" in text and "the answer is five" in text
        assert "base: e1" in text and "candidate: e2" in text
        assert "expected q1" in text
        acc = next(" ".join(line.split()) for line in text.splitlines() if line.strip().startswith("acc"))
        assert "acc 100.0% → 0.0% ▼100" in acc


async def test_o_and_O_open_the_base_and_candidate_traces_and_escape_returns(ex_db, tui_env):
    path, infos = ex_db
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(pilot)
        await pilot.press("j")  # q1
        await wait_for(pilot, lambda: screen.table.cursor_row == 1, "q1")
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen) and app.screen.span is not None, "trace")
        assert (app.screen.root_span_id, app.screen.project) == ("e1-1", infos["e1"].rows_project)
        assert app.screen.span["output"] == "the answer is four"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, "back")
        assert screen.table.cursor_row == 1 and screen.table.current_row().input == "q1"
        await pilot.press("O")
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen) and app.screen.span is not None, "trace")
        assert (app.screen.root_span_id, app.screen.project) == ("e2-1", infos["e2"].rows_project)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, "back")
        assert screen.table.current_row().input == "q1"


async def test_a_sends_rows_to_a_dataset(ex_db, tui_env):
    path, infos = ex_db
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(pilot)
        await pilot.press("j", "space", "space")  # q1 and q2 marked
        assert len(screen.table.marked) == 2
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AddToDatasetScreen), "the dialog")
        assert app.screen.project == "default"  # datasets live in the app's project
        await paste(pilot, "from compare")
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("to 'from compare'" in n for n in notifications(app)), "the notice")
        await settle(pilot)
    store = Store(path)
    try:
        recs = list(iter_records(store, "default", "from compare"))
    finally:
        store.close()
    assert sorted(r.input for r in recs) == ["q1", "q2"]
    assert {r.expected for r in recs} == {"expected q1", "expected q2"}
    assert {r.origin["id"] for r in recs} == {"e2-1", "e2-2"}  # the candidate's rows
    assert {r.origin["object_type"] for r in recs} == {"experiment"}


async def test_f_flags_the_candidates_traces_and_the_experiments_screen_reviews_them(ex_db, tui_env):
    path, infos = ex_db
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await open_compare(pilot)
        await pilot.press("j", "f")  # q1
        await wait_for(pilot, lambda: any(n.startswith("flagged 1 trace of 'e2'") for n in notifications(app)),
                       "the notice")
        await settle(pilot)
        store = Store(path)
        try:
            assert [i.id for i in queue_items(store, infos["e2"].rows_project)] == ["e2-1"]
            # the reviewer scores them with the project's configurations
            assert [c.name for c in list_score_configs(store, infos["e2"].rows_project)] == ["tone"]
        finally:
            store.close()
        await pilot.press("escape")
        lst = app.screen
        assert isinstance(lst, ExperimentsScreen)
        await wait_for(pilot, lambda: lst.queues.get(infos["e2"].rows_project) == 1, "the review count")
        assert "1 flagged row to review (v)" in static_text(lst.query_one("#ex-status"))
        await pilot.press("v")  # the cursor is on e2
        from tui.screens.review import FocusedReviewScreen

        await wait_for(pilot, lambda: isinstance(app.screen, FocusedReviewScreen), "focused review")
        assert app.screen.project == infos["e2"].rows_project
        await wait_for(pilot, lambda: app.screen.item is not None, "the flagged item")
        assert app.screen.item.id == "e2-1"


async def test_pick_another_base(ex_db, tui_env):
    path, _ = ex_db
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(pilot)
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the pick")
        assert [k for k, _ in app.screen.items] == ["e1", "e0"]
        await pilot.press("2")
        await wait_for(pilot, lambda: screen.comp is not None and screen.comp.base.name == "e0", "compared with e0")


async def test_trials_show_their_spread(tmp_path, tui_env):
    path = tmp_path / "trials.db"
    store = Store(path)
    try:
        for name, rows in (("base", [extra_row("b0", "q0", 0.5, 0.5, second=1)]),
                           ("cand", [extra_row("c0", "q0", 0.4, 0.5, out="first try", second=1),
                                     extra_row("c1", "q0", 0.8, 0.5, out="second try", second=2)])):
            e = create_experiment(store, "default", name)
            log_spans(store, e.rows_project, rows)
            finish_experiment(store, e)
    finally:
        store.close()
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(pilot)
        row = screen.table.rows[0]
        assert row.candidate.trials == 2
        assert screen.table.get_cell(row.key, "score:acc").plain == "▲10.0 60% (40-80)"
        # the detail lists each trial's answer (the deltas compare the trials' means)
        from rich.console import Console

        from tui.screens.experiment_compare import detail_renderable

        console = Console(width=100, record=True, color_system=None)
        console.print(detail_renderable(screen.comp, row, 100))
        text = console.export_text()
        assert "candidate: 2 trials" in text and "1. first try" in text and "2. second try" in text


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_footers_keep_the_main_keys_whole(ex_db, tui_env, size):
    path, _ = ex_db
    app = make_app(path)
    async with app.run_test(size=size) as pilot:
        await open_list(pilot)
        keys = keys_of(app)
        for item in ("⏎ Compare", "c Compare marked", "q Quit", "? Help"):
            assert item in keys, f"{item!r} not in {keys!r}"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ExperimentCompareScreen) and app.screen.comp, "compare")
        await settle(pilot)
        keys = keys_of(app)
        for item in ("m Show", "s Sort", "o Base trace", "O Cand trace", "esc Back", "? Help"):
            assert item in keys, f"{item!r} not in {keys!r}"
        if size[0] >= 120:
            for item in ("a Dataset", "f Flag", "b Pick base", "n Pick cand"):
                assert item in keys, f"{item!r} not in {keys!r}"
        else:
            assert not app.screen.detail_pane.display  # 24 lines: enter shows the row instead
        lines = screen_text(app).splitlines()
        assert len(lines) == size[1] and all(len(line) == size[0] for line in lines)


async def test_the_demo_comparison_shows_its_regressions(run_cli, db_path, tui_env):
    """`bt-tui demo` (the real binary): X, enter on the 14-day fix compares it with the baseline;
    "regressed on Levenshtein" is two keys away and shows exactly the rows whose score fell."""
    res = run_cli("demo", "--no-launch")
    assert res.returncode == 0, res.stderr
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(pilot)
        assert (screen.comp.base.name, screen.comp.candidate.name) == ("support-bot@1 baseline",
                                                                        "support-bot@2 14-day fix")
        lev = screen.comp.score("Levenshtein")
        expected = [r.key for r in screen.comp.rows if (d := r.delta("Levenshtein")) is not None and d < 0]
        assert lev.regressions == len(expected) > 0
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the mode menu")
        digit = next(str(i + 1) for i, (_, label) in enumerate(app.screen.items)
                     if label.startswith("regressed on Levenshtein"))
        await pilot.press(digit)
        await wait_for(pilot, lambda: screen.mode == ("regressed", "Levenshtein"), "the mode")
        await wait_for(pilot, lambda: [r.key for r in screen.table.rows] == expected, "the regressed rows")
        strip = static_text(screen.query_one("#cmp-scores"))
        assert f"▼{lev.regressions}" in next(line for line in strip.splitlines() if line.startswith("Levenshtein"))
