"""The Textual application shell: help, command palette, project switcher, theme (remembered
between runs), keymap from the config file. Screens plug in through tui.registry: the app
knows their names and titles, never their internals."""

from __future__ import annotations

import gc
import sys
from functools import partial
from typing import Callable, Optional

from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from store import Store
from store.audit import default_author
from store.projects import list_projects
from tui import config
from tui.registry import SCREENS, BtScreen, load_screens
from tui.screens.dialogs import HelpScreen, MenuScreen

load_screens()  # every module of tui/screens/ registers its screens

HOME = "logs"  # the screen the app opens on (and a project switch returns to)
SWITCH_INTERVAL_S = 0.0005


class BtCommands(Provider):
    """Domain commands for the palette (ctrl+p): the registered screens, the projects, and the
    commands of every screen open (a detail screen's and the one below it)."""

    def _commands(self) -> list[tuple[str, Callable, str]]:
        app: BtTuiApp = self.app  # type: ignore[assignment]
        cmds: list[tuple[str, Callable, str]] = []
        for entry in SCREENS.values():
            cmds.append((f"Go to {entry.title}", partial(app.switch_to, entry.name), f"open the {entry.title} screen"))
        try:
            projects = list_projects(app.store)
        except Exception:
            projects = []
        for p in projects:
            cmds.append((f"Switch project: {p.name}", partial(app.set_project, p.name),
                         f"{p.traces:,} traces, {p.spans:,} spans"))
        for screen in app.screen_stack:
            if isinstance(screen, BtScreen):
                cmds += [(c.title, c.run, c.help) for c in screen.palette_commands()]
        cmds.append(("Help: keys of this screen", app.action_help, "every key, grouped"))
        return cmds

    async def discover(self) -> Hits:
        for text, fn, help_ in self._commands():
            yield DiscoveryHit(text, fn, help=help_)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, fn, help_ in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), fn, help=help_)


# Textual's generic bindings that say nothing about this app (tab still moves focus).
_HELP_SKIP_ACTIONS = {"focus_next", "focus_previous", "copy_text", "app.focus_next", "app.focus_previous",
                      "screen.copy_text", "screen.focus_next", "screen.focus_previous", "maximize", "screen.maximize",
                      "minimize", "screen.minimize"}


