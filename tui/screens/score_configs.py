"""Score configurations in the TUI (what `bt-tui scores add|list|remove` does): the project's
scores reviewers fill in, listed in the shared paged table; `n` adds one (a few short
questions), `x` removes one. Opened with `S` from the Review screen, or from the palette."""

from __future__ import annotations

from typing import Optional

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Header, Static

from store.audit import default_author
from store.review import (
    ReviewError,
    ScoreConfig,
    add_score_config,
    list_score_configs,
    make_config,
    parse_option,
    remove_score_config,
)
from tui.actions import write_in_thread
from tui.messages import WriteDone
from tui.registry import BtScreen, Command
from tui.screens.dialogs import MenuScreen, PromptScreen
from tui.widgets.keybar import KeyBar
from tui.widgets.paged_table import Column, ListSource, PagedTable

TYPES = [("categorical", "categorical: options, each a label and a value in [0, 1] (keys 1-9 pick them)"),
         ("continuous", "continuous: 0-100% (type a number, or step with h / l)"),
         ("boolean", "boolean: thumbs up / down (1 / 0)"),
         ("text", "text: a free-form note, stored in the row's metadata")]


def options_text(c: ScoreConfig) -> str:
    return "  ".join(f"{i}:{o.label}={o.value:g}" for i, o in enumerate(c.options, 1))


def config_columns() -> list[Column]:
    return [
        Column("name", "name", lambda c, w: Text(c.name, style="bold"), 18),
        Column("type", "type", lambda c, w: Text(c.type), 11),
        Column("stored", "stored in", lambda c, w: Text(c.stored_in, style="cyan"), 20, show_from=90),
        Column("options", "options", lambda c, w: Text(options_text(c))),
        Column("description", "description", lambda c, w: Text(c.description, style="dim"), 30, show_from=120),
    ]


def parse_options(text: str) -> list:
    """``friendly=1, neutral=0.5, curt=0`` as options (InputError/ReviewError in one line)."""
    return [parse_option(part.strip()) for part in text.split(",") if part.strip()]


