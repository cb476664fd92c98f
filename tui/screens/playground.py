"""The Playground grid: one playground's dataset records x variants (prompt version x model x
params, the first the base), run from the keyboard: all, one row, one variant, the failed
cells again; cancel; results stream into the cells; display modes All / Different / Errors /
Regressions; a word diff against the base; a summary per variant; save the run as
experiments; open any cell's trace. The list of playgrounds and the set-up dialogs are in
tui/screens/playground_setup.py; this module registers both screens (``Y``).

Every store read and write runs in a worker thread. A run is one async worker of the screen
that hands ``PlaygroundSession.run_cells`` (through ``engine.llm.LLMClient``) to the model
calls' own event loop (:func:`run_loop`, a daemon thread) and awaits it: litellm's CPU per call
would otherwise leave the UI's loop no time for keys. Results arrive by callback, many a second
while answers stream: they are queued, and the screen repaints the visible rows that changed at
most every ``REPAINT_S`` seconds. The grid is the shared paged table over the session's rows:
only the rows on screen are drawn.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import os
import sys
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, Optional

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.geometry import Region
from textual.message import Message
from textual.widgets import Header, Static

from engine.runs import RUNNING, Cell
from store.audit import default_author
from tui.format import count
from tui.messages import WorkFailed
from tui.registry import BtScreen, Command, register_screen
from tui.screens.dialogs import PromptScreen
from tui.screens.playground_setup import (
    LLM_JUDGES,
    Choices,
    ChoicesRead,
    PlaygroundsScreen,
    ScorerChoice,
    ask_remove_variant,
    ask_scorers,
    ask_variant,
    ask_version,
    judge_model,
    read_choices,
)
from tui.widgets.grid_cells import (
    MODE_HELP,
    MODE_LABELS,
    MODES,
    GridView,
    detail,
    filter_rows,
    grid_columns,
    progress,
    summary_text,
)
from tui.widgets.keybar import KeyBar
from tui.widgets.paged_table import ListSource, PagedTable

CONCURRENCY = 20  # model calls in flight at once
REPAINT_S = 0.1  # the grid repaints at most this often while results stream in
FILTER_S = 1.0  # a display mode other than All is recomputed at most this often during a run
SUMMARY_S = 0.5  # the summary lines (averages over every cell: ~30 ms at 4,000) at most this often
DEFAULT_SCORERS = ["Levenshtein", "ExactMatch"]  # when the rows have expected values
DETAIL_SIZES = (30, 40, 55, 70)
DETAIL_DELAY_S = 0.06  # the detail pane follows the cursor once it rests this long on a row
# A run of at most this many cells streams its answers into the cells (a row, a few rows); a
# bigger one shows each answer whole when it is done: streaming costs litellm several times the
# CPU of a plain call (bench/RESULTS.md, issue 12): a 400-cell run would pay it 400 times.
STREAM_UP_TO = 40
RUN_IN_THREAD = True  # runs go on the model calls' own event loop (run_loop()), not the UI's
# Real runs (no client given) go to a worker process of their own (engine.run_process): litellm's
# CPU per call then runs on another core than the screen's. A given client runs in this process.
RUN_IN_PROCESS = True
# A big run is split over this many worker processes (each with CONCURRENCY / n calls in flight):
# litellm's CPU per call and the traces' writes then use every core the screen does not.
RUN_PROCESSES = max(1, min(4, (os.cpu_count() or 2) - 1))  # the screen keeps a core
SPLIT_FROM = 40  # cells: smaller runs go to one worker (they stream; a second would only start up)
RUN_THREADS = max(2, (os.cpu_count() or 2) - 1)  # the run loop's thread pool: a core stays for the UI


_frozen_modules = 0


def freeze_imports() -> None:
    """After litellm and autoevals are loaded (hundreds of thousands of objects, after the app's
    start-up ``gc.freeze()``): freeze again, or a full collection walks them all mid-run (a
    ~200 ms pause of keys and model calls alike)."""
    global _frozen_modules
    if len(sys.modules) > _frozen_modules:
        gc.freeze()
        _frozen_modules = len(sys.modules)


_run_loop: Optional[asyncio.AbstractEventLoop] = None
_run_loop_lock = threading.Lock()


def run_loop() -> asyncio.AbstractEventLoop:
    """The event loop model calls run on: one for the process, in a daemon thread, made on
    first use. litellm spends ~4 ms of CPU per call on the loop that awaits it; on the UI's
    loop 200 calls a second leave no time for keys. Its HTTP clients stay bound to this loop.
    Its thread pool (the offline model's full-text lookups, the trace writer) has RUN_THREADS
    workers: six lookups at once on two cores left the UI thread ~1/7 of a core (keys 50-100 ms
    late) for no faster run."""
    global _run_loop
    with _run_loop_lock:
        if _run_loop is None or _run_loop.is_closed():
            loop = asyncio.new_event_loop()
            loop.set_default_executor(ThreadPoolExecutor(max_workers=RUN_THREADS, thread_name_prefix="bt-tui-run"))
            threading.Thread(target=loop.run_forever, name="bt-tui-runs", daemon=True).start()
            _run_loop = loop
        return _run_loop


class GridTable(PagedTable):
    """The paged table with a repaint of the rows on show (their cells changed) and a start
    at any row of a list source."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="playground.down"),
        Binding("k", "cursor_up", "Up", show=False, id="playground.up"),
    ]

    def repaint_rows(self, ids: Optional[set] = None) -> None:
        """Draw again every row (``ids`` None), or only these rows where they are on screen."""
        if ids is None:
            self._lines.clear()
            self.refresh()
            return
        for key in [k for k in self._lines.keys() if k[0] in ids]:
            self._lines.discard(key)
        top, height = int(self.scroll_y), self._body_height()
        width = self.scrollable_content_region.width
        for y, row in enumerate(self.rows[top:top + height], 1):
            if row.id in ids:
                self.refresh(Region(0, y, width, 1))

    def visible_rows(self) -> list:
        top = int(self.scroll_y)
        return self.rows[top:top + self._body_height()]

    def show_at(self, source: ListSource, index: int, keep_key: str) -> None:
        """``source`` read from a few rows above ``index`` (a row deep in the list gets the cursor)."""
        self.total = None
        self._recount = True
        self._load(source, max(0, index - 10) - 1 if index > 10 else None, False,
                   "replace_at" if index > 10 else "replace", keep_key)


