"""Focused review: one trace at a time, keyboard only (DESIGN.md section 5, issue 11).

``FocusedReviewScreen(project, filter=None, mine=False, start=None)``:

- ``filter`` None: the review queue. Items that are not complete are handed out with
  ``store.review.next_item`` (atomic: two reviewers never get the same item); the claim is
  renewed while the reviewer works and released when they move on or leave.
- ``filter`` given: the traces matching it, newest first (as the Logs screen's traces view);
  no claims. ``enter`` still marks a trace complete (``set_state`` queues it as complete).

The root span's input, output and expected side by side (two rows on a narrow terminal),
the production feedback beside the reviewer's score fields (tui.widgets.score_fields), and a
header with the acting person, the progress, the item's state and assignee.

Every change is saved at once, in order, by one writer thread (the screen repaints from
what it knows first, then the store confirms); each change is pushed on an undo stack that
``u`` pops, going back to the item it was made on if need be. The next item is read ahead so
``j`` and ``enter`` repaint at once."""

from __future__ import annotations

import json
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

import orjson
from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Static

from store.audit import default_author
from store.errors import NotFound
from store.export import get_span
from store.feedback import EditConflict, add_comment, apply_feedback, edit_tags, tag_changes
from store.models import FeedbackIn
from store.query.hints import completions
from store.query.pager import LogsQuery
from store.review import (CLAIM_SECONDS, HumanValue, QueueItem, ScoreConfig, ValueChange, claim, complete, get_item, human_values,
                          list_score_configs, next_item, queue_counts, queue_items, queue_position, release, set_state, set_value,
                          trace_root_ids, undo_value)
from store.selection import Selection, count_selection
from store.traces import roots_of, span_by_rid, trace_info
from tui.actions import edit_json, json_error
from tui.format import value_text
from tui.messages import ExpectedRead, WorkFailed
from tui.registry import BtScreen, Command
from tui.screens.add_to_dataset import ask_add_to_dataset
from tui.screens.dialogs import LastTokenSuggester, PromptScreen
from tui.widgets.keybar import KeyBar
from tui.widgets.score_fields import STEP, ScoreField, TextScoreField, parse_typed, pct
from tui.widgets.transcript import render_value

RENEW_S = 60.0  # renew the claim this often while the screen is open (it lapses after CLAIM_SECONDS)
NARROW = 110  # below this width the three panes become two rows
LOOKAHEAD = 5  # queue items looked at to read the next one ahead
PAGE = 100  # filter mode: traces read per page
WRITER_JOIN_S = 10.0  # on leaving, wait at most this long for the last writes


@dataclass
class Item:
    """One trace under review, as read from the store."""

    id: str  # the root row id
    span: dict
    values: dict  # store.review.human_values
    queued: Optional[QueueItem] = None

    @property
    def seq(self) -> Optional[int]:
        return self.queued.seq if self.queued is not None else None


@dataclass
class Undo:
    """A change that ``u`` can undo: ``what`` says it; ``run(store)`` undoes it."""

    item_id: str
    what: str
    run: Callable[[Any], Any]


def load_item(store, project: str, trace_id: str) -> Item:
    """(In a worker.) The root span (comments included), every reviewer's values, the queue entry."""
    return Item(trace_id, get_span(store, project, trace_id), human_values(store, project, trace_id),
                get_item(store, project, trace_id))


def resolve_start(store, project: str, start: str) -> str:
    """The root row id of ``start``: a row id of any span of the trace, or a trace's root_span_id."""
    try:
        return trace_root_ids(store, project, [start])[0]
    except NotFound:
        info = trace_info(store, project, start)
        roots = roots_of(store, info)
        if not roots:
            raise
        return span_by_rid(store, roots[0].rid)["id"]


def feedback_text(span: dict, configs: list[ScoreConfig], narrow: bool = False) -> Text:
    """The production feedback on a trace: its non-human scores (user_rating, ...), thumbs,
    tags and comments."""
    human = {c.name for c in configs}
    t = Text()
    t.append("feedback\n", style="bold underline")
    name_w, bar_w = (12, 4) if narrow else (16, 8)
    scores = {k: v for k, v in (span.get("scores") or {}).items() if k not in human}
    for k, v in scores.items():
        t.append(f"{k[:name_w]:<{name_w}} ", style="bold")
        t.append(f"{pct(v):>4} ", style="green" if (v or 0) >= 0.5 else "red")
        t.append("█" * int(round((v or 0) * bar_w)) + "\n", style="green" if (v or 0) >= 0.5 else "red")
    md = span.get("metadata") or {}
    for key in ("thumbs_up", "thumbs"):
        if key in md:
            t.append(f"{key:<{name_w}} ", style="bold")
            t.append("👍\n" if md[key] else "👎\n")
    if span.get("tags"):
        t.append(f"{'tags':<{name_w}} ", style="bold")
        t.append(", ".join(span["tags"]) + "\n", style="cyan")
    for c in span.get("comments") or []:
        t.append(f"{c.get('author', '?')}: ", style="bold")
        t.append(f"{c.get('text', '')}\n")
    if len(t.plain.splitlines()) == 1:
        t.append("none given", style="dim italic")
    return t


