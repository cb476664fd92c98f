"""Editing keys act where they were typed, even when keys arrive in one burst (SSH, a paste
after ctrl+u): Textual ran an Input's bindings after the keys queued behind them, so
`ctrl+u eps` typed fast inserted "eps" and then cleared the line."""

from __future__ import annotations

from textual import events
from textual.app import App

from tui.widgets.line_input import LineInput
from tui_fixtures import (  # noqa: F401  (fixtures)
    SIZE,
    demo_db,
    demo_db_template,
    make_app,
    quick_pilot,
    tui_env,
    wait_for,
    wait_rows,
)


def burst(target, keys) -> None:
    """Queue every key at once, as a terminal delivers a fast burst."""
    for key in keys:
        target.post_message(events.Key(key, key if len(key) == 1 else None))


async def test_editing_keys_in_a_burst_act_in_order():
    class One(App):
        def compose(self):
            yield LineInput("production, vip")

    app = One()
    async with app.run_test() as pilot:
        line = app.query_one(LineInput)
        line.focus()
        await pilot.pause()
        line.cursor_position = len(line.value)
        burst(app, ["ctrl+u", "e", "p", "s", "backspace", "x", "home", "a", "end", "b"])
        await pilot.pause(0.2)
        assert line.value == "aepxb"


async def test_a_tag_edit_typed_in_one_burst_is_saved_whole(demo_db, tui_env):
    from store.export import get_span

    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        row = screen.current_row()
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.focused, LineInput), "the tag editor")
        burst(app, ["ctrl+u", *"alpha, beta", "enter"])
        await wait_for(pilot, lambda: get_span(app.store, "default", row.id)["tags"] == ["alpha", "beta"],
                       "the tags typed in the burst")