def _set(box: Static, text: Text) -> None:
    """Update a one-or-more-line Static; a new layout only when its number of lines changes
    (a layout pass re-renders the whole screen: not 10 times a second during a run)."""
    lines = text.plain.count("\n")
    if getattr(box, "_bt_text", None) == text.plain and getattr(box, "_bt_lines", None) == lines:
        return
    box.update(text, layout=getattr(box, "_bt_lines", None) != lines)
    box._bt_text, box._bt_lines = text.plain, lines


@dataclass
class SessionLoaded(Message):
    session: Any  # engine.playground.PlaygroundSession, or None
    error: str = ""
    message: str = ""  # said once it shows (a set-up change)


@dataclass
class ExperimentsSaved(Message):
    names: list


@dataclass
class VersionsRead(Message):
    versions: list  # store.datasets.VersionInfo, oldest first
    latest: Optional[int]


def _load_session(store, project: str, name: str, change: Optional[dict] = None):
    """A PlaygroundSession read in a worker thread; with ``change`` (the keyword arguments of
    ``PlaygroundSession.save``) the set-up is changed first."""
    from engine.playground import PlaygroundSession

    try:
        session = PlaygroundSession(store, project, name)
        if change is not None:
            session.save(author=default_author(), **change)
        return session
    finally:
        store.release_thread()


