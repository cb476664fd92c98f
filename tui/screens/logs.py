"""The Logs screen: a project's traces (or spans) in the paged table, newest first; the filter
bar, sorting, saved views, marks, and batch actions on a selection."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from functools import partial
from typing import Any, Optional

import orjson
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Header, Static

from store.errors import QueryError
from store.query.hints import filter_scores
from store.query.pager import SORT_KEYS, LogsQuery
from store.selection import Selection, count_selection
from store.audit import default_author
from store.export import get_span
from store.projects import list_projects
from store.views import list_views, save_view
from tui.actions import (EXPORT, TAG, UNTAG, ask_comment, ask_tags, read_expected, read_score_names,
                         write_in_thread)
from tui.clipboard import copy_text
from tui.messages import WorkFailed, WriteDone
from tui.registry import BtScreen, Command, register_screen
from tui.screens.add_to_dataset import ADD_TO_DATASET, ask_add_to_dataset
from tui.screens.dialogs import MenuScreen, PromptScreen
from tui.screens.review_queue import FLAG, flag_rows, open_focused_review
from tui.screens.trace import TraceScreen
from tui.widgets.filter_bar import FilterBar, FilterSuggester
from tui.widgets.keybar import KeyBar
from tui.widgets.paged_table import PagedTable
from tui.widgets.span_columns import columns

MAX_ROWS = 1000  # the table holds at most this many rows; more are paged in and out


class LogsSource:
    """The table's page source: a selection's rows in a sort order (``LogsQuery`` pages them,
    built in the worker thread that first reads a page)."""

    def __init__(self, store, selection: Selection, sort: str, desc: bool) -> None:
        self.store, self.selection, self.sort, self.desc = store, selection, sort, desc
        self._query: Optional[LogsQuery] = None

    def page(self, after: Any, limit: int, *, reverse: bool = False):
        if self._query is None:
            sel = self.selection
            self._query = LogsQuery(self.store, sel.project, sel.filter, shape=sel.shape, sort=self.sort, desc=self.desc)
        return self._query.page(after, limit, reverse=reverse)

    def count(self) -> int:
        return count_selection(self.store, self.selection)

    def row_id(self, row) -> str:
        return row.id

    def cursor_of(self, row) -> tuple:
        return (row.sort_key, row.rid)

    def release_thread(self) -> None:
        self.store.release_thread()


# -- cells (each a ``Text``, never markup: an input containing ``[/]`` shows as typed)

def _py(text: str) -> str:
    """A Python string literal in double quotes."""
    return orjson.dumps(text).decode()


def empty_help(db_path: str, project: str, projects: list) -> Text:
    """What an empty project shows: how to get rows into it (only what exists)."""
    db = shlex.quote(str(db_path))
    flag = "" if project == "default" else f" --project {shlex.quote(project)}"
    t = Text()
    t.append(f"No traces in project {project!r} yet.\n\n", style="bold")
    others = [p for p in projects if p.name != project and p.spans]
    if others:
        names = ", ".join(f"{p.name} ({p.traces:,} traces)" for p in others[:5])
        t.append(f"This database has: {names}{' …' if len(others) > 5 else ''}. P switches project.\n\n")
    t.append("Get some:\n")
    steps = [
        (f"bt-tui --db {db}{flag} import logs FILE.jsonl", "spans in Braintrust's row shape (one JSON object a line)"),
        ("bt-tui demo", "or try the app on a demo database of support-bot traces"),
        ("from bt_tui import init_logger", "or log from Python:"),
        (f'init_logger(project={_py(project)}, db={_py(str(db_path))}).log(input="hi", output="hello")', ""),
    ]
    for cmd, why in steps:
        if why:
            t.append(f"  {why}\n", style="dim")
        t.append(f"    {cmd}\n", style="bold cyan")
    t.append("\nthen ctrl+r (or f5) reads the database again (F: every 2 seconds). ? lists every key.", style="dim")
    return t


class LogsTable(PagedTable):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="logs.down"),
        Binding("k", "cursor_up", "Up", show=False, id="logs.up"),
    ]


class LogsScreen(BtScreen):
    """Browse a project's logs: newest first, filter with `/`, open with enter."""

    BINDINGS = [
        Binding("slash", "focus_filter", "Filter", id="logs.filter"),
        Binding("enter", "open", "Open", id="logs.open"),
        Binding("r", "review", "Review these", id="logs.review"),
        Binding("f", "flag", "Flag", id="logs.flag"),
        Binding("g", "top", "First row", show=False, id="logs.top"),
        Binding("G,end", "bottom", "Last row", show=False, id="logs.bottom"),
        Binding("home", "top", "First row", show=False, id="logs.home"),
        Binding("s", "sort", "Sort", id="logs.sort"),
        Binding("S", "reverse", "Reverse sort", show=False, id="logs.reverse"),
        Binding("T", "toggle_shape", "Traces/spans", id="logs.shape"),
        Binding("v", "views", "Views", id="logs.views"),
        Binding("V", "save_view", "Save view", show=False, id="logs.save_view"),
        Binding("ctrl+r,f5", "refresh", "Refresh", id="logs.refresh"),
        Binding("F", "auto_refresh", "Auto-refresh", show=False, id="logs.auto_refresh"),
        Binding("space", "mark", "Mark", show=False, id="logs.mark"),
        Binding("A", "mark_all", "Mark all", show=False, id="logs.mark_all"),
        Binding("b", "batch", "Batch", id="logs.batch"),
        Binding("c", "comment", "Comment", show=False, id="logs.comment"),
        Binding("t", "tags", "Tags", show=False, id="logs.tags"),
        Binding("e", "edit_expected", "Edit expected", show=False, id="logs.expected"),
        Binding("y", "copy", "Copy", show=False, id="logs.copy"),
        Binding("a", "add_to_dataset", "Add to dataset", show=False, id="logs.add_to_dataset"),
        Binding("ctrl+o", "open_in_playground", "Open in playground", show=False, id="logs.open_in_playground"),
        Binding("escape", "escape", "Clear", show=False, id="logs.escape"),
    ]

    batch_actions = [TAG, UNTAG, EXPORT, ADD_TO_DATASET, FLAG]
    HELP = (
        "Logs: newest traces first. Type a filter like  scores.Factuality < 0.5 and tags includes 'vip'"
        "  or plain words to search. enter opens a trace. f flags a trace for review (b: the marked or"
        " all matching); r reviews what the filter matches, one trace at a time; R opens the review queue."
    )

    def __init__(self) -> None:
        super().__init__()
        self.shape = "traces"
        self.sort_key = "created"
        self.desc = True
        self.filter_text = ""
        self.suggester = FilterSuggester()
        self.last_ms = 0.0
        self.mode_label = "all rows"
        self.note = ""  # about the applied filter (e.g. why it ran as a search)
        self.hints: list[str] = []  # near-miss names in the applied filter
        self._focus_on_rows = False  # give the table focus when the next first page arrives
        self._shown_columns: tuple = (self.shape, (), False)  # the shape, active scores, search: the columns' own
        self._hints_for = ""  # the filter text ``hints`` are about

    def compose(self) -> ComposeResult:
        yield Header()
        yield FilterBar(self.suggester, placeholder="/ filter: scores.Factuality < 0.5 and tags includes 'vip'"
                                                    " · or words to search")
        yield Static("", id="status")
        yield Static("", id="empty")
        yield LogsTable(columns(self.shape), markable=True, max_rows=MAX_ROWS, id="table")
        yield KeyBar()

    def on_mount(self) -> None:
        self.table.focus()
        self.reload()
        self.bar.load_completions(self.store, self.app.project)

    @property
    def table(self) -> LogsTable:
        return self.query_one(LogsTable)

    @property
    def bar(self) -> FilterBar:
        return self.query_one(FilterBar)

    def current_row(self):
        return self.table.current_row()

    def selection(self, ids: Optional[tuple[str, ...]] = None) -> Selection:
        return Selection(self.app.project, self.filter_text, self.shape, ids)

    # -- loading
    def reload(self, keep_key: Optional[str] = None, *, stay: bool = False) -> None:
        """The current filter, sort and shape from the top (first page), then the count; with
        ``stay`` (after a write), from a few rows above ``keep_key``'s row."""
        if self._hints_for != self.filter_text:  # notes on another filter are stale now
            self._hints_for = self.filter_text
            self.hints = []
        self.table.set_source(LogsSource(self.store, self.selection(), self.sort_key, self.desc), keep_key,
                              stay=stay)

    def on_paged_table_page_loaded(self, event: PagedTable.PageLoaded) -> None:
        self._apply_page(event.page, event.mode, event.source)

    def _apply_page(self, page, mode: str, source: LogsSource) -> None:
        """The table has the page's rows: columns for its shape, the status line, hints."""
        first = mode in ("replace", "last")
        if first:
            sort = [source.sort[len("scores."):]] if source.sort.startswith("scores.") else []
            known = {f[len("scores."):] for f in self.suggester.fields if f.startswith("scores.")}
            active = tuple(n for n in dict.fromkeys(sort + filter_scores(page.filter.node)) if not known or n in known)
            shown = (source.selection.shape, active, page.matched)
            if shown != self._shown_columns:
                self._shown_columns = shown
                self.table.set_columns(columns(*shown))
        self.last_ms = page.elapsed_ms
        if first:
            self.mode_label = page.filter.label
            self.note = page.filter.note
            if page.filter.mode == "filter":
                self.bar.find_hints(self.store, self.app.project, page.filter)
        if page.filter.text == self.bar.input.value:
            self.bar.hide_error()  # rows for the text in the bar (not an auto-refresh under new, bad text)
        self._update_status()
        if first:
            empty = not page.rows and page.filter.mode == "all"
            if empty:
                self._read_projects()
            elif self.query_one("#empty").display:
                self.query_one("#empty").display = False
                self.table.display = True
        if self._focus_on_rows and first:
            self._focus_on_rows = False
            self.table.focus()

    @dataclass
    class ProjectsRead(Message):
        """The database's projects (for the empty-project help)."""

        projects: list

    @work(thread=True, exclusive=True, group="projects")
    def _read_projects(self) -> None:
        try:
            projects = list_projects(self.store)
        except Exception:
            projects = []
        finally:
            self.store.release_thread()
        self.post_message(self.ProjectsRead(projects))

    def on_logs_screen_projects_read(self, event: ProjectsRead) -> None:
        if self.table.rows:
            return  # rows came meanwhile
        box = self.query_one("#empty", Static)
        box.update(empty_help(self.app.db_path, self.app.project, event.projects))
        box.display = True
        self.table.display = False

    def on_paged_table_page_failed(self, event: PagedTable.PageFailed) -> None:
        if isinstance(event.error, QueryError):  # the caret under the column; the rows stay
            self.bar.show_error(event.error)
            self._focus_on_rows = False
        else:  # never a traceback: a notification
            self.notify(f"query failed: {event.error}", severity="error")

    def on_paged_table_counted(self, event: PagedTable.Counted) -> None:
        self._update_status()

    def _update_status(self) -> None:
        """What is listed, how many, in what order (always whole: the line wraps rather than
        lose the sort or the auto-refresh mark), then, on lines of their own, the notes on
        the applied filter (none while the bar shows an error in new text)."""
        t = self.table
        total = "counting…" if t.total is None else f"{t.total:,} matching"
        what = "traces" if self.shape == "traces" else "spans"
        sort = f"sort {self.sort_key} {'↓' if self.desc else '↑'}"
        marks = " · all marked" if t.all_marked else f" · {len(t.marked)} marked" if t.marked else ""
        auto = " · auto-refresh" if t.auto_refresh else ""
        items = [i for i in (what, self.mode_label, total, sort, marks[3:], auto[3:], f"{self.last_ms:.0f} ms") if i]
        # A narrow line wraps between the items, never inside one ("4 / ms").
        room = max(20, (self.size.width or self.app.size.width) - 2)
        lines = [items[0]]
        for item in items[1:]:
            if len(lines[-1]) + 3 + len(item) > room:
                lines.append(item)
            else:
                lines[-1] += " · " + item
        line = Text("\n".join(lines), style="dim")
        if not t.rows and t.total == 0 and not t.fetching and self.filter_text.strip():
            line.append("\nnothing matches · press / to change the filter, escape clears it", style="yellow")
        if not self.bar.has_error:
            for note in ([self.note] if self.note else []) + self.hints:
                line.append("\n" + note, style="yellow")
        self.query_one("#status", Static).update(line)

    def on_filter_bar_hints_found(self, event: FilterBar.HintsFound) -> None:
        if self.filter_text == event.text:
            self.hints = list(event.hints)
            self._update_status()

    def on_filter_bar_error_changed(self, event: FilterBar.ErrorChanged) -> None:
        self._update_status()

    # -- the filter bar
    def action_focus_filter(self) -> None:
        self.bar.input.focus()

    def on_filter_bar_applied(self, event: FilterBar.Applied) -> None:
        self.filter_text = event.text
        self.table.all_marked = False
        # The table takes focus when the new rows arrive: focusing it now would repaint the
        # whole table twice (cursor style, then rows) while the query competes for the GIL.
        self._focus_on_rows = True
        self.reload()

    def action_escape(self) -> None:
        """Leave the filter bar (showing the applied filter again); else clear the marks; else
        clear the filter."""
        t = self.table
        if self.bar.input.has_focus:
            self.bar.set_value(self.filter_text)
            t.focus()
        elif t.marked or t.all_marked:
            what = "all matching rows" if t.all_marked else f"{len(t.marked)} marked"
            t.clear_marks()
            self.notify(f"marks cleared ({what}); escape again clears the filter")
            self._update_status()
        elif self.filter_text:
            self.apply_view("")

    # -- moving, opening, sorting
    def action_open(self) -> None:
        row = self.current_row()
        if row is not None:
            self.app.push_screen(TraceScreen(row.root_span_id,
                                             focus_span=row.span_id if self.shape == "spans" else None))

    def on_paged_table_row_selected(self, event: PagedTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_top(self) -> None:
        self.table.action_first()

    def action_bottom(self) -> None:
        self.table.action_last()

    def action_sort(self) -> None:
        # The common ones within reach of 1-9: time, the numbers, the scores; then the rest.
        first = ["created", "duration", "tokens", "cost"]
        scores = [f for f in self.suggester.fields if f.startswith("scores.")][:8]
        keys = first + scores + [k for k in SORT_KEYS if k not in first]
        arrow = "↓" if self.desc else "↑"
        items = [(k, f"{k}{f'  (current, {arrow})' if k == self.sort_key else ''}") for k in keys]

        def picked(key: Optional[str]) -> None:
            if key:
                # A new column starts newest/largest first; the current one flips.
                self.desc = (not self.desc) if key == self.sort_key else True
                self.sort_key = key
                self.reload()

        self.app.push_screen(MenuScreen("Sort by (newest/largest first, rows without a value last;"
                                        " pick the current one again to reverse)", items), picked)

    def action_reverse(self) -> None:
        self.desc = not self.desc
        self.reload()

    def action_toggle_shape(self) -> None:
        self.shape = "spans" if self.shape == "traces" else "traces"
        self.table.clear_marks()
        self.reload()

    def action_refresh(self) -> None:
        self.reload(keep_key=self.table.cursor_id())
        self.bar.load_completions(self.store, self.app.project)

    def action_auto_refresh(self) -> None:
        on = not self.table.auto_refresh
        self.table.set_auto_refresh(on)
        self.notify("auto-refresh on (every 2 s)" if on else "auto-refresh off")
        self._update_status()

    # -- marks
    def action_mark(self) -> None:
        self.table.toggle_mark()
        self._update_status()

    def action_mark_all(self) -> None:
        self.table.mark_all()
        self._update_status()

    # -- views
    def action_views(self) -> None:
        views = list_views(self.store, self.app.project)
        items = [(f"v{i}", f"{v.name}  —  {v.filter}") for i, v in enumerate(views)]
        items.append(("clear", "All rows (clear the filter)"))

        def picked(key: Optional[str]) -> None:
            if key:
                self.apply_view("" if key == "clear" else views[int(key[1:])].filter)

        self.app.push_screen(MenuScreen("Saved views", items), picked)

    def apply_view(self, text: str) -> None:
        self.bar.set_value(text)
        self.filter_text = text
        self.reload()

    def show_view(self, text: str) -> None:
        """From the palette, whatever screen is on top: back to this one, with the view."""
        while self.app.screen is not self:
            self.app.pop_screen()
        self.apply_view(text)

    def action_save_view(self) -> None:
        if not self.filter_text.strip():
            self.notify("type a filter first (/), then save it as a view", severity="warning")
            return

        def done(name: Optional[str]) -> None:
            if name:
                write_in_thread(self, f"saved view {name!r}", save_view, self.app.project, name, self.filter_text,
                                self.shape, default_author(), changed=False, failed="could not save the view")

        self.app.push_screen(PromptScreen("Save this filter as a view named:", placeholder="e.g. Refund errors"), done)

    # -- comments, tags, copy
    def action_comment(self) -> None:
        row = self.current_row()
        if row is not None:
            ask_comment(self, self.app.project, row.id, f"Comment on {row.name or 'row'} ({row.id})",
                        f"comment added to {row.name or row.id}", placeholder="what is wrong or right here?")

    def action_tags(self) -> None:
        row = self.current_row()
        if row is not None:
            ask_tags(self, self.app.project, row.id, row.tags, self.known_tags,
                     f"Tags of {row.name or row.id} (comma-separated)",
                     hint="→ accepts a suggestion · enter saves · escape cancels")

    def action_edit_expected(self) -> None:
        row = self.current_row()
        if row is not None:
            read_expected(self, self.app.project, row.id, f"Expected of {row.name or 'row'} ({row.id})")

    def action_score(self) -> None:
        row = self.current_row()
        if row is not None:
            read_score_names(self, self.app.project, row.id, f"Score {row.name or 'row'} ({row.id})")

    def action_add_to_dataset(self) -> None:
        """The current row (in the traces view, its trace's root span) into a dataset; the
        batch action (b) adds the marked rows or all matching."""
        row = self.current_row()
        if row is not None:
            what = "this trace" if self.shape == "traces" else "this span"
            ask_add_to_dataset(self, self.selection((row.id,)), what)

    def action_open_in_playground(self) -> None:
        """The current trace's root span (in the spans view, the current span) in the playground:
        its input becomes a row of the dataset 'playground scratch', a prompt's variables filled from it."""
        row = self.current_row()
        if row is not None:
            from tui.screens.open_in_playground import open_span_in_playground

            open_span_in_playground(self, self.app.project, row.id)

    # -- review
    def action_flag(self) -> None:
        """The current row's trace into the review queue (b flags the marked or all matching)."""
        row = self.current_row()
        if row is not None:
            write_in_thread(self, "{result}", flag_rows, self.app.project, [row.id], changed=False,
                            failed="could not flag")

    def action_review(self) -> None:
        """Focused review of what the filter matches (all traces when there is none)."""
        open_focused_review(self, filter=self.filter_text)

    @property
    def known_tags(self) -> list[str]:
        return self.suggester.tags

    def after_write(self, event: WriteDone) -> None:
        if event.changed:
            self.reload(self.table.cursor_id(), stay=True)

    def action_copy(self) -> None:
        row = self.current_row()
        if row is not None:
            self._read_for_copy(row.id)

    @work(thread=True, exclusive=True, group="copy-read")
    def _read_for_copy(self, row_id: str) -> None:
        try:
            span = get_span(self.store, self.app.project, row_id)
        except Exception as exc:
            self.post_message(WorkFailed(f"could not read the row: {exc}"))
            return
        finally:
            self.store.release_thread()
        self.post_message(self.CopyReady(orjson.dumps(span, option=orjson.OPT_INDENT_2).decode(), "the row as JSON"))

    @dataclass
    class CopyReady(Message):
        """Text read for a copy (the worker read it; the UI thread copies it)."""

        text: str
        what: str

    def on_logs_screen_copy_ready(self, event: CopyReady) -> None:
        copy_text(self, event.text, event.what)

    # -- batch actions on the selection
    def describe_selection(self) -> tuple[str, Selection]:
        """(what the user calls it, the selection): all matching, the marked rows, else the
        current row. In the traces view a row stands for its whole trace."""
        ids = self.table.chosen_ids()
        what = "traces" if self.shape == "traces" else "spans"
        if ids is None:
            total = self.table.total
            desc = f"all matching {what}" + (f" ({total:,})" if total is not None else "")
        elif self.table.marked:
            desc = f"{len(ids)} marked {what if len(ids) != 1 else what[:-1]}"
        else:
            desc = f"the current {what[:-1]}"
        return desc, self.selection(ids)

    def palette_commands(self) -> list[Command]:
        cmds = [Command(f"View: {v.name}", partial(self.show_view, v.filter), v.filter)
                for v in list_views(self.store, self.app.project)]
        cmds += [
            Command("Copy row as JSON", self.action_copy, "to the clipboard ($BT_TUI_CLIPBOARD, else OSC 52)"),
            Command("Score the current row", self.action_score, "name=value in [0, 1], audited"),
            Command("Edit expected of the current row", self.action_edit_expected, "JSON; $EDITOR when set"),
            Command("Add the current row to a dataset", self.action_add_to_dataset, "new or existing; a"),
            Command("Toggle traces / spans", self.action_toggle_shape, "one row per trace or every span"),
            Command("Save filter as view", self.action_save_view, "name the current filter"),
            Command("Flag the current trace for review", self.action_flag, "into the review queue; f"),
            Command("Review the traces this filter matches", self.action_review, "one at a time; r"),
            Command("Batch action on selection", self.action_batch,
                    "add or remove a tag, export to JSONL, add to a dataset, flag for review"),
        ]
        return cmds + self.batch_commands()


register_screen("logs", "Logs", LogsScreen, key="L")