class FocusedReviewScreen(BtScreen):
    """Review traces one at a time, keyboard only."""

    BINDINGS = [
        Binding("escape", "leave", "Leave", id="review.leave"),
        Binding("q", "leave", "Leave", show=False, id="review.quit_leave"),
        Binding("j", "next_item", "Next", id="review.next"),
        Binding("k", "prev_item", "Prev", id="review.prev"),
        Binding("right", "next_item", "Next", show=False, id="review.next_arrow"),
        Binding("left", "prev_item", "Prev", show=False, id="review.prev_arrow"),
        Binding("tab", "field(1)", "Next field", show=False, id="review.field_next"),
        Binding("shift+tab", "field(-1)", "Prev field", show=False, id="review.field_prev"),
        Binding("down", "field(1)", "Next field", show=False, id="review.field_down"),
        Binding("up", "field(-1)", "Prev field", show=False, id="review.field_up"),
        Binding("enter", "complete", "Complete", id="review.complete"),
        Binding("u", "undo", "Undo", id="review.undo"),
        Binding("c", "comment", "Comment", id="review.comment"),
        Binding("e", "edit_expected", "Expected", id="review.expected"),
        Binding("t", "tags", "Tags", show=False, id="review.tags"),
        Binding("a", "add_to_dataset", "Dataset", show=False, id="review.add_to_dataset"),
        Binding("v", "tree", "Trace", id="review.tree"),
        Binding("w", "audit", "Audit", show=False, id="review.audit"),
        *[Binding(str(n), f"digit('{n}')", f"Option {n}", show=False, id=f"review.pick_{n}") for n in range(1, 10)],
        Binding("0", "digit('0')", "Type 0", show=False, id="review.type_0"),
        Binding("full_stop", "digit('.')", "Type .", show=False, id="review.type_dot"),
        Binding("backspace", "backspace", "Delete typed", show=False, id="review.type_back"),
        Binding("h", "step(-1)", "-10%", show=False, id="review.step_down"),
        Binding("l", "step(1)", "+10%", show=False, id="review.step_up"),
        Binding("y", "thumb(1)", "Thumbs up", show=False, id="review.thumb_up"),
        Binding("n", "thumb(0)", "Thumbs down", show=False, id="review.thumb_down"),
        Binding("space", "toggle", "Toggle", show=False, id="review.toggle"),
    ]
    HELP = ("Review: one trace at a time. j/k (→/←) next/previous trace, tab/shift+tab (↓/↑) next/previous"
            " score field. 1-9 pick an option; on a percentage type 0-100 (or 0.8) or step with h/l;"
            " thumbs: y/n (1/2) or space; text: type, enter saves. enter marks the trace complete and"
            " goes on; u undoes the last change (also on a trace you left). Every change is saved at once.")

    DEFAULT_CSS = """
    FocusedReviewScreen #rv-head { height: 1; padding: 0 1; background: $primary-background; }
    FocusedReviewScreen #rv-panes { height: 1fr; }
    FocusedReviewScreen .pane { width: 1fr; height: 1fr; border: round $primary-darken-2; padding: 0 1; }
    FocusedReviewScreen .pane:focus { border: round $accent; }
    FocusedReviewScreen #rv-lower { height: auto; max-height: 50%; }
    FocusedReviewScreen #rv-feedback { width: 34; height: auto; padding: 0 1; border-right: solid $primary-darken-2; }
    FocusedReviewScreen #rv-fields { width: 1fr; height: auto; }
    FocusedReviewScreen .text-row { height: 1; }
    FocusedReviewScreen .text-label { height: 1; width: 17; }
    FocusedReviewScreen .text-others { height: 1; width: auto; max-width: 50%; }
    FocusedReviewScreen #rv-empty { display: none; padding: 1 2; height: 1fr; }
    FocusedReviewScreen.empty #rv-empty { display: block; }
    FocusedReviewScreen.empty #rv-panes, FocusedReviewScreen.empty #rv-lower { display: none; }
    FocusedReviewScreen.narrow #rv-panes { layout: grid; grid-size: 2 2; }
    FocusedReviewScreen.narrow #rv-input { column-span: 2; }
    FocusedReviewScreen.narrow #rv-feedback { width: 26; }
    """

    # -- what the workers report
    @dataclass
    class Ready(Message):
        """The configurations and the first item (None: nothing to review)."""

        configs: list
        item: Optional[Item]
        error: str = ""

    @dataclass
    class Loaded(Message):
        """An item read (to show now: ``show``; else read ahead into the cache)."""

        item: Item
        show: bool = False

    @dataclass
    class Moved(Message):
        """The item the queue handed out after a move (None: none left that way)."""

        item: Optional[Item]
        forward: bool
        shown: Optional[str]  # the id shown when the move was asked for
        guess: Optional[str] = None  # the id shown at once (read ahead), if any

    @dataclass
    class Progress(Message):
        position: int
        total: int
        done: int

    @dataclass
    class Saved(Message):
        """A write finished: ``message`` for the header; ``change`` when it was a score value."""

        message: str
        item_id: str
        change: Optional[ValueChange] = None
        quiet: bool = False

    @dataclass
    class SaveFailed(Message):
        message: str
        item_id: str
        undo_id: int

    @dataclass
    class TagsKnown(Message):
        tags: list

    def __init__(self, project: str, *, filter: Optional[str] = None, mine: bool = False,
                 start: Optional[str] = None) -> None:
        super().__init__()
        self.project = project
        self.filter = filter
        self.mine = mine
        self.start = start
        self.author = ""
        self.configs: list[ScoreConfig] = []
        self.item: Optional[Item] = None
        self.cache: dict[str, Item] = {}
        self.undo_stack: list[tuple[int, Undo]] = []
        self._undo_seq = 0
        self.status = ""  # the last thing that happened (saved, undone, ...)
        self.progress: tuple[int, int, int] = (0, 0, 0)
        self.ready = False
        # filter mode: the traces' root row ids in order, what is read of them, the cursor
        self.ids: list[str] = []
        self.index = 0
        self._query: Optional[LogsQuery] = None
        self._after: Any = None
        self._more = True
        self._total = 0
        # queue mode: the item expected next (read ahead), and a move on its way
        self.ahead: dict[bool, Optional[str]] = {True: None, False: None}
        self._moving = False
        # the writer: one thread, changes in the order they were made
        self._jobs: "queue.Queue[Optional[Callable[[], None]]]" = queue.Queue()
        self._pending = 0
        self._lock = threading.Lock()
        self._writer: Optional[threading.Thread] = None
        self._last_claim = 0.0
        self._active = time.monotonic()  # the reviewer's last key that did something

    @property
    def queue_mode(self) -> bool:
        return self.filter is None

    @property
    def idle(self) -> bool:
        """No write is waiting or running (tests wait for it)."""
        return self._pending == 0

    # -- layout
    def compose(self) -> ComposeResult:
        yield Static("", id="rv-head")
        yield Static("", id="rv-empty")
        with Horizontal(id="rv-panes"):
            for name in ("input", "output", "expected"):
                with VerticalScroll(id=f"rv-{name}", classes="pane") as box:
                    box.border_title = name
                    box.can_focus = False
                    yield Static("", id=f"rv-{name}-text")
        with Horizontal(id="rv-lower"):
            yield Static("", id="rv-feedback")
            yield Vertical(id="rv-fields")
        yield KeyBar()

    def on_mount(self) -> None:
        self.author = getattr(self.app, "author", None) or default_author()
        self._writer = threading.Thread(target=self._write_loop, name="review-writer", daemon=True)
        self._writer.start()
        self.set_interval(RENEW_S, self._renew)
        self._apply_width(self.app.size.width)
        self._paint_head()
        self._start()

    def on_resize(self, event) -> None:
        self._apply_width(event.size.width)

    def _apply_width(self, width: int) -> None:
        self.set_class(width < NARROW, "narrow")

    def on_unmount(self) -> None:
        """Leaving (escape, a screen switch, quitting): release the claim, and let the writer
        finish what it was given (a few ms) so nothing shown as saved is dropped on exit."""
        if self.queue_mode and self.item is not None:
            item_id, author, project = self.item.id, self.author, self.project
            self._write(lambda store: release(store, project, item_id, author), lambda _r: None,
                        "could not release the claim", item_id)
        self._jobs.put(None)
        if self._writer is not None:
            self._writer.join(timeout=WRITER_JOIN_S)

    # -- the writer thread
    def _write_loop(self) -> None:
        """One thread saves every change, in the order made (a change, then its undo)."""
        store = self.store
        try:
            while True:
                job = self._jobs.get()
                if job is None:
                    return
                msg: Optional[Message] = None
                try:
                    msg = job()
                except Exception as exc:  # a job reports its own errors; this is a last resort
                    msg = WorkFailed(f"could not save: {exc}")
                finally:
                    with self._lock:
                        self._pending -= 1
                if msg is not None:
                    self.post_message(msg)
        finally:
            store.release_thread()

    def _enqueue(self, job: Callable[[], Optional[Message]]) -> None:
        with self._lock:
            self._pending += 1
        self._jobs.put(job)

    def _write(self, run: Callable[[Any], Any], done: Callable[[Any], Optional[Message]], failed: str,
               item_id: str, undo_id: int = 0) -> None:
        """Queue ``run(store)``; then post ``done(result)`` or ``SaveFailed``."""
        def job() -> Optional[Message]:
            try:
                result = run(self.store)
            except Exception as exc:
                return self.SaveFailed(f"{failed}: {exc}", item_id, undo_id)
            return done(result)

        self._enqueue(job)

    def _push_undo(self, undo: Undo) -> int:
        self._undo_seq += 1
        self.undo_stack.append((self._undo_seq, undo))
        return self._undo_seq

    # -- starting
    @work(thread=True, group="review-start")
    def _start(self) -> None:
        store = self.store
        try:
            configs = list_score_configs(store, self.project)
            start = resolve_start(store, self.project, self.start) if self.start else None
            item = None
            if self.queue_mode:
                if start is not None and claim(store, self.project, start, self.author):
                    item = load_item(store, self.project, start)
                else:
                    if start is not None:
                        self.post_message(WorkFailed(f"{start} is being reviewed by someone else: here is the next"))
                    got = next_item(store, self.project, self.author, mine=self.mine)
                    item = load_item(store, self.project, got.id) if got else None
            else:
                self._query = LogsQuery(store, self.project, self.filter or "", shape="traces")
                self._total = count_selection(store, Selection(self.project, self.filter or "", "traces"))
                self._read_page(store)
                if start is not None and start not in self.ids:
                    self.ids.insert(0, start)
                self.index = self.ids.index(start) if start is not None else 0
                item = load_item(store, self.project, self.ids[self.index]) if self.ids else None
        except Exception as exc:
            self.post_message(self.Ready([], None, f"could not open the review: {exc}"))
            return
        finally:
            store.release_thread()
        self.post_message(self.Ready(configs, item))

    def _read_page(self, store) -> None:
        """(In a worker.) The next page of the filter's traces."""
        if not self._more or self._query is None:
            return
        page = self._query.page(self._after, PAGE)
        self.ids += [r.id for r in page.rows if r.id not in self.ids]
        self._after = page.after
        self._more = page.after is not None

    def on_focused_review_screen_ready(self, event: Ready) -> None:
        self.ready = True
        if event.error:
            self.status = event.error
            self._show_empty(event.error)
            return
        self.configs = event.configs
        fields = self.query_one("#rv-fields", Vertical)
        widgets = []
        for c in self.configs:
            if c.type == "text":
                w = TextScoreField(c, id=f"rv-field-{len(widgets)}")
                widgets += [Horizontal(w.label, w, w.others_label, classes="text-row")]
            else:
                widgets.append(ScoreField(c, id=f"rv-field-{len(widgets)}"))
        if not self.configs:
            widgets.append(Static(Text("No score configurations yet: S on the Review screen adds them, or"
                                       " bt-tui scores add NAME --type"
                                       " categorical|continuous|boolean|text (c comments, e edits expected"
                                       " meanwhile)", style="dim"), id="rv-noconfig"))
        fields.mount_all(widgets)
        self.call_after_refresh(self._show, event.item)

    # -- the fields
    def fields(self) -> list:
        return list(self.query("ScoreField, TextScoreField"))

    def focused_field(self):
        f = self.focused
        return f if isinstance(f, (ScoreField, TextScoreField)) else None

    def action_field(self, step: int) -> None:
        self._flush_typed()
        fields = self.fields()
        if not fields:
            return
        cur = self.focused_field()
        i = fields.index(cur) if cur in fields else -1
        # set_focus at once (Widget.focus is deferred): a key typed right after tab goes to the new field
        self.set_focus(fields[(i + step) % len(fields)])

    # -- showing an item
    def _show(self, item: Optional[Item]) -> None:
        prev = self.item
        self.item = item
        if item is None:
            self._show_empty()
            return
        self.remove_class("empty")
        self.cache[item.id] = item
        span = item.span
        for name in ("input", "output", "expected"):
            value = span.get(name)
            body = render_value(value) if value is not None else Text("(none)", style="dim italic")
            if name == "output" and span.get("error") is not None:
                body = Group(Text("error", style="bold red"), render_value(span["error"]), body)
            self.query_one(f"#rv-{name}-text", Static).update(body)
            self.query_one(f"#rv-{name}", VerticalScroll).scroll_home(animate=False)
        self.query_one("#rv-feedback", Static).update(feedback_text(span, self.configs, self.has_class('narrow')))
        self._paint_fields()
        fields = self.fields()
        if fields and (prev is None or prev.id != item.id or self.focused_field() is None):
            self.set_focus(fields[0])
        self._paint_head()
        self._read_progress()
        self._read_ahead()

    def _show_empty(self, why: str = "") -> None:
        self.add_class("empty")
        t = Text()
        if why:
            t.append(why + "\n\n", style="bold red")
        elif self.queue_mode:
            t.append("Nothing to review" + (" assigned to you" if self.mine else "") + ".\n\n", style="bold")
            t.append("Flag traces for review:\n")
            t.append("  in Logs: f flags the current trace; b (batch) then \"Flag for review\" flags the marked\n"
                     "  or all matching traces\n")
            t.append("  bt-tui flag --filter \"scores.user_rating < 0.3\"", style="bold cyan")
            t.append("   (--assign USER to hand them to someone)\n")
        else:
            t.append(f"No traces match {self.filter!r}.\n", style="bold")
        t.append("\nescape goes back", style="dim")
        self.query_one("#rv-empty", Static).update(t)
        self._paint_head()

    def _paint_fields(self) -> None:
        item = self.item
        if item is None:
            return
        scores = item.span.get("scores") or {}
        for f in self.fields():
            c = f.config
            vals = item.values.get(c.name, [])
            mine = next((v for v in vals if v.author == self.author), None)
            others = [v for v in vals if v.author != self.author]
            if c.type == "text":
                row = (item.span.get("metadata") or {}).get(c.metadata_key)
            elif c.to_expected:
                row = item.span.get("expected")
            else:
                row = scores.get(c.name)
            f.typed = "" if isinstance(f, ScoreField) else ""
            f.set_values(mine, others, row)

    def _paint_head(self) -> None:
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append("review", style="bold")
        t.append(f" · {self.author}", style="bold cyan")
        pos, total, done = self.progress
        if self.item is not None:
            if total:
                t.append(f" · {pos} / {total}", style="bold")
            if self.queue_mode and done:
                t.append(f" ({done} done)", style="dim")
            q = self.item.queued
            state = q.state if q else "not queued"
            t.append(f" · {state}", style={"complete": "green", "pending": "yellow"}.get(state, "dim"))
            if q and q.assignee:
                t.append(f" · assigned to {q.assignee}")
            name = (self.item.span.get("span_attributes") or {}).get("name") or ""
            t.append(f" · {name} {self.item.id}", style="dim")
        elif not self.queue_mode:
            t.append(f" · {self.filter}", style="dim")
        if self._pending:
            t.append("  saving…", style="yellow")
        elif self.status:
            t.append(f"  {self.status}", style="green")
        self.query_one("#rv-head", Static).update(t)

    @work(thread=True, exclusive=True, group="review-progress")
    def _read_progress(self) -> None:
        store = self.store
        item = self.item
        if item is None:
            return
        try:
            if self.queue_mode:
                who = self.author if self.mine else None
                counts = queue_counts(store, self.project, assignee=who)
                total = counts["backlog"] + counts["pending"]
                pos = 0
                if item.seq is not None and item.queued and item.queued.state != "complete":
                    pos = queue_position(store, self.project, item.seq, assignee=who)
                self.post_message(self.Progress(pos, total, counts["complete"]))
            else:
                self.post_message(self.Progress(self.index + 1, max(self._total, len(self.ids)), 0))
        except Exception:
            pass  # progress is a convenience
        finally:
            store.release_thread()

    def on_focused_review_screen_progress(self, event: Progress) -> None:
        self.progress = (event.position, event.total, event.done)
        self._paint_head()

    # -- reading ahead
    @work(thread=True, group="review-ahead")
    def _read_ahead(self) -> None:
        store = self.store
        item = self.item
        if item is None:
            return
        try:
            if self.queue_mode:
                for forward in (True, False):
                    nxt = self._candidate(store, item, forward)
                    self.ahead[forward] = nxt
                    if nxt and nxt not in self.cache:
                        self.post_message(self.Loaded(load_item(store, self.project, nxt)))
            else:
                if self.index + 2 >= len(self.ids):
                    self._read_page(store)
                for i in (self.index + 1, self.index - 1):
                    if 0 <= i < len(self.ids) and self.ids[i] not in self.cache:
                        self.post_message(self.Loaded(load_item(store, self.project, self.ids[i])))
        except Exception:
            pass  # reading ahead is an optimisation: the move reads what it needs
        finally:
            store.release_thread()

    def _candidate(self, store, item: Item, forward: bool) -> Optional[str]:
        """(In a worker.) The item the queue would most likely hand out next (not claimed here)."""
        if item.seq is None:
            return None
        now = time.time()
        for q in queue_items(store, self.project, assignee=self.author if self.mine else None, after=item.seq,
                             limit=LOOKAHEAD, reverse=not forward)[:: 1 if forward else -1]:
            if q.state != "complete" and not q.claimed_by_other(self.author, now):
                return q.id
        return None

    def on_focused_review_screen_loaded(self, event: Loaded) -> None:
        self.cache[event.item.id] = event.item
        if event.show:
            self._show(event.item)

    # -- moving
    def action_next_item(self) -> None:
        self._move(True)

    def action_prev_item(self) -> None:
        self._move(False)

    def _move(self, forward: bool) -> None:
        self._flush_typed()
        if self.item is None or not self.ready:
            return
        if self.queue_mode:
            guess = self.ahead.get(forward)
            old = self.item
            if guess and guess in self.cache:
                self._show(self.cache[guess])  # at once; the queue confirms (or hands out another)
            else:
                guess = None
            self._hand_out(old, forward, guess)
            return
        i = self.index + (1 if forward else -1)
        if i < 0:
            self.notify("this is the first trace")
            return
        if i >= len(self.ids):
            self.notify("no more traces match the filter")
            return
        self.index = i
        tid = self.ids[i]
        if tid in self.cache:
            self._show(self.cache[tid])
        else:
            self._load(tid)

    @work(thread=True, group="review-load")
    def _load(self, trace_id: str) -> None:
        store = self.store
        try:
            item = load_item(store, self.project, trace_id)
        except Exception as exc:
            self.post_message(WorkFailed(f"could not read {trace_id}: {exc}"))
            return
        finally:
            store.release_thread()
        self.post_message(self.Loaded(item, show=True))

    def _hand_out(self, old: Item, forward: bool, guess: Optional[str]) -> None:
        """Ask the queue for the item after (before) ``old``, release ``old``'s claim."""
        author, project, mine = self.author, self.project, self.mine

        def job() -> Message:
            try:
                store = self.store
                got = next_item(store, project, author, after=old.seq, reverse=not forward, mine=mine,
                                skip=[old.id])
                release(store, project, old.id, author)
                item = load_item(store, project, got.id) if got else None
            except Exception as exc:
                return WorkFailed(f"could not get the next item: {exc}")
            return self.Moved(item, forward, old.id, guess)

        self._enqueue(job)  # in order with the writes: a move after a change sees it saved

    def on_focused_review_screen_moved(self, event: Moved) -> None:
        self._last_claim = time.monotonic()
        if event.item is None:
            cur = self.item
            if cur is not None and cur.queued is not None and cur.queued.state == "complete":
                self._show(None)  # the one shown is done and nothing is left: the queue is empty
            else:
                self.notify(f"nothing left to review {'after' if event.forward else 'before'} this one")
            return
        if self.item is None or self.item.id != event.item.id:
            if self.item is None or self.item.id in (event.shown, event.guess):
                self._show(event.item)  # the guess was wrong (someone took it): show what was handed out
            else:
                self.cache[event.item.id] = event.item  # the reviewer moved on meanwhile
        else:
            # the guess was right: keep the fresh read (its claim, its state)
            self.item.queued = event.item.queued
            self.cache[event.item.id] = self.item
            self._paint_head()
            self._read_progress()

    def _renew(self) -> None:
        """Keep the claim while the reviewer works; an idle screen lets it lapse (CLAIM_SECONDS)."""
        if self.queue_mode and self.item is not None and time.monotonic() - self._active < CLAIM_SECONDS:
            item_id, author, project = self.item.id, self.author, self.project
            self._write(lambda store: claim(store, project, item_id, author), lambda _r: None,
                        "could not renew the claim", item_id)

    # -- the score keys
    def _set(self, field, *, value: Optional[float] = None, text: Optional[str] = None,
             labels: Optional[list[str]] = None, clear: bool = False, what: str = "") -> None:
        """Save the acting reviewer's value of ``field``'s score on the item: repaint now,
        write in order, push the undo."""
        item = self.item
        if item is None:
            return
        c: ScoreConfig = field.config
        self._active = time.monotonic()
        before: Optional[HumanValue] = field.mine
        if c.type == "categorical":
            shown = labels or []
            ordered = [o.label for o in c.options if o.label in set(shown)]
            vals = [c.option_value(lbl) for lbl in ordered]
            new_text = (orjson.dumps(ordered).decode() if c.multi else ordered[0]) if ordered else None
            after = None if clear or not ordered else HumanValue(c.name, self.author, sum(vals) / len(vals),
                                                                  new_text, "")
        elif c.type == "text":
            after = None if clear else HumanValue(c.name, self.author, None, text, "")
        else:
            after = None if clear else HumanValue(c.name, self.author, value, None, "")
        # repaint from what we know
        vals_now = [v for v in item.values.get(c.name, []) if v.author != self.author]
        if after is not None:
            vals_now.append(after)
        item.values[c.name] = vals_now
        field.mine = after
        field.repaint()
        change = ValueChange(item.id, c.name, self.author, before, after)
        desc = what or f"{c.name} {('cleared' if after is None else 'set')}"
        undo_id = self._push_undo(Undo(item.id, f"{c.name} on {item.id}",
                                       lambda store, ch=change, cfg=c: undo_value(store, self.project, ch, cfg)))
        project, item_id = self.project, item.id
        kw = dict(clear=True) if after is None else (
            dict(labels=labels) if c.type == "categorical" else dict(text=text) if c.type == "text"
            else dict(value=value))
        self._write(lambda store: self._save_value(store, project, item_id, c, kw),
                    lambda ch: self.Saved(f"saved {desc}", item_id, ch), f"could not save {c.name}", item_id, undo_id)
        self._paint_head()

    def _save_value(self, store, project: str, item_id: str, config: ScoreConfig, kw: dict) -> ValueChange:
        """(The writer thread.) The value, and the claim renewed now and then."""
        change = set_value(store, project, item_id, config, author=self.author, **kw)
        if self.queue_mode and time.monotonic() - self._last_claim > RENEW_S / 2:
            self._last_claim = time.monotonic()
            claim(store, project, item_id, self.author)
        return change

    def action_digit(self, d: str) -> None:
        f = self.focused_field()
        if f is None or self.item is None:
            return
        c = f.config
        if c.type == "categorical" and d.isdigit() and d != "0":
            n = int(d)
            if n > len(c.options):
                self.notify(f"{c.name} has {len(c.options)} options", severity="warning")
                return
            label = c.options[n - 1].label
            picked = f.picked()
            if c.multi:
                labels = [x for x in picked if x != label] if label in picked else picked + [label]
                if not labels:
                    self._set(f, clear=True, what=f"{c.name} cleared")
                else:
                    self._set(f, labels=labels, what=f"{c.name} = {', '.join(labels)}")
            elif picked != [label]:
                self._set(f, labels=[label], what=f"{c.name} = {label}")
        elif c.type == "continuous":
            typed = f.typed + d
            if parse_typed(typed) is None and not (typed in (".", "0", "0.") or typed.endswith(".")):
                # the whole number is refused (never saved cut short: 150 is not 15%)
                f.typed = ""
                f.repaint()
                self.notify(f"{c.name}: {typed} is not 0-100 (or 0.0-1.0): type it again", severity="warning")
                return
            f.typed = typed
            f.repaint()
        elif c.type == "boolean" and d in ("1", "2"):
            self.action_thumb(1 if d == "1" else 0)

    def action_backspace(self) -> None:
        f = self.focused_field()
        if isinstance(f, ScoreField) and f.typed:
            f.typed = f.typed[:-1]
            f.repaint()

    def _flush_typed(self) -> None:
        """Save a number typed on a continuous field (moving on, enter, any other key)."""
        self._active = time.monotonic()
        for f in self.fields():
            if isinstance(f, ScoreField) and f.typed:
                v = parse_typed(f.typed)
                f.typed = ""
                if v is None:
                    f.repaint()
                    self.notify(f"{f.config.name}: not a number in 0-100", severity="warning")
                elif f.mine is None or f.mine.value != v:
                    self._set(f, value=v, what=f"{f.config.name} = {pct(v)}")
                else:
                    f.repaint()

    def action_step(self, d: int) -> None:
        f = self.focused_field()
        if not isinstance(f, ScoreField) or f.config.type != "continuous":
            return
        self._flush_typed()
        cur = f.mine.value if f.mine is not None else None
        if cur is None:
            v = STEP if d > 0 else 0.0
        else:
            v = round(min(1.0, max(0.0, round(cur / STEP) * STEP + d * STEP)), 4)
        if cur is None or v != cur:
            self._set(f, value=v, what=f"{f.config.name} = {pct(v)}")

    def action_thumb(self, v: int) -> None:
        f = self.focused_field()
        if not isinstance(f, ScoreField) or f.config.type != "boolean":
            return
        if f.mine is None or f.mine.value != v:
            self._set(f, value=float(v), what=f"{f.config.name} = {'👍' if v else '👎'}")

    def action_toggle(self) -> None:
        f = self.focused_field()
        if isinstance(f, ScoreField) and f.config.type == "boolean":
            self.action_thumb(0 if (f.mine is not None and f.mine.value == 1) else 1)

    @on(Input.Submitted)
    def _text_saved(self, event: Input.Submitted) -> None:
        f = event.input
        if not isinstance(f, TextScoreField):
            return
        event.stop()
        text = event.value.strip()
        cur = f.mine.text if f.mine is not None else None
        if (text or None) == cur:
            self.action_complete()  # nothing typed: enter is the screen's (complete and go on)
            return
        if not text:
            self._set(f, clear=True, what=f"{f.config.name} cleared")
        else:
            self._set(f, text=text, what=f"{f.config.name}")
        self.action_field(1)

    # -- the writes' reports
    def on_focused_review_screen_saved(self, event: Saved) -> None:
        if event.change is not None:
            item = self.cache.get(event.item_id)
            if item is not None:
                ch = event.change
                vals = [v for v in item.values.get(ch.name, []) if v.author != ch.author]
                if ch.after is not None:
                    vals.append(ch.after)
                item.values[ch.name] = vals
                cfg = next((c for c in self.configs if c.name == ch.name), None)
                if cfg is not None and cfg.type == "text":
                    md = dict(item.span.get("metadata") or {})
                    md[cfg.metadata_key] = ch.row_value
                    item.span["metadata"] = md
                elif cfg is not None and cfg.to_expected:
                    item.span["expected"] = ch.row_value
                else:
                    scores = dict(item.span.get("scores") or {})
                    if ch.row_value is None:
                        scores.pop(ch.name, None)
                    else:
                        scores[ch.name] = ch.row_value
                    item.span["scores"] = scores
                if self.item is not None and self.item.id == item.id:
                    if cfg is not None and cfg.to_expected:
                        self.query_one("#rv-expected-text", Static).update(render_value(ch.row_value))
                    for f in self.fields():
                        if f.config.name == ch.name:
                            f.set_values(f.mine, [v for v in vals if v.author != self.author], ch.row_value)
        if not event.quiet:
            self.status = event.message
        self._paint_head()

    def on_focused_review_screen_save_failed(self, event: SaveFailed) -> None:
        self.undo_stack = [(i, u) for i, u in self.undo_stack if i != event.undo_id]
        self.status = ""
        self.notify(event.message, severity="error")
        self.cache.pop(event.item_id, None)
        if self.item is not None and self.item.id == event.item_id:
            self._load(event.item_id)  # show what is stored
        self._paint_head()

    # -- complete, undo
    def action_complete(self) -> None:
        self._flush_typed()
        item = self.item
        if item is None:
            return
        prev = (item.queued.state, item.queued.assignee) if item.queued else None
        project, author, item_id = self.project, self.author, item.id
        if prev is not None:
            undo = Undo(item_id, f"complete of {item_id}",
                        lambda store: set_state(store, project, item_id, prev[0], author=author, assignee=prev[1]))
        else:
            undo = Undo(item_id, f"complete of {item_id}",
                        lambda store: _unqueue(store, project, item_id, author))
        undo_id = self._push_undo(undo)
        # show it as complete now, then go on
        item.queued = item.queued or QueueItem(item_id, "complete", None, "")
        item.queued.state = "complete"
        self._write(lambda store: complete(store, project, item_id, author),
                    lambda q: self.Saved(f"completed {item_id}", item_id), "could not mark it complete",
                    item_id, undo_id)
        if self.queue_mode:
            self._move(True)
        elif self.index + 1 < len(self.ids):
            self._move(True)
        else:
            self._paint_head()
            self.notify("that was the last trace matching the filter")

    def action_undo(self) -> None:
        """Undo the last change (on whichever item it was made: the screen goes back to it)."""
        self._flush_typed()
        if not self.undo_stack:
            self.notify("nothing to undo")
            return
        _, undo = self.undo_stack.pop()
        item_id, project, author = undo.item_id, self.project, self.author
        left = self.item.id if self.item is not None and self.item.id != item_id else None
        queue_mode = self.queue_mode

        def run(store) -> Item:
            undo.run(store)
            if queue_mode:
                claim(store, project, item_id, author)
                if left is not None:
                    release(store, project, left, author)
            return load_item(store, project, item_id)

        def done(item: Item) -> Message:
            self.post_message(self.Loaded(item, show=True))
            return self.Saved(f"undone: {undo.what}", item_id)

        if left is not None and item_id in self.cache:
            self._show(self.cache[item_id])  # back to the item the change was made on, at once
        if not queue_mode and item_id in self.ids:
            self.index = self.ids.index(item_id)
        self._write(run, done, f"could not undo {undo.what}", item_id)
        self.status = f"undoing {undo.what}…"
        self._paint_head()

    # -- comment, expected, tags, dataset, tree, audit
    def action_comment(self) -> None:
        item = self.item
        if item is None:
            return
        project, author, item_id = self.project, self.author, item.id

        def done(text: Optional[str]) -> None:
            if text and text.strip():
                item.span.setdefault("comments", []).append({"author": author, "text": text.strip()})
                self.query_one("#rv-feedback", Static).update(feedback_text(item.span, self.configs, self.has_class('narrow')))
                self._write(lambda store: add_comment(store, project, item_id, text.strip(), author),
                            lambda _r: self.Saved("comment added (comments are kept: u does not remove them)",
                                                  item_id), "could not add the comment", item_id)

        self.app.push_screen(PromptScreen(f"Comment on {item_id}:"), done)

    def action_edit_expected(self) -> None:
        item = self.item
        if item is None:
            return
        self._flush_typed()
        self.post_message(ExpectedRead(self.project, item.id, f"Expected of {item.id}", item.span.get("expected")))

    def on_expected_read(self, event: ExpectedRead) -> None:
        event.prevent_default()  # not BtScreen's editor: this one records the change for undo
        original = event.value
        text = orjson.dumps(original, option=orjson.OPT_INDENT_2).decode() + "\n"
        project, author, item_id = self.project, self.author, event.row_id

        def save(new_text: str) -> None:
            value = json.loads(new_text)
            if value == original:
                self.notify("expected unchanged")
                return
            item = self.cache.get(item_id)
            if item is not None:
                item.span["expected"] = value
                if self.item is item:
                    self.query_one("#rv-expected-text", Static).update(render_value(value))
            undo_id = self._push_undo(Undo(item_id, f"expected of {item_id}", lambda store: apply_feedback(
                store, project, item_id, FeedbackIn(expected=original, has_expected=True, author=author),
                expected_was=value)))
            self._write(lambda store: _save_expected(store, project, item_id, original, value, author),
                        lambda _r: self.Saved("expected saved", item_id), "expected not saved", item_id, undo_id)

        edit_json(self, event.title, text, save, validate=json_error)

    def action_tags(self) -> None:
        if self.item is not None:
            self._read_tags()

    @work(thread=True, exclusive=True, group="review-tags")
    def _read_tags(self) -> None:
        try:
            tags = [t for t, _ in completions(self.store, self.project).tags]
        except Exception:
            tags = []
        finally:
            self.store.release_thread()
        self.post_message(self.TagsKnown(tags))

    def on_focused_review_screen_tags_known(self, event: TagsKnown) -> None:
        item = self.item
        if item is None:
            return
        shown = list(item.span.get("tags") or [])
        project, author, item_id = self.project, self.author, item.id

        def done(text: Optional[str]) -> None:
            if text is None:
                return
            added, removed = tag_changes(shown, text.split(","))
            if not added and not removed:
                self.notify("tags unchanged")
                return
            item.span["tags"] = [t for t in shown if t not in removed] + added
            self.query_one("#rv-feedback", Static).update(feedback_text(item.span, self.configs, self.has_class('narrow')))
            undo_id = self._push_undo(Undo(item_id, f"tags of {item_id}", lambda store: edit_tags(
                store, project, item_id, add=removed, remove=added, author=author)))
            self._write(lambda store: edit_tags(store, project, item_id, add=added, remove=removed, author=author),
                        lambda _r: self.Saved("tags saved", item_id), "could not save the tags", item_id, undo_id)

        self.app.push_screen(PromptScreen("Tags (comma-separated)", value=", ".join(shown),
                                          suggester=LastTokenSuggester(event.tags)), done)

    def action_add_to_dataset(self) -> None:
        if self.item is not None:
            ask_add_to_dataset(self, Selection(self.project, "", "spans", (self.item.id,)), "this trace's root span")

    def action_tree(self) -> None:
        if self.item is not None:
            from tui.screens.trace import TraceScreen

            self._flush_typed()
            self.app.push_screen(TraceScreen(self.item.span["root_span_id"]))

    def action_audit(self) -> None:
        if self.item is not None:
            from tui.screens.audit_trail import AuditTrailScreen

            self._flush_typed()
            self.app.push_screen(AuditTrailScreen(self.project, self.item.id))

    def action_leave(self) -> None:
        self._flush_typed()
        self.app.pop_screen()  # on_unmount releases the claim

    def palette_commands(self) -> list[Command]:
        return [
            Command("Review: trace tree of this item", self.action_tree, "v"),
            Command("Review: audit trail of this item", self.action_audit, "who changed what, when; w"),
            Command("Review: add this trace to a dataset", self.action_add_to_dataset, "a"),
            Command("Review: undo the last change", self.action_undo, "u"),
        ]


def _save_expected(store, project: str, row_id: str, original: Any, value: Any, author: str) -> None:
    try:
        apply_feedback(store, project, row_id, FeedbackIn(expected=value, has_expected=True, author=author),
                       expected_was=original)
    except EditConflict:
        raise EditConflict(f"expected of {row_id} changed since you opened it: not saved") from None


def _unqueue(store, project: str, trace_id: str, author: str) -> None:
    """Undo completing a trace that was not queued: it goes back to not queued."""
    from store.review import unflag

    unflag(store, project, [trace_id], author=author)


__all__ = ["FocusedReviewScreen", "Item", "feedback_text", "load_item", "value_text"]
