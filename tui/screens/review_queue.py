"""The Review screen (key R): the review queue (``store.review``) in three views, Awaiting
review (backlog + pending), Assigned to me, Completed, each a paged table; or as a kanban of
three columns (Backlog / Pending / Complete, with counts) whose cards move with keys.

From here a reviewer starts focused review (``tui.screens.review.FocusedReviewScreen``, imported
when it is opened): ``enter`` on an item, ``r`` on the queue, ``m`` on what is assigned to them.
Flagging happens on the Logs screen (``f``, or the batch action); ``flag_rows`` and
``ask_flag`` are its way in. Every read and write runs in a worker thread."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Optional

import orjson
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import Header, Static

from store.audit import audit_log, default_author
from store.errors import NotFound
from store.export import get_span
from store.review import (STATES, QueueItem, flag, flag_selection, get_item, queue_counts, queue_items, set_state,
                          trace_root_ids, unflag)
from store.selection import Selection, selection_row_ids
from tui.actions import write_in_thread
from tui.format import ago, fmt_time, preview, ways_hint
from tui.messages import WorkFailed, WriteDone
from tui.registry import BatchAction, BtScreen, Command, register_screen
from tui.screens.dialogs import MenuScreen, PromptScreen
from tui.widgets.keybar import KeyBar
from tui.widgets.paged_table import NARROW, Column, ListPage, PagedTable

MAX_ROWS = 1000
PREVIEW_CHARS = 300  # of a trace's input kept for the table (a cell shows at most a line of it)

# view -> (title, states, only the acting person's)
VIEWS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "awaiting": ("Awaiting review", ("backlog", "pending"), False),
    "mine": ("Assigned to me", ("backlog", "pending"), True),
    "completed": ("Completed", ("complete",), False),
}
SHORT_TITLES = {"awaiting": "Awaiting", "mine": "Mine", "completed": "Completed"}  # narrow terminals
STATE_TITLES = {"backlog": "Backlog", "pending": "Pending", "complete": "Complete"}


# --- the rows ------------------------------------------------------------------------------------

@dataclass
class QueueRow:
    """A queue item with what the table shows of its trace (the root span's time, name and
    input, read with the page)."""

    item: QueueItem
    created: str = ""
    name: str = ""
    input: str = ""
    gone: bool = False  # the trace is no longer in the project

    @property
    def id(self) -> str:
        return self.item.id


def queue_row(store, project: str, item: QueueItem) -> QueueRow:
    try:
        span = get_span(store, project, item.id)
    except NotFound:
        return QueueRow(item, gone=True)
    name = (span.get("span_attributes") or {}).get("name") or ""
    value = span.get("input")
    text = preview(orjson.dumps(value).decode(), PREVIEW_CHARS) if value is not None else ""
    return QueueRow(item, span.get("created") or "", name, text)


class QueueSource:
    """The paged table's source: the queue items of some states (and, ``assignee``, of one
    person), in queue order, a page at a time by their ``seq``; each with its trace's root
    span read for the page only."""

    def __init__(self, store, project: str, states: tuple[str, ...], assignee: Optional[str] = None) -> None:
        self.store, self.project, self.states, self.assignee = store, project, states, assignee

    def page(self, after: Any, limit: int, *, reverse: bool = False) -> ListPage:
        items: list[QueueItem] = []
        for state in self.states:  # each state by its index, merged in queue order
            items += queue_items(self.store, self.project, state=state, assignee=self.assignee, after=after,
                                 limit=limit + 1, reverse=reverse)
        items.sort(key=lambda i: i.seq)
        more = len(items) > limit
        if reverse:
            items = items[-limit:]
            nxt = items[0].seq if more and items else None
        else:
            items = items[:limit]
            nxt = items[-1].seq if more and items else None
        return ListPage([queue_row(self.store, self.project, i) for i in items], nxt)

    def count(self) -> int:
        counts = queue_counts(self.store, self.project, assignee=self.assignee)
        return sum(counts[s] for s in self.states)

    def row_id(self, row: QueueRow) -> str:
        return row.id

    def cursor_of(self, row: QueueRow) -> int:
        return row.item.seq

    def release_thread(self) -> None:
        self.store.release_thread()


# --- cells ---------------------------------------------------------------------------------------

STATE_STYLE = {"backlog": "yellow", "pending": "cyan", "complete": "green"}


def _claimed(row: QueueRow, me: str) -> Text:
    """Someone else reviewing it now: ● and their name."""
    if row.item.claimed_by_other(me):
        return Text(f"● {row.item.claimed_by}", style="bold magenta")
    return Text("")


def _input(row: QueueRow, width: int) -> Text:
    if row.gone:
        return Text("(trace no longer in the project)", style="dim italic")
    return Text(row.input[: width + 1])


def _person(name: Optional[str], width: int, style: str = "") -> Text:
    return Text((name or "")[: width + 1], style=style)


def queue_columns(me: str) -> list[Column]:
    return [
        Column("state", "state", lambda r, w: Text(r.item.state, style=STATE_STYLE.get(r.item.state, "")), 8),
        Column("time", "time", lambda r, w: Text(fmt_time(r.created)[:w] if r.created else ""), 14,
               narrow=((NARROW, 11),)),
        Column("name", "name", lambda r, w: Text(r.name[: w + 1]), 16, show_from=150),
        Column("input", "input", _input),
        Column("assignee", "assignee", lambda r, w: _person(r.item.assignee, w, "cyan"), 10, narrow=((NARROW, 8),)),
        Column("flagged_by", "flagged by", lambda r, w: _person(r.item.flagged_by, w, "dim"), 10, show_from=130),
        Column("claimed", "reviewing", lambda r, w: _claimed(r, me), 11, narrow=((NARROW, 9),)),
        Column("updated", "updated", lambda r, w: Text(ago(r.item.updated), style="dim"), 9, show_from=NARROW),
    ]


def card_columns(me: str) -> list[Column]:
    """A kanban card: the trace's input, who it is assigned to (● someone reviewing it now)."""
    def who(r: QueueRow, w: int) -> Text:
        if r.item.claimed_by_other(me):
            return Text(f"●{r.item.claimed_by}"[: w + 1], style="bold magenta")
        return _person(r.item.assignee, w, "cyan")

    return [Column("input", "input", _input), Column("who", "who", who, 8, narrow=((40, 5),))]


