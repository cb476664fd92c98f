"""How screens plug in: a top-level screen registers itself (``register_screen``) from its own
module in tui/screens/, and every screen says what it adds to the app through ``BtScreen``:
its palette commands, its batch actions, its help. The app knows no screen's internals."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, ClassVar, Optional

from textual.screen import Screen

from tui.messages import ExpectedRead, ScoreNamesRead, WorkFailed, WriteDone
from tui.screens.dialogs import MenuScreen


@dataclass(frozen=True)
class Command:
    """A command palette entry."""

    title: str
    run: Callable[[], Any]
    help: str = ""


@dataclass(frozen=True)
class BatchAction:
    """An action on a screen's selection (marked rows, all matching, or the current row):
    ``run(screen, selection, description)``. Listed in the screen's batch menu and, as
    ``palette`` (default "LABEL (selection)"), in the command palette."""

    key: str
    label: str
    run: Callable[[Any, Any, str], None]
    palette: str = ""
    help: str = "marked rows, or the current row"


@dataclass(frozen=True)
class ScreenEntry:
    name: str
    title: str
    factory: Callable[[], Screen]
    key: Optional[str] = None  # the key that opens it from anywhere


SCREENS: dict[str, ScreenEntry] = {}


def register_screen(name: str, title: str, factory: Callable[[], Screen], *, key: Optional[str] = None) -> None:
    """A top-level screen: listed in the palette ("Go to TITLE"), opened by ``key`` if given."""
    SCREENS[name] = ScreenEntry(name, title, factory, key)


def load_screens() -> None:
    """Import every module of tui/screens/: each registers what it has."""
    import tui.screens

    for mod in pkgutil.iter_modules(tui.screens.__path__):
        importlib.import_module(f"tui.screens.{mod.name}")


class BtScreen(Screen):
    """A screen of the app. ``HELP`` leads its help page; ``palette_commands()`` are offered
    in the command palette while the screen is open (on top or below a detail screen);
    ``batch_actions`` act on what ``describe_selection()`` returns (the batch menu and the
    palette list them). Workers report with ``WriteDone``/``WorkFailed``."""

    HELP: ClassVar[str] = ""
    batch_actions: ClassVar[list[BatchAction]] = []

    @property
    def store(self):
        return self.app.store

    def palette_commands(self) -> list[Command]:
        return []

    def describe_selection(self) -> tuple[str, Any]:
        """(what the user calls it, e.g. "3 marked traces"; the ``store.selection.Selection``)."""
        raise NotImplementedError

    def action_batch(self) -> None:
        desc, _ = self.describe_selection()

        def picked(key: Optional[str]) -> None:
            if key:
                self.run_batch(key)

        self.app.push_screen(MenuScreen(f"Batch action on {desc}", [(a.key, a.label) for a in self.batch_actions]),
                             picked)

    def run_batch(self, key: str) -> None:
        """One batch action on the selection (the menu's and the palette's way in)."""
        desc, sel = self.describe_selection()
        next(a for a in self.batch_actions if a.key == key).run(self, sel, desc)

    def batch_commands(self) -> list[Command]:
        """The batch actions as palette commands."""
        return [Command(a.palette or f"{a.label} (selection)", partial(self.run_batch, a.key), a.help)
                for a in self.batch_actions]

    def on_write_done(self, event: WriteDone) -> None:
        # One handler (Textual also runs a base class's handler of a message): screens
        # react to a write in ``after_write``.
        self.notify(event.message)
        self.after_write(event)

    def after_write(self, event: WriteDone) -> None:
        """A write reported by a worker, after its notice (e.g. read the rows again)."""

    def on_work_failed(self, event: WorkFailed) -> None:
        self.notify(event.message, severity="error")

    # Reads that open an editor on a row (tui.actions: read_expected, read_score_names).
    def on_expected_read(self, event: ExpectedRead) -> None:
        from tui.actions import edit_expected

        edit_expected(self, event)

    def on_score_names_read(self, event: ScoreNamesRead) -> None:
        from tui.actions import ask_score

        ask_score(self, event)
