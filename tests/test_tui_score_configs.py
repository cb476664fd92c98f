"""Score configurations in the TUI: S on the Review screen lists them; n adds each kind through
short questions (a bad option list is refused where it is typed); x removes one. The database
has what was typed, in the shape `bt-tui scores list` shows."""

from __future__ import annotations

from store import Store
from store.review import add_score_config, list_score_configs, make_config
from tui.app import BtTuiApp
from tui.screens.dialogs import MenuScreen, PromptScreen
from tui.screens.review_queue import ReviewQueueScreen
from tui.screens.score_configs import ScoreConfigsScreen
from tui_fixtures import quick_pilot, settle, tui_env, wait_for  # noqa: F401  (fixtures)
from helpers import make_traces, write_jsonl


def seed(path) -> None:
    from store.jsonl import import_jsonl

    store = Store(path)
    with open(write_jsonl(path.parent / "t.jsonl", make_traces(2)), "rb") as f:
        import_jsonl(store, "default", f, label="t")
    add_score_config(store, "default", make_config("helpfulness", "continuous"), author="s")
    store.close()


def configs(path) -> list[dict]:
    store = Store(path)
    try:
        return [c.to_json() | {"multi": c.multi, "path": c.path} for c in list_score_configs(store, "default")]
    finally:
        store.close()


async def answer(pilot, kind, text=None, key=None) -> None:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, kind), kind.__name__)
    await settle(pilot)
    if text is not None:
        for ch in text:
            await pilot.press(ch if ch != " " else "space")
        await pilot.press("enter")
    if key is not None:
        await pilot.press(key)
    await settle(pilot)


async def test_add_each_kind_and_remove_from_the_review_screen(tmp_path, tui_env):
    db = tmp_path / "s.db"
    seed(db)
    app = BtTuiApp(str(db), "default")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: len(app.screen_stack) > 1, "the first screen")
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, ReviewQueueScreen), "the Review screen")
        await pilot.press("S")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, ScoreConfigsScreen) and app.screen, "scores")
        await wait_for(pilot, lambda: screen.table.row_count == 1, "the one configuration")
        # a categorical score: a bad option list is refused in place, then fixed
        await pilot.press("n")
        await answer(pilot, PromptScreen, "tone")
        await answer(pilot, MenuScreen, key="1")  # categorical
        await answer(pilot, PromptScreen, "friendly=1, rude=2")
        assert isinstance(app.screen, PromptScreen)  # refused: the value must be in [0, 1]
        hint = str(app.screen.query_one(".dialog-hint").render())
        assert "rude" in hint and "[0, 1]" in hint
        for _ in "friendly=1, rude=2":
            await pilot.press("backspace")
        await answer(pilot, PromptScreen, "friendly=1, neutral=0.5, curt=0")
        await answer(pilot, MenuScreen, key="1")  # a score
        await answer(pilot, PromptScreen, "how it sounds")
        await wait_for(pilot, lambda: screen.table.row_count == 2, "the new score listed")
        # a text score under another metadata key
        await pilot.press("n")
        await answer(pilot, PromptScreen, "note")
        await answer(pilot, MenuScreen, key="4")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), "the key question")
        for _ in "note":
            await pilot.press("backspace")
        await answer(pilot, PromptScreen, "review_note")
        await answer(pilot, PromptScreen, "")
        await wait_for(pilot, lambda: screen.table.row_count == 3, "the text score listed")
        # a name in use is refused
        await pilot.press("n")
        await answer(pilot, PromptScreen, "tone")
        assert isinstance(app.screen, PromptScreen) and "already" in str(app.screen.query_one(".dialog-hint").render())
        await pilot.press("escape")
        await settle(pilot)
        # x removes the current one (the first: helpfulness), after asking
        await pilot.press("g", "x")
        await answer(pilot, MenuScreen, key="2")
        await wait_for(pilot, lambda: screen.table.row_count == 2, "one removed")
    assert configs(db) == [
        {"name": "tone", "type": "categorical",
         "options": [{"label": "friendly", "value": 1.0}, {"label": "neutral", "value": 0.5},
                     {"label": "curt", "value": 0.0}],
         "to_expected": False, "description": "how it sounds", "multi": False, "path": None},
        {"name": "note", "type": "text", "options": [], "to_expected": False, "description": "", "multi": False,
         "path": "review_note"},
    ]
