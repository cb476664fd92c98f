"""The Datasets screen (a project's datasets) and one dataset's records: filter them with the
query language, edit a record as JSON, add, duplicate, delete, undo; an old version read-only
with restore; snapshots; a record's origin trace. Every read and write of the store runs in
a worker thread and reports with a typed message."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Optional

import orjson
from pydantic import ValidationError
from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Header, Input, Static

from store.audit import default_author
from store.datasets import (
    DatasetError,
    Record,
    RecordsQuery,
    check_name,
    create_dataset,
    delete_records,
    get_record,
    list_datasets,
    new_record_id,
    record_ids,
    restore,
    revert_version,
    snapshot,
    upsert_records,
)
from store.errors import QueryError
from store.export import get_span
from store.models import RecordIn, validation_reason
from store.query.compiler import RECORD_FIELDS, RecordCompiler
from store.query.filterbar import interpret
from tui.actions import edit_json, json_error, keep_text
from tui.clipboard import copy_text
from tui.format import ways_hint
from tui.messages import DatasetWritten, WorkFailed
from tui.registry import BtScreen, Command, register_screen
from tui.screens.dialogs import MenuScreen, PromptScreen
from tui.screens.trace import TraceScreen
from tui.widgets.filter_bar import FilterBar, FilterSuggester
from tui.widgets.keybar import KeyBar
from tui.widgets.paged_table import ListSource, PagedTable
from tui.widgets.record_columns import dataset_columns, record_columns, short_id
from tui.widgets.transcript import json_syntax, render_value

MAX_ROWS = 1000
EDIT_KEYS = ("input", "expected", "metadata", "tags")  # what the record editor holds
TEMPLATE = {"input": None, "expected": None, "metadata": {}, "tags": []}


# --- the datasets list ----------------------------------------------------------------------------

def dataset_list_source(store, project: str) -> ListSource:
    """The paged table's source over the project's datasets (one small list, read by the first
    worker that asks)."""
    return ListSource(lambda: list_datasets(store, project), lambda d: d.name, store.release_thread)


def empty_datasets(project: str) -> Text:
    return ways_hint(f"No datasets in project {project!r} yet.", "Make one:", (
        ("here: a new, empty dataset (then n adds records)", "n"),
        ("from the Logs screen: mark spans (space), then add them", "a"),
        ("from a JSONL or CSV file", "bt-tui import dataset FILE --name NAME"),
        ("from the spans a filter matches", "bt-tui dataset from-logs NAME --filter EXPR"),
    ), "r reads the database again. ? lists every key.")


class DatasetsTable(PagedTable):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="datasets.down"),
        Binding("k", "cursor_up", "Up", show=False, id="datasets.up"),
    ]


class DatasetsScreen(BtScreen):
    """The project's datasets, most recently changed first; enter opens one."""

    BINDINGS = [
        Binding("enter", "open", "Open", id="datasets.open"),
        Binding("n", "new", "New dataset", id="datasets.new"),
        Binding("r", "refresh", "Refresh", id="datasets.refresh"),
        Binding("g,home", "top", "First row", show=False, id="datasets.top"),
        Binding("G,end", "bottom", "Last row", show=False, id="datasets.bottom"),
        Binding("escape", "back", "Back to Logs", show=False, id="datasets.back"),
    ]
    HELP = ("Datasets: named, versioned collections of records {input, expected, metadata, tags}."
            " enter opens one; n makes a new one.")

    def __init__(self) -> None:
        super().__init__()
        self._keep: Optional[str] = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="status")
        yield Static("", id="empty")
        yield DatasetsTable(dataset_columns(), max_rows=MAX_ROWS, id="table")
        yield KeyBar()

    def on_mount(self) -> None:
        self.table.focus()
        self.reload()

    @property
    def table(self) -> DatasetsTable:
        return self.query_one(DatasetsTable)

    def reload(self, keep: Optional[str] = None) -> None:
        self.table.set_source(dataset_list_source(self.store, self.app.project), keep)

    def on_paged_table_page_loaded(self, event: PagedTable.PageLoaded) -> None:
        if event.mode not in ("replace", "last"):
            return
        empty = not event.page.rows
        box = self.query_one("#empty", Static)
        if empty:
            box.update(empty_datasets(self.app.project))
        box.display = empty
        self.table.display = not empty
        self._update_status()

    def on_paged_table_counted(self, event: PagedTable.Counted) -> None:
        self._update_status()

    def on_paged_table_page_failed(self, event: PagedTable.PageFailed) -> None:
        self.notify(f"could not read the datasets: {event.error}", severity="error")

    def _update_status(self) -> None:
        n = self.table.total
        what = "counting…" if n is None else f"{n:,} dataset{'s' if n != 1 else ''}"
        line = Text(f"Datasets of project {self.app.project!r} · {what} · most recently changed first", style="dim")
        self.query_one("#status", Static).update(line)

    def on_paged_table_row_selected(self, event: PagedTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        row = self.table.current_row()
        if row is not None:
            self.app.push_screen(DatasetRecordsScreen(self.app.project, row.name))

    def open_dataset(self, name: str) -> None:
        while self.app.screen is not self:
            self.app.pop_screen()
        self.app.push_screen(DatasetRecordsScreen(self.app.project, name))

    def action_top(self) -> None:
        self.table.action_first()

    def action_bottom(self) -> None:
        self.table.action_last()

    def action_refresh(self) -> None:
        self.reload(self.table.cursor_id())

    def on_screen_resume(self) -> None:
        """Back from a dataset: its new counts and last change show here."""
        if getattr(self, "_resumed", False):
            self.reload(self.table.cursor_id())
        self._resumed = True

    def action_back(self) -> None:
        self.app.switch_to("logs")

    def action_new(self) -> None:
        def name_error(text: str) -> Optional[str]:
            try:
                check_name(text)
            except DatasetError as exc:
                return str(exc)
            return None

        def described(name: str, description: Optional[str]) -> None:
            if description is None:
                return
            self._keep = name
            write = partial(_create, self.app.project, name, description.strip())
            run_write(self, write, f"dataset {name!r} created", failed="could not create the dataset")

        def named(name: Optional[str]) -> None:
            if name and name.strip():
                name = name.strip()
                self.app.push_screen(PromptScreen(f"Description of {name!r} (optional):",
                                                  placeholder="what the records are for"),
                                     partial(described, name))

        self.app.push_screen(PromptScreen("New dataset named:", placeholder="e.g. refund policy regressions",
                                          validate=name_error), named)

    def on_dataset_written(self, event: DatasetWritten) -> None:
        self.notify(event.message)
        self.reload(self._keep or self.table.cursor_id())
        self._keep = None

    def palette_commands(self) -> list[Command]:
        cmds = [Command("New dataset", self.action_new, "a name and a description")]
        cmds += [Command(f"Open dataset: {row.name}", partial(self.open_dataset, row.name),
                         f"{row.records:,} records") for row in self.table.rows[:50]]
        return cmds


def _create(project: str, name: str, description: str, store) -> tuple[str, None]:
    create_dataset(store, project, name, description, author=default_author())
    return "", None


def run_write(screen, write: Callable[[Any], tuple[str, Optional[int]]], message: str, *, undo: str = "",
              keep: Optional[str] = None, latest: bool = False, failed: str = "could not save") -> None:
    """``write(store)`` in a worker thread; it returns (a message, the version it wrote).
    Then ``DatasetWritten`` (or ``WorkFailed`` naming the error) to ``screen``."""
    store = screen.store

    def run() -> None:
        try:
            said, version = write(store)
        except Exception as exc:
            screen.post_message(WorkFailed(f"{failed}: {exc}" if failed else str(exc)))
            return
        finally:
            store.release_thread()
        screen.post_message(DatasetWritten(said or message, version, undo if version else "", keep, latest))

    screen.run_worker(run, thread=True, group="write")


# --- one dataset's records ------------------------------------------------------------------------

class RecordsSource:
    """The paged table's source: the dataset's records as of a version (None: the latest,
    resolved when the first page is read), filtered (``store.datasets.RecordsQuery``, built
    in the worker thread that reads first)."""

    def __init__(self, store, project: str, dataset: str, version: Optional[int], text: str) -> None:
        self.store, self.project, self.dataset, self.version, self.text = store, project, dataset, version, text
        self.query: Optional[RecordsQuery] = None

    def _q(self) -> RecordsQuery:
        if self.query is None:
            self.query = RecordsQuery(self.store, self.project, self.dataset, version=self.version, text=self.text)
        return self.query

    def page(self, after: Any, limit: int, *, reverse: bool = False):
        return self._q().page(after, limit, reverse=reverse)

    def count(self) -> int:
        return self._q().count()

    def row_id(self, row: Record) -> str:
        return row.id

    def cursor_of(self, row: Record) -> int:
        return row.seq

    def release_thread(self) -> None:
        self.store.release_thread()


def check_record_filter(text: str) -> None:
    """What the records' filter bar checks before it applies text: it parses, and compiles
    on a record's fields (``output = 1`` names the fields a record has, with its column)."""
    flt = interpret(text)
    if flt.mode == "filter":
        RecordCompiler(text, 0, alias="r").where(flt.node)


class RecordsFilterBar(FilterBar):
    """The shared filter bar, checking text against a record's fields (not a span's)."""

    @on(Input.Submitted, "#filter")
    def _submitted_record(self, event: Input.Submitted) -> None:
        event.stop()
        event.prevent_default()  # not the span check of the base class
        self.query_one("#filter-hint").display = False
        try:
            check_record_filter(event.value)
        except QueryError as exc:
            self.show_error(exc)
            return
        self.post_message(self.Applied(event.value))


def _key_position(text: str, key: str) -> tuple[int, int]:
    """(line, column) of the top-level key ``key`` in a record's JSON text (1, 1 if not found)."""
    m = re.search(r'^\s*"' + re.escape(key) + r'"\s*:', text, re.M)
    if m is None:
        return 1, 1
    line = text.count("\n", 0, m.start()) + 1
    col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
    return line, col + len(m.group(0)) - len(m.group(0).lstrip())


def record_error(text: str) -> Optional[tuple[str, int, int]]:
    """(what is wrong, line, column) when ``text`` is not a record's content, else None: one
    JSON object with only input, expected, metadata, tags, valid as ``store.models.RecordIn``
    (metadata an object, tags a list of strings)."""
    found = json_error(text)
    if found is not None:
        return found
    value = json.loads(text)
    if not isinstance(value, dict):
        return "a record is one JSON object: {\"input\": ..., \"expected\": ..., \"metadata\": {}, \"tags\": []}", 1, 1
    for key in value:
        if key not in EDIT_KEYS:
            line, col = _key_position(text, key)
            return f"unknown key {key!r} (a record has {', '.join(EDIT_KEYS)})", line, col
    try:
        RecordIn.model_validate(value)
    except ValidationError as exc:
        loc = exc.errors(include_url=False)[0].get("loc", ())
        line, col = _key_position(text, str(loc[0])) if loc else (1, 1)
        reason = validation_reason(exc)
        if loc and loc[0] == "tags":
            reason = f"tags must be a list of strings ({reason})"
        elif loc and loc[0] == "metadata":
            reason = f"metadata must be an object ({reason})"
        return reason, line, col
    return None


def record_detail(rec: Record) -> Group:
    """A record as the detail pane shows it: input (a chat as a conversation), expected,
    metadata, tags, origin, id and dates."""
    head = Text()
    head.append(rec.id, style="bold")
    head.append(f"  created {rec.created[:19].replace('T', ' ')} · written by version {rec.version}", style="dim")
    parts: list[Any] = [head]
    for name, value in (("input", rec.input), ("expected", rec.expected)):
        parts += [Text(name, style="bold underline"), render_value(value)]
    parts += [Text("metadata", style="bold underline"),
              json_syntax(rec.metadata) if rec.metadata else Text("{}", style="dim")]
    tags = Text("tags  ", style="bold underline")
    tags.append(", ".join(rec.tags) if rec.tags else "none", style="cyan" if rec.tags else "dim")
    parts.append(tags)
    origin = Text("origin  ", style="bold underline")
    if rec.origin:
        origin.append(f"{rec.origin.get('object_type')} {rec.origin.get('id')}  (o opens its trace)")
    else:
        origin.append("none (added by hand or imported)", style="dim")
    parts.append(origin)
    return Group(*parts)


class RecordConflict(Exception):
    """The record changed (or went) since the editor read it."""


def _save_record(project: str, dataset: str, original: Record, content: dict, text: str, store
                 ) -> tuple[str, Optional[int]]:
    """Save an edit of ``original`` as one version, unless someone changed it meanwhile (then
    the text typed is kept in a file whose path the error gives)."""
    now = get_record(store, project, dataset, original.id)
    if now is None or now.version != original.version:
        path = keep_text(text, f"record-{original.id}")
        what = "was deleted" if now is None else f"changed (version {now.version})"
        raise RecordConflict(f"record {short_id(original.id)} {what} since you opened it: not saved;"
                             f" your text is in {path}")
    rec = {"id": original.id, **content, "origin": original.origin}
    result = upsert_records(store, project, dataset, [rec], author=default_author(),
                            note=f"edit of {original.id}")
    return f"record {short_id(original.id)} saved: {result.summary()}", result.version


def _add_record(project: str, dataset: str, content: dict, store, what: str = "added",
                source: Optional[str] = None) -> tuple[str, Optional[int]]:
    rid = new_record_id()
    note = f"{rid} duplicated from {source}" if source else f"added {rid}"
    result = upsert_records(store, project, dataset, [{"id": rid, **content}], author=default_author(), note=note)
    told = f"record {short_id(source)} duplicated as {short_id(rid)}" if source else f"record {short_id(rid)} {what}"
    return f"{told}: {result.summary()}", result.version


def _delete(project: str, dataset: str, ids: Optional[list[str]], text: str, store) -> tuple[str, Optional[int]]:
    """Delete ``ids`` (None: every record the filter ``text`` matches) as one version."""
    if ids is None:
        ids = record_ids(store, project, dataset, text=text)
    result = delete_records(store, project, dataset, ids, author=default_author())
    n = result.deleted
    return f"deleted {n} record{'s' if n != 1 else ''}: {result.summary()} · u undoes it", result.version


def _undo(project: str, dataset: str, version: int, what: str, store) -> tuple[str, Optional[int]]:
    result, left = revert_version(store, project, dataset, version, author=default_author())
    if result.version is None:
        said = f"undo of {what}: nothing to change (already as before)"
    else:
        said = f"undid {what} (version {version}) as version {result.version}: {result.changed} record(s) put back"
    if left:
        said += f"; {left} record(s) changed since were left alone"
    return said, None  # an undo is not undone in turn (it is in the history: h)


def _restore(project: str, dataset: str, version: int, store) -> tuple[str, Optional[int]]:
    result = restore(store, project, dataset, version, author=default_author())
    if result.version is None:
        return f"the latest version already equals version {version}: nothing to restore", None
    return f"restored version {version} as version {result.version} ({result.summary()})", result.version


def _snapshot(project: str, dataset: str, name: str, version: Optional[int], store) -> tuple[str, Optional[int]]:
    v = snapshot(store, project, dataset, name, version, author=default_author())
    return f"snapshot {name!r} names version {v}", None


class RecordsTable(PagedTable):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="records.down"),
        Binding("k", "cursor_up", "Up", show=False, id="records.up"),
    ]