def empty_queue(project: str, view: str) -> Text:
    if view == "awaiting":
        title = f"Nothing awaits review in project {project!r}."
    elif view == "mine":
        title = f"Nothing is assigned to you ({default_author()}) in project {project!r}."
    else:
        title = f"No trace of project {project!r} has been reviewed yet."
    return ways_hint(title, "Flag traces for review:", (
        ("on the Logs screen (L): the current trace", "f"),
        ("marked traces (space) or all matching a filter, optionally assigned", "b  then  Flag for review…"),
        ("from a script", "bt-tui flag --filter 'scores.user_rating < 0.3' [--assign NAME]"),
        ("or review what a filter matches without queueing it: on the Logs screen", "r"),
    ), "1 2 3 switch views · K the kanban · ? lists every key")


# --- people (completion of assignees) -----------------------------------------------------------

def known_people(store, project: str) -> list[str]:
    """The people this database knows: who queued, was assigned or completed an item, and the
    authors of recent changes; the acting person first."""
    names: dict[str, None] = {default_author(): None}
    for item in queue_items(store, project, limit=2000, reverse=True):
        for n in (item.assignee, item.flagged_by, item.completed_by):
            if n:
                names[n] = None
    for entry in audit_log(store, limit=500):
        if entry.get("author"):
            names[entry["author"]] = None
    return list(names)