class ScoreConfigsScreen(BtScreen):
    BINDINGS = [
        Binding("n", "add", "New score", id="scores.add"),
        Binding("x,delete", "remove", "Remove", id="scores.remove"),
        Binding("g,home", "first", "First", show=False, id="scores.top"),
        Binding("G,end", "last", "Last", show=False, id="scores.bottom"),
        Binding("ctrl+r,f5", "refresh", "Refresh", show=False, id="scores.refresh"),
        Binding("escape,q", "back", "Back", id="scores.back"),
    ]
    HELP = ("Score configurations: what reviewers fill in on each trace in focused review, in this order."
            " n adds one, x removes one (the values reviewers gave stay on the rows).")
    DEFAULT_CSS = """
    ScoreConfigsScreen #sc-status { height: auto; padding: 0 1; }
    ScoreConfigsScreen #sc-table { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="sc-status")
        yield PagedTable(config_columns(), id="sc-table")
        yield KeyBar()

    @property
    def table(self) -> PagedTable:
        return self.query_one("#sc-table", PagedTable)

    def on_mount(self) -> None:
        self.table.focus()
        self.reload()

    def reload(self, keep: Optional[str] = None) -> None:
        store, project = self.store, self.app.project
        self.table.set_source(ListSource(lambda: list_score_configs(store, project), lambda c: c.name,
                                         store.release_thread), keep)

    def on_paged_table_page_loaded(self, event: PagedTable.PageLoaded) -> None:
        n = len(event.page.rows)
        t = Text()
        t.append(f"Score configurations of project {self.app.project!r}", style="bold")
        t.append(f" · {n} score{'s' if n != 1 else ''}" if n else " · none yet: n adds one (e.g. a categorical"
                 " 'tone' with options friendly=1, neutral=0.5, curt=0)", style="dim")
        self.query_one("#sc-status", Static).update(t)

    def after_write(self, event: WriteDone) -> None:
        self.reload(self._keep)

    def action_refresh(self) -> None:
        self.reload(self.table.cursor_id())

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_first(self) -> None:
        self.table.action_first()

    def action_last(self) -> None:
        self.table.action_last()

    # -- add: name, type, then what the type needs, then a description
    def action_add(self) -> None:
        source = self.table.source
        names = {c.name for c in source.rows} if isinstance(source, ListSource) else set()

        def check_name(text: str) -> Optional[str]:
            text = text.strip()
            if not text:
                return "a score needs a name"
            if text in names:
                return f"there is already a score named {text!r}"
            return None

        def named(name: Optional[str]) -> None:
            if name:
                self.app.push_screen(MenuScreen(f"What kind of score is {name.strip()!r}?", TYPES),
                                     lambda kind: kind and self._ask_details(name.strip(), kind))

        self.app.push_screen(PromptScreen("New score: its name (as in scores.NAME)", placeholder="tone",
                                          validate=check_name), named)

    def _ask_details(self, name: str, kind: str) -> None:
        if kind == "categorical":
            def check(text: str) -> Optional[str]:
                try:
                    make_config(name, kind, [(o.label, o.value) for o in parse_options(text)])
                except Exception as exc:
                    return str(exc)
                return None

            def got(text: Optional[str]) -> None:
                if text is None:
                    return
                opts = parse_options(text)
                self.app.push_screen(
                    MenuScreen("Where does the pick go?", [
                        ("score", f"a score: scores.{name} = the option's value (filterable)"),
                        ("expected", "into expected: the option's label becomes the row's expected"),
                        ("multi", "into expected, several options at once (a list of labels)")]),
                    lambda where: where and self._ask_description(
                        name, kind, opts, to_expected=where != "score", multi=where == "multi"))

            self.app.push_screen(PromptScreen(f"Options of {name!r}: LABEL=VALUE, in order (keys 1-9 pick them)",
                                              placeholder="friendly=1, neutral=0.5, curt=0", validate=check), got)
        elif kind == "text":
            self.app.push_screen(PromptScreen(f"The metadata key {name!r} is stored under",
                                              value=name, hint="enter keeps metadata." + name),
                                 lambda key: key is not None and self._ask_description(
                                     name, kind, [], path=(key.strip() or name) if key.strip() != name else None))
        else:
            self._ask_description(name, kind, [])

    def _ask_description(self, name: str, kind: str, options: list, *, to_expected: bool = False,
                         multi: bool = False, path: Optional[str] = None) -> None:
        try:
            config = make_config(name, kind, [(o.label, o.value) for o in options], to_expected=to_expected,
                                 multi=multi, path=path)
        except ReviewError as exc:
            self.notify(str(exc), severity="error")
            return

        def described(text: Optional[str]) -> None:
            if text is None:
                return
            config.description = text.strip()
            self._keep = config.name
            write_in_thread(self, f"score {config.name!r} added ({config.type})", add_score_config,
                            self.app.project, config, author=default_author(), failed="could not add the score")

        self.app.push_screen(PromptScreen(f"A description of {name!r} for reviewers (optional)",
                                          placeholder="did the answer follow the refund policy?"), described)

    def action_remove(self) -> None:
        c = self.table.current_row()
        if c is None:
            return

        def picked(key: Optional[str]) -> None:
            if key == "yes":
                self._keep = None
                write_in_thread(self, f"score {c.name!r} removed", remove_score_config, self.app.project, c.name,
                                author=default_author(), failed="could not remove the score")

        self.app.push_screen(MenuScreen(f"Remove the score {c.name!r}?", [
            ("no", "no, keep it"),
            ("yes", "yes: reviewers no longer see it (the values they gave stay on the rows)")]), picked)

    def palette_commands(self) -> list[Command]:
        return [Command("New score configuration", self.action_add, "a score reviewers fill in"),
                Command("Remove the score configuration", self.action_remove, "the current one")]

    _keep: Optional[str] = None