class DatasetRecordsScreen(BtScreen):
    """One dataset's records as of a version (the latest by default; an older one read-only)."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="records.back"),
        Binding("q", "back", "Back", show=False, id="records.quit_back"),
        Binding("slash", "focus_filter", "Filter", id="records.filter"),
        Binding("e", "edit", "Edit", id="records.edit"),
        Binding("enter", "edit", "Edit", show=False, id="records.open"),
        Binding("n", "add", "Add", id="records.add"),
        Binding("d", "duplicate_or_diff", "Duplicate", id="records.duplicate"),
        Binding("x,delete", "delete", "Delete", id="records.delete"),
        Binding("u", "undo", "Undo", id="records.undo"),
        Binding("space", "mark", "Mark", show=False, id="records.mark"),
        Binding("A", "mark_all", "Mark all", show=False, id="records.mark_all"),
        Binding("o", "origin", "Origin trace", show=False, id="records.origin"),
        Binding("y", "copy", "Copy", show=False, id="records.copy"),
        Binding("s", "snapshot", "Snapshot", show=False, id="records.snapshot"),
        Binding("h", "history", "History", id="records.history"),
        Binding("H", "record_history", "Record history", show=False, id="records.record_history"),
        Binding("R", "restore", "Restore version", show=False, id="records.restore"),
        Binding("v", "toggle_detail", "Detail pane", show=False, id="records.detail"),
        Binding("r", "refresh", "Refresh", show=False, id="records.refresh"),
        Binding("g,home", "top", "First row", show=False, id="records.top"),
        Binding("G,end", "bottom", "Last row", show=False, id="records.bottom"),
    ]
    DEFAULT_CSS = """
    DatasetRecordsScreen #ds-title { height: auto; padding: 0 1; }
    DatasetRecordsScreen #rec-detail { height: 40%; border-top: solid $primary-darken-2; }
    """
    HELP = ("Records of one dataset. / filters: input MATCH 'refund', metadata.k = 1, tags includes 'x', or words."
            " e edits a record as JSON ($EDITOR when set); u undoes your last change; h lists the versions.")

    @dataclass
    class OriginRead(Message):
        """The origin span of a record, read to open its trace (None: it is gone)."""

        span: Optional[dict]
        row_id: str

    def __init__(self, project: str, dataset: str, version: Optional[int] = None) -> None:
        super().__init__()
        self.project = project
        self.dataset = dataset
        self.version = version  # asked for (None: the latest)
        self.shown_version: Optional[int] = None  # the version on show (known once a page is read)
        self.latest: Optional[int] = None
        self.filter_text = ""
        self.undo_stack: list[tuple[int, str]] = []  # (version written from here, what it did)
        self.suggester = FilterSuggester()
        self.suggester.fields = [f for f in RECORD_FIELDS]
        self._focus_on_rows = False

    @property
    def read_only(self) -> bool:
        if self.shown_version is None:
            return self.version is not None
        return self.shown_version != self.latest

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="ds-title")
        yield RecordsFilterBar(self.suggester, placeholder="/ filter: input MATCH 'refund' · metadata.k = 1"
                                                           " · or words to search")
        yield RecordsTable(record_columns(), markable=True, max_rows=MAX_ROWS, id="table")
        with VerticalScroll(id="rec-detail"):
            yield Static("", id="rec-value", classes="value")
        yield KeyBar()

    def on_mount(self) -> None:
        self.table.focus()
        self.reload()
        self._update_title()

    @property
    def table(self) -> RecordsTable:
        return self.query_one(RecordsTable)

    @property
    def bar(self) -> RecordsFilterBar:
        return self.query_one(RecordsFilterBar)

    def current_row(self) -> Optional[Record]:
        return self.table.current_row()

    # -- loading
    def reload(self, keep: Optional[str] = None, *, stay: bool = False) -> None:
        self.table.set_source(RecordsSource(self.store, self.project, self.dataset, self.version, self.filter_text),
                              keep, stay=stay)

    _to_end = False  # the next page read puts the cursor on the last record
    _end_after_write = False  # ...once the write on its way is done

    def on_paged_table_page_loaded(self, event: PagedTable.PageLoaded) -> None:
        q = event.source.query
        if self._to_end and event.mode in ("replace", "replace_at"):
            self._to_end = False
            self.table.action_last()
        if q is not None and event.mode in ("replace", "last"):
            self.shown_version, self.latest = q.version, q.latest
            keys = {f"metadata.{k}" for r in event.page.rows for k in (r.metadata or {})}
            self.suggester.fields = sorted(set(RECORD_FIELDS) | keys, key=lambda f: (f.count("."), f))
            if event.page.filter.text == self.bar.input.value:
                self.bar.hide_error()
            if self._focus_on_rows:
                self._focus_on_rows = False
                self.table.focus()
        self._update_title()
        self._show_detail()

    def on_paged_table_counted(self, event: PagedTable.Counted) -> None:
        self._update_title()

    def on_paged_table_page_failed(self, event: PagedTable.PageFailed) -> None:
        if isinstance(event.error, QueryError):
            self.bar.show_error(event.error)
            self._focus_on_rows = False
        else:
            self.notify(f"could not read the records: {event.error}", severity="error")

    def on_paged_table_row_highlighted(self, event: PagedTable.RowHighlighted) -> None:
        self._show_detail()

    def on_filter_bar_error_changed(self, event: FilterBar.ErrorChanged) -> None:
        self._update_title()

    def _update_title(self) -> None:
        """The dataset, the version on show (a warning banner for an old one), how many
        records, the filter, the marks."""
        t = self.table
        line = Text()
        line.append(self.dataset, style="bold")
        v = self.shown_version
        if v is None:
            line.append(" · reading…", style="dim")
        elif v == 0:
            line.append(" · no versions yet", style="dim")
        elif not self.read_only:
            line.append(f" · version {v} (latest)", style="dim")
        total = "counting…" if t.total is None else f"{t.total:,} record{'s' if t.total != 1 else ''}"
        if self.filter_text.strip():
            total += " matching"
        line.append(f" · {total}", style="dim")
        if self.filter_text.strip():
            line.append(f" · filter: {self.filter_text}", style="dim")
        if t.all_marked:
            line.append(" · all marked", style="magenta")
        elif t.marked:
            line.append(f" · {len(t.marked)} marked", style="magenta")
        if self.read_only and v is not None:
            line.append(f"\n version {v} of {self.latest}, read-only · R restores it · d diffs it with the latest ",
                        style="bold black on yellow")
        if not t.rows and t.total == 0 and not t.fetching:
            if self.filter_text.strip():
                line.append("\nnothing matches · / changes the filter, escape clears it", style="yellow")
            elif not self.read_only:
                line.append("\nno records yet · n adds one", style="yellow")
        self.query_one("#ds-title", Static).update(line)

    def _show_detail(self) -> None:
        pane = self.query_one("#rec-detail")
        if not pane.display:
            return
        row = self.current_row()
        value = self.query_one("#rec-value", Static)
        value.update(record_detail(row) if row is not None else Text("no record", style="dim italic"))
        pane.scroll_home(animate=False)

    def action_toggle_detail(self) -> None:
        pane = self.query_one("#rec-detail")
        pane.display = not pane.display
        self._show_detail()

    # -- the filter
    def action_focus_filter(self) -> None:
        self.bar.input.focus()

    def on_filter_bar_applied(self, event: FilterBar.Applied) -> None:
        self.filter_text = event.text
        self.table.clear_marks()
        self._focus_on_rows = True
        self.reload()

    def action_back(self) -> None:
        """Leave the filter bar; else clear the marks; else clear the filter; else back."""
        t = self.table
        if self.bar.input.has_focus:
            self.bar.set_value(self.filter_text)
            t.focus()
        elif t.marked or t.all_marked:
            t.clear_marks()
            self.notify("marks cleared")
            self._update_title()
        elif self.filter_text:
            self.bar.set_value("")
            self.filter_text = ""
            self.reload()
        else:
            self.app.pop_screen()

    def action_refresh(self) -> None:
        self.reload(self.table.cursor_id())

    def on_screen_resume(self) -> None:
        """Back from the history (a restore, a snapshot) or a trace: the records as they are now."""
        if getattr(self, "_resumed", False):
            self.reload(self.table.cursor_id(), stay=True)
        self._resumed = True

    def action_top(self) -> None:
        self.table.action_first()

    def action_bottom(self) -> None:
        self.table.action_last()

    def action_mark(self) -> None:
        self.table.toggle_mark()
        self._update_title()

    def action_mark_all(self) -> None:
        self.table.mark_all()
        self._update_title()

    # -- writes
    def _writable(self) -> bool:
        if self.read_only:
            v = self.shown_version if self.shown_version is not None else self.version
            self.notify(f"version {v} is read-only: R restores it", severity="warning")
            return False
        return True

    def _write(self, write: Callable, message: str, *, undo: str = "", keep: Optional[str] = None,
               latest: bool = False) -> None:
        run_write(self, write, message, undo=undo, keep=keep, latest=latest)

    def on_dataset_written(self, event: DatasetWritten) -> None:
        self.notify(event.message)
        if event.version and event.undo:
            self.undo_stack.append((int(event.version), event.undo))
        if event.latest:
            self.version = None
        self._to_end, self._end_after_write = self._end_after_write, False
        self.reload(event.keep or self.table.cursor_id(), stay=not event.latest)

    def action_edit(self) -> None:
        row = self.current_row()
        if row is None or not self._writable():
            return
        text = orjson.dumps(row.content(), option=orjson.OPT_INDENT_2).decode() + "\n"
        original = row.content()

        def save(new_text: str) -> None:
            content = json.loads(new_text)
            content = {k: content.get(k, TEMPLATE[k]) for k in EDIT_KEYS}
            if content == original:
                self.notify("record unchanged")
                return
            self._write(partial(_save_record, self.project, self.dataset, row, content, new_text), "saved",
                        undo=f"the edit of {short_id(row.id)}", keep=row.id)

        edit_json(self, f"Record {row.id} of {self.dataset}", text, save, validate=record_error, what="record",
                  hint="JSON {input, expected, metadata, tags} · ctrl+s saves · escape cancels")

    def action_add(self) -> None:
        if not self._writable():
            return
        text = orjson.dumps(TEMPLATE, option=orjson.OPT_INDENT_2).decode() + "\n"

        def save(new_text: str) -> None:
            content = json.loads(new_text)
            content = {k: content.get(k, TEMPLATE[k]) for k in EDIT_KEYS}
            self._end_after_write = True  # a new record is the dataset's last: the cursor goes to it
            self._write(partial(_add_record, self.project, self.dataset, content), "added",
                        undo="the new record")

        edit_json(self, f"New record in {self.dataset}", text, save, validate=record_error, what="record",
                  hint="JSON {input, expected, metadata, tags} · ctrl+s adds it · escape cancels")

    def action_duplicate_or_diff(self) -> None:
        if self.read_only:
            self.action_diff()
        else:
            self.action_duplicate()

    def action_duplicate(self) -> None:
        row = self.current_row()
        if row is None or not self._writable():
            return
        self._end_after_write = True  # the copy is the dataset's last record: the cursor goes to it
        self._write(partial(_add_record, self.project, self.dataset, row.content(), source=row.id),
                    "duplicated", undo=f"the copy of {short_id(row.id)}", keep=row.id)

    def action_delete(self) -> None:
        if not self._writable():
            return
        t = self.table
        if t.all_marked:
            ids: Optional[list[str]] = None
        else:
            ids = sorted(t.marked) if t.marked else ([t.cursor_id()] if t.cursor_id() else [])
            if not ids:
                return
        below = self._row_after(ids)

        def go(key: Optional[str] = "yes") -> None:
            if key != "yes":
                return
            n = f"{len(ids)} record{'s' if len(ids) != 1 else ''}" if ids is not None else "the matching records"
            t.clear_marks()
            self._write(partial(_delete, self.project, self.dataset, ids, self.filter_text), "deleted",
                        undo=f"the deletion of {n}", keep=below)

        if ids is not None and len(ids) == 1:
            go()
            return
        n = f"{len(ids)}" if ids is not None else f"all {t.total:,} matching" if t.total is not None else "all matching"
        self.app.push_screen(MenuScreen(f"Delete {n} records? (u undoes it)",
                                        [("yes", "Delete them"), ("no", "Keep them")]), go)

    def _row_after(self, ids: Optional[list[str]]) -> Optional[str]:
        """The record the cursor goes to once ``ids`` are gone: the next one not deleted."""
        if ids is None:
            return None
        gone = set(ids)
        rows = self.table.rows
        start = self.table.cursor_row
        for r in rows[start:] + rows[:start][::-1]:
            if r.id not in gone:
                return r.id
        return None

    def action_undo(self) -> None:
        if not self._writable():
            return
        if not self.undo_stack:
            self.notify("nothing to undo (u undoes changes made on this screen; h lists every version)")
            return
        version, what = self.undo_stack.pop()
        self._write(partial(_undo, self.project, self.dataset, version, what), "undone")

    def action_restore(self) -> None:
        if not self.read_only:
            self.notify("this is the latest version: h lists the older ones (open one, then R restores it)")
            return
        v = self.shown_version if self.shown_version is not None else self.version

        def picked(key: Optional[str]) -> None:
            if key == "yes":
                self._write(partial(_restore, self.project, self.dataset, v), "restored",
                            undo=f"the restore of version {v}", latest=True, keep=self.table.cursor_id())

        self.app.push_screen(MenuScreen(f"Restore version {v} of {self.dataset}? (a new version equal to it;"
                                        f" history is kept)", [("yes", f"Restore version {v}"),
                                                               ("no", "Cancel")]), picked)

    def action_snapshot(self) -> None:
        v = self.shown_version
        on = f"version {v}" if v else "the latest version"

        def done(name: Optional[str]) -> None:
            if name and name.strip():
                self._write(partial(_snapshot, self.project, self.dataset, name.strip(), v or None), "snapshot")

        self.app.push_screen(PromptScreen(f"Name {on} of {self.dataset} (a snapshot):",
                                          placeholder="e.g. before-prompt-v3"), done)

    # -- reading, copying, going elsewhere
    def action_copy(self) -> None:
        row = self.current_row()
        if row is not None:
            copy_text(self, orjson.dumps(row.to_json(), option=orjson.OPT_INDENT_2).decode(), "the record as JSON")

    def action_origin(self) -> None:
        row = self.current_row()
        if row is None:
            return
        origin = row.origin or {}
        if origin.get("object_type") != "project_logs" or not origin.get("id"):
            self.notify(f"record {short_id(row.id)} has no origin trace (it was not added from logs)",
                        severity="warning")
            return
        self._read_origin(origin["id"])

    @work(thread=True, exclusive=True, group="origin")
    def _read_origin(self, row_id: str) -> None:
        try:
            span = get_span(self.store, self.project, row_id)
        except Exception:
            span = None
        finally:
            self.store.release_thread()
        self.post_message(self.OriginRead(span, row_id))

    def on_dataset_records_screen_origin_read(self, event: OriginRead) -> None:
        if event.span is None:
            self.notify(f"the origin span {event.row_id} is no longer in project {self.project!r}",
                        severity="warning")
            return
        span = event.span
        self.app.push_screen(TraceScreen(span["root_span_id"], focus_span=span["span_id"]))

    def action_history(self) -> None:
        from tui.screens.dataset_history import VersionsScreen

        self.app.push_screen(VersionsScreen(self.project, self.dataset))

    def action_record_history(self) -> None:
        row = self.current_row()
        if row is None:
            return
        from tui.screens.dataset_history import RecordHistoryScreen

        self.app.push_screen(RecordHistoryScreen(self.project, self.dataset, row.id))

    def action_diff(self) -> None:
        v = self.shown_version if self.shown_version is not None else self.version
        if not v or not self.read_only:
            self.notify("this is the latest version: h lists the versions to diff", severity="warning")
            return
        from tui.screens.dataset_history import DiffScreen

        self.app.push_screen(DiffScreen(self.project, self.dataset, v, None))

    def palette_commands(self) -> list[Command]:
        cmds = [
            Command("Edit the current record", self.action_edit, "as JSON; $EDITOR when set"),
            Command("Add a record", self.action_add, "from a template"),
            Command("Duplicate the current record", self.action_duplicate, "a new id, the same content"),
            Command("Delete the current or marked records", self.action_delete, "u undoes it"),
            Command("Undo the last change", self.action_undo, "made on this screen"),
            Command("Copy the record as JSON", self.action_copy, "to the clipboard"),
            Command("Open the origin trace", self.action_origin, "the logged span the record came from"),
            Command("Snapshot this version", self.action_snapshot, "name it"),
            Command("Versions of this dataset", self.action_history, "who changed what, when"),
            Command("History of the current record", self.action_record_history, "every change of it"),
        ]
        if self.read_only:
            cmds += [Command("Restore this version", self.action_restore, "as a new version"),
                     Command("Diff this version with the latest", self.action_diff, "record by record")]
        return cmds


register_screen("datasets", "Datasets", DatasetsScreen, key="D")