class PeopleSuggester(Suggester):
    """Completes a person's name; the names are read (in a thread) on the first keystroke."""

    def __init__(self, store, project: str) -> None:
        super().__init__(use_cache=False, case_sensitive=False)
        self.store, self.project = store, project
        self.names: Optional[list[str]] = None

    def _read(self) -> list[str]:
        try:
            return known_people(self.store, self.project)
        except Exception:
            return [default_author()]  # completion is a convenience
        finally:
            self.store.release_thread()

    async def get_suggestion(self, value: str) -> Optional[str]:
        if self.names is None:
            self.names = await asyncio.to_thread(self._read)
        typed = value.strip().lower()
        if not typed:
            return None
        for n in self.names:
            if n.lower().startswith(typed) and n.lower() != typed:
                return value + n[len(value.strip()):]
        return None


def ask_person(screen, title: str, done, *, hint: str = "") -> None:
    """Ask for a person (completion of known names); ``done(name or "", or None: cancelled)``."""
    screen.app.push_screen(PromptScreen(title, placeholder="a person's name (empty: nobody)",
                                        hint=hint or "→ completes a name · enter confirms · escape cancels",
                                        suggester=PeopleSuggester(screen.store, screen.app.project)), done)


# --- flagging (the Logs screen's way in) ----------------------------------------------------------

def _flag_message(n: int, added: int, updated: int, assignee: Optional[str]) -> str:
    """"flagged 12 traces for review (3 already queued)", and what happened to those."""
    if n == 0:
        return "nothing to flag"
    what = f"{n:,} trace{'s' if n != 1 else ''}"
    if added == 0:
        said = f"{what} already in the review queue" if n != 1 else "already in the review queue"
        if assignee and updated:
            said += f": {'now ' if updated == n else f'{updated:,} now '}assigned to {assignee}"
        return said
    msg = f"flagged {what} for review"
    if assignee:
        msg += f", assigned to {assignee}"
    if added < n:
        msg += f" ({n - added:,} already queued)"
    return msg


def flag_rows(store, project: str, row_ids: list[str], assignee: Optional[str] = None) -> str:
    """Flag the traces of these rows (any span of a trace stands for it); the notice."""
    ids = trace_root_ids(store, project, row_ids)
    added, updated = flag(store, project, ids, assignee=assignee or None, author=default_author())
    return _flag_message(len(ids), added, updated, assignee)


def flag_chosen(store, sel: Selection, assignee: Optional[str] = None) -> str:
    """Flag the traces of a Logs selection (marked rows, or all matching); the notice."""
    if sel.ids is not None:
        return flag_rows(store, sel.project, list(sel.ids), assignee)
    if sel.shape == "traces":
        from store.selection import selection_root_ids

        n = sum(1 for _ in selection_root_ids(store, sel))
        added, updated = flag_selection(store, sel, assignee=assignee or None, author=default_author())
        return _flag_message(n, added, updated, assignee)
    return flag_rows(store, sel.project, list(selection_row_ids(store, sel)), assignee)


def ask_flag(screen, sel: Selection, desc: str) -> None:
    """The batch action: flag the selection's traces, optionally assigned to someone."""
    def done(name: Optional[str]) -> None:
        if name is not None:
            write_in_thread(screen, "{result}", flag_chosen, sel, name.strip() or None, changed=False,
                            failed="could not flag")

    ask_person(screen, f"Flag {desc} for review, assigned to (optional):", done,
               hint="enter flags them (empty: unassigned) · → completes a name · escape cancels")


FLAG = BatchAction("flag", "Flag for review…", ask_flag, palette="Flag the selection for review",
                   help="their traces into the review queue, optionally assigned")


def open_focused_review(screen, **kwargs) -> None:
    """Push focused review (``tui.screens.review``, another screen's module) with ``kwargs``."""
    try:
        from tui.screens.review import FocusedReviewScreen  # noqa: PLC0415 (its own module, loaded when used)
    except ImportError:
        screen.notify("focused review is not available in this build", severity="error")
        return
    screen.app.push_screen(FocusedReviewScreen(screen.app.project, **kwargs))


