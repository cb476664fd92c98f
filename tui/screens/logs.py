"""The Logs screen: a paged table of traces (or spans), the filter bar, views, marks."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.suggester import Suggester
from textual.widgets import Header, Input, Static
from textual.worker import get_current_worker

from store.errors import QueryError
from store.query.filterbar import check_filter
from store.query.hints import completions
from store.query.pager import PAGE, SORT_KEYS, LogsQuery, Page, Row
from store.audit import default_author
from store.feedback import add_comment, set_tags
from store.selection import Selection, export_selection, retag_selection
from store.views import list_views, save_view
from tui.keybar import KeyBar
from tui.rowtable import RowTable
from tui.format import fmt_cost, fmt_duration, fmt_scores, fmt_time, fmt_tokens, preview
from tui.screens.dialogs import LastTokenSuggester, MenuScreen, PromptScreen

MAX_ROWS = 1000  # the table holds at most this many rows; more are paged in and out


class FilterSuggester(Suggester):
    """Completes field paths, score names, metadata keys, and tag/name values after a quote.
    ``candidates`` lists every completion of what is being typed (with how often it occurs);
    the input shows the first as a suggestion (→ accepts it), the screen lists the others."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.fields: list[str] = []
        self.tags: list[str] = []
        self.names: list[str] = []
        self.counts: dict[str, int] = {}  # field path, "tag:" + tag, "name:" + name -> rows

    def candidates(self, value: str, limit: int = 8) -> list[tuple[str, str, Optional[int]]]:
        """[(the whole input completed, the completed word, count)] for ``value``."""
        if not value:
            return []
        low = value.lower()
        out: list[tuple[str, str, Optional[int]]] = []
        # A value after `tags includes "` or `name = "`.
        for marker, pool, kind in (("includes ", self.tags, "tag:"), ("contains ", self.tags, "tag:"),
                                   ("name = ", self.names, "name:"), ("name == ", self.names, "name:")):
            i = low.rfind(marker)
            if i != -1:
                rest = value[i + len(marker):]
                if rest[:1] in ("'", '"') and rest.count(rest[0]) == 1:
                    part = rest[1:]
                    for w in pool:
                        if w.startswith(part) and w != part:
                            out.append((value + w[len(part):] + rest[0], w, self.counts.get(kind + w)))
                            if len(out) >= limit:
                                break
                    return out
        j = max(value.rfind(c) for c in " (")
        token = value[j + 1:]
        if not token or token[0] in "'\"0123456789":
            return []
        for f in self.fields:
            if f.startswith(token) and f != token:
                out.append((value + f[len(token):], f, self.counts.get(f)))
                if len(out) >= limit:
                    break
        return out

    async def get_suggestion(self, value: str) -> Optional[str]:
        found = self.candidates(value, limit=1)
        return found[0][0] if found else None


class FilterInput(Input):
    """The filter bar: tab (or →) takes the suggested completion; with none, tab moves on.

    Tab is handled as a key, in order with the typing, not as a binding: a binding's action
    runs after keys already queued behind it, so `scores.Fa<tab> < 0.5<enter>` typed fast
    (as over SSH) completed nothing and left the bar."""

    async def _on_key(self, event) -> None:
        if event.key == "tab" and self.cursor_at_end and isinstance(self.suggester, FilterSuggester):
            found = self.suggester.candidates(self.value, limit=1)
            if found:
                event.stop()
                event.prevent_default()
                self.value = found[0][0]
                self.cursor_position = len(self.value)
                return
        await super()._on_key(event)


class LogsTable(RowTable):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="logs.down"),
        Binding("k", "cursor_up", "Up", show=False, id="logs.up"),
    ]


COLUMNS = [
    # key, label, width (None = flexible), min terminal width to show
    ("mark", " ", 1, 0),
    ("time", "time", 14, 0),
    ("name", "name", 18, 0),
    ("input", "input", None, 0),
    ("output", "output", None, 0),
    ("scores", "scores", 20, 0),
    ("duration", "dur", 6, 0),
    ("tokens", "tokens", 6, 110),
    ("cost", "cost", 7, 130),
    ("tags", "tags", 14, 150),
    ("error", "!", 1, 0),
]