class BtTuiApp(App):
    TITLE = "bt-tui"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {BtCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("f1", "help", "Help", show=False, id="app.help_f1"),
        Binding("P", "projects", "Project", show=False, id="app.projects"),
    ] + [Binding(e.key, f"switch_to('{e.name}')", e.title, id=f"app.goto_{e.name}")
         # by name: the order screens registered in depends on which module was imported first
         for e in sorted(SCREENS.values(), key=lambda e: e.name) if e.key]

    def __init__(self, db_path: str, project: str = "default", *, start_review: Optional[dict] = None) -> None:
        super().__init__()
        if self.no_color:
            # NO_COLOR means no colour: Textual's default is a grey-scale palette (still
            # colour escapes); drop colours entirely and let bold/reverse mark things.
            from textual.filter import Monochrome, NoColor

            self._filters = [NoColor() if isinstance(f, Monochrome) else f for f in self._filters]
        self.db_path = str(db_path)
        self.project = project
        self.store = Store(db_path)
        self._settings = config.load()
        self.author = default_author()  # the acting person (shown in the header)
        self.start_review = start_review  # {"filter": str | None, "mine": bool}: open focused review

    def on_mount(self) -> None:
        # Queries run in worker threads. Python's SQLite module drops the GIL for every row it steps,
        # and with the default 5 ms switch interval a busy UI thread makes each row wait that
        # long to get it back (a 50-row page took 250+ ms instead of 10). A shorter interval
        # hands the GIL over sooner; the cost to the UI thread is negligible.
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        # Full garbage collections walked every object of the imported libraries and took
        # 35-70 ms, a visible stall every few seconds of browsing: what exists at start-up
        # lives for the whole run, so move it out of the collector's way.
        gc.freeze()
        theme = self._settings.get("theme")
        if theme and theme in self.available_themes:
            self.theme = theme
        keymap = self._settings.get("keymap")
        if isinstance(keymap, dict):
            self.set_keymap({str(k): str(v) for k, v in keymap.items()})
        self._set_sub_title()
        self.switch_to(HOME)
        if self.start_review is not None:
            self.call_after_refresh(self._open_review, dict(self.start_review))

    def _set_sub_title(self) -> None:
        self.sub_title = f"{self.project} · {self.db_path} · as {self.author}"

    def _open_review(self, start: dict) -> None:
        """`bt-tui review`: focused review on top of the Logs screen (escape lands there)."""
        from tui.screens.review_queue import open_focused_review

        open_focused_review(self.screen, filter=start.get("filter"), mine=bool(start.get("mine")))

    def watch_theme(self, theme: str) -> None:
        if getattr(self, "_settings", None) is not None and self._settings.get("theme") != theme:
            self._settings["theme"] = theme
            config.update(theme=theme)

    # -- screens
    def switch_to(self, name: str) -> None:
        screen = SCREENS[name].factory()
        # Top-level screens replace each other; detail screens are pushed on top.
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(screen)

    def action_switch_to(self, name: str) -> None:
        """A registered screen's key (``register_screen(..., key=)``)."""
        self.switch_to(name)

    def find_screen(self, cls: type) -> Optional[Screen]:
        """The topmost open screen of class ``cls``."""
        return next((s for s in reversed(self.screen_stack) if isinstance(s, cls)), None)

    def set_project(self, name: str) -> None:
        self.project = name
        self._set_sub_title()
        self.switch_to(HOME)
        self.notify(f"project {name!r}")

    def action_projects(self) -> None:
        projects = list_projects(self.store)
        if not projects:
            self.notify("no projects yet: bt-tui import logs FILE", severity="warning")
            return
        items = [(p.name, f"{p.name}  ({p.traces:,} traces, {p.spans:,} spans)") for p in projects]

        def picked(name: Optional[str]) -> None:
            if name:
                self.set_project(name)

        self.push_screen(MenuScreen("Switch project", items), picked)

    def action_help(self) -> None:
        screen = self.screen
        if isinstance(screen, HelpScreen):
            return
        groups: dict[str, list[tuple[str, str, str]]] = {}
        for key, active in screen.active_bindings.items():
            b = active.binding
            if not b.description or b.action in _HELP_SKIP_ACTIONS or b.description == "palette":
                continue
            if type(active.node).__name__ in ("VerticalScroll", "ScrollableContainer", "HorizontalScroll"):
                continue  # the detail pane's own scrolling keys (arrows, page up/down)
            if active.node is self:
                owner = "App"
            elif active.node is screen:
                owner = type(screen).__name__.replace("Screen", "") + " screen"
            else:
                owner = getattr(active.node, "HELP_GROUP", None) or type(active.node).__name__
            display = self.get_key_display(b)
            groups.setdefault(owner, [])
            entry = (display, b.description, b.id or "")
            if entry not in groups[owner]:
                groups[owner].append(entry)
        groups.setdefault("App", []).append(("ctrl+p", "Command palette", ""))
        ordered = sorted(groups.items(), key=lambda kv: (kv[0] == "App", not kv[0].endswith("screen")))
        intro = getattr(screen, "HELP", "")
        self.push_screen(HelpScreen(ordered, intro))

    def action_quit(self) -> None:
        self.exit()

    def on_unmount(self) -> None:
        self.store.close()
        sys.setswitchinterval(getattr(self, "_switch_interval", 0.005))


def run_app(db_path: str, project: str, *, start_review: Optional[dict] = None) -> None:
    """The TUI on the Logs screen; ``start_review`` ({"filter": str | None, "mine": bool}, from
    `bt-tui review`) opens focused review on top of it at once."""
    BtTuiApp(db_path, project, start_review=start_review).run()