# --- the screen ----------------------------------------------------------------------------------

class QueueTable(PagedTable):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="queue.down"),
        Binding("k", "cursor_up", "Up", show=False, id="queue.up"),
    ]


class KanbanTable(PagedTable):
    """A kanban column: its cards; left/right (h/l) go to the next column."""

    HELP_GROUP = "Kanban column"
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="kanban.down"),
        Binding("k", "cursor_up", "Up", show=False, id="kanban.up"),
        Binding("h,left", "screen.column(-1)", "Column left", show=False, id="kanban.left"),
        Binding("l,right", "screen.column(1)", "Column right", show=False, id="kanban.right"),
    ]


@dataclass
class CountsRead(Message):
    """The queue's counts: by state, and by state of the acting person's items."""

    all: dict
    mine: dict = field(default_factory=dict)


class ReviewQueueScreen(BtScreen):
    """The review queue: three views in a table, or a kanban of its states."""

    BINDINGS = [
        Binding("enter", "open", "Review item", show=False, id="queue.open"),
        Binding("r", "review", "Review next", id="queue.review"),
        Binding("m", "review_mine", "Mine", id="queue.review_mine"),
        Binding("H,less_than_sign", "move_card(-1)", "Card ←", id="queue.card_back"),
        Binding("L,greater_than_sign", "move_card(1)", "Card →", id="queue.card_on"),
        Binding("K", "kanban", "Kanban", id="queue.kanban"),
        Binding("v", "next_view", "View", id="queue.next_view"),
        Binding("1", "view('awaiting')", "Awaiting review", show=False, id="queue.view_awaiting"),
        Binding("2", "view('mine')", "Assigned to me", show=False, id="queue.view_mine"),
        Binding("3", "view('completed')", "Completed", show=False, id="queue.view_completed"),
        Binding("A", "assign", "Assign", id="queue.assign"),
        Binding("x", "remove", "Remove", id="queue.remove"),
        Binding("S", "score_configs", "Scores", id="queue.scores"),
        Binding("space", "mark", "Mark", show=False, id="queue.mark"),
        Binding("g,home", "top", "First row", show=False, id="queue.top"),
        Binding("G,end", "bottom", "Last row", show=False, id="queue.bottom"),
        Binding("ctrl+r,f5", "refresh", "Refresh", show=False, id="queue.refresh"),
        Binding("escape", "back", "Back to Logs", show=False, id="queue.back"),
    ]
    HELP = ("Review: the traces flagged for review. 1 Awaiting review, 2 Assigned to me, 3 Completed;"
            " K shows the queue as a kanban (h/l columns, H/L move a card). enter reviews the item,"
            " r works through the queue, m through what is assigned to you. S: the score"
            " configurations reviewers fill in.")
    DEFAULT_CSS = """
    ReviewQueueScreen #rq-status { height: auto; padding: 0 1; }
    ReviewQueueScreen #rq-table { height: 1fr; }
    ReviewQueueScreen #rq-empty { height: 1fr; padding: 1 2; display: none; }
    ReviewQueueScreen #rq-kanban { height: 1fr; display: none; }
    ReviewQueueScreen .kanban-col { width: 1fr; height: 1fr; border-right: solid $primary-darken-2; }
    ReviewQueueScreen .kanban-title { height: 1; padding: 0 1; text-style: bold; background: $panel; }
    ReviewQueueScreen .kanban-col:focus-within .kanban-title { background: $accent; color: $text; }
    ReviewQueueScreen KanbanTable { height: 1fr; }
    """

    def __init__(self, view: str = "awaiting", kanban: bool = False) -> None:
        super().__init__()
        self.me = default_author()
        self.view = view
        self.kanban = kanban
        self.counts: dict = {s: None for s in STATES}
        self.mine_counts: dict = {s: None for s in STATES}
        self._keep: Optional[str] = None  # the row the cursor goes to after a write

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="rq-status")
        yield Static("", id="rq-empty")
        yield QueueTable(queue_columns(self.me), markable=True, max_rows=MAX_ROWS, id="rq-table")
        with Horizontal(id="rq-kanban"):
            for state in STATES:
                with Vertical(classes="kanban-col", id=f"col-{state}"):
                    yield Static(STATE_TITLES[state], classes="kanban-title", id=f"title-{state}")
                    yield KanbanTable(card_columns(self.me), max_rows=MAX_ROWS, id=f"kanban-{state}")
        yield KeyBar()

    def on_mount(self) -> None:
        self._show_layout()
        self.reload()

    def on_resize(self) -> None:
        self._update_status()

    # -- parts
    @property
    def table(self) -> QueueTable:
        return self.query_one(QueueTable)

    def column(self, state: str) -> KanbanTable:
        return self.query_one(f"#kanban-{state}", KanbanTable)

    @property
    def focused_column(self) -> str:
        for state in STATES:
            if self.column(state).has_focus:
                return state
        return STATES[0]

    def active_table(self) -> PagedTable:
        return self.column(self.focused_column) if self.kanban else self.table

    def current_row(self) -> Optional[QueueRow]:
        return self.active_table().current_row()

    def _assignee(self) -> Optional[str]:
        return self.me if self.view == "mine" else None

    # -- loading
    def reload(self, keep: Optional[str] = None, *, stay: bool = False) -> None:
        """The rows of the view (or every kanban column) again, and the counts."""
        if self.kanban:
            for state in STATES:
                col = self.column(state)
                moved = getattr(self, "_moved_to", None)
                if keep is not None and state == self.focused_column:
                    k = keep
                elif moved is not None and moved[0] == state:
                    k = moved[1]  # the card just moved here: l (or h) lands on it
                else:
                    k = col.cursor_id()
                col.set_source(QueueSource(self.store, self.app.project, (state,), self._assignee()), k, stay=stay)
        else:
            _, states, mine = VIEWS[self.view]
            self.table.set_source(QueueSource(self.store, self.app.project, states, self.me if mine else None),
                                  keep, stay=stay)
        self._read_counts()

    @work(thread=True, exclusive=True, group="queue-counts")
    def _read_counts(self) -> None:
        try:
            counts = queue_counts(self.store, self.app.project)
            mine = queue_counts(self.store, self.app.project, assignee=self.me)
        except Exception as exc:
            self.post_message(WorkFailed(f"could not read the review queue: {exc}"))
            return
        finally:
            self.store.release_thread()
        self.post_message(CountsRead(counts, mine))

    def on_counts_read(self, event: CountsRead) -> None:
        self.counts, self.mine_counts = event.all, event.mine
        self._update_status()

    def on_paged_table_page_loaded(self, event: PagedTable.PageLoaded) -> None:
        if event.mode in ("replace", "replace_at", "last") and event.control is self.table:
            empty = not event.page.rows and event.mode != "replace_at"
            box = self.query_one("#rq-empty", Static)
            if empty:
                box.update(empty_queue(self.app.project, self.view))
            box.display = empty and not self.kanban
            self.table.display = not empty and not self.kanban
        self._update_status()

    def on_paged_table_counted(self, event: PagedTable.Counted) -> None:
        self._update_status()

    def on_paged_table_page_failed(self, event: PagedTable.PageFailed) -> None:
        self.notify(f"could not read the review queue: {event.error}", severity="error")

    def _view_count(self, view: str) -> Optional[int]:
        _, states, mine = VIEWS[view]
        counts = self.mine_counts if mine else self.counts
        if any(counts.get(s) is None for s in states):
            return None
        return sum(counts[s] for s in states)

    def _update_status(self) -> None:
        """The views with their counts (the one on show highlighted), who you are, the marks;
        in the kanban, each column's title with its count."""
        line = Text()
        narrow = (self.size.width or self.app.size.width) < NARROW
        for i, (view, (title, _, _)) in enumerate(VIEWS.items(), 1):
            if narrow:
                title = SHORT_TITLES[view]
            n = self._view_count(view)
            label = f" {i} {title} ({'…' if n is None else f'{n:,}'}) "
            on = view == self.view and (not self.kanban or view == "mine")
            line.append(label, style="bold reverse" if on else "dim")
            line.append(" ")
        line.append(f"· you: {self.me}", style="bold cyan")
        t = self.table
        if not self.kanban and (t.marked or t.all_marked):
            line.append(" · " + ("all marked" if t.all_marked else f"{len(t.marked)} marked"), style="magenta")
        if self.kanban:
            line.append("\nkanban" + (" of your items" if self.view == "mine" else "")
                        + " · h/l column · j/k card · H/L move it · enter review", style="dim")
            counts = self.mine_counts if self.view == "mine" else self.counts
            for state in STATES:
                n = counts.get(state)
                self.query_one(f"#title-{state}", Static).update(
                    f"{STATE_TITLES[state]} ({'…' if n is None else f'{n:,}'})")
        self.query_one("#rq-status", Static).update(line)

    def _show_layout(self) -> None:
        self.query_one("#rq-kanban").display = self.kanban
        self.table.display = not self.kanban
        self.query_one("#rq-empty").display = False
        if self.kanban:
            self.column("backlog").focus()
        else:
            self.table.focus()
        self.refresh_bindings()

    # -- views and layout
    def action_view(self, view: str) -> None:
        if view == self.view:
            return
        self.view = view
        self.table.clear_marks()
        if self.kanban and view == "completed":
            self.kanban = False  # the kanban has its own Complete column: show the table
            self._show_layout()
        self.reload()

    def action_next_view(self) -> None:
        views = list(VIEWS)
        self.action_view(views[(views.index(self.view) + 1) % len(views)])

    def action_kanban(self) -> None:
        self.kanban = not self.kanban
        if self.kanban and self.view == "completed":
            self.view = "awaiting"
        self._show_layout()
        self.reload()

    def action_column(self, step: int) -> None:
        i = STATES.index(self.focused_column)
        self.column(STATES[max(0, min(len(STATES) - 1, i + step))]).focus()

    def check_action(self, action: str, parameters: tuple) -> Optional[bool]:
        # The card keys are the kanban's: elsewhere H/L fall through (L: the Logs screen).
        if action in ("move_card", "column"):
            return self.kanban
        if action == "mark":
            return not self.kanban
        return True

    # -- moving
    def on_paged_table_row_selected(self, event: PagedTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_top(self) -> None:
        self.active_table().action_first()

    def action_bottom(self) -> None:
        self.active_table().action_last()

    def action_mark(self) -> None:
        self.table.toggle_mark()
        self._update_status()

    def action_refresh(self) -> None:
        self.reload(self.active_table().cursor_id())

    def on_screen_resume(self) -> None:
        """Back from focused review (or any screen on top): what was done there shows here."""
        if getattr(self, "_resumed", False):
            self.reload(self.active_table().cursor_id(), stay=True)
        self._resumed = True

    def action_back(self) -> None:
        t = self.table
        if not self.kanban and (t.marked or t.all_marked):
            t.clear_marks()
            self.notify("marks cleared")
            self._update_status()
            return
        self.app.switch_to("logs")

    # -- reviewing
    def action_open(self) -> None:
        row = self.current_row()
        if row is None:
            return
        if row.gone:
            self.notify("that trace is no longer in the project: x removes it from the queue", severity="warning")
            return
        open_focused_review(self, start=row.id)

    def action_review(self) -> None:
        open_focused_review(self)

    def action_review_mine(self) -> None:
        open_focused_review(self, mine=True)

    # -- writes
    def _chosen(self) -> list[str]:
        if self.kanban:
            rid = self.active_table().cursor_id()
            return [rid] if rid else []
        ids = self.table.chosen_ids()
        if ids is None:  # all marked: every item of the view shown (a queue is short enough)
            return [r.id for r in self.table.rows]
        return list(ids)

    def _row_after(self, ids: list[str]) -> Optional[str]:
        """The row the cursor goes to when ``ids`` leave the table: the next one that stays."""
        t = self.active_table()
        gone = set(ids)
        rows, start = t.rows, t.cursor_row
        for r in rows[start:] + rows[:start][::-1]:
            if r.id not in gone:
                return r.id
        return None

    def action_move_card(self, step: int) -> None:
        row = self.current_row()
        if row is None:
            return
        i = STATES.index(row.item.state) + step
        if not 0 <= i < len(STATES):
            self.notify(f"already in {STATE_TITLES[row.item.state]}")
            return
        state = STATES[i]
        self._keep = self._row_after([row.id])
        self._moved_to = (state, row.id)
        write_in_thread(self, f"moved {row.id} to {STATE_TITLES[state]}", _move, self.app.project, row.id, state,
                        self.me, failed="could not move the card")

    def action_assign(self) -> None:
        ids = self._chosen()
        if not ids:
            return
        what = "this item" if len(ids) == 1 else f"{len(ids)} items"

        def done(name: Optional[str]) -> None:
            if name is None:
                return
            name = name.strip() or None
            if self.view == "mine" and name != self.me:
                self._keep = self._row_after(ids)
            said = f"assigned {what} to {name}" if name else f"unassigned {what}"
            self.table.clear_marks()
            write_in_thread(self, said, _assign, self.app.project, ids, name, self.me, failed="could not assign")

        ask_person(self, f"Assign {what} to:", done)

    def action_remove(self) -> None:
        ids = self._chosen()
        if not ids:
            return
        what = "this trace" if len(ids) == 1 else f"{len(ids)} traces"

        def go(key: Optional[str]) -> None:
            if key != "yes":
                return
            self._keep = self._row_after(ids)
            self.table.clear_marks()
            write_in_thread(self, f"removed {what} from the review queue", _unflag, self.app.project, ids, self.me,
                            failed="could not remove")

        self.app.push_screen(MenuScreen(f"Remove {what} from the review queue?",
                                        [("yes", "Remove from the queue (traces and scores stay)"),
                                         ("no", "Keep")]), go)

    def after_write(self, event: WriteDone) -> None:
        keep, self._keep = self._keep, None
        self.reload(keep or self.active_table().cursor_id(), stay=True)
        self._moved_to = None

    def action_score_configs(self) -> None:
        from tui.screens.score_configs import ScoreConfigsScreen

        self.app.push_screen(ScoreConfigsScreen())

    def palette_commands(self) -> list[Command]:
        cmds = [Command("Score configurations", self.action_score_configs, "what reviewers fill in (key S)")]
        cmds += [Command(f"Review view: {title}", partial(self.action_view, view), f"key {i}")
                for i, (view, (title, _, _)) in enumerate(VIEWS.items(), 1)]
        cmds += [
            Command("Toggle the review kanban", self.action_kanban, "Backlog / Pending / Complete columns"),
            Command("Review the queue", self.action_review, "focused review, the next item"),
            Command("Review the items assigned to me", self.action_review_mine, f"as {self.me}"),
            Command("Assign the review item", self.action_assign, "to a person (marked items too)"),
            Command("Remove the item from the review queue", self.action_remove, "asks first"),
        ]
        return cmds


def _move(store, project: str, trace_id: str, state: str, author: str) -> QueueItem:
    return set_state(store, project, trace_id, state, author=author)


def _assign(store, project: str, ids: list[str], name: Optional[str], author: str) -> int:
    n = 0
    for tid in ids:
        item = get_item(store, project, tid)
        if item is not None:
            set_state(store, project, tid, item.state, author=author, assignee=name)
            n += 1
    return n


def _unflag(store, project: str, ids: list[str], author: str) -> int:
    return unflag(store, project, ids, author=author)


register_screen("review", "Review", ReviewQueueScreen, key="R")