class PlaygroundScreen(BtScreen):
    """One playground: rows = the dataset's records (as of its version), columns = input,
    expected, then one per variant (the base first, ★)."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="playground.back"),
        Binding("q", "back", "Back", show=False, id="playground.quit_back"),
        Binding("r", "run_all", "Run all", id="playground.run_all"),
        Binding("R", "run_row", "Run row", show=False, id="playground.run_row"),
        Binding("V", "run_variant", "Run variant", show=False, id="playground.run_variant"),
        Binding("F", "rerun_failed", "Re-run failed", show=False, id="playground.rerun_failed"),
        Binding("x", "cancel_run", "Cancel run", id="playground.cancel"),
        Binding("m", "mode", "Mode", id="playground.mode"),
        Binding("d", "toggle_diff", "Diff", show=False, id="playground.diff"),
        Binding("h", "variant_left", "Variant left", show=False, id="playground.variant_left"),
        Binding("l", "variant_right", "Variant right", show=False, id="playground.variant_right"),
        Binding("a", "add_variant", "Add variant", id="playground.add_variant"),
        Binding("e", "edit_variant", "Edit variant", show=False, id="playground.edit_variant"),
        Binding("X,delete", "remove_variant", "Remove variant", show=False, id="playground.remove_variant"),
        Binding("b", "make_base", "Make base", show=False, id="playground.make_base"),
        Binding("s", "scorers", "Scorers", show=False, id="playground.scorers"),
        Binding("v", "dataset_version", "Dataset version", show=False, id="playground.dataset_version"),
        Binding("o", "open_trace", "Open trace", id="playground.open_trace"),
        Binding("S", "save_experiments", "Save as experiments", id="playground.save_experiments"),
        Binding("enter", "toggle_detail", "Detail", id="playground.detail"),
        Binding("plus,equals_sign", "detail_bigger", "Detail bigger", show=False, id="playground.detail_bigger"),
        Binding("minus", "detail_smaller", "Detail smaller", show=False, id="playground.detail_smaller"),
        Binding("slash", "find", "Find rows", show=False, id="playground.find"),
        Binding("g,home", "top", "First row", show=False, id="playground.top"),
        Binding("G,end", "bottom", "Last row", show=False, id="playground.bottom"),
    ]
    DEFAULT_CSS = """
    PlaygroundScreen #pg-title { height: auto; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    PlaygroundScreen #pg-summary { height: auto; max-height: 7; padding: 0 1; text-wrap: nowrap;
                                   text-overflow: ellipsis; }
    PlaygroundScreen #pg-detail { height: 40%; border-top: solid $primary-darken-2; }
    """
    HELP = ("A playground: each row is a dataset record, each variant column a prompt version x model x params"
            " (★ the base). r runs every cell, R the current row, V the current variant (h/l pick it), F the"
            " failed or cancelled cells again; x cancels. Cells: · pending, ⠋ running, ✓ done, ✗ error,"
            " ⊘ cancelled; the first score as %, ▲/▼ its change from the base, ≠ an answer unlike the base's."
            " m cycles All / Different / Errors / Regressions. S saves one experiment per variant.")

    def __init__(self, name: str, *, focus_record: Optional[str] = None, client: Any = None,
                 project: Optional[str] = None) -> None:
        super().__init__()
        self.pg_name = name
        self.focus_record = focus_record
        self._project = project
        self.session: Any = None  # engine.playground.PlaygroundSession once read
        self.client = client  # engine.llm.LLMClient, made at the first run (tests may pass a fake)
        self.run_in_thread = RUN_IN_THREAD
        self.run_in_process = RUN_IN_PROCESS and client is None
        self.runners: list = []  # engine.run_process.RunProcess workers, started at the first run
        self.run_wall: Optional[float] = None  # the last run's first request to last response (seconds)
        self.stream: Optional[bool] = None  # stream answers: None = when the run is small (STREAM_UP_TO)
        self.view = GridView()
        self.mode = "all"
        self.find_text = ""
        self.scorer_names: Optional[list[str]] = None  # None: the default, once the rows are known
        self.judge: Optional[str] = None
        self.state = "loading"  # loading | idle | model client | running | cancelling | cancelled | done
        self.run_cells_: dict = {}  # the current run's cells (GridRun.cells)
        self.run_what = ""
        self.run_start: Optional[float] = None
        self.run_end: Optional[float] = None
        self._changed: deque = deque()  # records whose cells changed since the last tick (thread-safe)
        self._ticker = None
        self._last_filter = 0.0
        self._last_summary = 0.0
        self._litellm_ready = False
        self._detail_size = 1
        self._detail_timer = None
        self._detail_row: Optional[str] = None  # the row the detail shows
        self.detail_texts: dict = {}  # variant id -> the output Text the detail shows (word diff)
        self.shown_ids: list[str] = []

    @property
    def project(self) -> str:
        return self._project or self.app.project

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="pg-title")
        yield Static("", id="pg-summary")
        yield GridTable([], max_rows=1000, id="table")
        with VerticalScroll(id="pg-detail"):
            yield Static("", id="pg-detail-text", classes="value")
        yield KeyBar()

    def on_mount(self) -> None:
        self.table.focus()
        pane = self.query_one("#pg-detail")
        pane.display = self.app.size.height >= 30
        self._size_detail()
        self._update_title()
        self._load()

    @property
    def table(self) -> GridTable:
        return self.query_one(GridTable)

    @property
    def running(self) -> bool:
        return self.state in ("model client", "running", "cancelling")

    # -- loading
    @work(thread=True, exclusive=True, group="session")
    def _load(self, change: Optional[dict] = None, message: str = "") -> None:
        try:
            session = _load_session(self.store, self.project, self.pg_name, change)
        except Exception as exc:
            what = "could not change the playground" if change else f"could not open playground {self.pg_name!r}"
            self.post_message(SessionLoaded(None, f"{what}: {exc}"))
            return
        self.post_message(SessionLoaded(session, message=message))

    def on_session_loaded(self, event: SessionLoaded) -> None:
        if event.session is None:
            self.notify(event.error, severity="error")
            if self.session is None:
                self.state = "idle"
                self._update_title()
            return
        first = self.session is None
        self.session = event.session
        if self.state == "loading":
            self.state = "idle"
        ids = [v.id for v in self.session.variants]
        if self.view.current not in ids:
            self.view.current = ids[0] if ids else None
        if self.scorer_names is None:
            saved = self.session.info.settings
            if isinstance(saved.get("scorers"), list):  # the playground's own choice, stored with it
                self.scorer_names, self.judge = list(saved["scorers"]), saved.get("judge")
            else:
                has_expected = any(r.expected is not None for r in self.session.rows)
                self.scorer_names = list(DEFAULT_SCORERS) if has_expected else []
        self.view.score_names = list(self.scorer_names)
        self.table.set_columns(grid_columns(self.session, self.view))
        keep = self.focus_record if first else self.table.cursor_id()
        self._apply_rows(keep)
        if event.message:  # a set-up change: the last run's progress no longer applies
            self.run_cells_ = {}
            self.notify(event.message)
        self._refresh_all()

    def _apply_rows(self, keep: Optional[str] = None) -> None:
        """The rows the mode (and the find) shows, into the table; the cursor stays on ``keep``."""
        rows = filter_rows(self.session, self.mode, self.find_text)
        self.shown_ids = [r.id for r in rows]
        source = ListSource(rows, lambda r: r.id)
        idx = self.shown_ids.index(keep) if keep in self.shown_ids else -1
        if idx > 40:
            self.table.show_at(source, idx, keep)
        else:
            self.table.set_source(source, keep)
        self._last_filter = time.monotonic()

    def on_paged_table_page_loaded(self, event: PagedTable.PageLoaded) -> None:
        self._update_title()
        self._show_detail()

    def on_paged_table_row_highlighted(self, event: PagedTable.RowHighlighted) -> None:
        # The cursor's move is painted at once; the detail (word diffs, wrapping, a layout: ~10x
        # the cursor's cost) once the cursor has stayed DETAIL_DELAY_S on a row: j held down
        # does not draw every row it passes.
        if self._detail_timer is not None:
            self._detail_timer.stop()
        self._detail_timer = self.set_timer(DETAIL_DELAY_S, self._show_detail)

    def on_paged_table_row_selected(self, event: PagedTable.RowSelected) -> None:
        event.stop()
        self.action_toggle_detail()

    # -- painting
    def _refresh_all(self) -> None:
        self.table.repaint_rows()
        self._update_title()
        self._update_summary()
        self._show_detail()

    def _update_title(self) -> None:
        line = Text()
        line.append(self.pg_name, style="bold")
        line.append(f" · mode {MODE_LABELS[self.mode]}", style="bold cyan" if self.mode != "all" else "")
        s = self.session
        if s is not None:
            if s.info.dataset:
                pinned = s.info.dataset_version is not None
                line.append(f" · {s.info.dataset}@{s.version} ({'pinned' if pinned else 'latest'})")
            else:
                line.append(" · no dataset", style="yellow")
            n = len(self.shown_ids)
            rows = count(len(s.rows), "row") if self.mode == "all" and not self.find_text else \
                f"{n:,} of {count(len(s.rows), 'row')}"
            line.append(f" · {rows}", style="dim")
        if not self.view.diff:
            line.append(" · diff off", style="dim")
        if self.find_text:
            line.append(f" · find: {self.find_text}", style="dim")
        if not self.scorer_names and self.session is not None:
            line.append(" · no scorers (s picks them)", style="dim")
        state = self.state
        if self.run_cells_ or state in ("model client",):
            fin, tot, err, can = progress(list(self.run_cells_.values()))
            elapsed = ((self.run_end or time.monotonic()) - self.run_start) if self.run_start else 0.0
            line.append("\n")
            line.append(f"{self.run_what}: {fin:,}/{tot:,}", style="bold")
            if err:
                line.append(f" · {err:,} error{'s' if err != 1 else ''}", style="bold red")
            if can:
                line.append(f" · {can:,} cancelled", style="yellow")
            line.append(f" · {elapsed:.1f} s")
            label = {"model client": "loading model client…", "running": "running… (x cancels)",
                     "cancelling": "cancelling…", "cancelled": "cancelled (F runs the rest)",
                     "done": "done" + (" (F re-runs the failed cells)" if err else "")}.get(state, "")
            line.append(f" · {label}", style="bold yellow" if state in ("running", "model client") else "")
        elif state == "loading":
            line.append(" · reading…", style="dim")
        if s is not None and not s.variants:
            line.append("\nno variants: a adds one", style="yellow")
        elif s is not None and not self.shown_ids and self.mode != "all":
            line.append(f"\nno row in mode {MODE_LABELS[self.mode]} ({MODE_HELP[self.mode]}) · m changes it",
                        style="yellow")
        _set(self.query_one("#pg-title", Static), line)

    def _update_summary(self) -> None:
        self._last_summary = time.monotonic()
        box = self.query_one("#pg-summary", Static)
        if self.session is None:
            box.update("")
            return
        _set(box, summary_text(self.session, self.view))

    def _show_detail(self) -> None:
        self._detail_timer = None
        pane = self.query_one("#pg-detail")
        if not pane.display or self.session is None:
            return
        row = self.table.current_row()
        width = max(40, pane.size.width or self.app.size.width) - 2
        renderable, self.detail_texts = detail(self.session, self.view, row, width)
        self.query_one("#pg-detail-text", Static).update(renderable)
        if self._detail_row != (row.id if row is not None else None):
            self._detail_row = row.id if row is not None else None
            pane.scroll_home(animate=False)

    def _size_detail(self) -> None:
        self.query_one("#pg-detail").styles.height = f"{DETAIL_SIZES[self._detail_size]}%"

    # -- results arriving (many a second): coalesced
    def _on_cell(self, cell) -> None:
        """A cell changed (on the run's loop: maybe another thread's). Noted, painted at the next tick."""
        self.run_cells_[cell.key] = cell  # the run plans its cells first (pending): they all come by
        self._changed.append(cell.record)

    def _tick(self) -> None:
        """Every REPAINT_S while a run goes: repaint what changed (the rows on show whose cells
        changed or still run, the progress, the summary, the current row's detail)."""
        if not self.is_attached or self.session is None:
            return
        self.view.frame += 1
        rows: set = set()
        while self._changed:
            rows.add(self._changed.popleft())
        dirty = bool(rows)
        self._update_title()  # the time, the progress
        running = {r.id for r in self.table.visible_rows() if self._runs(r.id)}
        if dirty and self.mode != "all" and time.monotonic() - self._last_filter >= FILTER_S:
            self._reapply_mode()
        if rows or running:
            self.table.repaint_rows(rows | running)
        if dirty and time.monotonic() - self._last_summary >= SUMMARY_S:
            self._update_summary()
        current = self.table.cursor_id()
        if current in rows or current in running:
            self._show_detail()

    def _runs(self, record: str) -> bool:
        """A cell of this row is running (its spinner turns)."""
        s = self.session
        return any(c.status == RUNNING for v in s.variants for c in s.cells_of(v.id, record))

    def _reapply_mode(self) -> None:
        ids = [r.id for r in filter_rows(self.session, self.mode, self.find_text)]
        if ids != self.shown_ids:
            self._apply_rows(self.table.cursor_id())
        else:
            self._last_filter = time.monotonic()

    # -- running
    def _start(self, only: Optional[list], what: str) -> None:
        if self.session is None:
            return
        if self.running:
            self.notify("a run is going: x cancels it", severity="warning")
            return
        if not self.session.variants:
            self.notify("no variants to run: a adds one", severity="warning")
            return
        if not self.session.rows:
            self.notify("the dataset has no rows at this version", severity="warning")
            return
        if only is not None and not only:
            self.notify("nothing to run", severity="warning")
            return
        self.run_what = what
        self.state = "running"
        self.run_cells_ = {}
        self.run_start, self.run_end = time.monotonic(), None
        if self._ticker is None:
            self._ticker = self.set_interval(REPAINT_S, self._tick)
        self._update_title()
        self._run(only)

    @work(exclusive=True, group="run")
    async def _run(self, only: Optional[list]) -> None:
        if self.run_in_process:
            await self._run_in_process(only)
            return
        session = self.session
        try:
            keys = set(only) if only is not None else None
            variants = [v for v in session.variants if keys is None or any(k[0] == v.id for k in keys)]
            needs_litellm = any(not v.model.offline for v in variants) or any(
                n in LLM_JUDGES for n in (self.scorer_names or []))
            client = await self._get_client()
            if needs_litellm and not self._litellm_ready:
                self.state = "model client"
                self._update_title()
                await self._load_litellm(client)
            scorers = await self._get_scorers()
            freeze_imports()
            if self.state == "cancelling":  # x while the client was loading
                self.state = "cancelled"
                return
            self.state = "running"
            self.run_start = time.monotonic()
            reps = {v.id: max(1, v.repeat) for v in session.variants}
            n = (sum(reps.get(k[0], 1) for k in keys) if keys is not None
                 else len(session.rows) * sum(reps.values()))
            stream = self.stream if self.stream is not None else n <= STREAM_UP_TO
            coro = session.run_cells(client=client, scorers=scorers, only=only, on_cell=self._on_cell, stream=stream)
            if self.run_in_thread:
                await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, run_loop()))
            else:
                await coro
            self.state = "cancelled" if self.state == "cancelling" else "done"
        except asyncio.CancelledError:
            self.state = "cancelled"
            raise
        except Exception as exc:
            self.state = "done"
            self.notify(f"the run stopped: {type(exc).__name__}: {exc}", severity="error")
        finally:
            self.run_end = time.monotonic()
            if self.is_attached:
                self._finished()

    async def _run_in_process(self, only: Optional[list]) -> None:
        """The run in the worker process: cells come back as messages (read in a thread) and are
        painted at the next tick, as in-process cells are."""
        session = self.session
        try:
            keys = set(only) if only is not None else None
            reps = {v.id: max(1, v.repeat) for v in session.variants}
            n = (sum(reps.get(k[0], 1) for k in keys) if keys is not None
                 else len(session.rows) * sum(reps.values()))
            stream = self.stream if self.stream is not None else n <= STREAM_UP_TO
            keys_all = ([(v.id, r.id) for r in session.rows for v in session.variants] if keys is None
                        else sorted(keys))
            parts = RUN_PROCESSES if n > SPLIT_FROM else 1
            if len(self.runners) < parts:
                from engine.run_process import RunProcess

                self.runners += [RunProcess(self.store.path, self.project, concurrency=max(1, CONCURRENCY // parts))
                                 for _ in range(parts - len(self.runners))]
            shares = [keys_all[i::parts] for i in range(parts)] if parts > 1 else [only]

            def on_cell(cell: Cell) -> None:
                session.cells[cell.key] = cell
                self._on_cell(cell)

            def on_status(text: str) -> None:
                if self.state not in ("cancelling", "cancelled"):
                    self.state = "model client" if text == "model client" else "running"

            self.run_start = time.monotonic()
            results = await asyncio.gather(*(
                runner.run(self.pg_name, only=share, scorers=list(self.scorer_names or []), judge=self.judge,
                           stream=stream, on_cell=on_cell, on_status=on_status)
                for runner, share in zip(self.runners, shares) if share is None or share))
            firsts = [d["first_request"] for d in results if d.get("first_request")]
            lasts = [d["last_response"] for d in results if d.get("last_response")]
            done = {"first_request": min(firsts) if firsts else None, "last_response": max(lasts) if lasts else None,
                    "cancelled": any(d.get("cancelled") for d in results)}
            first, last = done.get("first_request"), done.get("last_response")
            self.run_wall = (last - first) if first and last else None
            self.state = "cancelled" if self.state == "cancelling" or done.get("cancelled") else "done"
        except asyncio.CancelledError:
            self.state = "cancelled"
            raise
        except Exception as exc:
            self.state = "done"
            self.notify(f"the run stopped: {exc}", severity="error")
        finally:
            self.run_end = time.monotonic()
            if self.is_attached:
                self._finished()

    def _finished(self) -> None:
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None
        self._changed.clear()
        if self.mode != "all":
            self._reapply_mode()
        self._refresh_all()
        fin, tot, err, can = progress(list(self.run_cells_.values()))
        if self.state == "cancelled":
            self.notify(f"run cancelled: {fin - can:,} of {tot:,} cells finished, {can:,} cancelled (F runs them)")
        elif tot:
            failed = f", {err:,} failed (F re-runs them)" if err else ""
            self.notify(f"run done: {count(tot, 'cell')}{failed}")

    async def _load_litellm(self, client) -> None:
        """The first litellm import costs seconds: in a thread, never on the event loop (the
        offline model needs none). The collector waits meanwhile: a full collection among the
        import's new objects would pause the screen ~200 ms; they are frozen once loaded."""
        enabled = gc.isenabled()
        gc.disable()
        try:
            warm_up = getattr(client, "warm_up", None)
            if warm_up is not None:
                await warm_up()
            else:
                os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
                await asyncio.to_thread(importlib.import_module, "litellm")
        finally:
            freeze_imports()
            if enabled:
                gc.enable()
        self._litellm_ready = True

    async def _get_client(self):
        if self.client is None:
            from engine.llm import LLMClient
            from engine.offline import OfflineModel

            store, project = self.store, self.project

            def offline():
                try:
                    return OfflineModel(store, project)
                finally:
                    store.release_thread()

            self.client = LLMClient(concurrency=CONCURRENCY, offline=await asyncio.to_thread(offline))
        return self.client

    async def _get_scorers(self) -> list:
        names = list(self.scorer_names or [])
        if not names:
            return []
        judge_name = self.judge
        store = self.store

        def resolve():  # importing autoevals takes a while: in a thread
            from engine.scorers import resolve_scorer
            from store.model_configs import get_model

            try:
                judge = judge_model(get_model(store, judge_name)) if judge_name else None
            finally:
                store.release_thread()
            return [resolve_scorer(n, judge=judge) for n in names]

        return await asyncio.to_thread(resolve)

    def _current_row(self):
        return self.table.current_row()

    def action_run_all(self) -> None:
        self._start(None, "run all")

    def action_run_row(self) -> None:
        row = self._current_row()
        if row is None or self.session is None:
            return
        self._start([(v.id, row.id) for v in self.session.variants], f"run row {row.id}")

    def action_run_variant(self) -> None:
        vid = self.view.current
        if vid is None or self.session is None:
            return
        self._start([(vid, r.id) for r in self.session.rows], f"run variant {vid}")

    def action_rerun_failed(self) -> None:
        if self.session is None:
            return
        failed = [k for k in self.session.failed() if k[1] in {r.id for r in self.session.rows}]
        if not failed:
            self.notify("no failed or cancelled cells")
            return
        self._start(failed, f"re-run {len(failed):,} failed")

    def action_cancel_run(self) -> None:
        if not self.running:
            self.notify("no run is going")
            return
        self._cancel()
        self._update_title()

    def _cancel(self) -> None:
        self.state = "cancelling"
        if self.run_in_process:
            for runner in self.runners:
                runner.cancel()
            return
        if self.session is not None:
            if self.run_in_thread:
                run_loop().call_soon_threadsafe(self.session.cancel)
            else:
                self.session.cancel()

    # -- moving and showing
    def _variant_ids(self) -> list[str]:
        return [v.id for v in self.session.variants] if self.session is not None else []

    def _move_variant(self, step: int) -> None:
        ids = self._variant_ids()
        if not ids:
            return
        i = ids.index(self.view.current) if self.view.current in ids else 0
        self.view.current = ids[max(0, min(len(ids) - 1, i + step))]
        self.table.set_columns(grid_columns(self.session, self.view))
        self._update_summary()
        self._show_detail()

    def action_variant_left(self) -> None:
        self._move_variant(-1)

    def action_variant_right(self) -> None:
        self._move_variant(1)

    def action_mode(self) -> None:
        self.mode = MODES[(MODES.index(self.mode) + 1) % len(MODES)]
        if self.session is not None:
            self._apply_rows(self.table.cursor_id())
        self._update_title()
        self.notify(f"mode {MODE_LABELS[self.mode]}: {MODE_HELP[self.mode]}")

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        if self.session is not None:
            self._apply_rows(self.table.cursor_id())
        self._update_title()

    def action_toggle_diff(self) -> None:
        self.view.diff = not self.view.diff
        self._refresh_all()

    def action_toggle_detail(self) -> None:
        pane = self.query_one("#pg-detail")
        pane.display = not pane.display
        self._show_detail()

    def action_detail_bigger(self) -> None:
        self._detail_size = min(len(DETAIL_SIZES) - 1, self._detail_size + 1)
        self.query_one("#pg-detail").display = True
        self._size_detail()
        self._show_detail()

    def action_detail_smaller(self) -> None:
        self._detail_size = max(0, self._detail_size - 1)
        self._size_detail()

    def action_top(self) -> None:
        self.table.action_first()

    def action_bottom(self) -> None:
        self.table.action_last()

    def action_find(self) -> None:
        def done(text: Optional[str]) -> None:
            if text is None:
                return
            self.find_text = text.strip()
            if self.session is not None:
                self._apply_rows(self.table.cursor_id())
            self._update_title()

        self.app.push_screen(PromptScreen("Show the rows whose input or expected has these words (empty: all):",
                                          value=self.find_text, placeholder="e.g. refund"), done)

    def action_back(self) -> None:
        if self.running:
            self._cancel()
            self.notify("run cancelled (the finished cells are kept)")
        self.app.pop_screen()

    def action_open_trace(self) -> None:
        row = self._current_row()
        if row is None or self.session is None or self.view.current is None:
            return
        cell = self.session.cell(self.view.current, row.id)
        if cell is None or not cell.root_span_id or not cell.finished:
            self.notify(f"variant {self.view.current} has no answer on this row yet: R runs the row",
                        severity="warning")
            return
        from tui.screens.trace import TraceScreen

        self.app.push_screen(TraceScreen(cell.root_span_id, project=self.session.info.rows_project))

    # -- changing the set-up
    def _refuse_while_running(self) -> bool:
        if self.running:
            self.notify("a run is going: wait for it or cancel it (x) first", severity="warning")
            return True
        return self.session is None

    def _save_setup(self, message: str, **change) -> None:
        self._load(change, message)

    def _variant_specs(self) -> list[dict]:
        return [dict(v) for v in self.session.info.variants]

    def action_add_variant(self) -> None:
        if not self._refuse_while_running():
            self._read_choices("add")

    def action_edit_variant(self) -> None:
        if not self._refuse_while_running() and self.view.current is not None:
            self._read_choices("edit")

    @work(thread=True, exclusive=True, group="choices")
    def _read_choices(self, purpose: str) -> None:
        try:
            choices = read_choices(self.store, self.project, datasets=False)
        except Exception as exc:
            self.post_message(ChoicesRead(purpose, None, f"could not read the prompts and models: {exc}"))
            return
        finally:
            self.store.release_thread()
        self.post_message(ChoicesRead(purpose, choices))

    def on_choices_read(self, event: ChoicesRead) -> None:
        if event.choices is None:
            self.notify(event.error, severity="error")
            return
        if event.purpose == "judges":
            self._ask_scorers(event.choices)
            return

        def save(message: str, specs: list, current: str) -> None:
            if not self._refuse_while_running():
                self.view.current = current
                self._save_setup(message, variants=specs)

        ask_variant(self, event.choices, add=event.purpose == "add", specs=self._variant_specs(),
                    current=self.view.current, playground=self.pg_name, save=save)

    def _spec(self, vid: Optional[str]) -> Optional[dict]:
        return next((dict(v) for v in self.session.info.variants if v["id"] == vid), None)

    def action_remove_variant(self) -> None:
        if self._refuse_while_running() or self.view.current is None:
            return
        def save(message: str, specs: list, current: Optional[str]) -> None:
            if not self._refuse_while_running():
                self.view.current = current
                self._save_setup(message, variants=specs)

        ask_remove_variant(self, self._variant_specs(), self.view.current, save)

    def action_make_base(self) -> None:
        if self._refuse_while_running() or self.view.current is None:
            return
        specs = self._variant_specs()
        vid = self.view.current
        if specs and specs[0]["id"] == vid:
            self.notify(f"{vid} is the base already")
            return
        specs.sort(key=lambda v: v["id"] != vid)
        self._save_setup(f"variant {vid} is the base: diffs and deltas compare with it", variants=specs)

    def action_dataset_version(self) -> None:
        if self._refuse_while_running():
            return
        if not self.session.info.dataset:
            self.notify("this playground has no dataset", severity="warning")
            return
        self._read_versions(self.session.info.dataset)

    @work(thread=True, exclusive=True, group="versions")
    def _read_versions(self, dataset: str) -> None:
        from store.datasets import list_versions

        try:
            versions = list_versions(self.store, self.project, dataset)
        except Exception as exc:
            self.post_message(WorkFailed(f"could not read the versions of {dataset!r}: {exc}"))
            return
        finally:
            self.store.release_thread()
        self.post_message(VersionsRead(versions, versions[-1].version if versions else None))

    def on_versions_read(self, event: VersionsRead) -> None:
        def save(message: str, version: Optional[int]) -> None:
            if not self._refuse_while_running():
                self._save_setup(message, dataset_version=version)

        ask_version(self, self.session.info.dataset, event.versions, event.latest, self.session.info.dataset_version,
                    save)

    def action_scorers(self) -> None:
        if not self._refuse_while_running():
            self._read_choices("judges")

    def _ask_scorers(self, choices: Choices) -> None:
        def picked(choice: ScorerChoice) -> None:
            self.scorer_names, self.judge = list(choice.names), choice.judge
            self._save_settings(self.session, {"scorers": list(choice.names), "judge": choice.judge})
            self.view.score_names = list(choice.names)
            self._refresh_all()

        ask_scorers(self, choices, list(self.scorer_names or []), self.judge, picked)

    def action_save_experiments(self) -> None:
        if self._refuse_while_running():
            return
        if not any(c.finished and c.root_span_id for c in self.session.cells.values()):
            self.notify("nothing to save yet: r runs the playground", severity="warning")
            return
        self._save_experiments(self.session)

    @work(thread=True, group="write")
    def _save_settings(self, session, settings: dict) -> None:
        """Keep the scorer choice with the playground (everyone opening it sees the same)."""
        from store.experiments import save_playground

        info = session.info
        merged = {**info.settings, **settings}
        try:
            save_playground(self.store, self.project, self.pg_name, dataset=info.dataset,
                            dataset_version=info.dataset_version, variants=info.variants, settings=merged,
                            author=default_author())
            info.settings = merged
        except Exception as exc:
            self.post_message(WorkFailed(f"could not save the scorer choice: {exc}"))
        finally:
            self.store.release_thread()

    @work(thread=True, group="write")
    def _save_experiments(self, session) -> None:
        try:
            exps = session.save_as_experiments(author=default_author())
        except Exception as exc:
            self.post_message(WorkFailed(f"could not save the experiments: {exc}"))
            return
        finally:
            self.store.release_thread()
        self.post_message(ExperimentsSaved([f"{e.name} ({count(e.rows, 'row')})" for e in exps]))

    def on_experiments_saved(self, event: ExperimentsSaved) -> None:
        self.notify(f"saved {len(event.names)} experiment{'s' if len(event.names) != 1 else ''}: "
                    + "; ".join(event.names), timeout=10)

    def on_unmount(self) -> None:
        if self.running and self.session is not None:
            self._cancel()
        runners, self.runners = self.runners, []
        for runner in runners:
            threading.Thread(target=runner.close, daemon=True).start()  # never wait on the loop

    def palette_commands(self) -> list[Command]:
        return [
            Command("Run every cell", self.action_run_all, "all rows x all variants"),
            Command("Run the current row", self.action_run_row, "every variant"),
            Command("Run the current variant", self.action_run_variant, "every row"),
            Command("Re-run the failed and cancelled cells", self.action_rerun_failed, ""),
            Command("Cancel the run", self.action_cancel_run, "finished cells are kept"),
            Command("Add a variant", self.action_add_variant, "prompt version, model, params, repeat"),
            Command("Edit the current variant", self.action_edit_variant, ""),
            Command("Remove the current variant", self.action_remove_variant, "and its answers"),
            Command("Make the current variant the base", self.action_make_base, "diffs compare with it"),
            Command("Pick the scorers", self.action_scorers, "ExactMatch, Levenshtein, LLM judges, ..."),
            Command("Pick the dataset version", self.action_dataset_version, "or follow the latest"),
            Command("Save the run as experiments", self.action_save_experiments, "one per variant"),
        ] + [Command(f"Show rows: {MODE_LABELS[m]}", partial(self.set_mode, m), MODE_HELP[m]) for m in MODES]


register_screen("playground", "Playground", PlaygroundsScreen, key="Y")
