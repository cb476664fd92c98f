"""How screens plug in: a top-level screen registers itself (``register_screen``) from its own
module in tui/screens/, and every screen says what it adds to the app through ``BtScreen``:
its palette commands, its batch actions, its help. The app knows no screen's internals."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Optional

from textual.screen import Screen

from tui.messages import WorkFailed, WriteDone


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
    ``batch_actions`` act on its selection. Workers report with ``WriteDone``/``WorkFailed``."""

    HELP: ClassVar[str] = ""
    batch_actions: ClassVar[list[BatchAction]] = []

    @property
    def store(self):
        return self.app.store

    def palette_commands(self) -> list[Command]:
        return []

    def on_write_done(self, event: WriteDone) -> None:
        self.notify(event.message)

    def on_work_failed(self, event: WorkFailed) -> None:
        self.notify(event.message, severity="error")
