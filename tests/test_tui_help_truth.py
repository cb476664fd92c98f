"""Help and the palette say only what exists: no screen or feature promised before it is
there (experiments), no vague "and more". (Datasets, review, prompts and the playground exist.)"""

from __future__ import annotations

import re


from tui.screens.dialogs import HelpScreen
from tui.screens.trace import TraceScreen
from tui_fixtures import (  # noqa: F401  (fixtures)
    SIZE,
    demo_db,
    demo_db_template,
    make_app,
    quick_pilot,
    settle,
    static_text,
    tui_env,
    wait_for,
    wait_rows,
)

NOT_YET = re.compile(r"\b(and more|coming soon|not yet)\b", re.I)


def palette_texts(app) -> list[str]:
    from tui.app import BtCommands

    provider = BtCommands(app.screen)
    return [f"{title} {help_}" for title, _, help_ in provider._commands()]


async def test_help_and_palette_promise_nothing_that_does_not_exist(demo_db, tui_env):
    app = make_app(demo_db)
    async with app.run_test(size=(100, 50)) as pilot:
        await wait_rows(pilot)
        texts = palette_texts(app)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        texts.append(static_text(app.screen.query_one("#help-text"), width=70))
        await pilot.press("escape", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen) and app.screen.span is not None, "a trace")
        await settle(pilot)
        texts += palette_texts(app)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        texts.append(static_text(app.screen.query_one("#help-text"), width=70))
    for text in texts:
        found = NOT_YET.search(text)
        assert found is None, f"{found.group(0)!r} in {text!r}"


async def test_help_lines_keep_key_description_and_id_together(demo_db, tui_env):
    """A long description does not push every id onto a line of its own."""
    app = make_app(demo_db)
    async with app.run_test(size=(100, 50)) as pilot:
        await wait_rows(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        text = static_text(app.screen.query_one("#help-text"), width=66)
        for line in text.splitlines():
            assert not re.fullmatch(r"\s*app\.\w+\s*", line), f"an id alone on a line: {line!r}"


async def test_every_binding_help_lists_has_an_id(demo_db, tui_env):
    """Every key a screen offers (the screen's, the table's, the tree's) has an id the keymap
    can name; help shows it. Textual's inherited scroll keys were listed without one."""
    from textual.binding import Binding

    from tui.app import _HELP_SKIP_ACTIONS

    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        for _ in range(2):  # the Logs screen, then a trace
            missing = [f"{type(a.node).__name__}:{k}" for k, a in app.screen.active_bindings.items()
                       if isinstance(a.binding, Binding) and a.binding.description and not a.binding.id
                       and a.node is not app and type(a.node).__name__ not in ("VerticalScroll", "Input")
                       and a.binding.description != "palette" and a.binding.action not in _HELP_SKIP_ACTIONS]
            assert missing == [], missing
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen), "the trace screen")
            await settle(pilot)