class LogsScreen(Screen):
    """Browse a project's logs: newest first, filter with `/`, open with enter."""

    BINDINGS = [
        Binding("slash", "focus_filter", "Filter", id="logs.filter"),
        Binding("enter", "open", "Open", id="logs.open"),
        Binding("g", "top", "First row", show=False, id="logs.top"),
        Binding("G,end", "bottom", "Last row", show=False, id="logs.bottom"),
        Binding("home", "top", "First row", show=False, id="logs.home"),
        Binding("s", "sort", "Sort", id="logs.sort"),
        Binding("S", "reverse", "Reverse sort", show=False, id="logs.reverse"),
        Binding("T", "toggle_shape", "Traces/spans", id="logs.shape"),
        Binding("v", "views", "Views", id="logs.views"),
        Binding("V", "save_view", "Save view", show=False, id="logs.save_view"),
        Binding("r", "refresh", "Refresh", id="logs.refresh"),
        Binding("R", "auto_refresh", "Auto-refresh", show=False, id="logs.auto_refresh"),
        Binding("space", "mark", "Mark", show=False, id="logs.mark"),
        Binding("A", "mark_all", "Mark all", show=False, id="logs.mark_all"),
        Binding("b", "batch", "Batch", id="logs.batch"),
        Binding("c", "comment", "Comment", show=False, id="logs.comment"),
        Binding("t", "tags", "Tags", show=False, id="logs.tags"),
        Binding("y", "copy", "Copy", show=False, id="logs.copy"),
        Binding("escape", "escape", "Clear", show=False, id="logs.escape"),
    ]

    HELP = (
        "Logs: newest traces first. Type a filter like  scores.Factuality < 0.5 and tags includes 'vip'"
        "  or plain words to search. enter opens a trace."
    )

    def __init__(self) -> None:
        super().__init__()
        self.shape = "traces"
        self.sort_key = "created"
        self.desc = True
        self.filter_text = ""
        self.query_obj: Optional[LogsQuery] = None
        self.rows: list[Row] = []  # the window the table shows
        self.more_after: Optional[tuple] = None  # cursor below the window
        self.more_before: Optional[tuple] = None  # cursor above the window
        self.marked: set[str] = set()
        self.marked_roots: dict[str, str] = {}  # marked row id -> its trace's root_span_id
        self.all_marked = False
        self.total: Optional[int] = None
        self.loading = False
        self._focus_on_rows = False  # give the table focus when the next first page arrives
        self._flex_width = 20
        self.auto = False
        self._auto_timer = None
        self.last_ms = 0.0
        self.mode_label = "all rows"
        self.note = ""
        self.suggester = FilterSuggester()
        self._error_text = ""

    # -- layout
    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="filter-box"):
            yield FilterInput(placeholder="/ filter: scores.Factuality < 0.5 and tags includes 'vip' · or words to search",
                              suggester=self.suggester, id="filter", select_on_focus=False)
            yield Static("", id="filter-error")
            yield Static("", id="filter-hint")
        yield Static("", id="status")
        yield LogsTable(zebra_stripes=True, id="table")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#filter-error").display = False
        self.query_one("#filter-hint").display = False
        self._build_columns()
        self.query_one(LogsTable).focus()
        self.reload()
        self.load_completions()

    @property
    def store(self):
        return self.app.store

    def on_resize(self) -> None:
        keep = self._cursor_id()
        self._build_columns()
        self._render_rows(keep_key=keep)

    def _visible_columns(self) -> list[tuple]:
        width = self.size.width or self.app.size.width
        cols = [c for c in COLUMNS if width >= c[3]]
        if width < 100:  # narrow: shorter time and name, so previews keep some room
            narrow = {"time": 11, "name": 12, "scores": 10}
        elif width < 120:  # the previews are the point: the scores column gives way first
            narrow = {"scores": 10}
        else:
            narrow = {}
        return [(k, l, narrow.get(k, w), m) for k, l, w, m in cols]

    def _build_columns(self) -> None:
        table = self.query_one(LogsTable)
        width = self.size.width or 80
        cols = self._visible_columns()
        fixed = sum((w or 0) + 2 for _, _, w, _ in cols if w)
        flex = [c for c in cols if c[2] is None]
        flex_w = max(8, (width - fixed - 2 - 2 * len(flex)) // max(1, len(flex)))
        table.clear(columns=True)
        for key, label, w, _ in cols:
            table.add_column(label, key=key, width=w or flex_w)
        self._flex_width = flex_w

    def _cells(self, r: Row) -> list:
        """One row's cells, each a ``Text`` (never markup: an input containing ``[/]`` shows
        as typed) cut to about its column's width."""
        out = []
        for key, _, w, _ in self._visible_columns():
            width = w or self._flex_width
            if key == "mark":
                out.append(Text("●", style="bold magenta") if (self.all_marked or r.id in self.marked) else Text(""))
            elif key == "time":
                out.append(Text(fmt_time(r.created)[:width]))
            elif key == "name":
                label = r.name or ""
                if self.shape == "traces" and r.spans > 1:
                    suffix = f" ·{r.spans}"  # the span count stays visible: cut the name instead
                    if len(label) + len(suffix) > width:
                        label = label[: max(1, width - len(suffix) - 1)] + "…"
                    label += suffix
                elif self.shape == "spans" and r.type:
                    label = f"{r.type[:4]} {label}"
                out.append(Text(label[: width + 1]))
            elif key == "input":
                out.append(Text(preview(r.input_preview, width + 1)))
            elif key == "output":
                text = preview(r.output_preview, width + 1)
                if r.has_error and not text:
                    out.append(Text(preview(r.error_preview, width + 1), style="red"))
                else:
                    out.append(Text(text))
            elif key == "scores":
                out.append(Text(fmt_scores(r.scores, width)))
            elif key == "duration":
                out.append(Text(fmt_duration(r.duration), justify="right"))
            elif key == "tokens":
                out.append(Text(fmt_tokens(r.tokens), justify="right"))
            elif key == "cost":
                out.append(Text(fmt_cost(r.cost), justify="right"))
            elif key == "tags":
                out.append(Text(",".join(r.tags)[: width + 1]))
            elif key == "error":
                out.append(Text("!", style="bold red") if (r.has_error or r.errors) else Text(""))
        return out

    def _render_rows(self, keep_key: Optional[str] = None, cursor: Optional[int] = None) -> None:
        table = self.query_one(LogsTable)
        table.clear()
        table.add_rows((r.id, self._cells(r)) for r in self.rows)
        if not self.rows:
            return
        if keep_key is not None:
            idx = next((i for i, r in enumerate(self.rows) if r.id == keep_key), None)
            if idx is not None:
                cursor = idx
        if cursor is not None:
            table.move_cursor(row=max(0, min(cursor, len(self.rows) - 1)), animate=False)

    def _cursor_id(self) -> Optional[str]:
        table = self.query_one(LogsTable)
        if not self.rows or table.cursor_row is None or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row].id

    def current_row(self) -> Optional[Row]:
        table = self.query_one(LogsTable)
        if not self.rows or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    # -- status line
    def _update_status(self) -> None:
        total = "counting…" if self.total is None else f"{self.total:,} matching"
        what = "traces" if self.shape == "traces" else "spans"
        sort = f"sort {self.sort_key} {'↓' if self.desc else '↑'}"
        marks = ""
        if self.all_marked:
            marks = " · all marked"
        elif self.marked:
            marks = f" · {len(self.marked)} marked"
        auto = " · auto-refresh" if self.auto else ""
        note = f" · {self.note}" if self.note else ""
        first = f"{what} · {self.mode_label}{note} · {total} · {sort}{marks}{auto} · {self.last_ms:.0f} ms"
        self.query_one("#status", Static).update(Text(first, style="dim"))

    # -- loading
    def _new_query(self) -> LogsQuery:
        return LogsQuery(self.store, self.app.project, self.filter_text, shape=self.shape, sort=self.sort_key,
                         desc=self.desc)

    def reload(self, keep_key: Optional[str] = None) -> None:
        """Run the current filter from the top (first page), then count in the background.

        The count starts once the first page is on screen: run side by side, the two queries
        share the GIL and the page would wait for the count.
        """
        self.total = None
        self._load(after=None, reverse=False, mode="replace", keep_key=keep_key)

    @work(thread=True, exclusive=True, group="page")
    def _load(self, after, reverse: bool, mode: str, keep_key: Optional[str] = None) -> None:
        worker = get_current_worker()
        try:
            q = self._new_query()
            page = q.page(after, PAGE, reverse=reverse)
        except QueryError as exc:
            self.app.call_from_thread(self._show_query_error, exc)
            return
        except Exception as exc:  # never a traceback: a notification
            self.app.call_from_thread(self.app.notify, f"query failed: {exc}", severity="error")
            return
        finally:
            self.store.release_thread()
        if not worker.is_cancelled:
            self.app.call_from_thread(self._apply_page, q, page, mode, reverse, keep_key)

    def _apply_page(self, q: LogsQuery, page: Page, mode: str, reverse: bool, keep_key: Optional[str]) -> None:
        self.query_obj = q
        self.last_ms = page.elapsed_ms
        self.mode_label = page.filter.label
        self.note = page.filter.note
        if mode == "replace" and page.filter.mode == "filter":
            self._load_hints(page.filter)
        err = self.query_one("#filter-error", Static)
        err.display = False
        table = self.query_one(LogsTable)
        if mode == "replace":
            self.rows = list(page.rows)
            if reverse:  # G: the last page
                self.more_before = page.after
                self.more_after = None
                self._render_rows(cursor=len(self.rows) - 1)
            else:
                self.more_after = page.after
                self.more_before = None
                self._render_rows(keep_key=keep_key, cursor=0)
        elif mode == "append":
            keep = self._cursor_id()
            self.rows.extend(page.rows)
            self.more_after = page.after
            if len(self.rows) > MAX_ROWS:
                drop = len(self.rows) - MAX_ROWS
                first = self.rows[drop]
                self.rows = self.rows[drop:]
                self.more_before = (first.sort_key, first.rid)
                self._render_rows(keep_key=keep)
            else:
                table.add_rows((r.id, self._cells(r)) for r in page.rows)
        elif mode == "prepend":
            keep = self._cursor_id()
            self.rows = list(page.rows) + self.rows
            self.more_before = page.after
            if len(self.rows) > MAX_ROWS:
                self.rows = self.rows[:MAX_ROWS]
                last = self.rows[-1]
                self.more_after = (last.sort_key, last.rid)
            self._render_rows(keep_key=keep)
        self.loading = False
        self._update_status()
        if self._focus_on_rows and mode == "replace":
            self._focus_on_rows = False
            table.focus()
        if mode == "replace" and self.total is None:
            self._count()
        if not self.rows:
            self.query_one("#status", Static).update(
                Text(f"{'traces' if self.shape == 'traces' else 'spans'} · {self.mode_label} · nothing matches"
                     " · press / to change the filter, escape clears it", style="yellow")
            )

    def _show_query_error(self, exc: QueryError) -> None:
        """A bad filter: the message and a caret under the column; previous rows stay."""
        err = self.query_one("#filter-error", Static)
        self._error_text = self.query_one("#filter", Input).value
        caret = " " * exc.pos + "^"
        err.update(Text(f"{caret}\n{exc.message} at column {exc.column}", style="bold red"))
        err.display = True
        self.loading = False
        self._focus_on_rows = False

    @work(thread=True, exclusive=True, group="count")
    def _count(self) -> None:
        worker = get_current_worker()
        try:
            n = self._new_query().count()
        except Exception:
            n = None
        finally:
            self.store.release_thread()
        if not worker.is_cancelled:
            def apply() -> None:
                self.total = n
                self._update_status()
            self.app.call_from_thread(apply)

    @work(thread=True, exclusive=True, group="hints")
    def _load_hints(self, flt) -> None:
        """After a filter's first page: say so when it names a score or metadata key this
        project does not have but has something close (`scores.factuality`)."""
        from store.query.hints import field_hints

        try:
            hints = field_hints(self.store, self.app.project, flt.node)
        except Exception:
            return
        finally:
            self.store.release_thread()
        if hints:
            def show() -> None:
                if self.filter_text == flt.text:
                    self.note = " · ".join(hints)
                    self._update_status()
            self.app.call_from_thread(show)

    @work(thread=True, exclusive=True, group="completions")
    def load_completions(self) -> None:
        try:
            comp = completions(self.store, self.app.project)
        except Exception:
            return
        finally:
            self.store.release_thread()
        fields = [f for f, _ in comp.fields]
        self.suggester.fields = sorted(set(fields), key=lambda f: (f.count("."), f))
        self.suggester.tags = [t for t, _ in comp.tags]
        self.suggester.names = [n for n, _ in comp.span_names]
        self.suggester.counts = {**{f: n for f, n in comp.fields if n is not None},
                                 **{"tag:" + t: n for t, n in comp.tags},
                                 **{"name:" + t: n for t, n in comp.span_names}}
        self.known_tags = self.suggester.tags

    @on(RowTable.RowHighlighted)
    def _maybe_page(self, event: RowTable.RowHighlighted) -> None:
        if self.loading:
            return
        row = event.cursor_row
        if row != self.query_one(LogsTable).cursor_row:
            return  # a stale event (a re-render moved the cursor on since): not the user's move
        if row >= len(self.rows) - 10 and self.more_after is not None:
            self.loading = True
            self._load(self.more_after, False, "append")
        elif row <= 5 and self.more_before is not None:
            self.loading = True
            self._load(self.more_before, True, "prepend")

    # -- filter bar
    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    @on(Input.Changed, "#filter")
    def _show_candidates(self, event: Input.Changed) -> None:
        """Under the bar while typing: what the word being typed can become, with counts."""
        err = self.query_one("#filter-error", Static)
        if err.display and event.value != self._error_text:
            err.display = False  # the caret pointed into the text that was wrong, not this one
        hint = self.query_one("#filter-hint", Static)
        found = self.suggester.candidates(event.value) if event.input.has_focus else []
        if not found:
            hint.display = False
            return
        parts = [f"{word} ({count:,})" if count is not None else word for _, word, count in found]
        line = Text(" tab → ", style="bold")
        line.append(" · ".join(parts), style="dim")
        line.no_wrap, line.overflow = True, "ellipsis"
        hint.update(line)
        hint.display = True

    @on(Input.Blurred, "#filter")
    def _hide_candidates(self) -> None:
        self.query_one("#filter-hint").display = False

    @on(Input.Submitted, "#filter")
    def _apply_filter(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#filter-hint").display = False
        text = event.value
        try:
            check_filter(text)
        except QueryError as exc:
            self._show_query_error(exc)
            return
        self.filter_text = text
        self.all_marked = False
        # The table takes focus when the new rows arrive: focusing it now would repaint the
        # whole table twice (cursor style, then rows) while the query competes for the GIL.
        self._focus_on_rows = True
        self.reload()

    # -- keys
    def action_escape(self) -> None:
        inp = self.query_one("#filter", Input)
        if inp.has_focus:
            # Leave the bar as it was: it always shows the filter the rows are for.
            inp.value = self.filter_text
            self.query_one("#filter-error").display = False
            self.query_one(LogsTable).focus()
            return
        if self.marked or self.all_marked:
            what = "all matching rows" if self.all_marked else f"{len(self.marked)} marked"
            self.marked.clear()
            self.all_marked = False
            self.notify(f"marks cleared ({what}); escape again clears the filter")
            self._render_rows(keep_key=self._cursor_id())
            self._update_status()
            return
        if self.filter_text:
            inp.value = ""
            self.filter_text = ""
            self.query_one("#filter-error").display = False
            self.reload()

    def action_open(self) -> None:
        row = self.current_row()
        if row is None:
            return
        from tui.screens.trace import TraceScreen

        self.app.push_screen(TraceScreen(row.root_span_id, focus_span=row.span_id if self.shape == "spans" else None))

    @on(RowTable.RowSelected)
    def _row_selected(self, event: RowTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_top(self) -> None:
        if self.more_before is None:
            self.query_one(LogsTable).move_cursor(row=0)
        else:
            self._load(None, False, "replace")

    def action_bottom(self) -> None:
        if self.more_after is None:
            self.query_one(LogsTable).move_cursor(row=max(0, len(self.rows) - 1))
        else:
            self._load(None, True, "replace")

    def action_sort(self) -> None:
        # The common ones within reach of 1-9: time, the numbers, the scores; then the rest.
        first = ["created", "duration", "tokens", "cost"]
        keys = first + [f"scores.{n}" for n in self._score_names()] + [k for k in SORT_KEYS if k not in first]
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

    def _score_names(self) -> list[str]:
        return [f.split(".", 1)[1] for f in self.suggester.fields if f.startswith("scores.")][:8]

    def action_reverse(self) -> None:
        self.desc = not self.desc
        self.reload()

    def action_toggle_shape(self) -> None:
        self.shape = "spans" if self.shape == "traces" else "traces"
        self.marked.clear()
        self.all_marked = False
        self.reload()

    def action_refresh(self) -> None:
        self.reload(keep_key=self._cursor_id())
        self.load_completions()

    def action_auto_refresh(self) -> None:
        self.auto = not self.auto
        if self.auto:
            self._auto_timer = self.set_interval(2.0, self._auto_tick)
        elif self._auto_timer is not None:
            self._auto_timer.stop()
            self._auto_timer = None
        self.notify("auto-refresh on (every 2 s)" if self.auto else "auto-refresh off")
        self._update_status()

    def _auto_tick(self) -> None:
        table = self.query_one(LogsTable)
        if self.more_before is None and (table.cursor_row or 0) < PAGE and not self.loading:
            self._load(None, False, "replace", keep_key=self._cursor_id())
            self._count()

    def action_mark(self) -> None:
        row = self.current_row()
        if row is None:
            return
        if self.all_marked:
            self.all_marked = False
        if row.id in self.marked:
            self.marked.discard(row.id)
        else:
            self.marked.add(row.id)
            self.marked_roots[row.id] = row.root_span_id
        table = self.query_one(LogsTable)
        cur = table.cursor_row
        table.update_cell(row.id, "mark", Text("●", style="bold magenta") if row.id in self.marked else Text(""))
        if cur + 1 < len(self.rows):
            table.move_cursor(row=cur + 1)
        self._update_status()

    def action_mark_all(self) -> None:
        self.all_marked = not self.all_marked
        self.marked.clear()
        self._render_rows(keep_key=self._cursor_id())
        self._update_status()

    # -- views
    def action_views(self) -> None:
        views = list_views(self.store, self.app.project)
        items = [(f"v{i}", f"{v.name}  —  {v.filter}") for i, v in enumerate(views)]
        items.append(("clear", "All rows (clear the filter)"))

        def picked(key: Optional[str]) -> None:
            if not key:
                return
            text = "" if key == "clear" else views[int(key[1:])].filter
            self.apply_view(text)

        self.app.push_screen(MenuScreen("Saved views", items), picked)

    def apply_view(self, text: str) -> None:
        self.query_one("#filter", Input).value = text
        self.filter_text = text
        self.query_one("#filter-error").display = False
        self.reload()

    def action_save_view(self) -> None:
        if not self.filter_text.strip():
            self.notify("type a filter first (/), then save it as a view", severity="warning")
            return

        def done(name: Optional[str]) -> None:
            if not name:
                return
            try:
                save_view(self.store, self.app.project, name, self.filter_text, self.shape, default_author())
            except (QueryError, ValueError) as exc:
                self.notify(str(exc), severity="error")
                return
            self.notify(f"saved view {name!r}")

        self.app.push_screen(PromptScreen("Save this filter as a view named:", placeholder="e.g. Refund errors"), done)

    # -- comments, tags, batch actions
    def action_comment(self) -> None:
        row = self.current_row()
        if row is None:
            return

        def done(text: Optional[str]) -> None:
            if text and text.strip():
                self._write(lambda: add_comment(self.store, self.app.project, row.id, text.strip(), default_author()),
                            f"comment added to {row.name or row.id}")

        self.app.push_screen(PromptScreen(f"Comment on {row.name or 'row'} ({row.id})", placeholder="what is wrong or right here?"), done)

    def action_tags(self) -> None:
        row = self.current_row()
        if row is None:
            return

        def done(text: Optional[str]) -> None:
            if text is None:
                return
            tags = [t.strip() for t in text.split(",")]
            self._write(lambda: set_tags(self.store, self.app.project, row.id, tags, default_author()),
                        "tags saved")

        self.app.push_screen(
            PromptScreen(f"Tags of {row.name or row.id} (comma-separated)", value=", ".join(row.tags),
                         hint="→ accepts a suggestion · enter saves · escape cancels",
                         suggester=LastTokenSuggester(getattr(self, "known_tags", []))),
            done,
        )

    def _selection(self) -> tuple[str, Optional[list[str]]]:
        """(description, ids) of the selection; ids None means "all matching the filter"."""
        if self.all_marked:
            return ("all matching rows", None)
        what = "traces" if self.shape == "traces" else "rows"
        if self.marked:
            n = len(self.marked)
            return (f"{n} marked {what if n != 1 else what[:-1]}", sorted(self.marked))
        row = self.current_row()
        return (f"the current {what[:-1]}", [row.id] if row else [])

    def _batch_selection(self, ids: Optional[list[str]], shape: str) -> Selection:
        """The store's selection of the given rows (None: all matching the filter)."""
        return Selection(self.app.project, self.filter_text, shape, None if ids is None else tuple(ids))

    def action_batch(self) -> None:
        desc, ids = self._selection()
        items = [("tag", "Add a tag…"), ("untag", "Remove a tag…"), ("export", "Export to a JSONL file…")]
        items += [(key, label) for key, label, _ in self.app.batch_actions]

        def picked(key: Optional[str]) -> None:
            if key:
                self.run_batch(key)

        self.app.push_screen(MenuScreen(f"Batch action on {desc}", items), picked)

    def run_batch(self, key: str) -> None:
        """One batch action on the selection (the menu's and the palette's way in)."""
        desc, ids = self._selection()
        if key in ("tag", "untag"):
            def done(tag: Optional[str]) -> None:
                if tag and tag.strip():
                    add = [tag] if key == "tag" else []
                    rem = [tag] if key == "untag" else []
                    # Marked rows: just those rows; all marked: every span of the view.
                    sel = self._batch_selection(ids, self.shape if ids is None else "spans")
                    self._write(lambda: retag_selection(self.store, sel, add=add, remove=rem, author=default_author()),
                                f"{'tagged' if key == 'tag' else 'untagged'} {desc}", count=True)
            self.app.push_screen(PromptScreen(f"{'Add' if key == 'tag' else 'Remove'} a tag on {desc}:",
                                              suggester=LastTokenSuggester(getattr(self, "known_tags", []))), done)
        elif key == "export":
            self.export_selection()
        else:
            for k, _, fn in self.app.batch_actions:
                if k == key:
                    fn(self, ids)

    def export_selection(self) -> None:
        desc, ids = self._selection()
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        default = str(Path.cwd() / f"bt-tui-export-{stamp}.jsonl")

        def done(path: Optional[str]) -> None:
            if path:
                self._export(path, ids, desc)

        self.app.push_screen(PromptScreen(f"Export {desc} to:", value=default), done)

    @work(thread=True, group="write")
    def _export(self, path: str, ids: Optional[list[str]], desc: str) -> None:
        try:
            n = 0
            with open(path, "w", encoding="utf-8") as out:
                # In the traces view a selected row stands for its whole trace.
                for line in export_selection(self.store, self._batch_selection(ids, self.shape)):
                    out.write(line + "\n")
                    n += 1
            self.app.call_from_thread(self.notify, f"exported {n} spans ({desc}) to {path}")
        except Exception as exc:
            self.app.call_from_thread(self.notify, f"export failed: {exc}", severity="error")
        finally:
            self.store.release_thread()

    @work(thread=True, group="write")
    def _write(self, fn, message: str, count: bool = False) -> None:
        try:
            result = fn()
        except Exception as exc:
            self.app.call_from_thread(self.notify, f"could not save: {exc}", severity="error")
            return
        finally:
            self.store.release_thread()
        msg = f"{message} ({result} changed)" if count else message
        self.app.call_from_thread(self.notify, msg)
        self.app.call_from_thread(self.reload, self._cursor_id())

    def action_copy(self) -> None:
        row = self.current_row()
        if row is None:
            return
        from store.export import get_span
        import orjson

        span = get_span(self.store, self.app.project, row.id)
        self.app.copy_to_clipboard(orjson.dumps(span, option=orjson.OPT_INDENT_2).decode())
        self.notify("copied the row as JSON (OSC 52)")
