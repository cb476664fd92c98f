"""Screens plug in: a screen registers itself and brings its palette commands, batch actions
and help, without the app or the other screens knowing it."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from tui.registry import SCREENS, BatchAction, BtScreen, Command, register_screen
from tui.screens.dialogs import HelpScreen, MenuScreen
from tui.screens.logs import LogsScreen
from tui_fixtures import (  # noqa: F401  (fixtures)
    SIZE,
    demo_db,
    demo_db_template,
    make_app,
    quick_pilot,
    static_text,
    tui_env,
    wait_for,
    wait_rows,
)

ran: list = []


class DummyScreen(BtScreen):
    HELP = "Dummy: a screen the app has never heard of."
    batch_actions = [BatchAction("poke", "Poke them", lambda screen, sel, desc: ran.append((sel, desc)))]

    def compose(self):
        yield Static("dummy screen", id="dummy")

    def describe_selection(self):
        return "the dummy rows", ("sel",)

    def palette_commands(self) -> list[Command]:
        return [Command("Dummy: say hi", lambda: ran.append("hi"), "a dummy command")] + self.batch_commands()


@pytest.fixture
def dummy():
    register_screen("dummy", "Dummy", DummyScreen)
    ran.clear()
    yield
    SCREENS.pop("dummy", None)


def palette_titles(app) -> list[str]:
    """The titles the command palette offers now (its provider, with ``app`` as its app)."""
    from tui.app import BtCommands

    return [t for t, _, _ in BtCommands._commands(type("Provider", (), {"app": app})())]


async def test_a_registered_screen_plugs_in(dummy, demo_db, tui_env):
    assert SCREENS["logs"].factory is LogsScreen  # tui/screens/logs.py registered itself
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        titles = palette_titles(app)
        assert "Go to Logs" in titles and "Go to Dummy" in titles
        assert "Dummy: say hi" not in titles  # its commands come with the screen
        app.switch_to("dummy")
        await wait_for(pilot, lambda: isinstance(app.screen, DummyScreen), "the dummy screen")
        assert len(app.screen_stack) == 2  # top-level screens replace each other
        titles = palette_titles(app)
        assert "Dummy: say hi" in titles and "Poke them (selection)" in titles
        assert "Toggle traces / spans" not in titles  # the Logs screen is gone, and its commands
        app.screen.action_batch()
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the batch menu")
        assert app.screen.title_text == "Batch action on the dummy rows" and app.screen.items == [("poke", "Poke them")]
        await pilot.press("1")
        await wait_for(pilot, lambda: ran, "the batch action")
        assert ran == [(("sel",), "the dummy rows")]
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        assert "Dummy: a screen the app has never heard of." in static_text(app.screen.query_one("#help-text"))
